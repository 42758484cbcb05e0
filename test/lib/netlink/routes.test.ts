import t from 'tap'
import { type Rtnl } from '../../../lib/netlink'
import { type HasTeardown, ipJson, makeNetns, rtnlIn, type TestNetns } from '../../helpers/netns'

/**
 * A container-like namespace: veth `eth0` (peer `peer0` alongside) up with 10.242.0.2/24 and
 * fd00:242::2/64 (no DAD, so v6 routes via the gateway are accepted at once).
 */
function setup(t: HasTeardown): { ns: TestNetns; r: Rtnl; eth0: number; peer: number } {
  const ns = makeNetns(t, 'nl-route')
  const r = rtnlIn(t, ns)
  r.createVethPair({ name: 'eth0', peerName: 'peer0' })
  const eth0 = r.getLinkByName('eth0')!.index
  const peer = r.getLinkByName('peer0')!.index
  r.setLinkUp(peer)
  r.setLinkUp(eth0)
  r.addAddr(eth0, '10.242.0.2/24')
  r.addAddr(eth0, 'fd00:242::2/64', { noDad: true })
  return { ns, r, eth0, peer }
}

t.test('IPv4 routes: default via gateway, prefix with metric and metrics, list, EEXIST, delete, ESRCH', async (t) => {
  const { ns, r, eth0 } = setup(t)
  r.addRoute({ dst: '0.0.0.0/0', gw: '10.242.0.1', index: eth0 })
  r.addRoute({ dst: '10.243.0.0/16', gw: '10.242.0.1', index: eth0, priority: 7, mtu: 1300, advmss: 1260 })

  const v4 = r.listRoutes({ family: 4 })
  const def = v4.find((x) => x.dst === '0.0.0.0/0')
  t.match(def, { family: 4, gw: '10.242.0.1', index: eth0, table: 254, scope: 'universe', protocol: 'boot', type: 'unicast' })
  t.equal(def?.priority, undefined, 'no metric given, none reported for v4')
  const pfx = v4.find((x) => x.dst === '10.243.0.0/16')
  t.match(pfx, { gw: '10.242.0.1', priority: 7, mtu: 1300, advmss: 1260 })
  const connected = v4.find((x) => x.dst === '10.242.0.0/24')
  t.match(connected, { protocol: 'kernel', scope: 'link', src: '10.242.0.2', index: eth0 })
  t.equal(connected?.gw, undefined)

  const viaIp = ipJson(ns, ['-4', 'route', 'show'])
  t.ok(viaIp.find((x: any) => x.dst === 'default' && x.gateway === '10.242.0.1'), 'iproute2 sees the default route')
  t.ok(
    viaIp.find((x: any) => x.dst === '10.243.0.0/16' && x.metric === 7 && x.metrics?.[0]?.mtu === 1300),
    'and the metric and mtu',
  )

  const dup = t.throws(() => r.addRoute({ dst: '0.0.0.0/0', gw: '10.242.0.1', index: eth0 }), {
    code: 'EEXIST',
    op: 'RTM_NEWROUTE',
    object: `0.0.0.0/0 via 10.242.0.1 link ${eth0}`,
  })
  t.equal((dup as Error).message, `RTM_NEWROUTE 0.0.0.0/0 via 10.242.0.1 link ${eth0}: file exists (EEXIST)`)

  // host bits in dst are cleared, like Go's ParseCIDR
  r.addRoute({ dst: '10.244.1.7/16', gw: '10.242.0.1', index: eth0 })
  t.ok(r.listRoutes({ family: 4 }).find((x) => x.dst === '10.244.0.0/16'))

  r.delRoute({ dst: '10.243.0.0/16' })
  r.delRoute({ dst: '0.0.0.0/0', gw: '10.242.0.1' })
  const left = r.listRoutes({ family: 4 }).map((x) => x.dst)
  t.notOk(left.includes('10.243.0.0/16'))
  t.notOk(left.includes('0.0.0.0/0'))
  t.throws(() => r.delRoute({ dst: '10.243.0.0/16' }), { code: 'ESRCH', op: 'RTM_DELROUTE', reason: 'no such process' })
})

