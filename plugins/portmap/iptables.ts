/**
 * portmap's iptables backend: the reference's chains, rules, order and comments (chained-plugins.md
 * §1.3–1.6), so either implementation removes what the other made.
 *
 *   nat PREROUTING, OUTPUT  -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
 *   CNI-HOSTPORT-DNAT       per container and protocol: -m multiport --destination-ports … -j CNI-DN-<h>
 *   CNI-DN-<h>              per mapping: hairpin and localhost marks, then the DNAT
 *   CNI-HOSTPORT-SETMARK    sets the masquerade mark;  CNI-HOSTPORT-MASQ (first in POSTROUTING) masquerades it
 *
 * `<h>` is sha512(network + containerID), as for the bridge's masquerade chain.
 */
import type { Prefix } from '../../lib/ip/prefix'
import { prefixText } from '../../lib/ip/prefix'
import { type Family, Iptables, type RuleSpec } from '../../lib/netfilter/iptables'
import { sha512Hex } from '../../lib/netfilter/names'
import type { PortMapConf } from './config'
import { mappingsFor, portGroups } from './mappings'

export const TOP_DNAT_CHAIN = 'CNI-HOSTPORT-DNAT'
export const SETMARK_CHAIN = 'CNI-HOSTPORT-SETMARK'
export const MASQ_CHAIN = 'CNI-HOSTPORT-MASQ'
const MASQ_MARK_COMMENT = 'CNI portfwd masquerade mark'
const MASQ_JUMP_COMMENT = 'CNI portfwd requiring masquerade'
/** Chains of older reference versions: only ever torn down. */
const LEGACY_SNAT_CHAIN = 'CNI-HOSTPORT-SNAT'

/** `CNI-DN-` + 21 hex digits of sha512(network + containerID). */
export const dnatChainName = (network: string, containerID: string): string => `CNI-DN-${sha512Hex(network + containerID, 21)}`
const legacySnatChainName = (network: string, containerID: string): string => `CNI-SN-${sha512Hex(network + containerID, 21)}`

/**
 * The entry rules' comment, built with Go's %s (quotes not escaped) and cut like the reference
 * cuts it: over 255 bytes, the first 253 bytes and "...".
 */
export function dnatComment(network: string, containerID: string): string {
  const full = `dnat name: "${network}" id: "${containerID}"`
  const bytes = Buffer.from(full, 'utf8')
  return bytes.length > 255 ? `${bytes.subarray(0, 253).toString('utf8')}...` : full
}

/** `%#x/%#x` of the mark bit, e.g. 0x2000/0x2000. */
export const markOf = (bit: number): string => {
  const hex = `0x${(2 ** bit).toString(16)}`
  return `${hex}/${hex}`
}

const fail = (what: string, err: unknown): Error => new Error(`${what}: ${(err as Error).message}`)

/** The rules of the per-container chain, for one family's address, in the reference's order. */
export function containerChainRules(c: PortMapConf, f: Family, cip: Prefix): RuleSpec[] {
  const markChain = c.externalSetMarkChain ?? SETMARK_CHAIN
  const ip = cip.ip.toString()
  const rules: RuleSpec[] = []
  for (const m of mappingsFor(c.mappings, f)) {
    const base = ['-p', m.protocol, '--dport', String(m.hostPort), ...(m.hostIP ? ['-d', m.hostIP] : [])]
    if (c.snat) {
      const hairpinSrc = c.masqAll ? (f === 4 ? '0.0.0.0/0' : '::/0') : prefixText(cip)
      rules.push([...base, '-s', hairpinSrc, '-j', markChain])
      if (f === 4 && !c.masqAll) rules.push([...base, '-s', '127.0.0.1', '-j', markChain])
    }
    rules.push([...base, '-j', 'DNAT', '--to-destination', f === 4 ? `${ip}:${m.containerPort}` : `[${ip}]:${m.containerPort}`])
  }
  return rules
}

/** The container's rules in CNI-HOSTPORT-DNAT: one per protocol and chunk of at most 15 ports. */
export function entryRules(c: PortMapConf, containerID: string, f: Family): RuleSpec[] {
  const chain = dnatChainName(c.name, containerID)
  const conditions = (f === 4 ? c.conditionsV4 : c.conditionsV6) ?? []
  return portGroups(c.mappings).map((g) => [
    '-m', 'comment', '--comment', dnatComment(c.name, containerID),
    '-m', 'multiport', '-p', g.protocol, '--destination-ports', g.ports.join(','),
    ...conditions, '-j', chain,
  ])
}

/** The mark and masquerade chains (unless an external mark chain does the marking). */
async function ensureMasqChains(ipt: Iptables, bit: number): Promise<void> {
  const mark = markOf(bit)
  try {
    await ipt.ensureChain(SETMARK_CHAIN)
    await ipt.appendUnique(SETMARK_CHAIN, ['-m', 'comment', '--comment', MASQ_MARK_COMMENT, '-j', 'MARK', '--set-xmark', mark])
  } catch (err) {
    throw fail(`unable to create chain ${SETMARK_CHAIN}`, err)
  }
  try {
    await ipt.ensureChain(MASQ_CHAIN)
    await ipt.appendUnique(MASQ_CHAIN, ['-m', 'mark', '--mark', mark, '-j', 'MASQUERADE'])
    // First in POSTROUTING: before the bridge's masquerade chains, which would take the packet.
    await ipt.insertUnique('POSTROUTING', ['-m', 'comment', '--comment', MASQ_JUMP_COMMENT, '-j', MASQ_CHAIN], 1)
  } catch (err) {
    throw fail(`unable to create chain ${MASQ_CHAIN}`, err)
  }
}

