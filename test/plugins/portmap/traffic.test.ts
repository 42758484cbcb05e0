// Real traffic through portmap's mappings, on both backends, IPv4 and IPv6, TCP and UDP: a dual-stack
// bridge (our bridge + host-local) in a fake host, portmap chained after it, servers in the
// container, clients in the fake host (its bridge address, another local address on a dummy
// interface, 127.0.0.1) and in a second container on the same bridge (hairpin through the bridge
// address). hostIP restricts where a mapping answers.
import t from 'tap'
import { ipIn } from '../../helpers/netns'
import {
  type Net,
  type World,
  addrOf,
  attachBridge,
  dadSettled,
  expectOk,
  inNetns,
  natOf,
  net,
  nftOf,
  portmapConf,
  request,
  runPortmap,
  startServers,
  world,
} from './fixture'

const DUMMY4 = '10.139.0.1'
const DUMMY6 = 'fd00:139::1'

const BACKENDS = [
  { backend: 'iptables', n: net('pmtraffic', '1.0.0', '10.130.1.0/24', 'fd00:130::/64') },
  { backend: 'nftables', n: net('pmtraffic', '1.1.0', '10.131.1.0/24', 'fd00:131::/64') },
] as const

function mappings(n: Net) {
  return [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 8053, containerPort: 53, protocol: 'udp' },
    { hostPort: 8443, containerPort: 443, protocol: 'tcp', hostIP: n.gw4 },
    { hostPort: 8444, containerPort: 443, protocol: 'tcp', hostIP: n.gw6 },
    { hostPort: 8054, containerPort: 53, protocol: 'udp', hostIP: n.gw4 },
    { hostPort: 8445, containerPort: 443, protocol: 'tcp', hostIP: '0.0.0.0' },
  ]
}

/**
 * Another local address of the fake host, on a dummy interface (or, on a kernel without the dummy
 * driver, this test machine's, on one end of a veth pair kept in the fake host).
 */
function addDummy(w: World): void {
  try {
    ipIn(w.host, ['link', 'add', 'pmdummy0', 'type', 'dummy'])
  } catch {
    ipIn(w.host, ['link', 'add', 'pmdummy0', 'type', 'veth', 'peer', 'name', 'pmdummy1'])
    ipIn(w.host, ['link', 'set', 'pmdummy1', 'up'])
  }
  ipIn(w.host, ['addr', 'add', `${DUMMY4}/32`, 'dev', 'pmdummy0'])
  ipIn(w.host, ['addr', 'add', `${DUMMY6}/128`, 'dev', 'pmdummy0', 'nodad'])
  ipIn(w.host, ['link', 'set', 'pmdummy0', 'up'])
}

