/**
 * Fixtures for the portmap kernel tests: a fake host namespace (`lo` up, a bridge made by our bridge
 * plugin, the packet filter portmap programs), container namespaces attached to it, the plugin run
 * in the fake host through nsenter like a runtime on that host would, small TCP and UDP servers in
 * a container and clients anywhere (node, run by the tests only: plugins never see it), and readers
 * of what portmap leaves: `iptables-save -t nat`, `nft list ruleset`, conntrack flows.
 *
 * Everything lives in `tscni-t-*` namespaces and temp dirs removed at teardown, also on failure;
 * addresses are 10.130.0.0/16–10.139.0.0/16 and fd00:130::/64–fd00:139::/64.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { Test } from 'tap'
import { Conntrack, type ConntrackFlow } from '../../../lib/netlink'
import { openNetns } from '../../../lib/ns'
import { type HasTeardown, type TestNetns, ipIn, makeNetns } from '../../helpers/netns'
import { BIN_DIR, REF_DIR, type PluginRun, cniEnv, runPlugin } from '../../helpers/plugin'

export const PORTMAP = path.join(BIN_DIR, 'portmap')
export const BRIDGE = path.join(BIN_DIR, 'bridge')
export const REF_PORTMAP = path.join(REF_DIR, 'portmap')
export const HAVE_REF_PORTMAP = fs.existsSync(REF_PORTMAP)

/** A temporary directory (`tscni-t-*` under the OS temp dir), removed at teardown. */
export function tempDir(t: HasTeardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs a command inside a namespace (test side only: iptables-save, nft listings, ip). */
export function inNetns(ns: TestNetns, cmd: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('/usr/bin/nsenter', [`--net=${ns.path}`, '--', ...cmd], {
    encoding: 'utf8',
    input,
    timeout: 30_000,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

export function mustIn(ns: TestNetns, cmd: string[]): string {
  const r = inNetns(ns, cmd)
  if (r.code !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

export interface World {
  host: TestNetns
  dataDir: string
  /** A new container namespace. */
  container(label?: string): TestNetns
}

/** A fake host (with `lo` up, so 127.0.0.1 works in it) and a temp IPAM dataDir. */
export function world(t: HasTeardown, label = 'pm'): World {
  const host = makeNetns(t, `${label}-host`)
  ipIn(host, ['link', 'set', 'lo', 'up'])
  return { host, dataDir: tempDir(t), container: (l = 'ctr') => makeNetns(t, `${label}-${l}`) }
}

export interface Net {
  name: string
  cniVersion: string
  bridge: string
  /** The bridge's (gateway's) addresses: `.1` of the IPv4 subnet, `::1` of the IPv6 one. */
  gw4: string
  gw6?: string
  subnets: string[]
}

/** A network: name, version and the bridge's subnets (IPv4 first, IPv6 optional). */
export function net(name: string, cniVersion: string, subnet4: string, subnet6?: string, bridge = 'pmbr0'): Net {
  const gw4 = subnet4.replace(/\.0\/\d+$/, '.1')
  const out: Net = { name, cniVersion, bridge, gw4, subnets: [subnet4] }
  if (subnet6) {
    out.gw6 = subnet6.replace(/::\/\d+$/, '::1')
    out.subnets.push(subnet6)
  }
  return out
}

/** The bridge config of a network: a gateway bridge (forwarding on), host-local IPAM. */
export function bridgeConf(n: Net, dataDir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: n.cniVersion,
    name: n.name,
    type: 'bridge',
    bridge: n.bridge,
    isGateway: true,
    ipam: { type: 'host-local', ranges: n.subnets.map((s) => [{ subnet: s }]), dataDir },
    ...extra,
  }
}

export interface Mapping {
  hostPort?: unknown
  containerPort?: unknown
  protocol?: unknown
  hostIP?: unknown
  [k: string]: unknown
}

/** A portmap config as a runtime sends it (mappings in runtimeConfig), prevResult when given. */
export function portmapConf(n: Net, mappings: Mapping[] | undefined, prevResult?: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const conf: Record<string, unknown> = { cniVersion: n.cniVersion, name: n.name, type: 'portmap', ...extra }
  if (mappings !== undefined) conf.runtimeConfig = { portMappings: mappings }
  if (prevResult !== undefined) conf.prevResult = prevResult
  return conf
}

export interface Attach {
  containerID: string
  netns?: string
  ifName?: string
  args?: string
}

/** Runs a plugin file in the world's fake host namespace. */
export function runIn(w: World, file: string, command: string, conf: object | string, a: Attach): PluginRun {
  const env = cniEnv(command, { containerID: a.containerID, netns: a.netns, ifName: a.ifName ?? 'eth0', path: BIN_DIR, args: a.args })
  return runPlugin(file, { env, stdin: conf, hostNetns: w.host.path })
}

/** Asserts a run exited 0; on failure the message carries what it printed. */
export function expectOk(t: Test, r: PluginRun, what: string): boolean {
  return t.equal(r.code, 0, r.code === 0 ? what : `${what}: ${r.stdout} ${r.stderr}`)
}

/** The error object of a failed run: exit code, CNI code and message. */
export function errorOf(r: PluginRun): { exit: number; code?: number; msg?: string } {
  return { exit: r.code, code: r.json?.code, msg: r.json?.msg }
}

export const runPortmap = (w: World, command: string, conf: object | string, a: Attach, file = PORTMAP): PluginRun =>
  runIn(w, file, command, conf, a)

/** Bridge ADD of a container (our bridge), throwing when it fails; returns the result. */
export function attachBridge(w: World, n: Net, ctr: TestNetns, containerID: string, extra: Record<string, unknown> = {}): any {
  const r = runIn(w, BRIDGE, 'ADD', bridgeConf(n, w.dataDir, extra), { containerID, netns: ctr.path })
  if (r.code !== 0) throw new Error(`bridge ADD of ${containerID}: exit ${r.code}: ${r.stdout} ${r.stderr}`)
  return r.json
}

/** The first address of a family in a result, without prefix. */
export function addrOf(result: any, family: 4 | 6): string {
  const ip = (result.ips as { address: string }[]).find((x) => x.address.includes(':') === (family === 6))
  if (!ip) throw new Error(`no IPv${family} address in ${JSON.stringify(result)}`)
  return ip.address.split('/')[0]
}

/** Waits (up to 5 s) until no address of the namespace is tentative (IPv6 DAD done). */
export async function dadSettled(...namespaces: TestNetns[]): Promise<void> {
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    const busy = namespaces.some((ns) => {
      const links = JSON.parse(mustIn(ns, ['ip', '-j', 'addr', 'show']) || '[]') as any[]
      return links.some((l) => (l.addr_info ?? []).some((a: any) => a.tentative && !a.dadfailed))
    })
    if (!busy) return
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** `CNI-DN-` + 21 hex digits of sha512(network + containerID), computed here independently. */
export function dnChain(network: string, containerID: string): string {
  return `CNI-DN-${crypto.createHash('sha512').update(network + containerID).digest('hex').slice(0, 21)}`
}

/** `iptables-save -t nat` (or ip6tables-save) of a namespace: no comments, no counters. */
export function natSave(ns: TestNetns, family: 4 | 6 = 4): string[] {
  const r = inNetns(ns, [family === 4 ? 'iptables-save' : 'ip6tables-save', '-t', 'nat'])
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''))
}

/** The nat table lines portmap made for one container (its DN chain, its entry rules). */
export function natOf(ns: TestNetns, family: 4 | 6, network: string, containerID: string): string[] {
  const chain = dnChain(network, containerID)
  return natSave(ns, family).filter((l) => l.includes(chain) || l.includes(`dnat name: \\"${network}\\" id: \\"${containerID}\\"`))
}

/** `nft list ruleset` of a namespace. */
export function nftRuleset(ns: TestNetns): string {
  return mustIn(ns, ['nft', 'list', 'ruleset'])
}

/** The nft rule lines carrying `comment "<containerID>"`. */
export function nftOf(ns: TestNetns, containerID: string): string[] {
  return nftRuleset(ns)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.endsWith(`comment "${containerID}"`))
}

/** The conntrack flows of a family in a namespace (through lib/netlink's ctnetlink). */
export function flows(ns: TestNetns, family: 4 | 6): ConntrackFlow[] {
  const netns = openNetns(ns.path)
  try {
    const ct = Conntrack.open(netns)
    try {
      return ct.list(family)
    } finally {
      ct.close()
    }
  } finally {
    netns.close()
  }
}

// --- traffic -----------------------------------------------------------------------------------

/**
 * Servers for the given ports: TCP answers `tcp:<port>:<peer address>` and closes, UDP echoes
 * `udp:<port>:<peer address>`; both listen on `::` for IPv4 and IPv6.
 */
const SERVER = `
const net = require('net'), dgram = require('dgram');
const [tcp, udp] = [process.argv[1], process.argv[2]].map((s) => (s ? s.split(',').map(Number) : []));
let pending = tcp.length + udp.length;
const ready = () => { if (--pending === 0) process.stdout.write('ready\\n') };
const peer = (a) => a.replace(/^::ffff:/, '');
for (const p of tcp) {
  net.createServer((s) => { s.on('error', () => {}); s.end('tcp:' + p + ':' + peer(s.remoteAddress)) }).listen({ port: p, host: '::', ipv6Only: false }, ready);
}
for (const p of udp) {
  const u = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  u.on('message', (m, r) => u.send('udp:' + p + ':' + peer(r.address), r.port, r.address));
  u.bind(p, '::', ready);
}
if (pending === 0) ready();
`

/** Starts servers in a namespace (`ip netns exec`), waits until they listen, kills them at teardown. */
export function startServers(t: HasTeardown, ns: TestNetns, ports: { tcp?: number[]; udp?: number[] }): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', SERVER, (ports.tcp ?? []).join(','), (ports.udp ?? []).join(',')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return new Promise((resolve, reject) => {
    let err = ''
    const timer = setTimeout(() => reject(new Error(`servers in ${ns.name} not ready: ${err}`)), 10_000)
    child.stderr!.on('data', (c) => (err += c))
    child.stdout!.on('data', (c) => {
      if (String(c).includes('ready')) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`servers in ${ns.name} exited ${code}: ${err}`))
    })
  })
}

