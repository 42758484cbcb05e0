/**
 * Fixtures for the bridge kernel tests: a fake host namespace (the bridge, host veths and netfilter
 * rules live there; the plugin runs inside it through nsenter), container namespaces, a temporary
 * IPAM dataDir, and readers of the kernel state through lib/netlink and the netfilter tools.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Link, Rtnl } from '../../../lib/netlink'
import { type HasTeardown, type TestNetns, makeNetns, rtnlIn } from '../../helpers/netns'
import { BIN_DIR, REF_DIR, type PluginRun, cniEnv, runPlugin } from '../../helpers/plugin'

export const BRIDGE = path.join(BIN_DIR, 'bridge')
export const REF_BRIDGE = path.join(REF_DIR, 'bridge')
export const HAVE_REF_BRIDGE = fs.existsSync(REF_BRIDGE) && fs.existsSync(path.join(REF_DIR, 'host-local'))

/**
 * Our host-local, once it is built, is what every test delegates to. Until then the reference's
 * host-local (spec <= 1.0.0) stands in, and the tests that need spec 1.1.0 from IPAM skip.
 */
export const OWN_HOST_LOCAL = fs.existsSync(path.join(BIN_DIR, 'host-local'))
export const IPAM_PATH = OWN_HOST_LOCAL ? BIN_DIR : `${BIN_DIR}:${REF_DIR}`
/** The newest version the IPAM in IPAM_PATH speaks. */
export const VERSION = OWN_HOST_LOCAL ? '1.1.0' : '1.0.0'
export const ALL_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']
export const VERSIONS = OWN_HOST_LOCAL ? ALL_VERSIONS : ALL_VERSIONS.slice(0, -1)

/** A temporary directory (`tscni-t-*` under the OS temp dir), removed at teardown. */
export function tempDir(t: HasTeardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface World {
  host: TestNetns
  hostRtnl: Rtnl
  dataDir: string
  /** A new container namespace. */
  container(label?: string): TestNetns
}

export function world(t: HasTeardown, label = 'br'): World {
  const host = makeNetns(t, `${label}-host`)
  return {
    host,
    hostRtnl: rtnlIn(t, host),
    dataDir: tempDir(t),
    container: (l = 'ctr') => makeNetns(t, `${label}-${l}`),
  }
}

export interface ConfOptions {
  cniVersion?: string
  name?: string
  bridge?: string
  subnet?: string | string[]
  dataDir: string
  [key: string]: unknown
}

/** A bridge netconf with host-local IPAM: one range set per subnet. */
export function bridgeConf(o: ConfOptions): Record<string, unknown> {
  const { cniVersion = VERSION, name = 'tnet', bridge = 'tbr0', subnet = '10.77.0.0/24', dataDir, ...rest } = o
  const subnets = Array.isArray(subnet) ? subnet : [subnet]
  return {
    cniVersion,
    name,
    type: 'bridge',
    bridge,
    ipam: { type: 'host-local', ranges: subnets.map((s) => [{ subnet: s }]), dataDir },
    ...rest,
  }
}

export interface Attach {
  containerID?: string
  ifName?: string
  netns?: string
  args?: string
  path?: string
  env?: Record<string, string | undefined>
  file?: string
}

/** Runs the bridge (ours unless `file`) in the world's fake host namespace. */
export function runBridge(w: World, command: string, conf: object | string, a: Attach = {}): PluginRun {
  const env = {
    ...cniEnv(command, {
      containerID: a.containerID ?? 'ctr-1',
      netns: a.netns,
      ifName: a.ifName ?? 'eth0',
      path: a.path ?? IPAM_PATH,
      args: a.args,
    }),
    ...a.env,
  }
  return runPlugin(a.file ?? BRIDGE, { env, stdin: conf, hostNetns: w.host.path })
}

/** The conf with prevResult set, for CHECK and DEL. */
export function withPrev(conf: object, prev: unknown): Record<string, unknown> {
  return { ...conf, prevResult: prev }
}

/** Runs a command inside a namespace (test side only: ping, iptables, nft listings). */
export function inNetns(ns: TestNetns, cmd: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=${ns.path}`, '--', ...cmd], { encoding: 'utf8', input, timeout: 30_000 })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

export function ping(from: TestNetns, to: string): boolean {
  const v6 = to.includes(':')
  return inNetns(from, ['ping', ...(v6 ? ['-6'] : []), '-c1', '-W1', to]).code === 0
}

/** `iptables -t nat -S` (or ip6tables) in a namespace, as lines. */
export function natRules(ns: TestNetns, family: 4 | 6 = 4): string[] {
  const r = inNetns(ns, [family === 4 ? 'iptables' : 'ip6tables', '-t', 'nat', '-S'])
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout.split('\n').filter((l) => l !== '')
}

/** The nft ruleset of a namespace as text (`nft list ruleset`). */
export function nftRuleset(ns: TestNetns): string {
  const r = inNetns(ns, ['nft', 'list', 'ruleset'])
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout
}

/** Files in the IPAM store of a network, without the lock and last_reserved_ip files. */
export function ipFiles(dataDir: string, network = 'tnet'): string[] {
  const dir = path.join(dataDir, network)
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip') && !f.startsWith('.'))
    .sort()
}

export function mustLink(rtnl: Rtnl, name: string): Link {
  const link = rtnl.getLinkByName(name)
  if (!link) throw new Error(`link ${name} not found`)
  return link
}

/** Names of the links in a namespace, lo excluded. */
export function linkNames(rtnl: Rtnl): string[] {
  return rtnl.listLinks().map((l) => l.name).filter((n) => n !== 'lo').sort()
}

/** CIDRs of the global addresses on a link. */
export function addrsOf(rtnl: Rtnl, name: string): string[] {
  const link = mustLink(rtnl, name)
  return rtnl
    .listAddrs({ index: link.index })
    .filter((a) => a.scope === 'universe')
    .map((a) => a.cidr)
    .sort()
}

/** Reads a sysctl inside a namespace. */
export function sysctlIn(ns: TestNetns, name: string): string {
  const r = inNetns(ns, ['cat', `/proc/sys/${name}`])
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout.trim()
}

/** True when the kernel can make a bridge with VLAN filtering (this test machine's cannot). */
export function kernelHasVlanFiltering(t: HasTeardown): boolean {
  const ns = makeNetns(t, 'vlan-probe')
  const add = spawnSync('ip', ['-n', ns.name, 'link', 'add', 'probe0', 'type', 'bridge', 'vlan_filtering', '1'], { encoding: 'utf8' })
  return add.status === 0
}

/** Waits (up to 5 s) until `address` on link `name` has finished DAD (the bridge's IPv6 gateway). */
export async function addrSettled(rtnl: Rtnl, name: string, address: string): Promise<void> {
  const link = mustLink(rtnl, name)
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    const a = rtnl.listAddrs({ index: link.index }).find((x) => x.address === address)
    if (a && !a.flags.tentative) return
    await new Promise((r) => setTimeout(r, 50))
  }
}
