import t from 'tap'
import {
  canonicalizeRange,
  canonicalizeRangeSet,
  IP,
  parseIP,
  Range,
  RangeSet,
} from '../../../lib/ipam/range'

const ip = (s: string): IP => {
  const v = parseIP(s)
  if (!v) throw new Error(`bad test address ${s}`)
  return v
}

t.test('canonicalizeRange: reference defaults', async (t) => {
  const r4 = canonicalizeRange({ subnet: '10.1.2.0/24' })
  t.equal(r4.subnet, '10.1.2.0/24')
  t.equal(r4.rangeStart.toString(), '10.1.2.1', 'rangeStart = network+1')
  t.equal(r4.rangeEnd.toString(), '10.1.2.254', 'rangeEnd = broadcast-1 for IPv4')
  t.equal(r4.gateway.toString(), '10.1.2.1', 'gateway = network+1')
  t.equal(r4.prefix, 24)
  t.equal(r4.family, 4)
  t.equal(r4.lastAddress.toString(), '10.1.2.255')
  t.equal(r4.toString(), '10.1.2.1-10.1.2.254')

  const r6 = canonicalizeRange({ subnet: 'fd00:250::100/126' })
  t.equal(r6.rangeStart.toString(), 'fd00:250::101')
  t.equal(r6.rangeEnd.toString(), 'fd00:250::103', 'rangeEnd = last address for IPv6')
  t.equal(r6.gateway.toString(), 'fd00:250::101')

  const r30 = canonicalizeRange({ subnet: '192.168.1.0/30' })
  t.equal(r30.toString(), '192.168.1.1-192.168.1.2')

  const custom = canonicalizeRange({
    subnet: '10.1.2.0/24',
    rangeStart: '10.1.2.10',
    rangeEnd: '10.1.2.20',
    gateway: '10.1.2.254',
  })
  t.equal(custom.toString(), '10.1.2.10-10.1.2.20')
  t.equal(custom.gateway.toString(), '10.1.2.254')

  const empties = canonicalizeRange({ subnet: '10.1.2.0/24', rangeStart: '', rangeEnd: '', gateway: '' })
  t.equal(empties.toString(), '10.1.2.1-10.1.2.254', 'empty strings mean unset, like Go')

  const mapped = canonicalizeRange({ subnet: '10.1.2.0/24', rangeStart: '::ffff:10.1.2.5' })
  t.equal(mapped.rangeStart.toString(), '10.1.2.5', 'IPv4-mapped fields canonicalise to IPv4')

  const gwOutside = canonicalizeRange({ subnet: '10.1.2.0/24', gateway: '192.0.2.1' })
  t.equal(gwOutside.gateway.toString(), '192.0.2.1', 'the gateway is not checked, like the reference')

  const start = canonicalizeRange({ subnet: '10.1.2.0/24', rangeStart: '10.1.2.0', rangeEnd: '10.1.2.255' })
  t.equal(start.toString(), '10.1.2.0-10.1.2.255', 'network and broadcast only when asked for')
})

