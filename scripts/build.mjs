// Builds dist/:
//   dist/bin/tscni        the product: one self-contained executable compiled with Bun (pinned in
//                         package.json), serving every plugin and tool by the name it is run by
//   dist/bin/<plugin>     a relative symlink to tscni per plugin: dist/bin is a CNI bin directory
//   dist/cnitool, dist/conformance   symlinks to bin/tscni, the tools for people
//   dist/node/tscni.node  the N-API addon that lets lib/ run under Node (the tap tests); not shipped
// Offline: no header or binary downloads.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findBun } from './bun.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const binDir = join(dist, 'bin')
const nodeDir = join(dist, 'node')

/** The tools for people that get a symlink in dist/ (`tscni <tool>` works too). */
const TOOLS = ['cnitool', 'conformance']

/** A temp name next to `file`, unique per build process (parallel builds never collide). */
const tmpOf = (file) => `${file}.tmp-${process.pid}`

function buildAddon() {
  // Node's own headers: next to the running node, or Debian's libnode-dev; never downloaded.
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node']
  const include = candidates.find((d) => existsSync(join(d, 'node_api.h')))
  if (!include) throw new Error(`node_api.h not found in ${candidates.join(' or ')}: install Node's headers (Debian: libnode-dev)`)
  const out = join(nodeDir, 'tscni.node')
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', `-I${include}`, '-DNAPI_VERSION=8',
    '-o', tmpOf(out), join(root, 'native', 'tscni.c')], { stdio: 'inherit' })
  renameSync(tmpOf(out), out)
}

/**
 * Bun reads BUN_OPTIONS from the environment even in a compiled executable, and `--preload` in it
 * runs any script before ours: the environment would decide what code runs as root. The runtime
 * looks the variable up by a NUL-terminated name; blanking that name (to an empty string, which no
 * environment entry can match) switches the lookup off. Exactly one occurrence is expected: if a
 * Bun upgrade changes that, the build stops here rather than ship an unchecked executable.
 */
function disableEnvOptions(file) {
  const data = readFileSync(file)
  const needle = Buffer.from('\0BUN_OPTIONS\0', 'latin1')
  const at = data.indexOf(needle)
  if (at < 0 || data.indexOf(needle, at + 1) >= 0) {
    throw new Error(`expected exactly one "BUN_OPTIONS" lookup in the Bun runtime: check ${file} before shipping`)
  }
  data.fill(0, at + 1, at + needle.length - 1)
  writeFileSync(file, data)
}

function compileExecutable(bun) {
  const out = join(binDir, 'tscni')
  execFileSync(bun, [
    'build', join(root, 'tscni', 'main.ts'),
    '--compile', '--minify', '--bytecode', '--format=esm',
    // One chunk per dynamic import (tscni/entries.ts): a plugin loads only its own code.
    '--splitting',
    // The executable runs as root from any directory: nothing there may configure or preload it.
    '--no-compile-autoload-bunfig', '--no-compile-autoload-dotenv',
    '--no-compile-autoload-tsconfig', '--no-compile-autoload-package-json',
    '--outfile', tmpOf(out),
  ], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } })
  disableEnvOptions(tmpOf(out))
  chmodSync(tmpOf(out), 0o755)
  // rename(2): a plugin running from the old file keeps running it (no ETXTBSY for anyone).
  renameSync(tmpOf(out), out)
}

/** `link` -> `target` (relative), replacing whatever `link` was. */
function symlinkInto(link, target) {
  const tmp = tmpOf(link)
  rmSync(tmp, { force: true })
  symlinkSync(relative(dirname(link), target), tmp)
  renameSync(tmp, link)
}

mkdirSync(binDir, { recursive: true })
mkdirSync(nodeDir, { recursive: true })
rmSync(join(dist, 'lib'), { recursive: true, force: true }) // the old Node bundles' runtime files
execFileSync(process.execPath, [join(root, 'scripts', 'gen-validators.mjs')], { stdio: 'inherit' })
buildAddon()
const bun = findBun()
compileExecutable(bun)
// The executable knows which plugins it serves (tscni/entries.ts): one symlink each.
const PLUGINS = execFileSync(join(binDir, 'tscni'), ['plugins'], { encoding: 'utf8' }).split('\n').filter(Boolean)
for (const p of PLUGINS) symlinkInto(join(binDir, p), join(binDir, 'tscni'))
for (const t of TOOLS) symlinkInto(join(dist, t), join(binDir, 'tscni'))
const bunVersion = execFileSync(bun, ['--version'], { encoding: 'utf8' }).trim()
writeFileSync(join(dist, 'BUILD'), `bun ${bunVersion}\n`)
console.log(`built: dist/bin/tscni (Bun ${bunVersion}) with ${PLUGINS.join(', ')}; dist/cnitool, dist/conformance; dist/node/tscni.node`)
