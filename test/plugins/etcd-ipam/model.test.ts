// etcd-ipam's key layout and block arithmetic, under Node (no etcd needed).
import t from 'tap'
import { canonicalizeRangeSet, parseIP } from '../../../lib/ipam/range'
import { blockEnd, blockLen, blockOf, freeIn, Keys, segmentsIn, sizeOf } from '../../../plugins/etcd-ipam/model'

t.test('keys: fixed-width hex, one block is one key range', async (t) => {
  const k = new Keys('/tscni/ipam', 'net')
  const ip = parseIP('10.64.0.5')!
  t.equal(k.ip(ip), '/tscni/ipam/net/ips/v4/0a400005')
  t.equal(k.ip(parseIP('fd00::1')!), '/tscni/ipam/net/ips/v6/fd000000000000000000000000000001')
  t.equal(k.block(4, 0x0a400000n, 26), '/tscni/ipam/net/blocks/v4/0a400000/26')
  t.same(k.parseBlock('/tscni/ipam/net/blocks/v4/0a400040/26'), { family: 4, network: 0x0a400040n, prefix: 26, key: '/tscni/ipam/net/blocks/v4/0a400040/26' })
  t.equal(k.parseBlock('/other/net/blocks/v4/0a400040/26'), null, 'another prefix is not ours')
  const r = k.addrRange(k.ipsOf(4), 4, 0x0a400000n, 0x0a40003fn)
  t.ok(r.key <= k.ip(parseIP('10.64.0.0')!) && k.ip(parseIP('10.64.0.63')!) < r.rangeEnd, 'the block inside the range')
  t.ok(k.ip(parseIP('10.64.0.64')!) >= r.rangeEnd, 'the next block outside')
  t.equal(k.parseAddr(k.ip(ip)), 0x0a400005n)
})

t.test('blocks and usable addresses', async (t) => {
  const set = canonicalizeRangeSet([{ subnet: '10.64.0.0/24', rangeStart: '10.64.0.10', rangeEnd: '10.64.0.70' }])
  const r = set.ranges[0]
  t.equal(blockLen(r, 26, 122), 26)
  t.equal(blockLen(canonicalizeRangeSet([{ subnet: '10.64.0.0/28' }]).ranges[0], 26, 122), 28, 'a subnet smaller than a block is one block')
  t.equal(blockOf(parseIP('10.64.0.77')!, 26), 0x0a400040n)
  t.equal(blockEnd(4, 0x0a400040n, 26), 0x0a40007fn)
  const first = segmentsIn(set, 0x0a400000n, 0x0a40003fn)
  t.equal(sizeOf(first), 54n, '10..63 is 54 addresses (the gateway .1 is outside)')
  const second = segmentsIn(set, 0x0a400040n, 0x0a40007fn)
  t.equal(sizeOf(second), 7n, '64..70')
  t.same(freeIn(second, new Set([0x0a400040n, 0x0a400041n]), 2).map((f) => f.value), [0x0a400042n, 0x0a400043n])
  const withGw = canonicalizeRangeSet([{ subnet: '10.64.1.0/30' }])
  t.equal(sizeOf(segmentsIn(withGw, 0x0a400100n, 0x0a400103n)), 1n, '/30: .1 is the gateway, .2 is left')
})

