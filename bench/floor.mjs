// The runtime floor: a Bun executable compiled the way dist/bin/tscni is (same pinned Bun, same
// flags that matter for start-up) from a file that does nothing. Whatever it costs, every plugin of
// ours pays before its first line of JS runs. Compiled once per process into a private temp dir.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findBun } from '../scripts/bun.mjs'
import { tempDir } from './measure.mjs'

let floorExe

/** The path of the compiled do-nothing executable. */
export function runtimeFloor() {
  if (floorExe) return floorExe
  const dir = tempDir('floor')
  const src = join(dir, 'floor.ts')
  // An empty program would still be a program: exit explicitly, as a plugin does when done.
  writeFileSync(src, 'process.exit(0)\n')
  const out = join(dir, 'floor')
  execFileSync(findBun(), [
    'build', src, '--compile', '--minify', '--bytecode',
    '--no-compile-autoload-bunfig', '--no-compile-autoload-dotenv', '--outfile', out,
  ], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } })
  floorExe = out
  return out
}
