import t from 'tap'
import { type Rtnl } from '../../../lib/netlink'
import { type HasTeardown, ipJson, makeNetns, rtnlIn, type TestNetns } from '../../helpers/netns'

/** A namespace with one veth pair (`a0`, `b0`), both up. */
function setup(t: HasTeardown): { ns: TestNetns; r: Rtnl; a: number; b: number } {
  const ns = makeNetns(t, 'nl-addr')
  const r = rtnlIn(t, ns)
  r.createVethPair({ name: 'a0', peerName: 'b0' })
  const a = r.getLinkByName('a0')!.index
  const b = r.getLinkByName('b0')!.index
  r.setLinkUp(a)
  r.setLinkUp(b)
  return { ns, r, a, b }
}

t.test('IPv4: add with broadcast, list, EEXIST, delete, EADDRNOTAVAIL', async (t) => {
  const { ns, r, a, b } = setup(t)
  r.addAddr(a, '10.240.1.2/24')
  r.addAddr(b, '10.240.2.1/31')
  r.addAddr(b, '10.240.3.1/32')

  const onA = r.listAddrs({ index: a, family: 4 })
  t.equal(onA.length, 1)
  t.match(onA[0], {
    index: a,
    family: 4,
    address: '10.240.1.2',
    prefixLen: 24,
    cidr: '10.240.1.2/24',
    scope: 'universe',
    broadcast: '10.240.1.255',
    label: 'a0',
  })
  t.match(onA[0].flags, { permanent: true, tentative: false, dadfailed: false, secondary: false })
  const viaIp = ipJson(ns, ['-4', 'addr', 'show', 'dev', 'a0'])[0].addr_info[0]
  t.match(viaIp, { local: '10.240.1.2', prefixlen: 24, broadcast: '10.240.1.255' }, 'iproute2 agrees')

  const onB = r.listAddrs({ index: b, family: 4 })
  t.same(
    onB.map((x) => [x.cidr, x.broadcast]),
    [
      ['10.240.2.1/31', undefined],
      ['10.240.3.1/32', undefined],
    ],
    'no broadcast for /31 and /32 (like Go)',
  )

  const all = r.listAddrs()
  t.ok(all.some((x) => x.cidr === '127.0.0.1/8') === false, 'lo is down: no 127.0.0.1 yet')
  t.same(
    all.filter((x) => x.family === 4).map((x) => x.cidr).sort(),
    ['10.240.1.2/24', '10.240.2.1/31', '10.240.3.1/32'],
  )

  t.throws(() => r.addAddr(a, '10.240.1.2/24'), {
    name: 'NetlinkError',
    code: 'EEXIST',
    op: 'RTM_NEWADDR',
    object: `10.240.1.2/24 on link ${a}`,
  })

  // A second address in the same subnet is a secondary.
  r.addAddr(a, '10.240.1.3/24')
  const second = r.listAddrs({ index: a, family: 4 }).find((x) => x.address === '10.240.1.3')
  t.equal(second?.flags.secondary, true)

  r.delAddr(a, '10.240.1.3/24')
  r.delAddr(a, '10.240.1.2/24')
  t.same(r.listAddrs({ index: a, family: 4 }), [])
  t.throws(() => r.delAddr(a, '10.240.1.2/24'), {
    code: 'EADDRNOTAVAIL',
    op: 'RTM_DELADDR',
    reason: 'cannot assign requested address',
  })

  t.throws(() => r.addAddr(4242, '10.240.9.1/24'), { code: 'ENODEV', op: 'RTM_NEWADDR' })
})

t.test('IPv6: add (nodad and with DAD), list, flags, delete', async (t) => {
  const { ns, r, a } = setup(t)
  r.addAddr(a, 'fd00:240::2/64', { noDad: true })
  r.addAddr(a, 'fd00:241:0:0::2/64')

  const v6 = r.listAddrs({ index: a, family: 6 })
  const byCidr = new Map(v6.map((x) => [x.cidr, x]))
  t.ok(byCidr.has('fd00:240::2/64'))
  t.ok(byCidr.has('fd00:241::2/64'), 'addresses come back in canonical form')
  t.match(byCidr.get('fd00:240::2/64'), { family: 6, prefixLen: 64, scope: 'universe', flags: { nodad: true, tentative: false } })
  t.equal(byCidr.get('fd00:240::2/64')?.broadcast, undefined)
  // The kernel adds the link-local address once the link has carrier, which linkwatch reports a
  // moment after both ends went up: wait for it (the old async API hid this behind event-loop turns).
  const deadline = Date.now() + 2000
  let ll = v6.find((x) => x.address.startsWith('fe80:'))
  while (!ll && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    ll = r.listAddrs({ index: a, family: 6 }).find((x) => x.address.startsWith('fe80:'))
  }
  t.equal(ll?.scope, 'link', 'the kernel link-local address has link scope')

  // With DAD the address starts tentative (the peer is up, so DAD runs).
  const dad = byCidr.get('fd00:241::2/64')!
  t.equal(dad.flags.nodad, false)
  t.type(dad.flags.tentative, 'boolean')

  const viaIp = ipJson(ns, ['-6', 'addr', 'show', 'dev', 'a0'])[0].addr_info
  t.ok(viaIp.find((x: any) => x.local === 'fd00:240::2' && x.nodad === true), 'iproute2 sees nodad')

  t.same(
    r.listAddrs({ family: 4 }).filter((x) => x.index === a),
    [],
    'family filter: no v4 here',
  )

  r.delAddr(a, 'fd00:240::2/64')
  r.delAddr(a, 'fd00:241::2/64')
  t.same(r.listAddrs({ index: a, family: 6 }).filter((x) => x.scope !== 'link'), [])
  t.throws(() => r.delAddr(a, 'fd00:240::2/64'), { code: 'EADDRNOTAVAIL' })
})

t.test('noPrefixRoute and invalid input', async (t) => {
  const { r, a } = setup(t)
  r.addAddr(a, '10.241.0.5/24', { noPrefixRoute: true })
  const addr = r.listAddrs({ index: a, family: 4 })[0]
  t.equal(addr.flags.noprefixroute, true)
  t.notOk(
    r.listRoutes({ family: 4 }).some((x) => x.dst === '10.241.0.0/24'),
    'no prefix route was made',
  )
  t.throws(() => r.addAddr(a, '10.241.0.300/24'), TypeError)
  t.throws(() => r.addAddr(a, '10.241.0.5/33'), { message: 'invalid CIDR address: 10.241.0.5/33' })
  t.throws(() => r.addAddr(a, 'fd00::1/129'), TypeError)
})
