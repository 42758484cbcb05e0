/**
 * IP masquerade with iptables/ip6tables, the reference's default backend, rule for rule:
 *
 *   -N CNI-<24 hex>                                                     (table nat)
 *   -A CNI-<24 hex> -d <subnet> -j ACCEPT -m comment --comment C
 *   -A CNI-<24 hex> ! -d 224.0.0.0/4 -j MASQUERADE -m comment --comment C   (IPv6: ff00::/8)
 *   -A POSTROUTING -s <ip> -j CNI-<24 hex> -m comment --comment C
 *
 * with C = `name: "<network>" id: "<containerID>"`. One chain per (network, container), in each
 * family's table.
 */
import { type Prefix, networkText } from '../../../lib/ip/prefix'
import { type Family, Iptables, type RuleSpec, eachFamily } from '../../../lib/netfilter/iptables'
import { formatChainName, formatComment, parseComment } from '../../../lib/netfilter/names'

const MULTICAST: Record<Family, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' }

const nat = (family: Family): Iptables => new Iptables(family, 'nat')

/** Adds the masquerade chain and rules for every address (`ip/prefix`), IPv4 first, then IPv6. */
export async function setupIptablesMasq(addrs: readonly Prefix[], network: string, containerID: string): Promise<void> {
  const chain = formatChainName(network, containerID)
  const comment = formatComment(network, containerID)
  const byFamily = new Map<Family, Prefix[]>()
  for (const a of addrs) byFamily.set(a.ip.family, [...(byFamily.get(a.ip.family) ?? []), a])
  await eachFamily(byFamily.keys(), (family) => setupFamily(nat(family), byFamily.get(family)!, chain, comment))
}

/** The rules of one family: (chain, rule) pairs in the reference's order, without repeats. */
function familyRules(family: Family, addrs: Prefix[], chain: string, comment: string): [string, RuleSpec][] {
  const tag = ['-m', 'comment', '--comment', comment]
  const out = new Map<string, [string, RuleSpec]>()
  const add = (target: string, rule: RuleSpec): void => void out.set(`${target} ${rule.join(' ')}`, [target, rule])
  for (const a of addrs) {
    // The reference passes ip/prefix and iptables stores the network; we pass the network itself.
    add(chain, ['-d', networkText(a), '-j', 'ACCEPT', ...tag])
    add(chain, ['!', '-d', MULTICAST[family], '-j', 'MASQUERADE', ...tag])
    add('POSTROUTING', ['-s', a.ip.toString(), '-j', chain, ...tag])
  }
  return [...out.values()]
}

async function setupFamily(ipt: Iptables, addrs: Prefix[], chain: string, comment: string): Promise<void> {
  const rules = familyRules(ipt.family, addrs, chain, comment)
  // A chain we just made holds nothing and nothing jumps to it yet: every rule goes in at once, in
  // one iptables-restore (two processes in all, where one per rule took four or more).
  if (await ipt.ensureChain(chain)) {
    await ipt.restore(rules.map(([target, rule]) => ['-A', target, ...rule]))
    return
  }
  // The chain was there (a repeated ADD): append what is missing, like the reference.
  for (const [target, rule] of rules) await ipt.appendUnique(target, rule)
}

/**
 * Removes the chain of (network, containerID) and every POSTROUTING rule jumping to it, in the
 * given families. Works from the chain name alone, so it also cleans up after a container whose
 * addresses are no longer known. Missing chains and rules are fine.
 */
export async function teardownIptablesMasq(network: string, containerID: string, families: Iterable<Family> = [4, 6]): Promise<void> {
  const chain = formatChainName(network, containerID)
  await eachFamily(families, (family) => removeChain(nat(family), chain))
}

async function removeChain(ipt: Iptables, chain: string): Promise<void> {
  // The common case in two processes: list POSTROUTING, then one iptables-restore that deletes the
  // jumps, flushes and deletes the chain, all or nothing.
  const postrouting = await ipt.listRules('POSTROUTING')
  const jumps = postrouting.filter((r) => r[0] === '-A' && r[r.length - 2] === '-j' && r[r.length - 1] === chain)
  try {
    await ipt.restore([...jumps.map((r) => ['-D', ...r.slice(1)]), ['-F', chain], ['-X', chain]])
  } catch {
    // No such chain (already gone), or a rule changed meanwhile: the step-by-step way, which copes
    // with anything missing.
    if (!(await ipt.flushChain(chain))) return
    await ipt.deleteRulesJumpingTo('POSTROUTING', chain)
    await ipt.deleteChain(chain)
  }
}

/**
 * Removes the masquerade chains of `network` whose container is not in `validIDs` (the iptables
 * backend keys its chains by container only, not by interface). Chains are recognised by their
 * comment and confirmed by recomputing the chain name.
 */
export async function gcIptablesMasq(network: string, validIDs: ReadonlySet<string>, families: Iterable<Family> = [4, 6]): Promise<void> {
  await eachFamily(families, async (family) => {
    const ipt = nat(family)
    const stale = new Set<string>()
    for (const rule of await ipt.listRules()) {
      if (rule[0] !== '-A' || !rule[1]?.startsWith('CNI-')) continue
      const c = rule.indexOf('--comment')
      const owner = c < 0 ? undefined : parseComment(rule[c + 1] ?? '')
      if (!owner || owner.network !== network || validIDs.has(owner.containerID)) continue
      if (formatChainName(network, owner.containerID) === rule[1]) stale.add(rule[1])
    }
    for (const chain of stale) await removeChain(ipt, chain)
  })
}