for (const { backend, n } of BACKENDS) {
  t.test(`${backend}: host ports reach the container`, async (t) => {
    const w = world(t, `pt${backend.slice(0, 3)}`)
    addDummy(w)
    const c1 = w.container('c1')
    const c2 = w.container('c2')
    const r1 = attachBridge(w, n, c1, 'pm-c1', { isDefaultGateway: true })
    const r2 = attachBridge(w, n, c2, 'pm-c2', { isDefaultGateway: true })
    await dadSettled(w.host, c1, c2)
    const add = runPortmap(w, 'ADD', portmapConf(n, mappings(n), r1, { backend }), { containerID: 'pm-c1', netns: c1.path })
    expectOk(t, add, 'portmap ADD')
    t.same(add.json, r1, 'ADD prints prevResult unchanged')
    if (backend === 'iptables') {
      t.ok(natOf(w.host, 4, n.name, 'pm-c1').length > 0, 'iptables rules made')
      t.ok(natOf(w.host, 6, n.name, 'pm-c1').length > 0, 'ip6tables rules made')
      t.same(nftOf(w.host, 'pm-c1'), [], 'nothing in nft')
    } else {
      t.ok(nftOf(w.host, 'pm-c1').length > 0, 'nft rules made')
      t.same(natOf(w.host, 4, n.name, 'pm-c1'), [], 'nothing in iptables')
      t.same(natOf(w.host, 6, n.name, 'pm-c1'), [], 'nothing in ip6tables')
    }
    await startServers(t, c1, { tcp: [80, 443], udp: [53] })
    const [gw4, gw6] = [n.gw4, n.gw6!]
    const c2v4 = addrOf(r2, 4)
    const c2v6 = addrOf(r2, 6)

    t.test('from the fake host, to its bridge address', async (t) => {
      t.equal(request(w.host, 'tcp', gw4, 8080), `tcp:80:${gw4}`)
      t.equal(request(w.host, 'udp', gw4, 8053), `udp:53:${gw4}`)
      t.equal(request(w.host, 'tcp', gw6, 8080), `tcp:80:${gw6}`)
      t.equal(request(w.host, 'udp', gw6, 8053), `udp:53:${gw6}`)
    })

    t.test('from the fake host, to another local address', async (t) => {
      t.equal(request(w.host, 'tcp', DUMMY4, 8080), `tcp:80:${DUMMY4}`)
      t.equal(request(w.host, 'udp', DUMMY4, 8053), `udp:53:${DUMMY4}`)
      t.equal(request(w.host, 'tcp', DUMMY6, 8080), `tcp:80:${DUMMY6}`)
      t.equal(request(w.host, 'udp', DUMMY6, 8053), `udp:53:${DUMMY6}`)
    })

    t.test('from 127.0.0.1 in the fake host (route_localnet, masqueraded to the bridge address)', async (t) => {
      // The reference does this for IPv4 on both backends: route_localnet on the bridge, and a
      // masquerade of 127.0.0.1 (iptables: the mark rule; nftables: `ip saddr 127.0.0.1 … masquerade`).
      t.equal(request(w.host, 'tcp', '127.0.0.1', 8080), `tcp:80:${gw4}`)
      t.equal(request(w.host, 'udp', '127.0.0.1', 8053), `udp:53:${gw4}`)
      t.equal(request(w.host, 'tcp', '127.0.0.1', 8443), 'error:ECONNREFUSED', 'hostIP = bridge address: not on 127.0.0.1')
    })

    // iptables marks every source of the container's subnet for masquerade (the reference's hairpin
    // rule); nftables masquerades only the container itself (the reference's HEAD rule), and the
    // reply finds its way back un-NATed through the bridge's conntrack (br_netfilter).
    const brNetfilter = inNetns(w.host, ['cat', '/proc/sys/net/bridge/bridge-nf-call-iptables']).stdout.trim() === '1'
    const hairpinSkip = backend === 'nftables' && !brNetfilter && 'no br_netfilter here: an un-masqueraded hairpin reply cannot find its way back'
    t.test('hairpin: a second container through the bridge address', { skip: hairpinSkip }, async (t) => {
      const seen4 = backend === 'iptables' ? gw4 : c2v4
      const seen6 = backend === 'iptables' ? gw6 : c2v6
      t.equal(request(c2, 'tcp', gw4, 8080), `tcp:80:${seen4}`)
      t.equal(request(c2, 'udp', gw4, 8053), `udp:53:${seen4}`)
      t.equal(request(c2, 'tcp', gw6, 8080), `tcp:80:${seen6}`)
      t.equal(request(c2, 'udp', gw6, 8053), `udp:53:${seen6}`)
      t.equal(request(c2, 'tcp', gw4, 8443), `tcp:443:${seen4}`, 'hostIP = bridge address answers there')
      t.equal(request(c2, 'tcp', gw6, 8444), `tcp:443:${seen6}`)
    })

    t.test('hostIP: a mapping answers on that address only', async (t) => {
      t.equal(request(w.host, 'tcp', gw4, 8443), `tcp:443:${gw4}`, 'IPv4 hostIP: the bridge address')
      t.equal(request(w.host, 'tcp', DUMMY4, 8443), 'error:ECONNREFUSED', 'not on another local address')
      t.equal(request(w.host, 'udp', gw4, 8054), `udp:53:${gw4}`, 'UDP with hostIP')
      t.equal(request(w.host, 'udp', DUMMY4, 8054), 'timeout', 'UDP not on another local address')
      t.equal(request(w.host, 'tcp', gw6, 8444), `tcp:443:${gw6}`, 'IPv6 hostIP: the bridge address')
      t.equal(request(w.host, 'tcp', DUMMY6, 8444), 'error:ECONNREFUSED', 'not on another local address')
      t.equal(request(w.host, 'tcp', gw6, 8443), 'error:ECONNREFUSED', 'an IPv4 hostIP does not map IPv6')
      t.equal(request(w.host, 'tcp', gw4, 8444), 'error:ECONNREFUSED', 'an IPv6 hostIP does not map IPv4')
      t.equal(request(w.host, 'tcp', DUMMY4, 8445), `tcp:443:${DUMMY4}`, 'hostIP 0.0.0.0: every IPv4 address')
      t.equal(request(w.host, 'tcp', gw4, 8445), `tcp:443:${gw4}`)
      t.equal(request(w.host, 'tcp', gw6, 8445), 'error:ECONNREFUSED', 'hostIP 0.0.0.0 is IPv4 only')
    })

    t.test('after DEL nothing answers', async (t) => {
      const del = runPortmap(w, 'DEL', portmapConf(n, mappings(n), r1, { backend }), { containerID: 'pm-c1', netns: c1.path })
      expectOk(t, del, 'portmap DEL')
      t.equal(request(w.host, 'tcp', gw4, 8080), 'error:ECONNREFUSED')
      t.equal(request(w.host, 'tcp', gw6, 8080), 'error:ECONNREFUSED')
      t.equal(request(w.host, 'tcp', '127.0.0.1', 8080), 'error:ECONNREFUSED')
      t.equal(request(c2, 'tcp', gw4, 8080), 'error:ECONNREFUSED')
    })
  })
}
