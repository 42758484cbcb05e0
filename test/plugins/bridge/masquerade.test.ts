// bridge's ipMasq rule sets (plugins/bridge/masquerade/) under Node against the netfilter of a
// throwaway namespace: the steps run in a child process started inside it (fixtures/netfilter-steps.ts),
// never in the machine's own tables. netfilter.test.ts checks the same through the executable.
import * as path from 'node:path'
import t from 'tap'
import { formatChainName } from '../../../lib/netfilter/names'
import { commentForInstance, hashForInstance, hashForNetwork } from '../../../plugins/bridge/masquerade/nftables'
import { makeNetns, type TestNetns } from '../../helpers/netns'
import { runSteps } from '../../lib/netfilter/fixtures/in-netns'

const inNetns = (ns: TestNetns, steps: unknown[][]): any[] => runSteps(ns, path.join(__dirname, 'fixtures', 'netfilter-steps.ts'), steps)
const cni = (lines: string[]): string[] => lines.filter((l) => l.includes('CNI-'))

t.test('nftables rule comments as the reference makes them', async (t) => {
  t.equal(hashForNetwork('unit-test'), '6fd94d501e58f0aa')
  t.equal(hashForInstance('unit-test', 'eth0', 'one'), '6fd94d501e58f0aa-287fc69eff0574a2')
  t.equal(commentForInstance('unit-test', 'eth0', 'one'), '6fd94d501e58f0aa-287fc69eff0574a2, net: unit-test, if: eth0, id: one')
  t.equal(commentForInstance('n"et', 'e"th0', 'o"ne'), `${hashForInstance('n"et', 'e"th0', 'o"ne')}, net: net, if: eth0, id: one`, 'quotes removed')
  t.equal(Buffer.byteLength(commentForInstance('n', 'eth0', 'x'.repeat(200))), 128, 'cut at 128 bytes')
})

t.test('iptables: setup is idempotent, teardown needs no addresses and also takes legacy rules', async (t) => {
  const ns = makeNetns(t, 'nf-ipt')
  const chain = formatChainName('net', 'c1')
  const legacy = ['-t', 'nat', '-A', 'POSTROUTING', '-s', '10.90.0.2/24', '-j', chain, '-m', 'comment', '--comment', 'name: "net" id: "c1"']
  const [usable, first, second, after, , withLegacy, td, gone, again, nat6] = inNetns(ns, [
    ['usable'],
    ['setupMasq', 'iptables', ['10.90.0.2/24', 'fd00:90::2/64'], 'net', 'eth0', 'c1'],
    ['setupMasq', null, ['10.90.0.2/24', '10.90.0.3/24'], 'net', 'eth0', 'c1'],
    ['nat4'],
    ['ipt', ...legacy],
    ['nat4'],
    ['teardownMasq', 'net', 'eth0', 'c1', [4, 6]],
    ['nat4'],
    ['teardownMasq', 'net', 'eth0', 'c1', [4, 6]],
    ['nat6'],
  ])
  t.same(usable, { iptables: true, nft: true })
  t.equal(first, null)
  t.equal(second, null)
  t.same(cni(after), [
    `-N ${chain}`,
    `-A POSTROUTING -s 10.90.0.2/32 -m comment --comment "name: \\"net\\" id: \\"c1\\"" -j ${chain}`,
    `-A POSTROUTING -s 10.90.0.3/32 -m comment --comment "name: \\"net\\" id: \\"c1\\"" -j ${chain}`,
    `-A ${chain} -d 10.90.0.0/24 -m comment --comment "name: \\"net\\" id: \\"c1\\"" -j ACCEPT`,
    `-A ${chain} ! -d 224.0.0.0/4 -m comment --comment "name: \\"net\\" id: \\"c1\\"" -j MASQUERADE`,
  ], 'no duplicates from the second setup, the second address added')
  t.equal(cni(withLegacy).length, 6)
  t.equal(td, null)
  t.same(cni(gone), [], 'chain, jumps and the legacy rule gone')
  t.equal(again, null, 'a second teardown is fine')
  t.same(cni(nat6), [])
})

t.test('iptables and nftables GC: only this network’s attachments that are not valid', async (t) => {
  const ns = makeNetns(t, 'nf-gc')
  const res = inNetns(ns, [
    ['setupMasq', 'iptables', ['10.91.0.2/24'], 'a', 'eth0', 'c1'],
    ['setupMasq', 'iptables', ['10.91.0.3/24'], 'a', 'eth0', 'c2'],
    ['setupMasq', 'iptables', ['10.92.0.2/24'], 'b', 'eth0', 'c1'],
    ['setupMasq', 'nftables', ['10.91.0.4/24'], 'a', 'eth0', 'c4'],
    ['setupMasq', 'nftables', ['10.91.0.5/24'], 'a', 'eth1', 'c2'],
    ['setupMasq', 'nftables', ['10.92.0.3/24'], 'b', 'eth0', 'c4'],
    ['gcMasq', 'a', [{ containerID: 'c2', ifName: 'eth0' }]],
    ['nat4'],
    ['nft'],
  ])
  t.same(res.slice(0, 7), [null, null, null, null, null, null, null])
  const chains = cni(res[7]).filter((l) => l.startsWith('-N '))
  t.same(chains.sort(), [`-N ${formatChainName('a', 'c2')}`, `-N ${formatChainName('b', 'c1')}`].sort())
  const nft: string = res[8]
  t.notMatch(nft, 'net: a, if: eth0, id: c4', 'a/c4 not valid')
  t.notMatch(nft, 'net: a, if: eth1, id: c2', 'a/c2 is valid on eth0 only')
  t.match(nft, 'net: b, if: eth0, id: c4', 'another network untouched')
})

t.test('nftables teardown by comment', async (t) => {
  const ns = makeNetns(t, 'nf-nft')
  const [, , before, td, after] = inNetns(ns, [
    ['setupMasq', 'nftables', ['10.93.0.2/24', 'fd00:93::2/64'], 'n', 'eth0', 'c1'],
    ['setupMasq', 'nftables', ['10.93.0.3/24'], 'n', 'eth0', 'c2'],
    ['nft'],
    ['teardownMasq', 'n', 'eth0', 'c1', [4, 6]],
    ['nft'],
  ])
  t.match(before, 'ip6 saddr fd00:93::2 ip6 daddr != fd00:93::/64 masquerade comment')
  t.equal(td, null)
  t.notMatch(after, 'id: c1"')
  t.match(after, 'ip saddr 10.93.0.3 ip daddr != 10.93.0.0/24 masquerade', 'c2 stays')
})
