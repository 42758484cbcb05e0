// lib/netfilter/iptables.ts: reading `iptables -S`, and every operation against the tables of a
// throwaway namespace (the calls run in a child started inside it: fixtures/steps.ts).
import * as path from 'node:path'
import t from 'tap'
import { splitRuleLine } from '../../../lib/netfilter/iptables'
import { makeNetns, type TestNetns } from '../../helpers/netns'
import { runSteps } from './fixtures/in-netns'

const inNetns = (ns: TestNetns, steps: unknown[][]): any[] => runSteps(ns, path.join(__dirname, 'fixtures', 'steps.ts'), steps)

t.test('reading iptables -S lines', async (t) => {
  t.same(splitRuleLine('-A POSTROUTING -s 10.1.2.3/32 -m comment --comment "name: \\"n\\" id: \\"c\\"" -j CNI-x'), [
    '-A', 'POSTROUTING', '-s', '10.1.2.3/32', '-m', 'comment', '--comment', 'name: "n" id: "c"', '-j', 'CNI-x',
  ])
  t.same(splitRuleLine('-A X ! -d 224.0.0.0/4 -j MASQUERADE'), ['-A', 'X', '!', '-d', '224.0.0.0/4', '-j', 'MASQUERADE'])
  t.same(splitRuleLine(''), [])
})

t.test('chains: exists, ensure, flush, delete; a missing chain is an answer, not an error', async (t) => {
  const ns = makeNetns(t, 'nf-chains')
  const nat = (method: string, ...args: unknown[]) => ['table', 4, 'nat', method, ...args]
  const res = inNetns(ns, [
    ['iptablesUsable', 4],
    ['iptablesUsable', 6],
    nat('chainExists', 'TSCNI-A'),
    nat('ensureChain', 'TSCNI-A'),
    nat('ensureChain', 'TSCNI-A'),
    nat('chainExists', 'TSCNI-A'),
    nat('chainExists', 'POSTROUTING'),
    nat('flushChain', 'TSCNI-A'),
    nat('deleteChain', 'TSCNI-A'),
    nat('deleteChain', 'TSCNI-A'),
    nat('flushChain', 'TSCNI-A'),
    nat('chainExists', 'TSCNI-A'),
    nat('ensureChain', 'X'.repeat(40)),
    ['table', 6, 'nat', 'ensureChain', 'TSCNI-A'],
    ['nat6'],
    ['nat4'],
  ])
  t.same(res.slice(0, 12), [true, true, false, true, false, true, true, true, true, false, false, false])
  t.match(res[12].error, new RegExp(`^running \\[iptables -t nat -N ${'X'.repeat(40)}\\]: exit status 2: .*too long`), 'go-iptables’ wording, without --wait')
  t.equal(res[13], true, 'ip6tables has its own table')
  t.same(res[14].filter((l: string) => l.includes('TSCNI')), ['-N TSCNI-A'])
  t.same(res[15].filter((l: string) => l.includes('TSCNI')), [])
})

