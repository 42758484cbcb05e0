/**
 * MAC spoof check (the reference's pkg/link SpoofChecker): nftables rules in the `bridge nat` table
 * that drop frames entering the bridge from a container's host-side veth unless their source MAC is
 * the container's. Written in nft's JSON schema, like the reference (go-nft), so names need no quoting.
 *
 *   PREROUTING (filter, prerouting, priority -300, policy accept):
 *       iifname "<hostVeth>" jump cni-br-iface-<ref>
 *   cni-br-iface-<ref>:      jump cni-br-iface-<ref>-mac
 *   cni-br-iface-<ref>-mac:  ether saddr <mac> return ; drop
 *
 * every rule commented `macspoofchk-<ref>`, ref = `<containerID>-<ifName>`.
 */
import { chainsOf, nftApply, nftList, rulesOf } from '../../lib/netfilter/nftables'

const FAMILY = 'bridge'
const TABLE = 'nat'
const BASE_CHAIN = 'PREROUTING'

export function spoofCheckRef(containerID: string, ifName: string): string {
  return `${containerID}-${ifName}`
}

function names(ref: string) {
  const iface = `cni-br-iface-${ref}`
  return { iface, mac: `${iface}-mac`, comment: `macspoofchk-${ref}` }
}

const where = { family: FAMILY, table: TABLE }

/** Installs the rules for one attachment (its chains are flushed first, so a repeat replaces them). */
export async function setupSpoofCheck(hostIface: string, mac: string, ref: string): Promise<void> {
  const n = names(ref)
  const rule = (chain: string, expr: unknown[]) => ({ add: { rule: { ...where, chain, expr, comment: n.comment } } })
  const batch = {
    nftables: [
      { add: { table: { family: FAMILY, name: TABLE } } },
      { add: { chain: { ...where, name: BASE_CHAIN, type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } } },
      { add: { chain: { ...where, name: n.iface } } },
      { add: { chain: { ...where, name: n.mac } } },
      { flush: { chain: { ...where, name: n.iface } } },
      { flush: { chain: { ...where, name: n.mac } } },
      rule(BASE_CHAIN, [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: hostIface } }, { jump: { target: n.iface } }]),
      rule(n.iface, [{ jump: { target: n.mac } }]),
      rule(n.mac, [{ match: { op: '==', left: { payload: { protocol: 'ether', field: 'saddr' } }, right: mac } }, { return: null }]),
      rule(n.mac, [{ drop: null }]),
    ],
  }
  try {
    await nftApply(JSON.stringify(batch), { json: true })
  } catch (err) {
    throw new Error(`failed to setup spoof-check: ${(err as Error).message}`)
  }
}

/**
 * Removes one attachment's rules and chains; the table and base chain stay. Nothing to remove is
 * fine (the check may never have been set up).
 */
export async function teardownSpoofCheck(ref: string): Promise<void> {
  const n = names(ref)
  try {
    const objects = await nftList(['table', FAMILY, TABLE])
    if (!objects) return
    const items: unknown[] = []
    for (const r of rulesOf(objects)) {
      if (r.chain === BASE_CHAIN && r.comment === n.comment) items.push({ delete: { rule: { ...where, chain: BASE_CHAIN, handle: r.handle } } })
    }
    const chains = new Set(chainsOf(objects).map((c) => c.name))
    // The interface chain first: it holds the jump to the MAC chain.
    for (const name of [n.iface, n.mac]) if (chains.has(name)) items.push({ delete: { chain: { ...where, name } } })
    if (items.length) await nftApply(JSON.stringify({ nftables: items }), { json: true })
  } catch (err) {
    throw new Error(`failed to teardown spoof-check: ${(err as Error).message}`)
  }
}
