import t from 'tap'
import { formatIP, IP, parseCIDR, parseIP } from '../../../lib/ip/address'

const ip = (s: string): IP => {
  const v = parseIP(s)
  if (!v) throw new Error(`bad test address ${s}`)
  return v
}

t.test('parseIP follows Go net.ParseIP', async (t) => {
  const good: Array<[string, string, 4 | 6]> = [
    ['10.1.2.3', '10.1.2.3', 4],
    ['0.0.0.0', '0.0.0.0', 4],
    ['255.255.255.255', '255.255.255.255', 4],
    ['::ffff:10.1.2.3', '10.1.2.3', 4], // IPv4-mapped becomes IPv4
    ['::FFFF:a01:203', '10.1.2.3', 4],
    ['::', '::', 6],
    ['::1', '::1', 6],
    ['1::', '1::', 6],
    ['2001:DB8::1', '2001:db8::1', 6],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 6], // leftmost of two equal runs
    ['0:0:1:0:0:0:1:0', '0:0:1::1:0', 6], // longest run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 6], // a single zero group is not compressed
    ['0001:0002::0003', '1:2::3', 6],
    ['::1.2.3.4', '::102:304', 6],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304', 6],
    ['fd00:250::103', 'fd00:250::103', 6],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6],
  ]
  for (const [input, out, fam] of good) {
    const p = parseIP(input)
    t.ok(p, `${input} parses`)
    t.equal(p?.toString(), out, `${input} prints as ${out}`)
    t.equal(p?.family, fam, `${input} is IPv${fam}`)
  }
  const bad = [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.256',
    '01.2.3.4', // leading zero
    '1..2.3',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.4\n',
    '1.2.3.4/24',
    'fe80::1%eth0', // zones are refused
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8', // "::" must stand for at least one group
    '1:::2',
    '1::2::3',
    ':1',
    '1:',
    'g::1',
    '1:2:3:4:5:1.2.3.4',
    'localhost',
  ]
  for (const input of bad) t.equal(parseIP(input), null, `${JSON.stringify(input)} is rejected`)
})

t.test('formatIP prints IPv4-mapped values dotted, like net.IP.String', async (t) => {
  t.equal(formatIP(6, 0xffff0a010203n), '10.1.2.3')
  t.equal(formatIP(6, 0x10a010203n), '::1:a01:203')
  t.equal(IP.v4(0x0a010203).toString(), '10.1.2.3')
  t.equal(IP.v6(1n).next().toString(), '::2')
  t.equal(IP.v4(0xffffffff).next().toString(), '0.0.0.0')
  t.ok(IP.v4(5).equals(ip('0.0.0.5')))
  t.notOk(IP.v4(5).equals(IP.v6(5n)), 'families differ')
  t.equal(JSON.stringify({ a: ip('10.0.0.1') }), '{"a":"10.0.0.1"}')
})

t.test('parseCIDR follows Go net.ParseCIDR and keeps host bits', async (t) => {
  t.same(parseCIDR('10.1.2.3/24'), { ip: ip('10.1.2.3'), prefix: 24, maskBits: 32 })
  t.same(parseCIDR('fd00::/064'), { ip: ip('fd00::'), prefix: 64, maskBits: 128 })
  t.same(parseCIDR('::ffff:10.0.0.0/104'), { ip: ip('10.0.0.0'), prefix: 104, maskBits: 128 })
  for (const bad of ['10.1.2.0', '10.1.2.0/33', '10.1.2.0/-1', '10.1.2.0/', '10.1.2/24', 'fe80::/129', 'fe80::%1/64', 'x/24', '10.1.2.0/2 4']) {
    t.throws(() => parseCIDR(bad), { message: `invalid CIDR address: ${bad}` }, bad)
  }
})