t.test('canonicalizeRange: every reference error text', async (t) => {
  const cases: Array<[Parameters<typeof canonicalizeRange>[0], string]> = [
    [{ subnet: '192.0.2.0/31' }, 'Network 192.0.2.0/31 too small to allocate from'],
    [{ subnet: '192.0.2.1/32' }, 'Network 192.0.2.1/32 too small to allocate from'],
    [{ subnet: 'fd00::/127' }, 'Network fd00::/127 too small to allocate from'],
    [{ subnet: 'fd00::1/128' }, 'Network fd00::1/128 too small to allocate from'],
    [{ subnet: '::ffff:192.0.2.0/127' }, 'Network 192.0.2.0/31 too small to allocate from'],
    [
      { subnet: '192.0.2.1/24' },
      'Network has host bits set. For a subnet mask of length 24 the network address is 192.0.2.0',
    ],
    [
      { subnet: 'fd00::1:5/112' },
      'Network has host bits set. For a subnet mask of length 112 the network address is fd00::1:0',
    ],
    [{ subnet: '::ffff:192.0.2.0/120' }, 'IPNet IP and Mask version mismatch'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.3.5' }, 'RangeStart 10.1.3.5 not in network 10.1.2.0/24'],
    [{ subnet: '10.1.2.0/24', rangeStart: 'fd00::5' }, 'RangeStart fd00::5 not in network 10.1.2.0/24'],
    [{ subnet: '10.1.2.0/24', rangeEnd: '10.1.3.5' }, 'RangeEnd 10.1.3.5 not in network 10.1.2.0/24'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.50', rangeEnd: '10.1.2.40' }, 'RangeStart 10.1.2.50 not in network 10.1.2.0/24'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.50', rangeEnd: '10.1.1.40' }, 'RangeStart 10.1.2.50 not in network 10.1.2.0/24'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.50', rangeEnd: '10.1.9.40' }, 'RangeEnd 10.1.9.40 not in network 10.1.2.0/24'],
    [{ subnet: 'fd00::/64', rangeEnd: 'fd01::1' }, 'RangeEnd fd01::1 not in network fd00::/64'],
    [{ subnet: '10.1.2.0/24', rangeEnd: '10.1.2.0' }, 'RangeEnd 10.1.2.0 not in network 10.1.2.0/24'],
    [{ subnet: 'banana' }, 'invalid CIDR address: banana'],
    [{ subnet: '' }, 'invalid CIDR address: '],
    [{}, 'IP <nil> not v4 nor v6'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.300' }, 'invalid IP address: 10.1.2.300'],
    [{ subnet: '10.1.2.0/24', gateway: 'gw' }, 'invalid IP address: gw'],
  ]
  for (const [cfg, message] of cases) {
    t.throws(() => canonicalizeRange(cfg), { message }, JSON.stringify(cfg))
  }
})

t.test('RangeSet canonicalisation and errors', async (t) => {
  t.throws(() => canonicalizeRangeSet([]), { message: 'empty range set' })
  t.throws(() => new RangeSet([]), { message: 'empty range set' })
  t.throws(() => canonicalizeRangeSet([{ subnet: '10.1.2.0/24' }, { subnet: 'fd00::/64' }]), {
    message: 'mixed address families',
  })
  t.throws(
    () => canonicalizeRangeSet([{ subnet: '10.1.2.0/24' }, { subnet: '10.1.2.0/24', rangeStart: '10.1.2.100', rangeEnd: '10.1.2.200' }]),
    { message: 'subnets 10.1.2.1-10.1.2.254 and 10.1.2.100-10.1.2.200 overlap' },
  )
  t.throws(() => canonicalizeRangeSet([{ subnet: '10.1.0.0/16' }, { subnet: '10.1.2.0/24' }]), {
    message: 'subnets 10.1.0.1-10.1.255.254 and 10.1.2.1-10.1.2.254 overlap',
  })
  t.throws(() => canonicalizeRangeSet([{ subnet: '10.1.2.0/24' }, { subnet: '10.1.3.1/24' }]), {
    message: 'Network has host bits set. For a subnet mask of length 24 the network address is 10.1.3.0',
  })

  // Same subnet, disjoint ranges: allowed.
  const split = canonicalizeRangeSet([
    { subnet: '10.1.2.0/24', rangeStart: '10.1.2.10', rangeEnd: '10.1.2.19' },
    { subnet: '10.1.2.0/24', rangeStart: '10.1.2.20', rangeEnd: '10.1.2.29' },
  ])
  t.equal(split.toString(), '10.1.2.10-10.1.2.19,10.1.2.20-10.1.2.29')

  const set = canonicalizeRangeSet([{ subnet: '10.1.2.0/24' }, { subnet: '10.1.4.0/24', rangeEnd: '10.1.4.9' }])
  t.equal(set.toString(), '10.1.2.1-10.1.2.254,10.1.4.1-10.1.4.9')
  t.equal(set.family, 4)
  t.ok(set.contains(ip('10.1.2.1')), 'rangeStart is inside')
  t.ok(set.contains(ip('10.1.4.9')), 'rangeEnd is inside')
  t.notOk(set.contains(ip('10.1.2.255')), 'broadcast is outside')
  t.notOk(set.contains(ip('10.1.2.0')), 'network address is outside')
  t.notOk(set.contains(ip('10.1.4.10')), 'past rangeEnd is outside')
  t.notOk(set.contains(ip('::ffff:10.1.3.1')), 'other subnet')
  t.ok(set.contains(ip('::ffff:10.1.2.7')), 'IPv4-mapped counts as IPv4')
  t.equal(set.rangeFor(ip('10.1.4.3')), set.ranges[1])
  t.equal(set.findRange(ip('10.1.9.3')), undefined)
  t.throws(() => set.rangeFor(ip('10.1.9.3')), {
    message: '10.1.9.3 not in range set 10.1.2.1-10.1.2.254,10.1.4.1-10.1.4.9',
  })

  const other = canonicalizeRangeSet([{ subnet: '10.1.4.0/24', rangeStart: '10.1.4.5' }])
  const far = canonicalizeRangeSet([{ subnet: '10.1.4.0/24', rangeStart: '10.1.4.10' }])
  const v6 = canonicalizeRangeSet([{ subnet: 'fd00::/64' }])
  t.ok(set.overlaps(other), 'sets sharing addresses overlap')
  t.ok(other.overlaps(set), 'overlap is symmetric')
  t.notOk(set.overlaps(far), 'adjacent ranges do not overlap')
  t.notOk(set.overlaps(v6), 'families never overlap')
  t.type(set.ranges[0], Range)
})
