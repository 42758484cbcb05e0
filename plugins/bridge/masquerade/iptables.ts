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

/** Adds the masquerade chain and rules for every address (`ip/prefix`), IPv4 and IPv6 in parallel. */
export async function setupIptablesMasq(addrs: readonly Prefix[], network: string, containerID: string): Promise<void> {
  const chain = formatChainName(network, containerID)
  const comment = formatComment(network, containerID)
  const byFamily = new Map<Family, Prefix[]>()
  for (const a of addrs) byFamily.set(a.ip.family, [...(byFamily.get(a.ip.family) ?? []), a])
  await eachFamily(byFamily.keys(), (family) => setupFamily(nat(family), byFamily.get(family)!, chain, comment))
}

async function setupFamily(ipt: Iptables, addrs: Prefix[], chain: string, comment: string): Promise<void> {
  // A chain we just made holds only what we append, and nothing can jump to it yet: no need to ask
  // iptables whether a rule exists (-C), which halves the processes spawned on the common path.
  const fresh = await ipt.ensureChain(chain)
  const appended = new Set<string>()
  const appendUnique = async (target: string, rule: RuleSpec): Promise<void> => {
    const key = `${target} ${rule.join(' ')}`
    if (appended.has(key)) return
    if (fresh) await ipt.append(target, rule)
    else if (!(await ipt.appendUnique(target, rule))) return
    appended.add(key)
  }
  const tag = ['-m', 'comment', '--comment', comment]
  for (const a of addrs) {
    // The reference passes ip/prefix and iptables stores the network; we pass the network itself.
    await appendUnique(chain, ['-d', networkText(a), '-j', 'ACCEPT', ...tag])
    await appendUnique(chain, ['!', '-d', MULTICAST[ipt.family], '-j', 'MASQUERADE', ...tag])
    await appendUnique('POSTROUTING', ['-s', a.ip.toString(), '-j', chain, ...tag])
  }
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
  // Flushing the chain and listing POSTROUTING do not depend on each other: one round of processes.
  const [flushed, postrouting] = await Promise.allSettled([ipt.flushChain(chain), ipt.listRules('POSTROUTING')])
  if (flushed.status === 'rejected') throw flushed.reason
  if (!flushed.value) return // no chain: nothing can jump to it either
  if (postrouting.status === 'rejected') throw postrouting.reason
  await ipt.deleteRulesJumpingTo('POSTROUTING', chain, postrouting.value)
  await ipt.deleteChain(chain)
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
