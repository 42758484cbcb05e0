// The harness on real plugins: ours must pass every MUST case, and so must the Go reference plugins
// for the spec versions they cover (a harness that fails the reference on a MUST it implements is
// wrong).
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { ALL_CASES } from '../../conformance/cases'
import { runCases } from '../../conformance/harness/runner'
import { BIN_DIR, REF_DIR } from '../helpers/plugin'

const mustFailures = async (dir: string) =>
  (await runCases(dir, ALL_CASES)).filter((r) => r.level === 'MUST' && r.verdict === 'fail').map((r) => `${r.plugin} ${r.id}: ${r.reason}`)

t.test('our plugins pass every MUST case', async (t) => {
  t.same(await mustFailures(BIN_DIR), [])
})

t.test('the Go reference plugins pass every MUST case they cover', { skip: !fs.existsSync(path.join(REF_DIR, 'loopback')) && 'no reference plugins in /usr/lib/cni' }, async (t) => {
  t.same(await mustFailures(REF_DIR), [])
})