t.test('rules: unique append and insert, exists, list, delete', async (t) => {
  const ns = makeNetns(t, 'nf-rules')
  const f6 = (method: string, ...args: unknown[]) => ['table', 6, 'filter', method, ...args]
  const r1 = ['-s', 'fd00::1', '-j', 'ACCEPT']
  const r2 = ['-s', 'fd00::2', '-j', 'DROP']
  const r3 = ['-s', 'fd00::3', '-m', 'comment', '--comment', 'a "quoted" text', '-j', 'RETURN']
  const res = inNetns(ns, [
    f6('ensureChain', 'TSCNI-R'),
    f6('appendUnique', 'TSCNI-R', r1),
    f6('appendUnique', 'TSCNI-R', r1),
    f6('insertUnique', 'TSCNI-R', r2),
    f6('insertUnique', 'TSCNI-R', r2),
    f6('insertUnique', 'TSCNI-R', r3, 2),
    f6('ruleExists', 'TSCNI-R', r1),
    f6('ruleExists', 'TSCNI-R', ['-s', 'fd00::9', '-j', 'ACCEPT']),
    f6('listRules', 'TSCNI-R'),
    f6('append', 'TSCNI-R', r1),
    f6('insert', 'TSCNI-R', r1),
    f6('deleteRule', 'TSCNI-R', r1),
    f6('deleteRule', 'TSCNI-R', r1),
    f6('deleteRule', 'TSCNI-R', r1),
    f6('deleteRule', 'TSCNI-R', r1),
    f6('deleteRule', 'TSCNI-NOPE', r1),
    f6('listRules', 'TSCNI-R'),
    f6('append', 'TSCNI-NOPE', ['-j', 'ACCEPT']),
    f6('ruleExists', 'TSCNI-R', ['-j', 'TSCNI-NOPE']),
    f6('listRules', 'TSCNI-NOPE'),
  ])
  t.same(res.slice(0, 8), [true, true, false, true, false, true, true, false])
  t.same(res[8], [
    ['-N', 'TSCNI-R'],
    ['-A', 'TSCNI-R', '-s', 'fd00::2/128', '-j', 'DROP'],
    ['-A', 'TSCNI-R', '-s', 'fd00::3/128', '-m', 'comment', '--comment', 'a "quoted" text', '-j', 'RETURN'],
    ['-A', 'TSCNI-R', '-s', 'fd00::1/128', '-j', 'ACCEPT'],
  ], 'inserted first, at 2, appended last; comments unquoted')
  t.same(res.slice(9, 16), [null, null, true, true, true, false, false], 'plain append/insert duplicate; delete takes one copy at a time; a missing rule or chain is false')
  t.same(res[16].map((r: string[]) => r.at(-1)), ['TSCNI-R', 'DROP', 'RETURN'])
  t.match(res[17].error, /^running \[ip6tables -t filter -A TSCNI-NOPE -j ACCEPT\]: exit status 1: /)
  t.match(res[18].error, /^running \[ip6tables -t filter -C TSCNI-R -j TSCNI-NOPE\]: exit status 2: .*does not exist/, '-C fails (not false) for a bad rule')
  t.match(res[19].error, /^running \[ip6tables -t filter -S TSCNI-NOPE\]: exit status 1: /)
})

t.test('deleteRulesJumpingTo: every rule whose target is the chain, whatever it matches', async (t) => {
  const ns = makeNetns(t, 'nf-jumps')
  const nat = (method: string, ...args: unknown[]) => ['table', 4, 'nat', method, ...args]
  const res = inNetns(ns, [
    nat('ensureChain', 'TSCNI-T'),
    nat('ensureChain', 'TSCNI-T2'),
    nat('append', 'POSTROUTING', ['-s', '10.1.0.1', '-j', 'TSCNI-T']),
    nat('append', 'POSTROUTING', ['-s', '10.1.0.0/24', '-m', 'comment', '--comment', 'x -j TSCNI-T', '-j', 'TSCNI-T']),
    nat('append', 'POSTROUTING', ['-d', '10.1.0.1', '-j', 'TSCNI-T2']),
    nat('append', 'POSTROUTING', ['-s', '10.1.0.5', '-j', 'MASQUERADE']),
    nat('append', 'TSCNI-T2', ['-j', 'TSCNI-T']),
    nat('deleteChain', 'TSCNI-T'),
    nat('deleteRulesJumpingTo', 'POSTROUTING', 'TSCNI-T'),
    nat('deleteRulesJumpingTo', 'POSTROUTING', 'TSCNI-T'),
    ['nat4'],
  ])
  t.match(res[7].error, /^running \[iptables -t nat -X TSCNI-T\]: exit status \d+: /, 'a referenced chain cannot go')
  t.equal(res[8], 2)
  t.equal(res[9], 0)
  t.same(res[10].filter((l: string) => l.startsWith('-A')), [
    '-A POSTROUTING -d 10.1.0.1/32 -j TSCNI-T2',
    '-A POSTROUTING -s 10.1.0.5/32 -j MASQUERADE',
    '-A TSCNI-T2 -j TSCNI-T',
  ], 'other targets and other chains untouched')
})
