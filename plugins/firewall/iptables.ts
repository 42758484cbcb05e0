/**
 * firewall's iptables rules, exactly the reference's (chained-plugins.md §2.2–2.4), so either
 * implementation removes what the other made. All in the filter table:
 *
 *   FORWARD       -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD           (first)
 *   CNI-FORWARD   -m comment --comment "CNI firewall plugin admin overrides" -j <admin>      (first)
 *                 per address:  -d <ip>/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
 *                               -s <ip>/32 -j ACCEPT                (no comment; /128 for IPv6)
 *   <admin>       (CNI-ADMIN) the administrator's: created when missing, never flushed or removed
 *
 * ingressPolicy same-bridge adds the isolation chains, per bridge, never removed (other
 * containers on the bridge still need them):
 *
 *   FORWARD                -j CNI-ISOLATION-STAGE-1                  (first, before CNI-FORWARD)
 *   CNI-ISOLATION-STAGE-1  -i BR ! -o BR -j CNI-ISOLATION-STAGE-2 ... -j RETURN
 *   CNI-ISOLATION-STAGE-2  -o BR -j DROP ... -j RETURN
 *
 * each with the comment "CNI firewall plugin rules (ingressPolicy: same-bridge)" after the target,
 * as the reference passes it (Debian 1.1.1's strings; upstream HEAD words some differently).
 */
import { type Prefix, parsePrefix } from '../../lib/ip/prefix'
import { type Family, Iptables, type RuleSpec } from '../../lib/netfilter/iptables'
import type { Result } from '../../lib/skel'

export const FORWARD_CHAIN = 'CNI-FORWARD'
export const STAGE1_CHAIN = 'CNI-ISOLATION-STAGE-1'
export const STAGE2_CHAIN = 'CNI-ISOLATION-STAGE-2'
const FORWARD_COMMENT = 'CNI firewall plugin rules'
const ADMIN_COMMENT = 'CNI firewall plugin admin overrides'
const ISOLATION_COMMENT = 'CNI firewall plugin rules (ingressPolicy: same-bridge)'

/** The jump from FORWARD to CNI-FORWARD. */
export const forwardJump = (): RuleSpec => ['-m', 'comment', '--comment', FORWARD_COMMENT, '-j', FORWARD_CHAIN]
/** The jump from CNI-FORWARD to the admin chain. */
export const adminJump = (adminChain: string): RuleSpec => ['-m', 'comment', '--comment', ADMIN_COMMENT, '-j', adminChain]

/** `<ip>/32` or `<ip>/128`: the address alone, whatever prefix prevResult gave it. */
export function hostPrefix(p: Prefix): string {
  return `${p.ip.toString()}/${p.ip.family === 4 ? 32 : 128}`
}

