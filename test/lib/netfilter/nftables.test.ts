// lib/netfilter/nftables.ts against the ruleset of a throwaway namespace (the calls run in a child
// started inside it: fixtures/steps.ts): batches are atomic, listings of missing tables are empty,
// rules are found by comment and deleted by handle.
import * as path from 'node:path'
import t from 'tap'
import { makeNetns, type TestNetns } from '../../helpers/netns'
import { runSteps } from './fixtures/in-netns'

const inNetns = (ns: TestNetns, steps: unknown[][]): any[] => runSteps(ns, path.join(__dirname, 'fixtures', 'steps.ts'), steps)

t.test('batches, listings and deletion by comment', async (t) => {
  const ns = makeNetns(t, 'nf-nft')
  const chain = ['chain', 'inet', 'tscni_t', 'c']
  const jsonRule = { nftables: [{ add: { rule: { family: 'inet', table: 'tscni_t', chain: 'c', expr: [{ accept: null }], comment: 'j' } } }] }
  const res = inNetns(ns, [
    ['nftables', 'nftUsable'],
    ['nftables', 'nftList', ['table', 'inet', 'tscni_t']],
    ['nftables', 'nftListRules', chain],
    ['nftables', 'nftDeleteRules', []],
    ['nftables', 'nftApply', 'add table inet tscni_t\nadd chain inet tscni_t c\nadd rule inet tscni_t c accept comment "a"\nadd rule inet tscni_t c accept comment "b"\nadd rule inet tscni_t c accept comment "a"\n'],
    ['nftComments', chain],
    ['nftables', 'nftApply', 'add rule inet tscni_t c accept comment "c"\nadd rule inet tscni_t nope accept\n'],
    ['nftComments', chain],
    ['nftDeleteByComment', chain, 'a'],
    ['nftComments', chain],
    ['nftables', 'nftApply', JSON.stringify(jsonRule), { json: true }],
    ['nftComments', chain],
    ['nftables', 'nftApply', 'add table inet tscni_checked\n', { check: true }],
    ['nftables', 'nftList', ['table', 'inet', 'tscni_checked']],
  ])
  t.same(res.slice(0, 4), [true, null, [], null], 'usable; a missing table lists as null or no rules; deleting none runs nothing')
  t.equal(res[4], null)
  t.same(res[5], ['a', 'b', 'a'])
  t.match(res[6].error, /^running \[nft add rule inet tscni_t c accept comment "c"\nadd rule inet tscni_t nope accept\n\]: exit status 1: Error: /)
  t.same(res[7], ['a', 'b', 'a'], 'a failed batch changes nothing')
  t.equal(res[8], null)
  t.same(res[9], ['b'])
  t.equal(res[10], null)
  t.same(res[11], ['b', 'j'], 'a batch in nft’s JSON schema')
  t.equal(res[12], null)
  t.equal(res[13], null, '--check makes nothing')
})
