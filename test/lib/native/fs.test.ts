// lib/native/fs under Bun (bun:ffi into libc, what the executable uses) must behave exactly like
// node:fs (what it is under Node): same values, same error codes, syscalls and messages.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { scenario } from './fixtures/fs-scenario'

const BUN = path.join(__dirname, '..', '..', '..', 'node_modules', '@oven', `bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`, 'bin', 'bun')

function freshDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-fs-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('the bun:ffi file system answers like node:fs', { skip: fs.existsSync(BUN) ? false : 'no Bun in node_modules' }, async (t) => {
  const underNode = scenario(freshDir(t))
  const r = spawnSync(BUN, [path.join(__dirname, 'fixtures', 'fs-scenario.ts'), freshDir(t)], { encoding: 'utf8', env: { PATH: '/usr/sbin:/sbin' } })
  t.equal(r.status, 0, r.stderr)
  const underBun = JSON.parse(r.stdout) as Record<string, unknown>
  for (const key of Object.keys(underNode)) t.same(underBun[key], underNode[key], key)
  t.same(Object.keys(underBun), Object.keys(underNode))
})
