import t from 'tap'
import { goQuote, masqChainName, masqComment, sha512Hex } from '../../../lib/ip/hash'
import { commentForInstance, hashForInstance, hashForNetwork } from '../../../lib/ip/ipmasq-nftables'
import { parseMasqComment, splitRuleLine } from '../../../lib/ip/ipmasq-iptables'
import { spoofCheckRef } from '../../../lib/ip/spoofcheck'

t.test('names and comments as the reference makes them', async (t) => {
  t.equal(masqChainName('rs-net1', 'ctr1'), 'CNI-33221c4e59c78a66e31b2f00', 'observed with the Go plugin')
  t.equal(masqChainName('a', 'b').length, 28)
  t.equal(masqComment('rs-net1', 'ctr1'), 'name: "rs-net1" id: "ctr1"')
  t.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"')
  t.equal(hashForNetwork('unit-test'), '6fd94d501e58f0aa')
  t.equal(sha512Hex('eth0:one', 16), '287fc69eff0574a2')
  t.equal(hashForInstance('unit-test', 'eth0', 'one'), '6fd94d501e58f0aa-287fc69eff0574a2')
  t.equal(commentForInstance('unit-test', 'eth0', 'one'), '6fd94d501e58f0aa-287fc69eff0574a2, net: unit-test, if: eth0, id: one')
  t.equal(commentForInstance('n"et', 'e"th0', 'o"ne'), `${hashForInstance('n"et', 'e"th0', 'o"ne')}, net: net, if: eth0, id: one`, 'quotes removed')
  t.equal(Buffer.byteLength(commentForInstance('n', 'eth0', 'x'.repeat(200))), 128, 'cut at 128 bytes')
  t.equal(spoofCheckRef('ctr-1', 'eth0'), 'ctr-1-eth0')
})

t.test('reading iptables -S lines', async (t) => {
  t.same(splitRuleLine('-A POSTROUTING -s 10.1.2.3/32 -m comment --comment "name: \\"n\\" id: \\"c\\"" -j CNI-x'), [
    '-A', 'POSTROUTING', '-s', '10.1.2.3/32', '-m', 'comment', '--comment', 'name: "n" id: "c"', '-j', 'CNI-x',
  ])
  t.same(splitRuleLine('-A X ! -d 224.0.0.0/4 -j MASQUERADE'), ['-A', 'X', '!', '-d', '224.0.0.0/4', '-j', 'MASQUERADE'])
  t.same(splitRuleLine(''), [])
  t.same(parseMasqComment('name: "n" id: "c-1.x"'), { network: 'n', containerID: 'c-1.x' })
  t.equal(parseMasqComment('dnat name: "n" id: "c"'), undefined, 'portmap’s comments are not ours')
})