/** The two rules of one address, in the reference's order. */
export function addressRules(ip: string): RuleSpec[] {
  return [
    ['-d', ip, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
    ['-s', ip, '-j', 'ACCEPT'],
  ]
}

/** Every address of prevResult (host-side ones too, as the reference), as `<ip>/32|128`, by family. */
export function addressesByFamily(result: Result | undefined): Map<Family, string[]> {
  const out = new Map<Family, string[]>()
  for (const ipc of result?.ips ?? []) {
    const p = parsePrefix(ipc.address)
    const f = p.ip.family as Family
    const list = out.get(f) ?? []
    const ip = hostPrefix(p)
    if (!list.includes(ip)) list.push(ip)
    out.set(f, list)
  }
  return out
}

/** Groups `<ip>/N` strings by family. */
export function groupByFamily(ips: Iterable<string>): Map<Family, string[]> {
  const out = new Map<Family, string[]>()
  for (const ip of ips) {
    const f: Family = ip.includes(':') ? 6 : 4
    out.set(f, [...(out.get(f) ?? []), ip])
  }
  return out
}

const filter = (f: Family): Iptables => new Iptables(f, 'filter')

/** The chains and the two jumps: CNI-FORWARD first in FORWARD, the admin chain first in CNI-FORWARD. */
async function ensureChains(ipt: Iptables, adminChain: string): Promise<void> {
  await ipt.ensureChain(FORWARD_CHAIN)
  await ipt.ensureChain(adminChain)
  await ipt.insertUnique('FORWARD', forwardJump(), 1)
  await ipt.insertUnique(FORWARD_CHAIN, adminJump(adminChain), 1)
}

/**
 * ADD for one family: the chains, then the addresses' rules appended unless present. Returns the
 * rules this call appended (what an undo removes); on a failure those are removed before it throws.
 */
export async function iptablesAllow(f: Family, adminChain: string, ips: readonly string[]): Promise<RuleSpec[]> {
  const ipt = filter(f)
  await ensureChains(ipt, adminChain)
  const added: RuleSpec[] = []
  try {
    for (const ip of ips) {
      for (const rule of addressRules(ip)) if (await ipt.appendUnique(FORWARD_CHAIN, rule)) added.push(rule)
    }
  } catch (err) {
    await iptablesRemoveRules(f, added)
    throw err
  }
  return added
}

/** Deletes these rules from CNI-FORWARD; rules (or the chain) already gone are fine. */
export async function iptablesRemoveRules(f: Family, rules: readonly RuleSpec[]): Promise<void> {
  const ipt = filter(f)
  for (const rule of rules) await ipt.deleteRule(FORWARD_CHAIN, rule).catch(() => false)
}

/** DEL for one family: each address's two rules, by exact match (the reference's `-D`). */
export async function iptablesRevoke(f: Family, ips: readonly string[]): Promise<void> {
  await iptablesRemoveRules(f, ips.flatMap(addressRules))
}

/**
 * CHECK for one family, with the reference's messages. Unlike the reference it creates nothing: a
 * missing chain is reported as the missing jump into it.
 */
export async function iptablesCheck(f: Family, adminChain: string, ips: readonly string[]): Promise<void> {
  const ipt = filter(f)
  const show = (r: RuleSpec): string => `[${r.join(' ')}]`
  const jump = forwardJump()
  if (!(await ipt.chainExists(FORWARD_CHAIN)) || !(await ipt.ruleExists('FORWARD', jump))) {
    throw new Error(`expected FORWARD rule ${show(jump)} not found`)
  }
  const admin = adminJump(adminChain)
  if (!(await ipt.chainExists(adminChain)) || !(await ipt.ruleExists(FORWARD_CHAIN, admin))) {
    throw new Error(`expected ${FORWARD_CHAIN} rule ${show(admin)} not found`)
  }
  for (const ip of ips) {
    for (const rule of addressRules(ip)) {
      if (!(await ipt.ruleExists(FORWARD_CHAIN, rule))) throw new Error(`expected rule ${show(rule)} not found`)
    }
  }
}

const withComment = (rule: string[]): RuleSpec => [...rule, '-m', 'comment', '--comment', ISOLATION_COMMENT]

/** ingressPolicy same-bridge for one family: the isolation chains and this bridge's rules. */
export async function iptablesIsolate(f: Family, bridge: string): Promise<void> {
  const ipt = filter(f)
  await ipt.ensureChain(STAGE1_CHAIN)
  await ipt.ensureChain(STAGE2_CHAIN)
  await ipt.insertUnique('FORWARD', withComment(['-j', STAGE1_CHAIN]), 1)
  await ipt.insertUnique(STAGE1_CHAIN, withComment(['-i', bridge, '!', '-o', bridge, '-j', STAGE2_CHAIN]), 1)
  await ipt.appendUnique(STAGE1_CHAIN, withComment(['-j', 'RETURN']))
  await ipt.insertUnique(STAGE2_CHAIN, withComment(['-o', bridge, '-j', 'DROP']), 1)
  await ipt.appendUnique(STAGE2_CHAIN, withComment(['-j', 'RETURN']))
}

/** Whether the filter table of a family can be listed (STATUS). */
export async function iptablesFilterUsable(f: Family): Promise<boolean> {
  try {
    return (await filter(f).run(['-S', 'FORWARD'])).code === 0
  } catch {
    return false
  }
}
