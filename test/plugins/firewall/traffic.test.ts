// Real traffic through our bridge + host-local + firewall, inside the test's namespaces only. The
// fake host forwards with FORWARD policy DROP, so only what firewall accepts gets through: with
// ingressPolicy open, containers of two bridges reach each other; with same-bridge, traffic from
// one isolated bridge into the other is dropped, while the containers of one bridge and the host
// (the gateway) still reach each other.
import t from 'tap'
import type { TestNetns } from '../../helpers/netns'
import { addrOf, attachBridge, expectOk, fwConf, inNetns, ipt, mustIn, net, runFw, tempDir, world } from './fixture'

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
