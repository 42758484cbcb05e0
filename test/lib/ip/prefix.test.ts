import t from 'tap'
import { parseIP } from '../../../lib/ip/address'
import { isGlobalUnicast, maskHex, networkIP, networkText, parsePrefix, prefixContains, prefixText } from '../../../lib/ip/prefix'

t.test('parsePrefix keeps host bits; IPv4-mapped becomes IPv4', async (t) => {
  t.equal(prefixText(parsePrefix('10.1.2.3/24')), '10.1.2.3/24')
  t.equal(prefixText(parsePrefix('::ffff:10.1.2.3/120')), '10.1.2.3/24')
  t.equal(prefixText(parsePrefix('FD00:0::5/64')), 'fd00::5/64')
  t.throws(() => parsePrefix('10.1.2.3'), { message: 'invalid CIDR address: 10.1.2.3' })
  t.throws(() => parsePrefix('10.1.2.3/33'), { message: 'invalid CIDR address: 10.1.2.3/33' })
})

t.test('network, containment, Go mask text', async (t) => {
  t.equal(networkText(parsePrefix('10.1.2.3/24')), '10.1.2.0/24')
  t.equal(networkIP(parsePrefix('fd00:1:2:3::5/64')).toString(), 'fd00:1:2:3::')
  t.equal(networkIP(parsePrefix('10.1.2.3/0')).toString(), '0.0.0.0')
  t.equal(networkIP(parsePrefix('10.1.2.3/24')).next().toString(), '10.1.2.1', 'the default gateway rule')
  t.ok(prefixContains(parsePrefix('fd00::1/64'), parseIP('fd00::ffff')!))
  t.notOk(prefixContains(parsePrefix('fd00::1/64'), parseIP('fd00:0:0:1::1')!))
  t.notOk(prefixContains(parsePrefix('10.0.0.0/8'), parseIP('fd00::1')!), 'families never match')
  t.equal(maskHex(4, 24), 'ffffff00')
  t.equal(maskHex(4, 0), '00000000')
  t.equal(maskHex(6, 64), 'ffffffffffffffff0000000000000000')
})

t.test('isGlobalUnicast as Go', async (t) => {
  const g = (s: string) => isGlobalUnicast(parseIP(s)!)
  t.ok(g('10.1.2.3'))
  t.ok(g('192.168.1.1'))
  t.ok(g('fd00::1'), 'ULA counts')
  t.ok(g('2001:db8::1'))
  for (const s of ['0.0.0.0', '127.0.0.1', '169.254.1.1', '224.0.0.1', '255.255.255.255', '::', '::1', 'fe80::1', 'ff02::1']) t.notOk(g(s), s)
})
