// Real traffic through our bridge + host-local + firewall, inside the test's namespaces only. The
// fake host forwards with FORWARD policy DROP, so only what firewall accepts gets through: with
// ingressPolicy open, containers of two bridges reach each other; with same-bridge, traffic from
// one isolated bridge into the other is dropped, while the containers of one bridge and the host
// (the gateway) still reach each other.
//
// Then examples/netconf/87-podman-isolated-firewall.conflist (podman's `network create -o
// isolate=true` shape: bridge + portmap + firewall with backend "" and ingressPolicy same-bridge)
// run as it is through dist/cnitool inside a fake host, with podman's CNI_ARGS: two containers
// attach, reach each other and the host, CHECK passes, and DEL leaves only the shared chains and
// the isolation rules (which the reference never removes either). Only the dataDirs (host-local's,
// firewall's) and the result cache are redirected to temp dirs; the system bus points nowhere.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import type { TestNetns } from '../../helpers/netns'
import { BIN_DIR, NSENTER, RUNTIME_PATH } from '../../helpers/plugin'
import { NO_BUS, addrOf, attachBridge, expectOk, fwConf, inNetns, ipt, mustIn, net, runFw, save, tempDir, world } from './fixture'

const N1 = net('fwt1', '1.0.0', '10.62.31.0/24', undefined, 'fwbr31')
const N2 = net('fwt2', '1.0.0', '10.62.32.0/24', undefined, 'fwbr32')

function pings(from: TestNetns, to: string): boolean {
  return inNetns(from, ['ping', '-c', '1', '-W', '1', '-q', to]).code === 0
}

t.test('open lets the containers through; same-bridge isolates the bridges from each other', async (t) => {
  const w = world(t, 'fwt')
  const dataDir = tempDir(t)
  mustIn(w.host, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
  ipt(w.host, 4, ['-P', 'FORWARD', 'DROP'])
  const a1 = w.container('a1')
  const a2 = w.container('a2')
  const b1 = w.container('b1')
  const attach = (n: typeof N1, ns: TestNetns, id: string) => ({ id, ns, n, result: attachBridge(w, n, ns, id, { isDefaultGateway: true }) })
  const ctrs = [attach(N1, a1, 'fwt-a1'), attach(N1, a2, 'fwt-a2'), attach(N2, b1, 'fwt-b1')]
  const [ipA1, ipA2, ipB1] = ctrs.map((c) => addrOf(c.result, 4))
  t.notOk(pings(a1, ipB1), 'without firewall nothing is forwarded between the bridges (policy DROP)')

  const add = (policy: string) => {
    for (const c of ctrs) expectOk(t, runFw(w, 'ADD', fwConf(c.n.name, c.n.cniVersion, c.result, { dataDir, ingressPolicy: policy }), { containerID: c.id, netns: c.ns.path }), `ADD ${c.id} ${policy}`)
  }
  add('open')
  t.ok(pings(a1, ipB1), 'open: bridge 1 reaches bridge 2')
  t.ok(pings(b1, ipA1), 'open: bridge 2 reaches bridge 1')
  t.ok(pings(a1, ipA2), 'open: within bridge 1')

  add('same-bridge')
  t.notOk(pings(a1, ipB1), 'same-bridge: bridge 1 no longer reaches bridge 2')
  t.notOk(pings(b1, ipA1), 'same-bridge: nor bridge 2 bridge 1')
  t.ok(pings(a1, ipA2), 'same-bridge: within bridge 1 still works')
  t.ok(pings(a2, ipA1), 'same-bridge: both ways')
  t.ok(pings(b1, N2.gw4), 'same-bridge: the host (gateway) is still reachable')

  for (const c of ctrs) {
    expectOk(t, runFw(w, 'DEL', fwConf(c.n.name, c.n.cniVersion, c.result, { dataDir, ingressPolicy: 'same-bridge' }), { containerID: c.id, netns: c.ns.path }), `DEL ${c.id}`)
  }
  t.notOk(mustIn(w.host, ['iptables-save', '-t', 'filter']).includes('10.62.3'), 'no address rule is left after DEL')
})

const ROOT = path.join(__dirname, '..', '..', '..')
const CNITOOL = path.join(ROOT, 'dist', 'cnitool')
const FILE = path.join(ROOT, 'examples', 'netconf', '87-podman-isolated-firewall.conflist')

function cnitool(host: TestNetns, args: string[], env: Record<string, string>) {
  const r = spawnSync(NSENTER, [`--net=${host.path}`, '--', CNITOOL, ...args], { env: { PATH: RUNTIME_PATH, ...env }, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

const filterCni = (ns: TestNetns) => save(ns, 4).filter((l) => l.includes('CNI-') && !l.startsWith('-A POSTROUTING') && !l.startsWith(':CNI-HOSTPORT'))

t.test('87-podman-isolated-firewall.conflist through cnitool', async (t) => {
  const w = world(t, 'fwex')
  const netconfDir = tempDir(t)
  const fwData = tempDir(t)
  const list = JSON.parse(fs.readFileSync(FILE, 'utf8'))
  for (const p of list.plugins) {
    if (p.ipam) p.ipam.dataDir = w.dataDir
    if (p.type === 'firewall') p.dataDir = fwData
  }
  fs.writeFileSync(path.join(netconfDir, path.basename(FILE)), JSON.stringify(list, null, 3))
  const env = { NETCONFPATH: netconfDir, CNI_PATH: BIN_DIR, CNI_CACHE_DIR: path.join(tempDir(t), 'cache'), CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web', DBUS_SYSTEM_BUS_ADDRESS: NO_BUS }
  const a = w.container('a')
  const b = w.container('b')
  const ips: string[] = []
  for (const ns of [a, b]) {
    const r = cnitool(w.host, ['add', list.name, ns.path], env)
    t.equal(r.code, 0, `cnitool add ${r.stderr}`)
    ips.push(JSON.parse(r.stdout).ips[0].address.split('/')[0])
  }
  const rules = filterCni(w.host)
  for (const ip of ips) t.ok(rules.includes(`-A CNI-FORWARD -s ${ip}/32 -j ACCEPT`), `${ip} is let through`)
  t.ok(rules.includes('-A CNI-ISOLATION-STAGE-2 -o cni-podman62 -m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge)" -j DROP'), 'the bridge is isolated')
  t.equal(inNetns(a, ['ping', '-c', '1', '-W', '2', '-q', ips[1]]).code, 0, 'a reaches b on the same bridge')
  t.equal(inNetns(b, ['ping', '-c', '1', '-W', '2', '-q', '10.62.100.1']).code, 0, 'b reaches the host')
  const check = cnitool(w.host, ['check', list.name, a.path], env)
  t.equal(check.code, 0, `cnitool check ${check.stderr}`)
  for (const ns of [a, b]) {
    const r = cnitool(w.host, ['del', list.name, ns.path], env)
    t.equal(r.code, 0, `cnitool del ${r.stderr}`)
  }
  const after = filterCni(w.host)
  t.notOk(after.some((l) => ips.some((ip) => l.includes(`${ip}/`))), 'no rule of either container is left')
  t.same(after.filter((l) => l.startsWith('-A CNI-FORWARD')), ['-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN'], 'CNI-FORWARD keeps only the admin jump')
  t.ok(after.some((l) => l.startsWith('-A CNI-ISOLATION-STAGE-1 -i cni-podman62')), 'the isolation rules stay (as the reference leaves them)')
  t.notOk(fs.existsSync(path.join(fwData, list.name)), 'no firewall record is left (the network directory went with the last)')
})
