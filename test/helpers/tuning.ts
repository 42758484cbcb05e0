/**
 * Fixtures for the tuning kernel tests: container namespaces (`tscni-t-tun*`) holding a veth pair
 * whose `eth0` end is the interface tuning works on, a private dataDir under /run (removed at
 * teardown, also on failure), configs and prevResults as a runtime sends them, and readers of what
 * tuning changed: link attributes through netlink and `ip -d -j link`, sysctls read inside the
 * namespace, the backup file. Addresses: 10.61.0.0/16 and fd00:61::/64 only.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Rtnl } from '../../lib/netlink'
import { withNetnsPathSync } from '../../lib/ns'
import { type HasTeardown, type TestNetns, ipIn, ipJson, makeNetns, rtnlIn } from './netns'
import { BIN_DIR, REF_DIR, type PluginRun, cniEnv, runPlugin } from './plugin'

export const TUNING = path.join(BIN_DIR, 'tuning')
export const REF_TUNING = path.join(REF_DIR, 'tuning')
export const HAVE_REF_TUNING = fs.existsSync(REF_TUNING)

/** A private directory under /run (root's, mode 0700), removed at teardown. */
export function dataRoot(t: HasTeardown): string {
  const dir = fs.mkdtempSync('/run/tscni-test-tuning-')
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface Ctr {
  ns: TestNetns
  rtnl: Rtnl
}

/**
 * A container namespace with `eth0` (one end of a veth pair whose other end, `peer0`, stays in the
 * same namespace), up, with 10.61.0.2/24 and the given MAC (so two containers can start alike).
 */
export function container(t: HasTeardown, label: string, mac = '02:61:00:00:00:aa'): Ctr {
  const ns = makeNetns(t, `tun-${label}`)
  ipIn(ns, ['link', 'add', 'eth0', 'address', mac, 'type', 'veth', 'peer', 'name', 'peer0'])
  ipIn(ns, ['link', 'set', 'eth0', 'up'])
  ipIn(ns, ['addr', 'add', '10.61.0.2/24', 'dev', 'eth0'])
  return { ns, rtnl: rtnlIn(t, ns) }
}

export const ID = 'tun-ctr-1'

/** The bridge-like prevResult of one interface `eth0` in `ns`, in the family of `cniVersion`. */
export function prevResult(cniVersion: string, ns: TestNetns, mac = '02:61:00:00:00:aa'): Record<string, unknown> {
  const old = cniVersion.startsWith('0.')
  return {
    cniVersion,
    interfaces: [{ name: 'eth0', mac, sandbox: ns.path }],
    ips: [{ ...(old ? { version: '4' } : {}), address: '10.61.0.2/24', gateway: '10.61.0.1', interface: 0 }],
    dns: {},
  }
}

/** A tuning config: the given keys, the given dataDir, prevResult for `ns` unless `prev` is false. */
export function tuningConf(
  cniVersion: string,
  ns: TestNetns,
  dataDir: string,
  keys: Record<string, unknown> = {},
  prev: boolean | Record<string, unknown> = true,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { cniVersion, name: 'tunnet', type: 'tuning', dataDir, ...keys }
  if (prev === true) conf.prevResult = prevResult(cniVersion, ns)
  else if (prev) conf.prevResult = prev
  return conf
}

export interface Call {
  containerID?: string
  ifName?: string
  netns?: string
  args?: string
}

/** Runs a tuning executable (ours by default) for container `ns`. */
export function runTuning(command: string, conf: object | string, ns: TestNetns | undefined, call: Call = {}, file = TUNING): PluginRun {
  return runPlugin(file, {
    env: cniEnv(command, {
      containerID: call.containerID ?? ID,
      netns: call.netns ?? ns?.path,
      ifName: call.ifName ?? 'eth0',
      args: call.args,
      path: BIN_DIR,
    }),
    stdin: conf,
  })
}

/** The error object of a failed run (asserting exit 1, a JSON error, nothing on stderr that looks like a crash). */
export function errorOf(r: PluginRun): { code: number; msg: string; details?: string } | undefined {
  if (r.code !== 1 || !r.json || typeof r.json.code !== 'number') return undefined
  return { code: r.json.code, msg: r.json.msg, ...(r.json.details ? { details: r.json.details } : {}) }
}

export interface LinkState {
  mac: string
  mtu: number
  promisc: boolean
  allmulti: boolean
  txQLen: number
}

/** eth0's attributes as netlink reports them. */
export function linkState(c: Ctr, name = 'eth0'): LinkState {
  const l = c.rtnl.getLinkByName(name)
  if (!l) throw new Error(`${name} not found`)
  return { mac: l.mac, mtu: l.mtu, promisc: l.promisc, allmulti: l.allmulti, txQLen: l.txQLen ?? -1 }
}

/** eth0 as iproute2 sees it (the fields tuning may change), for cross-checks and side-by-side. */
export function ipLink(c: Ctr, name = 'eth0'): Record<string, unknown> {
  const l = ipJson(c.ns, ['-d', 'link', 'show', 'dev', name])[0]
  return { address: l.address, mtu: l.mtu, flags: l.flags, promiscuity: l.promiscuity, allmulti: l.allmulti, txqlen: l.txqlen }
}

/** A sysctl's file content inside the namespace (trailing newline removed). */
export function readSysctlIn(ns: TestNetns, name: string): string {
  return withNetnsPathSync(ns.path, () => fs.readFileSync(`/proc/sys/${name}`, 'utf8').replace(/\n$/, ''))
}

/** The backup file's text, undefined when absent. */
export function backupText(dataDir: string, containerID = ID, ifName = 'eth0'): string | undefined {
  try {
    return fs.readFileSync(path.join(dataDir, `${containerID}_${ifName}.json`), 'utf8')
  } catch {
    return undefined
  }
}
