/**
 * IP masquerade with nftables, as the reference's knftables backend writes it: one shared table
 * `inet cni_plugins_masquerade` whose `postrouting` chain skips multicast and jumps to
 * `masq_checks`, where each attachment owns one rule per address:
 *
 *   ip saddr == 10.1.2.3 ip daddr != 10.1.2.0/24 masquerade comment "<H(net)>-<H(if:id)>, net: N, if: I, id: C"
 *
 * H(x) is the first 16 hex digits of sha512(x). Rules are found again by their comment prefix, so
 * teardown needs neither the addresses nor the interface.
 */
import { type Prefix, networkText } from '../../../lib/ip/prefix'
import { sha512Hex } from '../../../lib/netfilter/names'
import { type NftRule, nftApply, nftDeleteRuleLine, nftDeleteRules, nftListRules, nftQuote } from '../../../lib/netfilter/nftables'

export const MASQ_TABLE = 'cni_plugins_masquerade'
export const MASQ_CHAIN = 'masq_checks'
const COMMENT_MAX = 128

const T = `inet ${MASQ_TABLE}`

export function hashForNetwork(network: string): string {
  return sha512Hex(network, 16)
}

export function hashForInstance(network: string, ifName: string, containerID: string): string {
  return `${hashForNetwork(network)}-${sha512Hex(`${ifName}:${containerID}`, 16)}`
}

/** The rule comment of one attachment (quotes removed from the parts, cut at 128 bytes). */
export function commentForInstance(network: string, ifName: string, containerID: string): string {
  const strip = (s: string): string => s.replaceAll('"', '')
  const comment = `${hashForInstance(network, ifName, containerID)}, net: ${strip(network)}, if: ${strip(ifName)}, id: ${strip(containerID)}`
  const bytes = Buffer.from(comment, 'utf8')
  return bytes.length > COMMENT_MAX ? bytes.subarray(0, COMMENT_MAX).toString('utf8') : comment
}

/** The rules of masq_checks whose comment starts with `prefix`; none when the table does not exist yet. */
async function findRules(prefix: string): Promise<NftRule[]> {
  return (await nftListRules(['chain', 'inet', MASQ_TABLE, MASQ_CHAIN])).filter((r) => r.comment?.startsWith(prefix))
}

/** Adds (or replaces) this attachment's masquerade rules, in one transaction. */
export async function setupNftMasq(addrs: readonly Prefix[], network: string, ifName: string, containerID: string): Promise<void> {
  const stale = await findRules(hashForInstance(network, ifName, containerID))
  const comment = commentForInstance(network, ifName, containerID)
  let tx =
    `add table ${T} { comment ${nftQuote('Masquerading for plugins from github.com/containernetworking/plugins')} ; }\n` +
    `add chain ${T} ${MASQ_CHAIN} { comment ${nftQuote('Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet')} ; }\n` +
    `add chain ${T} postrouting { type nat hook postrouting priority 100 ; }\n` +
    `flush chain ${T} postrouting\n` +
    `add rule ${T} postrouting ip daddr == 224.0.0.0/4  return\n` +
    `add rule ${T} postrouting ip6 daddr == ff00::/8  return\n` +
    `add rule ${T} postrouting goto ${MASQ_CHAIN}\n`
  for (const r of stale) tx += nftDeleteRuleLine(r)
  for (const a of addrs) {
    const ip = a.ip.family === 4 ? 'ip' : 'ip6'
    tx += `add rule ${T} ${MASQ_CHAIN} ${ip} saddr == ${a.ip} ${ip} daddr != ${networkText(a)} masquerade comment ${nftQuote(comment)}\n`
  }
  await nftApply(tx)
}

/** Removes this attachment's rules; the table and chains stay (other attachments share them). */
export async function teardownNftMasq(network: string, ifName: string, containerID: string): Promise<void> {
  await nftDeleteRules(await findRules(hashForInstance(network, ifName, containerID)))
}

/** Removes the rules of `network` that belong to none of the valid attachments. */
export async function gcNftMasq(network: string, valid: readonly { containerID: string; ifName: string }[]): Promise<void> {
  const keep = new Set(valid.map((a) => commentForInstance(network, a.ifName, a.containerID)))
  const stale = (await findRules(hashForNetwork(network))).filter((r) => !keep.has(r.comment ?? ''))
  await nftDeleteRules(stale)
}
