import * as crypto from 'node:crypto'
import t from 'tap'
import {
  attr,
  attrMap,
  broadcastOf,
  bytesToIp,
  cidrContains,
  cstring,
  formatMac,
  ipFamily,
  ipToBytes,
  networkOf,
  normalizeIp,
  parseCidr,
  parseMac,
  readCstring,
  readU16,
  u16,
  u32,
  walkAttrs,
} from '../../../lib/netlink/encode'

t.test('IPv4 and IPv6 text <-> bytes', async (t) => {
  t.same([...ipToBytes('10.1.2.3')], [10, 1, 2, 3])
  t.equal(bytesToIp(Buffer.from([10, 1, 2, 3])), '10.1.2.3')
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['fd00::', 'fd00::'],
    ['FD00:0:0:0:0:0:0:A', 'fd00::a'],
    ['fd00:0000:0000:0000:0000:0000:0000:0001', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of two equal runs
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['fd00:1:2:3:4:5:6:7', 'fd00:1:2:3:4:5:6:7'],
    ['1::', '1::'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
    ['::ffff:a01:203', '::ffff:10.1.2.3'],
    ['fd00::10.1.2.3', 'fd00::a01:203'],
  ]
  for (const [input, want] of cases) {
    t.equal(normalizeIp(input), want, input)
    t.equal(ipToBytes(input).length, 16)
  }
  for (const bad of ['', '10.1.2', '10.1.2.256', 'fe80::1%eth0', 'fd00:::1', 'x']) {
    t.throws(() => ipToBytes(bad), TypeError, JSON.stringify(bad))
    t.equal(ipFamily(bad), 0)
  }
  t.equal(ipFamily('10.0.0.1'), 4)
  t.equal(ipFamily('fd00::1'), 6)
})

t.test('IPv6 formatting matches the WHATWG URL serialiser (RFC 5952) on random addresses', async (t) => {
  let checked = 0
  for (let i = 0; i < 2000; i++) {
    const b = crypto.randomBytes(16)
    // punch zero runs of random length and place into it, so compression is exercised
    const at = crypto.randomInt(8)
    const len = crypto.randomInt(9 - at)
    b.fill(0, at * 2, (at + len) * 2)
    if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) continue // v4-mapped
    const text = bytesToIp(b)
    const oracle = new URL(`http://[${text}]/`).hostname.slice(1, -1)
    if (oracle !== text) t.fail(`${b.toString('hex')}: ${text} vs ${oracle}`)
    if (!ipToBytes(text).equals(b)) t.fail(`round trip of ${text}`)
    checked++
  }
  t.ok(checked > 1900, `${checked} random addresses checked`)
})

t.test('CIDRs', async (t) => {
  t.match(parseCidr('10.1.2.3/24'), { family: 4, address: '10.1.2.3', prefixLen: 24 })
  t.match(parseCidr('10.1.2.3'), { family: 4, prefixLen: 32 })
  t.match(parseCidr('fd00:0::1/64'), { family: 6, address: 'fd00::1', prefixLen: 64 })
  t.match(parseCidr('fd00::1'), { family: 6, prefixLen: 128 })
  for (const bad of ['10.0.0.1/', '10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/a', 'fd00::/129', '/24', 'x/8', '10.0.0.1/1000']) {
    t.throws(() => parseCidr(bad), { name: 'TypeError', message: `invalid CIDR address: ${bad}` })
  }
  t.equal(networkOf(parseCidr('10.1.2.3/24')).address, '10.1.2.0')
  t.equal(networkOf(parseCidr('10.1.2.3/0')).address, '0.0.0.0')
  t.equal(networkOf(parseCidr('10.1.2.3/32')).address, '10.1.2.3')
  t.equal(networkOf(parseCidr('10.1.2.3/21')).address, '10.1.0.0')
  t.equal(networkOf(parseCidr('fd00::1:2/112')).address, 'fd00::1:0')
  t.equal(networkOf(parseCidr('fd00:1:2:3:4:5:6:7/0')).address, '::')
  t.equal(bytesToIp(broadcastOf(parseCidr('10.1.2.3/24'))), '10.1.2.255')
  t.equal(bytesToIp(broadcastOf(parseCidr('10.1.2.3/21'))), '10.1.7.255')
  t.equal(bytesToIp(broadcastOf(parseCidr('10.1.2.3/30'))), '10.1.2.3')
  t.ok(cidrContains(parseCidr('10.1.0.0/16'), '10.1.200.7'))
  t.notOk(cidrContains(parseCidr('10.1.0.0/16'), '10.2.0.1'))
  t.notOk(cidrContains(parseCidr('10.1.0.0/16'), 'fd00::1'), 'other family')
  t.ok(cidrContains(parseCidr('fd00:1::/32'), 'fd00:1:ffff::9'))
})

t.test('MAC addresses', async (t) => {
  t.same([...parseMac('0a:58:0A:f1:00:11')], [0x0a, 0x58, 0x0a, 0xf1, 0x00, 0x11])
  t.same([...parseMac('0a-58-0a-f1-00-11')], [0x0a, 0x58, 0x0a, 0xf1, 0x00, 0x11])
  t.equal(formatMac(parseMac('0A:58:0A:F1:00:11')), '0a:58:0a:f1:00:11')
  t.equal(formatMac(Buffer.alloc(0)), '')
  for (const bad of ['', '0a:58:0a:f1:00', '0a:58:0a:f1:00:11:22', '0a:58-0a:f1:00:11', 'zz:58:0a:f1:00:11', '0a5:8:0a:f1:00:11']) {
    t.throws(() => parseMac(bad), { name: 'TypeError', message: `address ${bad}: invalid MAC address` })
  }
})

t.test('attributes: header, padding, nesting, walking', async (t) => {
  const a = attr(3, cstring('br0'))
  t.equal(a.length, 8, '4 header + "br0\\0"')
  t.equal(readU16(a, 0), 8)
  t.equal(readU16(a, 2), 3)
  const odd = attr(1, Buffer.from([1, 2, 3, 4, 5, 6]))
  t.equal(odd.length, 12, 'padded to 4')
  t.equal(readU16(odd, 0), 10, 'length excludes padding')
  const nested = attr(12, [attr(4, Buffer.from([1])), attr(33, Buffer.from([0]))], true)
  t.equal(readU16(nested, 2), 12 | 0x8000, 'NLA_F_NESTED set')

  const stream = Buffer.concat([a, odd, nested, attr(4, u32(1500))])
  const seen: [number, number][] = []
  walkAttrs(stream, (type, data) => seen.push([type, data.length]))
  t.same(seen, [
    [3, 4],
    [1, 6],
    [12, 16],
    [4, 4],
  ], 'types without flag bits, payload lengths without padding')
  const inner = attrMap(attrMap(stream).get(12)!)
  t.same([...inner.keys()], [4, 33])
  t.equal(readCstring(attrMap(stream).get(3)!), 'br0')

  // A truncated stream stops instead of reading garbage.
  const cut: number[] = []
  walkAttrs(stream.subarray(0, 14), (type) => cut.push(type))
  t.same(cut, [3], 'the partial second attribute is ignored')

  t.equal(u16(0x1234).length, 2)
  t.throws(() => attr(1, Buffer.alloc(0x10000)), RangeError)
})
