// Builds dist/: the native addon, the netlink binding, the generated validators, and one bundled
// executable per plugin in dist/bin (usable as CNI_PATH). Offline: no header or binary downloads.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const binDir = join(dist, 'bin')
const libDir = join(dist, 'lib')

/** The plugins (dist/bin is a CNI_PATH). A plugin whose main.ts does not exist yet is skipped. */
const PLUGINS = ['bridge', 'host-local', 'loopback'].filter((p) => existsSync(join(root, 'plugins', p, 'main.ts')))

function buildAddon() {
  // Node's own headers: next to the running node (Debian: /usr/include/node), never downloaded.
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node']
  const include = candidates.find((d) => existsSync(join(d, 'node_api.h')))
  if (!include) throw new Error(`node_api.h not found in ${candidates.join(' or ')}: install Node's headers (Debian: libnode-dev)`)
  const out = join(libDir, 'tscni.node')
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', `-I${include}`, '-DNAPI_VERSION=8',
    '-o', tmpOf(out), join(root, 'native', 'tscni.c')], { stdio: 'inherit' })
  renameSync(tmpOf(out), out)
}

function copyNetlinkBinding() {
  const arch = { x64: 'x64', arm64: 'arm64', arm: 'arm', ia32: 'ia32' }[process.arch]
  const src = join(root, 'node_modules', 'netlink', 'prebuilds', `linux-${arch}`, 'node.napi.node')
  const out = join(libDir, 'netlink.node')
  copyFileSync(src, tmpOf(out))
  renameSync(tmpOf(out), out)
}

/** A temp name next to `file`, unique per build process (parallel builds never share one). */
function tmpOf(file) {
  return `${file}.tmp-${process.pid}`
}

/** Tells the bundle where dist/lib is, relative to the bundle file (read by lib/native). */
function nativeDirBanner(...rel) {
  return `var __tscniNativeDir = require('path').join(__dirname, ${rel.map((r) => JSON.stringify(r)).join(', ')});`
}

// netlink's raw.js loads its binding at require time through node-gyp-build (a directory scan).
// The bundle loads it from dist/lib instead, and only when the first socket is made.
const lazyNetlinkBinding = {
  name: 'lazy-netlink-binding',
  setup(build) {
    build.onLoad({ filter: /netlink[\\/]dist[\\/]raw\.js$/ }, (args) => {
      const original = "const binding = require('node-gyp-build')(__dirname + '/..');"
      const src = readFileSync(args.path, 'utf8')
      if (!src.includes(original)) throw new Error('netlink/dist/raw.js changed: update the lazy binding patch')
      const lazy = 'let __nlBinding; const binding = { get NativeNetlink() { if (!__nlBinding) { const m = { exports: {} };' +
         " process.dlopen(m, require('path').join(process.env.TSCNI_NATIVE_DIR || __tscniNativeDir, 'netlink.node'));" +
        ' __nlBinding = m.exports } return __nlBinding.NativeNetlink } };'
      return { contents: src.replace(original, lazy), loader: 'js' }
    })
  },
}

/** esbuild to a temp file next to `out`: one CJS file for Node, first line an absolute interpreter. */
async function esbuildTo(out, entry, { banner, define }) {
  await esbuild.build({
    entryPoints: [entry],
    outfile: tmpOf(out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Runtimes exec plugins with a minimal PATH: name the interpreter that built us, absolutely.
    banner: { js: `#!${process.execPath}\n${banner}` },
    ...(define ? { define } : {}),
    plugins: [lazyNetlinkBinding],
    logLevel: 'warning',
    legalComments: 'none',
  })
}

/** Makes the temp file executable and moves it into place: a running plugin never sees half a file (no ETXTBSY). */
function install(out) {
  chmodSync(tmpOf(out), 0o755)
  renameSync(tmpOf(out), out)
}

/**
 * One bundle per plugin. With a snapshot, its first line points node at a startup snapshot of
 * that same bundle (dist/lib/<name>.blob): the module bodies ran at build time, so start-up skips
 * them (~20 % of a plugin's time). The file stays a complete script, so `node dist/bin/<name>` runs too.
 */
async function bundle(name, entry, { snapshot }) {
  const out = join(binDir, name)
  const blob = join(libDir, `${name}.blob`)
  await esbuildTo(out, entry, { banner: nativeDirBanner('..', 'lib') })
  if (snapshot) {
    // A blob only runs on the node binary that made it (exit 14 otherwise): rebuild after upgrading Node.
    execFileSync(process.execPath, ['--snapshot-blob', tmpOf(blob), '--build-snapshot', tmpOf(out)], { stdio: 'inherit' })
    renameSync(tmpOf(blob), blob)
    const src = readFileSync(tmpOf(out), 'utf8')
    writeFileSync(tmpOf(out), src.replace(/^#!.*\n/, `#!${process.execPath} --snapshot-blob=${blob}\n`))
  }
  install(out)
}

/** A command-line tool for people (cnitool, conformance): dist/<name>, no snapshot. */
async function bundleCli(name, entry) {
  const out = join(dist, name)
  await esbuildTo(out, entry, {
    // yargs is ESM-only and calls createRequire(import.meta.url), which CJS output lacks.
    banner: `${nativeDirBanner('lib')}\nconst __importMetaUrl = require('url').pathToFileURL(__filename).href;`,
    define: { 'import.meta.url': '__importMetaUrl' },
  })
  install(out)
}

mkdirSync(binDir, { recursive: true })
mkdirSync(libDir, { recursive: true })
execFileSync(process.execPath, [join(root, 'scripts', 'gen-validators.mjs')], { stdio: 'inherit' })
buildAddon()
copyNetlinkBinding()
// TSCNI_SNAPSHOT=0 builds plain bundles (slower start-up, but independent of the exact node binary).
const snapshot = process.env.TSCNI_SNAPSHOT !== '0'
for (const p of PLUGINS) await bundle(p, join(root, 'plugins', p, 'main.ts'), { snapshot })
const built = PLUGINS.map((p) => `dist/bin/${p}`)
// cnitool and the conformance harness are for people, not runtimes: plain bundles outside CNI_PATH.
for (const tool of ['cnitool', 'conformance']) {
  if (!existsSync(join(root, tool, 'main.ts'))) continue
  await bundleCli(tool, join(root, tool, 'main.ts'))
  built.push(`dist/${tool}`)
}
writeFileSync(join(dist, 'BUILD'), `node ${process.version} ${process.execPath}\n`)
console.log(`built: ${built.join(', ')}`)