t.test('IPv6 routes: default and prefix via gateway, priorities, ECMP without EXCL', async (t) => {
  const { ns, r, eth0 } = setup(t)
  r.addRoute({ dst: '::/0', gw: 'fd00:242::1', index: eth0 })
  r.addRoute({ dst: 'fd00:243::/48', gw: 'fd00:242::1', index: eth0, priority: 10 })

  const v6 = r.listRoutes({ family: 6 })
  t.match(v6.find((x) => x.dst === '::/0'), { family: 6, gw: 'fd00:242::1', index: eth0, priority: 1024, protocol: 'boot' })
  t.match(v6.find((x) => x.dst === 'fd00:243::/48'), { gw: 'fd00:242::1', priority: 10 })
  t.ok(v6.find((x) => x.dst === 'fd00:242::/64' && x.protocol === 'kernel'), 'the connected route')
  t.ok(ipJson(ns, ['-6', 'route', 'show']).find((x: any) => x.dst === 'default' && x.gateway === 'fd00:242::1'))

  t.throws(() => r.addRoute({ dst: '::/0', gw: 'fd00:242::1', index: eth0 }), { code: 'EEXIST' })

  // NLM_F_CREATE without EXCL (Go's RouteAddEcmp): a second gateway to the same dst/metric
  // becomes another next hop of one multipath route.
  r.addRoute({ dst: 'fd00:243::/48', gw: 'fd00:242::3', index: eth0, priority: 10 }, { exclusive: false })
  const ecmp = r.listRoutes({ family: 6 }).filter((x) => x.dst === 'fd00:243::/48')
  t.equal(ecmp.length, 1, 'one route')
  t.same(
    ecmp[0].multipath?.map((h) => [h.gw, h.index, h.weight]),
    [
      ['fd00:242::1', eth0, 1],
      ['fd00:242::3', eth0, 1],
    ],
    'with two next hops',
  )
  t.equal(ecmp[0].gw, undefined)
  t.ok(
    r.listRoutes({ family: 6, index: eth0 }).find((x) => x.dst === 'fd00:243::/48'),
    'index filter looks into next hops',
  )
  t.throws(
    () => r.addRoute({ dst: 'fd00:243::/48', gw: 'fd00:242::3', index: eth0, priority: 10 }, { exclusive: false }),
    { code: 'EEXIST' },
    'an identical next hop is still EEXIST',
  )

  r.delRoute({ dst: 'fd00:243::/48', gw: 'fd00:242::3' })
  const after = r.listRoutes({ family: 6 }).filter((x) => x.dst === 'fd00:243::/48')
  t.match(after, [{ gw: 'fd00:242::1' }], 'deleting one next hop leaves the other')
  r.delRoute({ dst: '::/0' })
  t.throws(() => r.delRoute({ dst: '::/0' }), { code: 'ENOENT' }, 'IPv6 says ENOENT where IPv4 says ESRCH')
})

t.test('scope, tables, filters, and kernel errors', async (t) => {
  const { r, eth0, peer } = setup(t)
  r.addRoute({ dst: '10.245.0.0/24', index: eth0, scope: 'link' })
  r.addRoute({ dst: '10.246.0.0/24', gw: '10.242.0.1', index: eth0, table: 100 })
  r.addRoute({ dst: '10.247.0.0/24', gw: '10.242.0.1', index: eth0, table: 1000 })

  const main = r.listRoutes({ family: 4 })
  t.match(main.find((x) => x.dst === '10.245.0.0/24'), { scope: 'link', index: eth0 })
  t.equal(main.find((x) => x.dst === '10.246.0.0/24'), undefined, 'table 100 is not main')
  t.match(r.listRoutes({ table: 100 }).map((x) => x.dst), ['10.246.0.0/24'])
  t.match(r.listRoutes({ table: 1000 }), [{ dst: '10.247.0.0/24', table: 1000 }], 'tables >= 256 via RTA_TABLE')
  const all = r.listRoutes({ table: 0 })
  t.ok(all.find((x) => x.table === 255 && x.type === 'local'), 'table 0 lists every table, local included')
  t.same(r.listRoutes({ index: peer, family: 4 }), [], 'nothing leaves through peer0')

  r.delRoute({ dst: '10.246.0.0/24', table: 100 })
  t.same(r.listRoutes({ table: 100 }), [])

  t.throws(
    () => r.addRoute({ dst: '10.248.0.0/16', gw: '10.99.0.1', index: eth0 }),
    { name: 'NetlinkError', code: 'ENETUNREACH', op: 'RTM_NEWROUTE' },
    'gateway not on link',
  )
  t.throws(() => r.addRoute({ dst: '10.248.0.0/16', index: 4242, scope: 'link' }), { code: 'ENODEV' })
  t.throws(() => r.addRoute({ dst: '10.248.0.0/16', gw: 'fd00::1', index: eth0 }), TypeError)
})
