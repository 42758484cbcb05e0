/**
 * portmap's nftables backend, in upstream HEAD's shapes (reference chained-plugins.md §1.8), so
 * either implementation finds and removes the other's rules: table `cni_hostport` per family, its
 * base chains flushed and refilled on every ADD, one DNAT rule per mapping in `hostports` and the
 * hairpin/localhost masquerade rules in `masquerading`, every per-container rule commented with the
 * container ID (the reference's key for DEL and CHECK).
 *
 * An ADD is two nft runs: a listing (to drop rules an earlier ADD of the same container left, so a
 * repeated ADD does not duplicate them) and one atomic batch.
 */
import { nftApply, nftList, nftQuote, rulesOf } from '../../lib/netfilter/nftables'
import type { Prefix } from '../../lib/ip/prefix'
import type { PortMapConf, PortMapping } from './config'
import { mappingsFor } from './mappings'

const TABLE = 'cni_hostport'
const TABLE_COMMENT = 'CNI portmap plugin'
/** The chains DEL and CHECK look in: the per-container rules live only here. */
const RULE_CHAINS = ['hostports', 'hostip_hostports', 'masquerading']

type Family = 4 | 6
const nftFamily = (f: Family): string => (f === 4 ? 'ip' : 'ip6')

/** The commands that (re)make the table and its shared chains. */
function tableCommands(f: Family, conditions: readonly string[] | undefined, snat: boolean): string[] {
  const t = `${nftFamily(f)} ${TABLE}`
  const cond = conditions?.length ? `${conditions.join(' ')} ` : ''
  const out = [
    `add table ${t} { comment ${nftQuote(TABLE_COMMENT)} ; }`,
    `add chain ${t} hostports`,
    `add chain ${t} hostip_hostports`,
    `add chain ${t} hostports_all`,
    `flush chain ${t} hostports_all`,
    `add rule ${t} hostports_all jump hostip_hostports`,
    `add rule ${t} hostports_all jump hostports`,
    // Numeric priorities, as knftables writes them (nft 1.0.6 refuses "dstnat" on the output hook).
    `add chain ${t} prerouting { type nat hook prerouting priority -100 ; }`,
    `flush chain ${t} prerouting`,
    `add rule ${t} prerouting ${cond}fib daddr type local jump hostports_all`,
    `add chain ${t} output { type nat hook output priority -100 ; }`,
    `flush chain ${t} output`,
    `add rule ${t} output ${cond}fib daddr type local jump hostports_all`,
  ]
  if (snat) out.push(`add chain ${t} masquerading { type nat hook postrouting priority 100 ; }`)
  return out
}

/** The per-container rules of one family. */
export function containerRules(c: PortMapConf, containerID: string, f: Family, cip: Prefix): string[] {
  const t = `${nftFamily(f)} ${TABLE}`
  const ip = cip.ip.toString()
  const comment = `comment ${nftQuote(containerID)}`
  const out: string[] = []
  for (const m of mappingsFor(c.mappings, f)) {
    const daddr = m.hostIP ? `${nftFamily(f)} daddr ${m.hostIP} ` : ''
    const to = f === 4 ? `${ip}:${m.containerPort}` : `[${ip}]:${m.containerPort}`
    out.push(`add rule ${t} hostports ${daddr}${m.protocol.toLowerCase()} dport ${m.hostPort} dnat to ${to} ${comment}`)
  }
  if (c.snat && c.mappings.length) {
    const fam = nftFamily(f)
    if (c.masqAll) {
      out.push(`add rule ${t} masquerading ${fam} saddr ${f === 4 ? '0.0.0.0/0' : '::/0'} ${fam} daddr ${ip} masquerade ${comment}`)
    } else {
      out.push(`add rule ${t} masquerading ${fam} saddr ${ip} ${fam} daddr ${ip} masquerade ${comment}`)
      if (f === 4) out.push(`add rule ${t} masquerading ip saddr 127.0.0.1 ip daddr ${ip} masquerade ${comment}`)
    }
  }
  return out
}

/** `delete rule` commands for every rule of `containerID` in one family's table (none when it is absent). */
async function deleteCommands(f: Family, containerID: string): Promise<string[]> {
  const listed = await nftList(['table', nftFamily(f), TABLE])
  if (!listed) return []
  return rulesOf(listed)
    .filter((r) => RULE_CHAINS.includes(r.chain) && r.comment === containerID)
    .map((r) => `delete rule ${nftFamily(f)} ${TABLE} ${r.chain} handle ${r.handle}`)
}

/** ADD: the table, then this container's rules (replacing any it had). */
export async function nftForwardPorts(c: PortMapConf, containerID: string, ips: { v4?: Prefix; v6?: Prefix }): Promise<void> {
  const commands: string[] = []
  for (const [f, cip, cond] of [[4, ips.v4, c.conditionsV4], [6, ips.v6, c.conditionsV6]] as const) {
    if (!cip) continue
    commands.push(...tableCommands(f, cond, c.snat), ...(await deleteCommands(f, containerID)), ...containerRules(c, containerID, f, cip))
  }
  if (commands.length) await nftApply(`${commands.join('\n')}\n`)
}

/** DEL: every rule of `containerID` in both families; a missing table is fine. */
export async function nftUnforwardPorts(containerID: string): Promise<void> {
  const commands = [...(await deleteCommands(4, containerID)), ...(await deleteCommands(6, containerID))]
  if (commands.length) await nftApply(`${commands.join('\n')}\n`)
}

/** CHECK: the reference's counts of this container's rules per chain. */
export async function nftCheckPorts(c: PortMapConf, containerID: string, ips: { v4?: Prefix; v6?: Prefix }): Promise<void> {
  for (const [f, cip] of [[4, ips.v4], [6, ips.v6]] as const) {
    if (!cip) continue
    const listed = await nftList(['table', nftFamily(f), TABLE])
    const rules = listed ? rulesOf(listed).filter((r) => r.comment === containerID) : []
    const want = mappingsFor(c.mappings, f).length
    if (rules.filter((r) => r.chain === 'hostports').length < want) throw new Error('missing hostport rules in "hostports" chain')
    if (c.snat && c.mappings.length) {
      const wantMasq = f === 6 || c.masqAll ? 1 : 2
      if (rules.filter((r) => r.chain === 'masquerading').length < wantMasq) {
        throw new Error('missing hostport rules in "masquerading" chain')
      }
    }
  }
}

export type { PortMapping }
