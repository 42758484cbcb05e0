import t from 'tap'
import { MAX_CHAIN_LENGTH, formatChainName, formatComment, formatHashWithPrefix, goQuote, parseComment, sha512Hex } from '../../../lib/netfilter/names'

t.test('names and comments as the reference makes them', async (t) => {
  t.equal(formatChainName('rs-net1', 'ctr1'), 'CNI-33221c4e59c78a66e31b2f00', 'observed with the Go plugin')
  t.equal(formatChainName('a', 'b').length, 28)
  t.equal(formatComment('rs-net1', 'ctr1'), 'name: "rs-net1" id: "ctr1"')
  t.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"')
  t.equal(sha512Hex('eth0:one', 16), '287fc69eff0574a2')
})

t.test('chain names with a prefix (portmap’s CNI-DN-), observed with the Go plugins', async (t) => {
  t.equal(formatChainName('fs64cd7c-a', 'fs64cd7c-c2', 'DN-'), 'CNI-DN-dd11aba148379fea0da01')
  t.equal(formatChainName('fs64cd7c-a', 'fs64cd7c-c2'), 'CNI-dd11aba148379fea0da0134d', 'bridge’s chain for the same pair')
  t.equal(formatChainName('x', 'y', 'SN-').length, MAX_CHAIN_LENGTH)
  t.equal(formatHashWithPrefix(10, 'ab', 'x'), `ab${sha512Hex('x', 8)}`)
  t.throws(() => formatHashWithPrefix(4, 'CNI-', 'x'), /invalid length/, 'no room for the hash')
  t.throws(() => formatHashWithPrefix(129, 'CNI-', 'x'), /invalid length/, 'longer than the hash')
})

t.test('reading comments back', async (t) => {
  t.same(parseComment('name: "n" id: "c-1.x"'), { network: 'n', containerID: 'c-1.x' })
  t.same(parseComment(formatComment('n"x', 'c\\1')), { network: 'n"x', containerID: 'c\\1' }, 'escapes undone')
  t.equal(parseComment('dnat name: "n" id: "c"'), undefined, 'portmap’s comments are not ours')
})
