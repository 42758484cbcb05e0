// The harness on real plugins: ours must pass every MUST case, and so must the Go reference plugins
// for the spec versions they cover (a harness that fails the reference on a MUST it implements is
// wrong). Ours are judged by the product itself: the compiled `dist/conformance` on `dist/bin`, on a
// PATH with no Node.js. The reference is judged by the harness's sources under Node.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { ALL_CASES } from '../../conformance/cases'
import { runCases } from '../../conformance/harness/runner'
import type { HasTeardown } from '../helpers/netns'
import { BIN_DIR, REF_DIR, RUNTIME_PATH } from '../helpers/plugin'

const CONFORMANCE = path.join(__dirname, '..', '..', 'dist', 'conformance')

/** A PATH holding the harness's tools (ip, nsenter, ping) and the plugins' (sbin), but no node. */
function pathWithoutNode(t: HasTeardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-path-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const tool of ['ip', 'nsenter', 'ping']) {
    const found = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => path.join(d, tool)).find((f) => fs.existsSync(f))
    if (found) fs.symlinkSync(found, path.join(dir, tool))
  }
  return `${dir}:${RUNTIME_PATH}`
}

const mustFailures = async (dir: string) =>
  (await runCases(dir, ALL_CASES)).filter((r) => r.level === 'MUST' && r.verdict === 'fail').map((r) => `${r.plugin} ${r.id}: ${r.reason}`)

t.test('our plugins pass every MUST case (the compiled harness, no node on PATH)', async (t) => {
  const r = spawnSync(CONFORMANCE, ['--plugins', BIN_DIR, '--json'], { env: { PATH: pathWithoutNode(t) }, encoding: 'utf8', timeout: 600_000 })
  t.equal(r.status, 0, r.stderr)
  const report = JSON.parse(r.stdout) as { results: { level: string; verdict: string; plugin: string; id: string; reason?: string }[]; summary: unknown }
  const failed = report.results.filter((c) => c.level === 'MUST' && c.verdict === 'fail').map((c) => `${c.plugin} ${c.id}: ${c.reason}`)
  t.same(failed, [])
  t.ok(report.results.filter((c) => c.verdict === 'pass').length > 100, 'the cases really ran')
})

t.test('the Go reference plugins pass every MUST case they cover', { skip: !fs.existsSync(path.join(REF_DIR, 'loopback')) && 'no reference plugins in /usr/lib/cni' }, async (t) => {
  t.same(await mustFailures(REF_DIR), [])
})
