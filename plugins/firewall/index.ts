/**
 * The firewall plugin: lets the addresses an earlier plugin gave a container through the host's
 * firewall (FORWARD), chained after it (prevResult in, the same result out). Backends: iptables
 * (the reference's chains and rules, iptables.ts) and firewalld (a zone's sources, firewalld.ts),
 * chosen like the reference chooses: `backend` when it names one, else firewalld when it owns its
 * name on the system bus, else iptables. ingressPolicy `same-bridge` isolates the bridge from other
 * isolated bridges, in iptables whatever the backend.
 *
 * Better than the reference, deliberately: the policy and its bridge are checked before any rule is
 * made; a failed ADD removes the rules it appended; only the families that have addresses need
 * their tool (the reference needs ip6tables even for IPv4); CHECK creates no missing chain and
 * fails on a firewalld `false`; ADD records the addresses per attachment, so GC can remove the
 * rules of attachments that are gone and a DEL without prevResult still removes them.
 */
import type { Family, RuleSpec } from '../../lib/netfilter/iptables'
import { type CmdArgs, CniError, type Result, validAttachments } from '../../lib/skel'
import { writeAllSync } from '../../lib/skel/stdio'
import { type Backend, type FirewallConf, checkIngressPolicy, isolatedBridge, loadConf } from './config'
import { ensureBus, firewalldAdd, firewalldCheck, firewalldRemove, firewalldRunning } from './firewalld'
import {
  addressesByFamily,
  groupByFamily,
  iptablesAllow,
  iptablesCheck,
  iptablesFilterUsable,
  iptablesIsolate,
  iptablesRemoveRules,
  iptablesRevoke,
} from './iptables'
import { listNetworks, listRecords, readRecord, removeRecord, writeRecord } from './records'

/** The config's backend, else firewalld when it is running, else iptables. */
async function chooseBackend(c: FirewallConf): Promise<Backend> {
  if (c.backend) return c.backend
  return (await firewalldRunning()) ? 'firewalld' : 'iptables'
}

/** IPv4 first, then IPv6 (the reference's order is a Go map's: random). */
const families = (m: Map<Family, string[]>): [Family, string[]][] => [...m.entries()].sort(([a], [b]) => a - b)

const warn = (msg: string): void => writeAllSync(2, `firewall: ${msg}\n`)

/** Removes addresses' rules (or zone sources) on a backend; never fails (DEL, GC, undo). */
async function revoke(c: FirewallConf, backend: Backend, ips: readonly string[]): Promise<void> {
  if (ips.length === 0) return
  if (backend === 'firewalld') return firewalldRemove(c.firewalldZone, ips)
  // The families side by side: deleting creates no table, so their order does not matter here.
  await Promise.all(families(groupByFamily(ips)).map(([f, list]) => iptablesRevoke(f, list).catch(() => undefined)))
}

export async function cmdAdd(args: CmdArgs): Promise<Result> {
  const c = loadConf(args.conf, args.cniVersion)
  const result = c.prevResult
  if (!result) throw new Error('missing prevResult from earlier plugin')
  // Everything that can be refused is refused before the first rule.
  const policy = checkIngressPolicy(c)
  const bridge = policy === 'same-bridge' ? isolatedBridge(c, result) : undefined
  const byFamily = addressesByFamily(result)
  const ips = families(byFamily).flatMap(([, l]) => l)
  const backend = await chooseBackend(c)
  if (backend === 'firewalld') ensureBus()

  const appended: [Family, RuleSpec[]][] = []
  let sourcesAdded: string[] = []
  try {
    if (backend === 'firewalld') sourcesAdded = await firewalldAdd(c.firewalldZone, ips)
    else for (const [f, list] of families(byFamily)) appended.push([f, await iptablesAllow(f, c.adminChain, list)])
    if (bridge) for (const [f] of families(byFamily)) await iptablesIsolate(f, bridge)
  } catch (err) {
    // Undo this call's own rules; the shared chains, jumps and isolation rules stay (others use them).
    await firewalldRemove(c.firewalldZone, sourcesAdded)
    for (const [f, rules] of appended) await iptablesRemoveRules(f, rules)
    throw err
  }
  if (ips.length > 0) {
    try {
      writeRecord(c.dataDir, c.name, { containerID: args.containerID, ifName: args.ifName, ips, backend })
    } catch (err) {
      warn(`cannot record the addresses for GC in ${c.dataDir}: ${(err as Error).message}`)
    }
  }
  return result
}

