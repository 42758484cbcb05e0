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
import { ToolError, ToolMissingError, type ToolResult, runTool } from './exec'
import { masqChainName, masqComment } from './hash'
import { type Prefix, networkText } from './prefix'

export type Family = 4 | 6

const TOOL: Record<Family, string> = { 4: 'iptables', 6: 'ip6tables' }
const MULTICAST: Record<Family, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' }

/** What iptables prints when a chain or rule is not there (go-iptables' IsNotExist texts). */
const NOT_EXIST = [
  'Bad rule (does a matching rule exist in that chain?)',
  'No chain/target/match by that name',
  'No such file or directory',
  'does not exist',
]

function notExist(r: ToolResult): boolean {
  return NOT_EXIST.some((s) => r.stderr.includes(s))
}

function nat(family: Family, args: string[]): Promise<ToolResult> {
  return runTool(TOOL[family], ['--wait', '-t', 'nat', ...args])
}

async function natOk(family: Family, args: string[]): Promise<ToolResult> {
  const r = await nat(family, args)
  if (r.code !== 0) throw new ToolError(TOOL[family], ['-t', 'nat', ...args], r)
  return r
}

/** Runs `fn` for each family at once; throws the first failure after all have finished. */
async function eachFamily(families: Iterable<Family>, fn: (f: Family) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled([...new Set(families)].map(fn))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

/** Adds the masquerade chain and rules for every address (`ip/prefix`), IPv4 and IPv6 in parallel. */
export async function setupIptablesMasq(addrs: readonly Prefix[], network: string, containerID: string): Promise<void> {
  const chain = masqChainName(network, containerID)
  const comment = masqComment(network, containerID)
  const byFamily = new Map<Family, Prefix[]>()
  for (const a of addrs) byFamily.set(a.ip.family, [...(byFamily.get(a.ip.family) ?? []), a])
  await eachFamily(byFamily.keys(), (family) => setupFamily(family, byFamily.get(family)!, chain, comment))
}

async function setupFamily(family: Family, addrs: Prefix[], chain: string, comment: string): Promise<void> {
  const made = await nat(family, ['-N', chain])
  if (made.code !== 0 && !made.stderr.includes('Chain already exists')) {
    throw new ToolError(TOOL[family], ['-t', 'nat', '-N', chain], made)
  }
  // A chain we just made holds only what we append, and nothing can jump to it yet: no need to ask
  // iptables whether a rule exists (-C), which halves the processes spawned on the common path.
  const fresh = made.code === 0
  const appended = new Set<string>()
  const appendUnique = async (target: string, rule: string[]): Promise<void> => {
    const key = `${target} ${rule.join(' ')}`
    if (appended.has(key)) return
    if (!fresh) {
      const exists = await nat(family, ['-C', target, ...rule])
      if (exists.code === 0) return
      if (exists.code !== 1) throw new ToolError(TOOL[family], ['-t', 'nat', '-C', target, ...rule], exists)
    }
    await natOk(family, ['-A', target, ...rule])
    appended.add(key)
  }
  const tag = ['-m', 'comment', '--comment', comment]
  for (const a of addrs) {
    // The reference passes ip/prefix and iptables stores the network; we pass the network itself.
    await appendUnique(chain, ['-d', networkText(a), '-j', 'ACCEPT', ...tag])
    await appendUnique(chain, ['!', '-d', MULTICAST[family], '-j', 'MASQUERADE', ...tag])
    await appendUnique('POSTROUTING', ['-s', a.ip.toString(), '-j', chain, ...tag])
  }
}

/**
 * Removes the chain of (network, containerID) and every POSTROUTING rule jumping to it, in the
 * given families. Works from the chain name alone, so it also cleans up after a container whose
 * addresses are no longer known. Missing chains and rules are fine.
 */
export async function teardownIptablesMasq(network: string, containerID: string, families: Iterable<Family> = [4, 6]): Promise<void> {
  const chain = masqChainName(network, containerID)
  await eachFamily(families, (family) => removeChain(family, chain))
}

async function removeChain(family: Family, chain: string): Promise<void> {
  // Flushing the chain and listing POSTROUTING do not depend on each other: one round of processes.
  const [flushed, listing] = await Promise.all([nat(family, ['-F', chain]), nat(family, ['-S', 'POSTROUTING'])])
  if (flushed.code !== 0) {
    if (notExist(flushed)) return // no chain: nothing can jump to it either
    throw new ToolError(TOOL[family], ['-t', 'nat', '-F', chain], flushed)
  }
  if (listing.code !== 0) throw new ToolError(TOOL[family], ['-t', 'nat', '-S', 'POSTROUTING'], listing)
  for (const line of listing.stdout.split('\n')) {
    const rule = splitRuleLine(line)
    if (rule[0] !== '-A' || rule[1] !== 'POSTROUTING') continue
    const j = rule.indexOf('-j')
    if (j < 0 || rule[j + 1] !== chain) continue
    const del = await nat(family, ['-D', 'POSTROUTING', ...rule.slice(2)])
    if (del.code !== 0 && !notExist(del)) throw new ToolError(TOOL[family], ['-t', 'nat', '-D', 'POSTROUTING', ...rule.slice(2)], del)
  }
  const deleted = await nat(family, ['-X', chain])
  if (deleted.code !== 0 && !notExist(deleted)) throw new ToolError(TOOL[family], ['-t', 'nat', '-X', chain], deleted)
}

/**
 * Removes the masquerade chains of `network` whose container is not in `validIDs` (the iptables
 * backend keys its chains by container only, not by interface). Chains are recognised by their
 * comment and confirmed by recomputing the chain name.
 */
export async function gcIptablesMasq(network: string, validIDs: ReadonlySet<string>, families: Iterable<Family> = [4, 6]): Promise<void> {
  await eachFamily(families, async (family) => {
    const listing = await natOk(family, ['-S'])
    const stale = new Set<string>()
    for (const line of listing.stdout.split('\n')) {
      const rule = splitRuleLine(line)
      if (rule[0] !== '-A' || !rule[1]?.startsWith('CNI-')) continue
      const c = rule.indexOf('--comment')
      const owner = c < 0 ? undefined : parseMasqComment(rule[c + 1] ?? '')
      if (!owner || owner.network !== network || validIDs.has(owner.containerID)) continue
      if (masqChainName(network, owner.containerID) === rule[1]) stale.add(rule[1])
    }
    for (const chain of stale) await removeChain(family, chain)
  })
}

/** `name: "net" id: "ctr"` -> {network, containerID}; undefined for any other comment. */
export function parseMasqComment(comment: string): { network: string; containerID: string } | undefined {
  const m = /^name: ("(?:[^"\\]|\\.)*") id: ("(?:[^"\\]|\\.)*")$/.exec(comment)
  if (!m) return undefined
  try {
    return { network: JSON.parse(m[1]) as string, containerID: JSON.parse(m[2]) as string }
  } catch {
    return undefined
  }
}

/**
 * Splits one line of `iptables -S` into arguments: words separated by spaces, and double-quoted
 * strings with `\"` and `\\` escapes (how iptables prints comments).
 */
export function splitRuleLine(line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    if (line[i] === ' ') {
      i++
      continue
    }
    let word = ''
    if (line[i] === '"') {
      i++
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++
        word += line[i++]
      }
      i++
    } else {
      while (i < line.length && line[i] !== ' ') word += line[i++]
    }
    out.push(word)
  }
  return out
}

/** Whether iptables can be used here (go-iptables' check: list the filter table's INPUT chain). */
export async function iptablesUsable(): Promise<boolean> {
  try {
    return (await runTool('iptables', ['--wait', '-t', 'filter', '-n', '-L', 'INPUT'])).code === 0
  } catch (err) {
    if (err instanceof ToolMissingError) return false
    throw err
  }
}