/** ADD for one family: the shared chains, then this container's chain and entry rules. */
export async function iptablesForward(c: PortMapConf, containerID: string, f: Family, cip: Prefix): Promise<void> {
  const ipt = new Iptables(f, 'nat')
  if (c.snat && c.externalSetMarkChain === undefined) await ensureMasqChains(ipt, c.markMasqBit)
  try {
    await ipt.ensureChain(TOP_DNAT_CHAIN)
    for (const hook of ['PREROUTING', 'OUTPUT']) {
      await ipt.appendUnique(hook, ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', TOP_DNAT_CHAIN])
    }
  } catch (err) {
    throw fail('failed to create top-level DNAT chain', err)
  }
  const chain = dnatChainName(c.name, containerID)
  try {
    if (!(await ipt.ensureChain(chain))) {
      // A repeated ADD (new address or ports): start the container's rules over. The reference
      // keeps the old ones and appends, so stale ports kept forwarding.
      await ipt.deleteRulesJumpingTo(TOP_DNAT_CHAIN, chain)
      await ipt.flushChain(chain)
    }
    // The chain is empty and nothing jumps to it: all its rules and the entry rules in one
    // iptables-restore, one process instead of one per rule.
    // Repeats are left out, as the reference's check-then-append leaves them out.
    const lines = new Map<string, string[]>()
    for (const rule of containerChainRules(c, f, cip)) lines.set(`${chain} ${rule.join(' ')}`, ['-A', chain, ...rule])
    for (const rule of entryRules(c, containerID, f)) lines.set(`${TOP_DNAT_CHAIN} ${rule.join(' ')}`, ['-A', TOP_DNAT_CHAIN, ...rule])
    await ipt.restore([...lines.values()])
  } catch (err) {
    throw fail('unable to setup DNAT', err)
  }
}

/**
 * CHECK for one family: the container's chain holds its rules and CNI-HOSTPORT-DNAT its entry
 * rules (in any order), with the reference's messages. Only the address's own family is checked
 * (Debian's 1.1.1 also ran the IPv4 rules against ip6tables and always failed; upstream fixed it).
 */
export async function iptablesCheck(c: PortMapConf, containerID: string, f: Family, cip: Prefix): Promise<void> {
  const ipt = new Iptables(f, 'nat')
  const chain = dnatChainName(c.name, containerID)
  if (!(await ipt.chainExists(chain))) throw new Error(`chain ${chain} not found in iptables table nat`)
  const show = (rules: RuleSpec[]): string => `[${rules.map((r) => `[${r.join(' ')}]`).join(' ')}]`
  const own = containerChainRules(c, f, cip)
  for (const rule of own) {
    if (!(await ipt.ruleExists(chain, rule))) throw new Error(`rule ${show(own)} in chain ${chain} not found in table nat`)
  }
  const entries = entryRules(c, containerID, f)
  for (const rule of entries) {
    if (!(await ipt.ruleExists(TOP_DNAT_CHAIN, rule))) {
      throw new Error(`rule ${show(entries)} in chain ${TOP_DNAT_CHAIN} not found in table nat`)
    }
  }
}

/**
 * Removes `chain` and every rule in `from` that jumps to it. The jumps go first whoever made them
 * (whatever their ports or comment): the reference's convention, which makes DEL work on either
 * implementation's rules. A chain that is not there is already gone.
 */
async function teardownChain(ipt: Iptables, chain: string, from: string): Promise<void> {
  if (!(await ipt.chainExists(chain))) return
  if (await ipt.chainExists(from)) await ipt.deleteRulesJumpingTo(from, chain)
  await ipt.flushChain(chain)
  await ipt.deleteChain(chain)
}

/** DEL for one family: the container's DNAT chain and its entry rules (and a legacy SNAT chain). */
export async function iptablesUnforward(network: string, containerID: string, f: Family): Promise<void> {
  const ipt = new Iptables(f, 'nat')
  try {
    await teardownChain(ipt, dnatChainName(network, containerID), TOP_DNAT_CHAIN)
  } catch (err) {
    throw fail(`could not teardown ipv${f} dnat`, err)
  }
  await teardownChain(ipt, legacySnatChainName(network, containerID), LEGACY_SNAT_CHAIN).catch(() => undefined)
}

/** Whether `ip[6]tables -t nat -S OUTPUT` works: the reference's probe before DEL. */
export async function iptablesNatUsable(f: Family): Promise<boolean> {
  try {
    return (await new Iptables(f, 'nat').run(['-S', 'OUTPUT'])).code === 0
  } catch {
    return false
  }
}

/**
 * GC for one family: the DNAT chains of this network's attachments that are no longer valid. The
 * entry rules' comments name network and container, so chains of other networks are left alone.
 */
export async function iptablesGc(network: string, validIDs: ReadonlySet<string>, f: Family): Promise<string[]> {
  const ipt = new Iptables(f, 'nat')
  if (!(await ipt.chainExists(TOP_DNAT_CHAIN))) return []
  const stale = new Set<string>()
  const prefix = `dnat name: "${network}" id: "`
  const validChains = new Set([...validIDs].map((id) => dnatChainName(network, id)))
  for (const rule of await ipt.listRules(TOP_DNAT_CHAIN)) {
    const at = rule.indexOf('--comment')
    if (at < 0 || !rule[at + 1]?.startsWith(prefix)) continue
    const chain = rule[rule.length - 1]
    if (chain.startsWith('CNI-DN-') && !validChains.has(chain)) stale.add(chain)
  }
  for (const chain of stale) await teardownChain(ipt, chain, TOP_DNAT_CHAIN)
  return [...stale]
}