export async function cmdDel(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion)
  const backend = await chooseBackend(c)
  if (backend === 'firewalld') ensureBus()
  // prevResult's addresses, and those ADD recorded (the only ones when the runtime sends no prevResult).
  const ips = new Set(families(addressesByFamily(c.prevResult)).flatMap(([, l]) => l))
  let record
  try {
    record = readRecord(c.dataDir, c.name, args.containerID, args.ifName)
  } catch (err) {
    warn(`cannot read the record in ${c.dataDir}: ${(err as Error).message}`)
  }
  for (const ip of record?.ips ?? []) ips.add(ip)
  await revoke(c, backend, [...ips])
  if (record) removeRecord(c.dataDir, c.name, args.containerID, args.ifName)
  // As the reference: an unknown policy fails DEL, after the rules went.
  checkIngressPolicy(c)
}

export async function cmdCheck(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion)
  if (!c.prevResult) throw new Error('missing prevResult from earlier plugin')
  const byFamily = addressesByFamily(c.prevResult)
  const backend = await chooseBackend(c)
  if (backend === 'firewalld') {
    ensureBus()
    return firewalldCheck(c.firewalldZone, families(byFamily).flatMap(([, l]) => l))
  }
  // Both families at once (CHECK makes nothing); IPv4's failure is the one reported when both fail.
  const outcomes = await Promise.allSettled(families(byFamily).map(([f, list]) => iptablesCheck(f, c.adminChain, list)))
  for (const o of outcomes) if (o.status === 'rejected') throw o.reason
}

/** STATUS: ready when the chosen backend can be used (iptables: the filter table can be listed). */
export async function cmdStatus(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion)
  const backend = await chooseBackend(c)
  if (backend === 'firewalld') {
    if (!(await firewalldRunning())) throw new CniError(50, 'firewall: firewalld is not running on the system bus')
    return
  }
  if (!(await iptablesFilterUsable(4)) && !(await iptablesFilterUsable(6))) {
    throw new CniError(50, 'firewall: neither iptables nor ip6tables usable')
  }
}

/**
 * GC: the rules of this network's attachments that ADD recorded and that are not in
 * `cni.dev/valid-attachments`. An address that a kept attachment (of any network) still holds
 * keeps its rules. Attachments without a record (made by the reference plugin) are not seen.
 */
export async function cmdGc(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion)
  const valid = new Set(validAttachments(args.conf).map((a) => `${a.containerID}:${a.ifName}`))
  const records = listRecords(c.dataDir, c.name)
  const stale = records.filter((r) => !valid.has(`${r.containerID}:${r.ifName}`))
  if (stale.length === 0) return
  const kept = new Set<string>()
  for (const r of records) if (valid.has(`${r.containerID}:${r.ifName}`)) r.ips.forEach((ip) => kept.add(ip))
  for (const network of listNetworks(c.dataDir)) {
    if (network === c.name) continue
    for (const r of listRecords(c.dataDir, network)) r.ips.forEach((ip) => kept.add(ip))
  }
  let chosen: Backend | undefined
  for (const r of stale) {
    const backend = r.backend ?? (chosen ??= await chooseBackend(c))
    await revoke(c, backend, r.ips.filter((ip) => !kept.has(ip)))
    removeRecord(c.dataDir, c.name, r.containerID, r.ifName)
  }
}
