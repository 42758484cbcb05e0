// lib/ip masquerade and spoof check against the netfilter of a throwaway namespace: the steps run in a
// child process started inside it (fixtures/netfilter-steps.ts), never in the machine's own tables.
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import t from 'tap'
import { masqChainName } from '../../../lib/ip/hash'
import { type TestNetns, makeNetns } from '../../helpers/netns'

/** Runs steps inside `ns` with the same TypeScript loader as this test; returns one answer per step. */
function inNetns(ns: TestNetns, steps: unknown[][]): any[] {
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'))
  const script = path.join(__dirname, 'fixtures', 'netfilter-steps.ts')
  const r = spawnSync('nsenter', [`--net=${ns.path}`, '--', process.execPath, ...loader, script, JSON.stringify(steps)], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (r.status !== 0) throw new Error(`steps failed: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

const cni = (lines: string[]): string[] => lines.filter((l) => l.includes('CNI-'))

t.test('iptables: setup is idempotent, teardown needs no addresses and also takes legacy rules', async (t) => {
  const ns = makeNetns(t, 'nf-ipt')
  const chain = masqChainName('net', 'c1')
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
  t.same(chains.sort(), [`-N ${masqChainName('a', 'c2')}`, `-N ${masqChainName('b', 'c1')}`].sort())
  const nft: string = res[8]
  t.notMatch(nft, 'net: a, if: eth0, id: c4', 'a/c4 not valid')
  t.notMatch(nft, 'net: a, if: eth1, id: c2', 'a/c2 is valid on eth0 only')
  t.match(nft, 'net: b, if: eth0, id: c4', 'another network untouched')
})

t.test('nftables teardown by comment; spoof check setup and teardown', async (t) => {
  const ns = makeNetns(t, 'nf-nft')
  const [, , before, td, after, sc, withSc, scTd, scGone, scAgain] = inNetns(ns, [
    ['setupMasq', 'nftables', ['10.93.0.2/24', 'fd00:93::2/64'], 'n', 'eth0', 'c1'],
    ['setupMasq', 'nftables', ['10.93.0.3/24'], 'n', 'eth0', 'c2'],
    ['nft'],
    ['teardownMasq', 'n', 'eth0', 'c1', [4, 6]],
    ['nft'],
    ['setupSpoof', 'vethabcd0123', '0a:58:0a:5d:00:02', 'c1-eth0'],
    ['nft'],
    ['teardownSpoof', 'c1-eth0'],
    ['nft'],
    ['teardownSpoof', 'c1-eth0'],
  ])
  t.match(before, 'ip6 saddr fd00:93::2 ip6 daddr != fd00:93::/64 masquerade comment')
  t.equal(td, null)
  t.notMatch(after, 'id: c1"')
  t.match(after, 'ip saddr 10.93.0.3 ip daddr != 10.93.0.0/24 masquerade', 'c2 stays')
  t.equal(sc, null)
  t.match(withSc, 'iifname "vethabcd0123" jump cni-br-iface-c1-eth0 comment "macspoofchk-c1-eth0"')
  t.match(withSc, 'ether saddr 0a:58:0a:5d:00:02 return comment "macspoofchk-c1-eth0"')
  t.equal(scTd, null)
  t.notMatch(scGone, 'macspoofchk')
  t.notMatch(scGone, 'cni-br-iface')
  t.equal(scAgain, null, 'nothing to remove is fine')
})
