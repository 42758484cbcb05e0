// GC (spec 1.1.0): the iptables chains and entry rules of this network's attachments that are not in
// cni.dev/valid-attachments go, in both families; valid attachments and other networks' chains
// (even for the same container ID) stay.
import t from 'tap'
import { attachBridge, dnChain, expectOk, natOf, natSave, net, nftOf, portmapConf, runPortmap, world } from './fixture'

const N = net('pmgc', '1.1.0', '10.138.1.0/24', 'fd00:138::/64')
const OTHER = { ...N, name: 'pmgc-other' }

t.test('iptables: GC removes the chains of attachments that are gone, only those', async (t) => {
  const w = world(t, 'pgc')
  const a = w.container('a')
  const b = w.container('b')
  const ra = attachBridge(w, N, a, 'gc-a')
  const rb = attachBridge(w, N, b, 'gc-b')
  expectOk(t, runPortmap(w, 'ADD', portmapConf(N, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ra), { containerID: 'gc-a', netns: a.path }), 'ADD a')
  expectOk(t, runPortmap(w, 'ADD', portmapConf(N, [{ hostPort: 8081, containerPort: 80, protocol: 'tcp' }, { hostPort: 8053, containerPort: 53, protocol: 'udp' }], rb), { containerID: 'gc-b', netns: b.path }), 'ADD b')
  // The same container ID on another network: another chain, other entry rules.
  expectOk(t, runPortmap(w, 'ADD', portmapConf(OTHER, [{ hostPort: 9081, containerPort: 80, protocol: 'tcp' }], rb), { containerID: 'gc-b', netns: b.path }), 'ADD b on another network')
  const keepA = [natOf(w.host, 4, N.name, 'gc-a'), natOf(w.host, 6, N.name, 'gc-a')]
  const keepOther = [natOf(w.host, 4, OTHER.name, 'gc-b'), natOf(w.host, 6, OTHER.name, 'gc-b')]
  t.ok(keepA[0].length && keepA[1].length && keepOther[0].length && keepOther[1].length, 'rules in both families')
  t.ok(natOf(w.host, 4, N.name, 'gc-b').length > 0)

  const gc = runPortmap(w, 'GC', { cniVersion: '1.1.0', name: N.name, type: 'portmap', 'cni.dev/valid-attachments': [{ containerID: 'gc-a', ifname: 'eth0' }] }, { containerID: '' })
  expectOk(t, gc, 'GC')
  t.equal(gc.stdout, '', 'GC prints nothing')
  t.same(natOf(w.host, 4, N.name, 'gc-b'), [], "b's chain and entry rules are gone (IPv4)")
  t.same(natOf(w.host, 6, N.name, 'gc-b'), [], '(IPv6)')
  t.notOk(natSave(w.host, 4).some((l) => l.includes(dnChain(N.name, 'gc-b'))))
  t.same([natOf(w.host, 4, N.name, 'gc-a'), natOf(w.host, 6, N.name, 'gc-a')], keepA, "a's rules stay")
  t.same([natOf(w.host, 4, OTHER.name, 'gc-b'), natOf(w.host, 6, OTHER.name, 'gc-b')], keepOther, "the other network's chain of the same container stays")

  expectOk(t, runPortmap(w, 'GC', { cniVersion: '1.1.0', name: N.name, type: 'portmap', 'cni.dev/valid-attachments': [{ containerID: 'gc-a', ifname: 'eth0' }] }, { containerID: '' }), 'GC again')
  const none = runPortmap(w, 'GC', { cniVersion: '1.1.0', name: N.name, type: 'portmap', 'cni.dev/valid-attachments': [] }, { containerID: '' })
  expectOk(t, none, 'GC with no valid attachment')
  t.same(natOf(w.host, 4, N.name, 'gc-a'), [], 'now a goes too')
  t.same([natOf(w.host, 4, OTHER.name, 'gc-b'), natOf(w.host, 6, OTHER.name, 'gc-b')], keepOther, 'the other network still untouched')
})

t.test('GC in a host without any portmap chain, and GC below spec 1.1.0', async (t) => {
  const w = world(t, 'pgce')
  expectOk(t, runPortmap(w, 'GC', { cniVersion: '1.1.0', name: N.name, type: 'portmap', 'cni.dev/valid-attachments': [] }, { containerID: '' }), 'GC')
  t.same(natSave(w.host, 4).filter((l) => l.includes('CNI-')), [], 'GC creates nothing')
  const old = runPortmap(w, 'GC', { cniVersion: '1.0.0', name: N.name, type: 'portmap' }, { containerID: '' })
  t.not(old.code, 0, 'GC of a 1.0.0 config is refused')
})

t.test('nftables: GC succeeds and leaves the rules (they carry no network name to tell networks apart)', async (t) => {
  const w = world(t, 'pgcn')
  const b = w.container('b')
  const rb = attachBridge(w, N, b, 'gc-b')
  expectOk(t, runPortmap(w, 'ADD', portmapConf(N, [{ hostPort: 8081, containerPort: 80, protocol: 'tcp' }], rb, { backend: 'nftables' }), { containerID: 'gc-b', netns: b.path }), 'ADD')
  const before = nftOf(w.host, 'gc-b')
  t.ok(before.length > 0)
  expectOk(t, runPortmap(w, 'GC', { cniVersion: '1.1.0', name: N.name, type: 'portmap', backend: 'nftables', 'cni.dev/valid-attachments': [] }, { containerID: '' }), 'GC')
  t.same(nftOf(w.host, 'gc-b'), before)
})
