// The harness must catch broken plugins: each broken plugin below must fail the cases that
// describe what it breaks.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { ALL_CASES } from '../../conformance/cases'
import { runCases } from '../../conformance/harness/runner'
import type { CaseResult } from '../../conformance/harness/case'
import { BIN_DIR, REF_DIR } from '../helpers/plugin'
import { blindCheckLoopback, leakyDelHostLocal, wrongCodeLoopback, wrongResultLoopback } from './fixtures/broken-plugins'

function brokenDir(t: { teardown(fn: () => void): void }, make: (dir: string, real: string) => void, real: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-broken-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  make(dir, real)
  return dir
}

const failed = (results: CaseResult[]): string[] => results.filter((r) => r.verdict === 'fail').map((r) => r.id)

/** Runs only the named cases (the self-tests look at those; all of them would take minutes). */
const only = (...ids: string[]) => ALL_CASES.filter((c) => ids.includes(c.id))

t.test('a plugin printing an invalid result fails result.shape / result.version', async (t) => {
  const dir = brokenDir(t, wrongResultLoopback, path.join(BIN_DIR, 'loopback'))
  const results = await runCases(dir, only('result.version', 'result.shape-loopback', 'lo.result'))
  t.ok(failed(results).includes('result.version'), 'result.version fails')
  t.ok(failed(results).includes('result.shape-loopback'), 'result.shape-loopback fails')
  t.ok(failed(results).includes('lo.result'), 'lo.result fails')
})

t.test('a plugin with wrong error codes fails the code cases', async (t) => {
  const dir = brokenDir(t, wrongCodeLoopback, path.join(BIN_DIR, 'loopback'))
  const ids = ['env.missing-containerid', 'env.missing-netns', 'stdin.truncated', 'negotiate.unsupported', 'command.unknown']
  const f = failed(await runCases(dir, only(...ids, 'lo.add')))
  for (const id of ['env.missing-containerid', 'env.missing-netns', 'stdin.truncated', 'negotiate.unsupported', 'command.unknown']) {
    t.ok(f.includes(id), `${id} fails`)
  }
  t.notOk(f.includes('lo.add'), 'what it does right still passes')
})

t.test('a CHECK that never fails is caught', async (t) => {
  const dir = brokenDir(t, blindCheckLoopback, path.join(BIN_DIR, 'loopback'))
  const f = failed(await runCases(dir, only('check.after-del', 'negotiate.check-old')))
  t.ok(f.includes('check.after-del'), 'check.after-del fails')
  t.ok(f.includes('negotiate.check-old'), 'negotiate.check-old fails')
})

t.test('a DEL that leaks the address is caught', { skip: !fs.existsSync(path.join(REF_DIR, 'host-local')) && 'no reference host-local' }, async (t) => {
  const dir = brokenDir(t, leakyDelHostLocal, path.join(REF_DIR, 'host-local'))
  const f = failed(await runCases(dir, only('del.twice', 'del.no-netns', 'hl.del-ifname')))
  for (const id of ['del.twice', 'del.no-netns', 'hl.del-ifname']) t.ok(f.includes(id), `${id} fails`)
})
