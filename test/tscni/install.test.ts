/**
 * `tscni install` and `tscni uninstall`, run as the built executable does them on a node: as a
 * child process with a runtime's minimal environment (no node on PATH), into private temp dirs.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import type { HasTeardown } from '../helpers/netns'
import { BIN_DIR, RUNTIME_PATH } from '../helpers/plugin'

const TSCNI = path.join(BIN_DIR, 'tscni')
const PLUGINS = execFileSync(TSCNI, ['plugins'], { encoding: 'utf8' }).split('\n').filter(Boolean)
const MANIFEST = '.tscni-install.json'
const FOREIGN = '#!/bin/sh\necho "someone else\'s plugin"\n'

interface Run {
  code: number
  stdout: string
  stderr: string
  lines: string[]
}

function tscni(args: string[]): Run {
  const r = spawnSync(TSCNI, args, { env: { PATH: RUNTIME_PATH }, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean) }
}

const install = (dir: string, ...extra: string[]) => tscni(['install', '--dir', dir, ...extra])
const uninstall = (dir: string) => tscni(['uninstall', '--dir', dir])

/**
 * A private directory (0755: install refuses group- or world-writable ones, and checks DIR itself,
 * so the world-writable /tmp above it does not matter), removed at teardown.
 */
function tempRoot(t: HasTeardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-install-'))
  fs.chmodSync(dir, 0o755)
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh install into `<temp>/bin`; returns the bin directory. */
function installed(t: HasTeardown): string {
  const dir = path.join(tempRoot(t), 'bin')
  const r = install(dir)
  if (r.code !== 0) throw new Error(`install failed (${r.code}): ${r.stderr}`)
  return dir
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
const TSCNI_SHA = sha256(TSCNI)
const mode = (file: string) => fs.statSync(file).mode & 0o7777
const readManifest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'))

/** Every entry of a directory: its name, type, link target or content hash, inode. For "nothing changed". */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name)
    const st = fs.lstatSync(file)
    out[name] = st.isSymbolicLink() ? `link ${fs.readlinkSync(file)} ${st.ino}` : `file ${sha256(file)} ${st.ino} ${st.mode.toString(8)}`
  }
  return out
}

function manifestFiles(replaced: string[] = []) {
  return [
    { name: 'tscni', type: 'executable', replacedForeign: replaced.includes('tscni') },
    ...PLUGINS.map((name) => ({ name, type: 'symlink', target: 'tscni', replacedForeign: replaced.includes(name) })),
  ]
}

