/**
 * Fixtures for the firewall kernel tests, on top of portmap's (a fake host namespace, our bridge
 * with host-local, plugins run in the fake host through nsenter): firewall configs, synthetic
 * prevResults, both plugin files, and readers of the whole filter table of a fake host.
 *
 * Namespaces are `tscni-t-fw*`; addresses 10.62.0.0/16 and fd00:62::/64. Every run gets
 * DBUS_SYSTEM_BUS_ADDRESS pointing at no socket, so auto-detection picks iptables whatever the
 * machine running the tests has on its system bus (both implementations honour the variable).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { TestNetns } from '../../helpers/netns'
import { BIN_DIR, REF_DIR, type PluginRun, cniEnv, runPlugin } from '../../helpers/plugin'
import { type Attach, type World, inNetns } from '../portmap/fixture'

export { type Net, addrOf, attachBridge, bridgeConf, errorOf, expectOk, inNetns, mustIn, net, tempDir, world } from '../portmap/fixture'
export type { Attach, World }

export const FIREWALL = path.join(BIN_DIR, 'firewall')
export const REF_FIREWALL = path.join(REF_DIR, 'firewall')
export const HAVE_REF = fs.existsSync(REF_FIREWALL)
export const NO_BUS = 'unix:path=/nonexistent/tscni-test-no-bus'

/** Runs a firewall file in the world's fake host namespace (no system bus unless `bus` is given). */
export function runFw(w: World, command: string, conf: object | string, a: Attach, file = FIREWALL, bus = NO_BUS): PluginRun {
  // Our ADD records attachments under dataDir: never in the real /var/lib/cni of the machine.
  if (file === FIREWALL && command === 'ADD' && typeof conf === 'object' && !('dataDir' in conf) && 'prevResult' in conf) {
    throw new Error('a test ADD of our firewall needs a temporary dataDir')
  }
  const env = { ...cniEnv(command, { containerID: a.containerID, netns: a.netns ?? '/var/run/netns/none', ifName: a.ifName ?? 'eth0', path: BIN_DIR, args: a.args }), DBUS_SYSTEM_BUS_ADDRESS: bus }
  return runPlugin(file, { env, stdin: conf, hostNetns: w.host.path })
}

/** A firewall config as a runtime sends it. */
export function fwConf(name: string, cniVersion: string, prevResult: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const conf: Record<string, unknown> = { cniVersion, name, type: 'firewall', ...extra }
  if (prevResult !== undefined) conf.prevResult = prevResult
  return conf
}

/** A prevResult as the bridge makes it: bridge, host veth, container eth0, the addresses on eth0. */
export function prevResult(cniVersion: string, bridge: string, addresses: string[]): Record<string, unknown> {
  const old = cniVersion === '0.4.0'
  return {
    cniVersion,
    interfaces: [{ name: bridge, mac: '0a:58:0a:3e:01:01' }, { name: 'veth62', mac: '0a:58:0a:3e:01:02' }, { name: 'eth0', mac: '0a:58:0a:3e:01:03', sandbox: '/var/run/netns/x' }],
    ips: addresses.map((address) => ({ ...(old ? { version: address.includes(':') ? '6' : '4' } : {}), address, interface: 2 })),
    dns: {},
  }
}

/** `iptables-save` (or ip6tables-save) of a namespace, every table: no comments, no counters. */
export function save(ns: TestNetns, family: 4 | 6 = 4): string[] {
  const r = inNetns(ns, [family === 4 ? 'iptables-save' : 'ip6tables-save'])
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''))
}

/** The rules (`-A …`) of one filter chain. */
export function chainRules(ns: TestNetns, chain: string, family: 4 | 6 = 4): string[] {
  return save(ns, family).filter((l) => l.startsWith(`-A ${chain} `))
}

/** The two rules of an address as iptables-save prints them. */
export function addrLines(ip: string): string[] {
  return [`-A CNI-FORWARD -d ${ip} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, `-A CNI-FORWARD -s ${ip} -j ACCEPT`]
}

/** Runs `iptables args...` (or ip6tables) in a namespace, throwing on failure. */
export function ipt(ns: TestNetns, family: 4 | 6, args: string[]): void {
  const r = inNetns(ns, [family === 4 ? 'iptables' : 'ip6tables', '--wait', ...args])
  if (r.code !== 0) throw new Error(`iptables ${args.join(' ')}: ${r.stderr}`)
}