const CLIENT = `
const [proto, host, port, src] = process.argv.slice(1);
const done = (s, code) => { process.stdout.write(s); process.exit(code) };
setTimeout(() => done('timeout', 1), 1500);
if (proto === 'tcp') {
  const s = require('net').connect({ host, port: Number(port) });
  let got = '';
  s.on('data', (c) => (got += c));
  s.on('end', () => done(got, 0));
  s.on('error', (e) => done('error:' + e.code, 1));
} else {
  const u = require('dgram').createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: true });
  u.on('message', (m) => done(String(m), 0));
  u.on('error', (e) => done('error:' + e.code, 1));
  const send = () => u.send('ping', Number(port), host);
  const start = () => { send(); setInterval(send, 300) };
  if (src) u.bind(Number(src), start); else start();
}
`

/**
 * One request from a namespace: the server's answer (`tcp:80:10.130.1.1`), or `timeout` /
 * `error:ECONNREFUSED` when nothing answered. UDP datagrams are resent every 300 ms for 1.5 s,
 * from `udpSourcePort` when given (the same flow as an earlier request).
 */
export function request(from: TestNetns, proto: 'tcp' | 'udp', host: string, port: number, udpSourcePort?: number): string {
  const args = [proto, host, String(port), ...(udpSourcePort ? [String(udpSourcePort)] : [])]
  const r = spawnSync('ip', ['netns', 'exec', from.name, process.execPath, '-e', CLIENT, ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  if (r.error) throw r.error
  return r.stdout.trim() || `no answer (exit ${r.status}): ${r.stderr.trim()}`
}