/** A plugin's VERSION answer from a bin directory, run the way a runtime runs it. */
function versionOf(file: string): any {
  const r = spawnSync(file, [], { env: { PATH: RUNTIME_PATH, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.1.0"}', encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`${file} VERSION exited ${r.status}: ${r.stdout}${r.stderr}`)
  return JSON.parse(r.stdout)
}

t.test('fresh install: the executable, one relative symlink per plugin, the manifest', async (t) => {
  const root = tempRoot(t)
  const dir = path.join(root, 'opt', 'cni', 'bin') // parents too, like mkdir -p
  const r = install(dir)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  t.same(r.lines, [
    `created ${root}/opt`,
    `created ${root}/opt/cni`,
    `created ${dir}`,
    `installed ${dir}/tscni`,
    ...PLUGINS.map((p) => `linked ${dir}/${p} -> tscni`),
    `wrote ${dir}/${MANIFEST}`,
  ])
  for (const d of ['opt', 'opt/cni', 'opt/cni/bin']) t.equal(mode(path.join(root, d)), 0o755, `${d} is 0755`)
  t.same(fs.readdirSync(dir).sort(), [MANIFEST, ...PLUGINS, 'tscni'].sort(), 'nothing else in DIR (no temp files left)')
  const exe = path.join(dir, 'tscni')
  t.ok(fs.lstatSync(exe).isFile(), 'tscni is a regular file')
  t.equal(mode(exe), 0o755)
  t.equal(sha256(exe), TSCNI_SHA, 'a byte-exact copy of the running executable')
  for (const p of PLUGINS) t.equal(fs.readlinkSync(path.join(dir, p)), 'tscni', `${p} -> tscni (relative)`)
  t.equal(mode(path.join(dir, MANIFEST)), 0o644)
  t.same(readManifest(dir), { format: 'tscni-install/1', version: require('../../package.json').version, files: manifestFiles() })
  t.match(versionOf(path.join(dir, 'loopback')), { cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] })
})

t.test('installing again changes nothing and says so', async (t) => {
  const dir = installed(t)
  const before = snapshot(dir)
  const r = install(dir)
  t.equal(r.code, 0, r.stderr)
  t.same(r.lines, [`unchanged ${dir}/tscni`, ...PLUGINS.map((p) => `unchanged ${dir}/${p} -> tscni`), `unchanged ${dir}/${MANIFEST}`])
  t.same(snapshot(dir), before, 'same files, same inodes')
})

t.test('a foreign bridge blocks the whole install; --force replaces it', async (t) => {
  const dir = path.join(tempRoot(t), 'bin')
  fs.mkdirSync(dir, { mode: 0o755 })
  fs.writeFileSync(path.join(dir, 'bridge'), FOREIGN, { mode: 0o755 }) // e.g. the Go reference bridge
  const before = snapshot(dir)

  const refused = install(dir)
  t.equal(refused.code, 1)
  t.equal(refused.stdout, '')
  t.match(refused.stderr, /^tscni install: .*not tscni's.*--force.*\n$/, 'one line, naming --force')
  t.match(refused.stderr, `${dir}/bridge`, 'lists the conflicting file')
  t.notMatch(refused.stderr, /\n\s+at /, 'no stack trace')
  t.same(snapshot(dir), before, 'nothing changed: not even tscni was copied')

  const forced = install(dir, '--force')
  t.equal(forced.code, 0, forced.stderr)
  t.ok(forced.lines.includes(`replaced ${dir}/bridge (was not tscni's)`), 'says it replaced bridge')
  t.ok(forced.lines.includes(`installed ${dir}/tscni`))
  t.equal(fs.readlinkSync(path.join(dir, 'bridge')), 'tscni')
  t.same(readManifest(dir).files, manifestFiles(['bridge']), 'the manifest remembers the replacement')

  // The installed plugins answer as a runtime calls them.
  for (const p of ['bridge', 'loopback']) t.ok(versionOf(path.join(dir, p)).supportedVersions.includes('1.1.0'), `${p} answers VERSION`)

  const again = install(dir)
  t.equal(again.code, 0, 'bridge is ours now: no --force needed')
  t.same(readManifest(dir).files, manifestFiles(['bridge']), 'and the manifest still says bridge replaced a foreign file')
})

t.test('a foreign DIR/tscni blocks too; an older tscni and an absolute link to it are ours', async (t) => {
  const dir = path.join(tempRoot(t), 'bin')
  fs.mkdirSync(dir, { mode: 0o755 })
  fs.writeFileSync(path.join(dir, 'tscni'), FOREIGN, { mode: 0o755 })
  const r = install(dir)
  t.equal(r.code, 1)
  t.match(r.stderr, `${dir}/tscni`)
  t.equal(fs.readFileSync(path.join(dir, 'tscni'), 'utf8'), FOREIGN, 'left as it was')

  // A different build of tscni (simulated by trailing bytes, which the executable ignores).
  fs.rmSync(path.join(dir, 'tscni'))
  fs.copyFileSync(TSCNI, path.join(dir, 'tscni'))
  fs.appendFileSync(path.join(dir, 'tscni'), 'an older build')
  fs.symlinkSync(path.join(dir, 'tscni'), path.join(dir, 'bridge')) // absolute: ours, but not our shape
  const up = install(dir)
  t.equal(up.code, 0, up.stderr)
  t.ok(up.lines.includes(`installed ${dir}/tscni`), 'an older tscni is replaced without --force')
  t.ok(up.lines.includes(`linked ${dir}/bridge -> tscni`), 'an absolute link to tscni is made relative without --force')
  t.equal(sha256(path.join(dir, 'tscni')), TSCNI_SHA)
  t.equal(fs.readlinkSync(path.join(dir, 'bridge')), 'tscni')
  t.same(readManifest(dir).files, manifestFiles(), 'nothing foreign was replaced')
})

t.test('links of plugins an earlier install made and this tscni no longer serves are removed', async (t) => {
  const dir = installed(t)
  const m = readManifest(dir)
  m.files.push({ name: 'retired', type: 'symlink', target: 'tscni', replacedForeign: false })
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(m))
  fs.symlinkSync('tscni', path.join(dir, 'retired'))
  const r = install(dir)
  t.equal(r.code, 0, r.stderr)
  t.ok(r.lines.includes(`removed ${dir}/retired (tscni no longer serves it)`))
  t.notOk(fs.existsSync(path.join(dir, 'retired')))
  t.same(readManifest(dir).files, manifestFiles())
})

t.test('reinstalling while a plugin runs from the old executable: rename, no ETXTBSY', async (t) => {
  const dir = installed(t)
  const exe = path.join(dir, 'tscni')
  // Make DIR/tscni a different (older) build, so install has to put a new file in place.
  fs.rmSync(exe)
  fs.copyFileSync(TSCNI, exe)
  fs.appendFileSync(exe, 'an older build')
  const oldIno = fs.statSync(exe).ino

  // A plugin running from it: ADD reads its config to EOF, so it waits while stdin stays open.
  const running: ChildProcess = spawn(path.join(dir, 'loopback'), [], {
    env: { PATH: RUNTIME_PATH, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'busy', CNI_NETNS: '/nonexistent', CNI_IFNAME: 'lo', CNI_PATH: dir },
    stdio: ['pipe', 'ignore', 'ignore'],
  })
  const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
  t.teardown(async () => {
    running.kill('SIGKILL')
    await exited
  })
  await new Promise<void>((resolve, reject) => {
    running.once('spawn', resolve)
    running.once('error', reject)
  })
  t.throws(() => fs.closeSync(fs.openSync(exe, 'r+')), { code: 'ETXTBSY' }, 'writing the running executable in place would fail')

  const r = install(dir)
  t.equal(r.code, 0, r.stderr)
  t.ok(r.lines.includes(`installed ${exe}`))
  t.equal(running.exitCode, null, 'the running plugin was not disturbed')
  t.not(fs.statSync(exe).ino, oldIno, 'a new inode was renamed into place')
  t.equal(sha256(exe), TSCNI_SHA)
  running.kill('SIGKILL') // it never got a config, so it never touched anything
  await exited
})

t.test('refuses a directory others can write or root does not own', async (t) => {
  const root = tempRoot(t)
  for (const [name, perm] of [['world', 0o777], ['group', 0o775], ['sticky', 0o1777]] as const) {
    const dir = path.join(root, name)
    fs.mkdirSync(dir)
    fs.chmodSync(dir, perm)
    const r = install(dir)
    t.equal(r.code, 1, `${name}: refused`)
    t.match(r.stderr, /^tscni install: refusing to use .*group- or world-writable.*\n$/)
    t.same(fs.readdirSync(dir), [], 'nothing written into it')
  }
  const notRoot = path.join(root, 'nobody')
  fs.mkdirSync(notRoot, { mode: 0o755 })
  fs.chownSync(notRoot, 65534, 65534)
  const r = install(notRoot)
  t.equal(r.code, 1)
  t.match(r.stderr, /^tscni install: refusing to use .*owned by uid 65534, not root.*\n$/)
  t.same(fs.readdirSync(notRoot), [])
})

t.test('uninstall removes what install placed and leaves foreign files alone', async (t) => {
  const dir = installed(t)
  // Someone reinstalled the Go host-local over our link after us; and an unrelated plugin lives here.
  fs.rmSync(path.join(dir, 'host-local'))
  fs.writeFileSync(path.join(dir, 'host-local'), FOREIGN, { mode: 0o755 })
  fs.writeFileSync(path.join(dir, 'vendor-plugin'), FOREIGN, { mode: 0o755 })
  const r = uninstall(dir)
  t.equal(r.code, 0, r.stderr)
  t.same(r.lines, [
    ...PLUGINS.map((p) => (p === 'host-local' ? `left ${dir}/host-local alone (not tscni's)` : `removed ${dir}/${p}`)),
    `removed ${dir}/tscni`,
    `removed ${dir}/${MANIFEST}`,
  ])
  t.same(fs.readdirSync(dir).sort(), ['host-local', 'vendor-plugin'])
  t.equal(fs.readFileSync(path.join(dir, 'host-local'), 'utf8'), FOREIGN)
  const twice = uninstall(dir)
  t.equal(twice.code, 0, 'a second uninstall is fine')
})

t.test('uninstall without a manifest: only plugin links to tscni, and tscni if it is tscni', async (t) => {
  const dir = installed(t)
  fs.rmSync(path.join(dir, MANIFEST))
  fs.rmSync(path.join(dir, 'bridge'))
  fs.symlinkSync('/usr/lib/cni/bridge', path.join(dir, 'bridge')) // a link, but not to us
  const r = uninstall(dir)
  t.equal(r.code, 0, r.stderr)
  t.match(r.lines[0], /^no manifest /)
  t.ok(r.lines.includes(`left ${dir}/bridge alone (not tscni's)`))
  t.ok(r.lines.includes(`removed ${dir}/tscni`))
  t.same(fs.readdirSync(dir), ['bridge'])

  // A DIR/tscni that is not ours stays too.
  fs.writeFileSync(path.join(dir, 'tscni'), FOREIGN, { mode: 0o755 })
  const again = uninstall(dir)
  t.equal(again.code, 0)
  t.ok(again.lines.includes(`left ${dir}/tscni alone (not tscni's)`))
  t.same(fs.readdirSync(dir).sort(), ['bridge', 'tscni'])
})

t.test('usage errors exit 2 with a usage line; operational errors exit 1 with one line', async (t) => {
  for (const args of [['install', '--bogus'], ['install', 'extra'], ['install', '--dir'], ['install', '--dir', ''], ['uninstall', '--force']]) {
    const r = tscni(args)
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`)
    t.match(r.stderr, new RegExp(`^tscni ${args[0]}: .*\\nusage: tscni ${args[0]} \\[--dir DIR\\]`), 'a message and the usage line')
  }
  const help = tscni(['install', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^usage: tscni install \[--dir DIR\] \[--force\]/)

  const root = tempRoot(t)
  const file = path.join(root, 'file')
  fs.writeFileSync(file, '')
  const r = install(file)
  t.equal(r.code, 1)
  t.equal(r.stderr, `tscni install: ${file} is not a directory\n`)
  const deeper = install(path.join(file, 'bin'))
  t.equal(deeper.code, 1)
  t.equal(deeper.stderr.split('\n').length, 2, `one line: ${deeper.stderr}`)
  t.notMatch(deeper.stderr, /\n\s+at /)
  t.equal(uninstall(path.join(root, 'missing')).code, 0, 'uninstall from a missing directory has nothing to do')
})
