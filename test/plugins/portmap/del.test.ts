// DEL leaves nothing of the container, on both backends: no CNI-DN- chain and no entry rule in
// iptables or ip6tables, no rule with its comment in nft, no conntrack flow to a mapped UDP port
// (read through ctnetlink in the fake host); another container's mappings stay. DEL is idempotent,
// needs no prevResult and no namespace.
import t from 'tap'
import { deleteNetns } from '../../helpers/netns'
import {
  type Net,
  type World,
  attachBridge,
  dadSettled,
  dnChain,
  expectOk,
  flows,
  natOf,
  natSave,
  net,
  nftOf,
  portmapConf,
  request,
  runPortmap,
  startServers,
  world,
} from './fixture'

const BACKENDS = [
  { backend: 'iptables', n: net('pmdel', '1.0.0', '10.132.1.0/24', 'fd00:132::/64') },
  { backend: 'nftables', n: net('pmdel', '1.1.0', '10.133.1.0/24', 'fd00:133::/64') },
] as const

const M1 = [
  { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
  { hostPort: 8053, containerPort: 53, protocol: 'udp' },
]
const M2 = [{ hostPort: 9080, containerPort: 80, protocol: 'tcp' }]

/** What the host holds of a container: its iptables/ip6tables lines and nft rules. */
function leftOf(w: World, n: Net, id: string): string[] {
  return [...natOf(w.host, 4, n.name, id), ...natOf(w.host, 6, n.name, id), ...nftOf(w.host, id)]
}

const udpFlowsTo = (w: World, family: 4 | 6, port: number) => flows(w.host, family).filter((f) => f.protocol === 17 && f.dstPort === port)

for (const { backend, n } of BACKENDS) {
  t.test(`${backend}: DEL removes the container's rules and its UDP flows`, async (t) => {
    const w = world(t, `pd${backend.slice(0, 3)}`)
    const c1 = w.container('c1')
    const c2 = w.container('c2')
    const r1 = attachBridge(w, n, c1, 'pm-d1')
    const r2 = attachBridge(w, n, c2, 'pm-d2')
    await dadSettled(w.host, c1, c2)
    const conf1 = portmapConf(n, M1, r1, { backend })
    const conf2 = portmapConf(n, M2, r2, { backend })
    expectOk(t, runPortmap(w, 'ADD', conf1, { containerID: 'pm-d1', netns: c1.path }), 'ADD c1')
    expectOk(t, runPortmap(w, 'ADD', conf2, { containerID: 'pm-d2', netns: c2.path }), 'ADD c2')
    const c2Rules = leftOf(w, n, 'pm-d2')
    t.ok(leftOf(w, n, 'pm-d1').length > 0 && c2Rules.length > 0, 'both containers have rules')
    if (backend === 'iptables') {
      t.ok(natSave(w.host, 4).includes(`:${dnChain(n.name, 'pm-d1')} -`), 'the chain is named as the reference names it')
    }

    const servers = await startServers(t, c1, { udp: [53] })
    t.equal(request(w.host, 'udp', n.gw4, 8053), `udp:53:${n.gw4}`)
    t.equal(request(w.host, 'udp', n.gw6!, 8053), `udp:53:${n.gw6}`)
    t.ok(udpFlowsTo(w, 4, 8053).length > 0, 'an IPv4 UDP flow to the host port')
    t.ok(udpFlowsTo(w, 6, 8053).length > 0, 'an IPv6 UDP flow to the host port')
    servers.kill('SIGKILL')

    expectOk(t, runPortmap(w, 'DEL', conf1, { containerID: 'pm-d1', netns: c1.path }), 'DEL c1')
    t.same(natOf(w.host, 4, n.name, 'pm-d1'), [], 'iptables: no chain, no entry rule of c1')
    t.same(natOf(w.host, 6, n.name, 'pm-d1'), [], 'ip6tables: no chain, no entry rule of c1')
    t.same(nftOf(w.host, 'pm-d1'), [], 'nft: no rule with its comment')
    t.same(udpFlowsTo(w, 4, 8053), [], 'no IPv4 conntrack flow to the UDP host port')
    t.same(udpFlowsTo(w, 6, 8053), [], 'no IPv6 conntrack flow to the UDP host port')
    t.same(leftOf(w, n, 'pm-d2'), c2Rules, "the other container's rules stay")

    expectOk(t, runPortmap(w, 'DEL', conf1, { containerID: 'pm-d1', netns: c1.path }), 'DEL twice')
    expectOk(t, runPortmap(w, 'DEL', portmapConf(n, M1, undefined, { backend }), { containerID: 'pm-d1', netns: c1.path }), 'DEL without prevResult')
    expectOk(t, runPortmap(w, 'DEL', portmapConf(n, M1, undefined, { backend }), { containerID: 'pm-d1' }), 'DEL without CNI_NETNS')
    t.same(leftOf(w, n, 'pm-d2'), c2Rules, "the other container's rules still stay")

    t.test('DEL without prevResult removes the rules', async (t) => {
      expectOk(t, runPortmap(w, 'ADD', conf1, { containerID: 'pm-d1', netns: c1.path }), 'ADD again')
      t.ok(leftOf(w, n, 'pm-d1').length > 0)
      expectOk(t, runPortmap(w, 'DEL', portmapConf(n, M1, undefined, { backend }), { containerID: 'pm-d1', netns: c1.path }), 'DEL')
      t.same(leftOf(w, n, 'pm-d1'), [])
    })

    t.test('DEL after the namespace is gone', async (t) => {
      expectOk(t, runPortmap(w, 'ADD', conf1, { containerID: 'pm-d1', netns: c1.path }), 'ADD again')
      deleteNetns(c1.name)
      expectOk(t, runPortmap(w, 'DEL', conf1, { containerID: 'pm-d1', netns: c1.path }), 'DEL with the netns gone')
      t.same(leftOf(w, n, 'pm-d1'), [])
      expectOk(t, runPortmap(w, 'DEL', conf1, { containerID: 'pm-d1', netns: c1.path }), 'and again')
    })

    t.test('DEL without mappings still finds the rules (the reference removes nothing then)', async (t) => {
      expectOk(t, runPortmap(w, 'ADD', conf2, { containerID: 'pm-d2', netns: c2.path }), 'ADD c2 again (nothing changes)')
      t.same(leftOf(w, n, 'pm-d2'), c2Rules, 'a repeated ADD adds no rule')
      expectOk(t, runPortmap(w, 'DEL', portmapConf(n, undefined, r2, { backend }), { containerID: 'pm-d2', netns: c2.path }), 'DEL without runtimeConfig')
      t.same(leftOf(w, n, 'pm-d2'), [])
    })

    t.test('DEL in a host with no portmap rules at all', async (t) => {
      const empty = world(t, `pe${backend.slice(0, 3)}`)
      expectOk(t, runPortmap(empty, 'DEL', conf1, { containerID: 'pm-d1' }), 'DEL')
      t.same(natSave(empty.host, 4).filter((l) => l.includes('CNI-')), [], 'nothing created by DEL')
      t.same(natSave(empty.host, 6).filter((l) => l.includes('CNI-')), [], 'no ip6tables chain created by DEL either')
    })
  })
}

for (const { backend, n } of BACKENDS) {
  t.test(`${backend}: ADD drops a stale UDP flow to the host port, so the same flow reaches the container`, async (t) => {
    const w = world(t, `ps${backend.slice(0, 3)}`)
    const c1 = w.container('c1')
    // ipMasq: nat rules in the host, so conntrack tracks flows there before portmap's come.
    const r1 = attachBridge(w, n, c1, 'pm-s1', { ipMasq: true })
    await startServers(t, c1, { udp: [53] })
    // Before the mapping: nothing listens on the host port; conntrack remembers the flow un-NATed.
    t.equal(request(w.host, 'udp', n.gw4, 8053, 40053), 'timeout')
    t.ok(udpFlowsTo(w, 4, 8053).some((f) => f.srcPort === 40053), 'the flow is tracked')
    expectOk(t, runPortmap(w, 'ADD', portmapConf(n, M1, r1, { backend }), { containerID: 'pm-s1', netns: c1.path }), 'ADD')
    t.same(udpFlowsTo(w, 4, 8053), [], 'ADD dropped it')
    t.equal(request(w.host, 'udp', n.gw4, 8053, 40053), `udp:53:${n.gw4}`, 'the same source port now reaches the container')
  })
}
