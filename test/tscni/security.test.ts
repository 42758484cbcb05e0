/**
 * The executable runs as root on every node, from whatever directory and environment the runtime
 * has. These tests prove that nothing there changes what code runs (a bunfig.toml preload, a .env,
 * BUN_OPTIONS) and that a run writes nothing to /tmp and maps nothing from it.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { type HasTeardown, makeNetns } from '../helpers/netns'
import { BIN_DIR, NSENTER, RUNTIME_PATH } from '../helpers/plugin'

const LOOPBACK = path.join(BIN_DIR, 'loopback')
const BRIDGE = path.join(BIN_DIR, 'bridge')

function tempDir(t: HasTeardown, label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tscni-t-${label}-`))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A directory that tries every way Bun offers to inject code or settings from the CWD. */
function hostileDir(t: HasTeardown): { dir: string; marker: string; preload: string } {
  const dir = tempDir(t, 'hostile')
  const marker = path.join(dir, 'PRELOAD-RAN')
  const preload = path.join(dir, 'evil.js')
  fs.writeFileSync(preload, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')\n`)
  fs.writeFileSync(path.join(dir, 'bunfig.toml'), `preload = [${JSON.stringify(preload)}]\n[run]\npreload = [${JSON.stringify(preload)}]\n`)
  // Were .env read, the plugin would see a CNI_COMMAND and answer VERSION instead of its about text.
  fs.writeFileSync(path.join(dir, '.env'), 'CNI_COMMAND=VERSION\nNODE_OPTIONS=--require ./evil.js\n')
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', type: 'module', main: 'evil.js' }))
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { paths: { '*': ['./evil.js'] } } }))
  return { dir, marker, preload }
}

function run(file: string, env: Record<string, string>, cwd: string, input = '') {
  return spawnSync(file, [], { env: { PATH: RUNTIME_PATH, ...env }, cwd, input, encoding: 'utf8', timeout: 30_000 })
}

t.test('a bunfig.toml preload, a .env and friends in the CWD change nothing', async (t) => {
  const { dir, marker } = hostileDir(t)
  const clean = tempDir(t, 'clean')
  for (const env of [{}, { CNI_COMMAND: 'VERSION' }] as Record<string, string>[]) {
    const here = run(LOOPBACK, env, dir, '{"cniVersion":"1.0.0"}')
    const there = run(LOOPBACK, env, clean, '{"cniVersion":"1.0.0"}')
    t.equal(here.status, there.status, `same exit code (${JSON.stringify(env)})`)
    t.equal(here.stdout, there.stdout, 'same stdout')
    t.equal(here.stderr, there.stderr, 'same stderr')
  }
  t.match(run(LOOPBACK, {}, dir).stderr, /CNI loopback plugin/, 'no CNI_COMMAND: the about text, so .env was not read')
  t.notOk(fs.existsSync(marker), 'the preload never ran')
})

t.test('BUN_OPTIONS cannot preload code either', async (t) => {
  const { dir, marker, preload } = hostileDir(t)
  for (const opts of [`--preload ${preload}`, `--preload=${preload}`, `-r ${preload}`, `--require=${preload}`]) {
    const r = run(LOOPBACK, { CNI_COMMAND: 'VERSION', BUN_OPTIONS: opts }, '/', '{"cniVersion":"1.0.0"}')
    t.equal(r.status, 0, `VERSION answers with BUN_OPTIONS=${opts}`)
    t.match(JSON.parse(r.stdout), { cniVersion: '1.0.0' })
  }
  t.notOk(fs.existsSync(marker), 'the preload never ran')
  const tool = spawnSync(path.join(BIN_DIR, 'tscni'), ['version'], { env: { PATH: RUNTIME_PATH, BUN_OPTIONS: `--preload ${preload}` }, cwd: dir, encoding: 'utf8' })
  t.match(tool.stdout, /^tscni /, 'the tools ignore it too')
  t.notOk(fs.existsSync(marker))
})

/**
 * The paths a traced run opened, created, mapped or removed under /tmp (strace -f), and any memfd
 * but the ones Bun's spawn uses to hand a child its stdin bytes (data, never code).
 */
function tmpTouches(traceFile: string): string[] {
  const lines = fs.readFileSync(traceFile, 'utf8').split('\n')
  // A call strace splits across threads shows its name on the "unfinished" line only; the
  // "resumed" half carries just the result, and is judged by its first half.
  const isNamedMemfd = (l: string): boolean => /memfd_create\(/.test(l) && !/memfd_create\("spawn_stdio_stdin"/.test(l)
  return lines.filter((l) => /"\/tmp\b|\/\.bun-/.test(l) || isNamedMemfd(l))
}

const STRACE = '/usr/bin/strace'
const haveStrace = fs.existsSync(STRACE)

t.test('a plugin run writes nothing to /tmp and loads nothing from it', { skip: haveStrace ? false : 'strace is not installed' }, async (t) => {
  const host = makeNetns(t, 'sec-host')
  const ctr = makeNetns(t, 'sec-ctr')
  // Outside /tmp, so that any /tmp path in the trace is the plugin's own doing.
  const dir = fs.mkdtempSync('/run/tscni-t-sec-')
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const trace = path.join(dir, 'trace')
  const strace = (args: string[], env: Record<string, string>, input: string) => {
    const r = spawnSync(STRACE, ['-f', '-qq', '-o', trace, '-e', 'trace=%file,%desc,mmap,memfd_create', ...args], {
      env: { PATH: RUNTIME_PATH, ...env }, input, encoding: 'utf8', timeout: 60_000,
    })
    return { ...r, touches: tmpTouches(trace) }
  }
  const lo = strace([LOOPBACK], { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'sec', CNI_NETNS: ctr.path, CNI_IFNAME: 'lo', CNI_PATH: BIN_DIR }, JSON.stringify({ cniVersion: '1.1.0', name: 'sec', type: 'loopback' }))
  t.equal(lo.status, 0, lo.stdout + lo.stderr)
  t.same(lo.touches, [], 'loopback ADD: no /tmp path, no extracted .bun-*.node, no memfd')

  const conf = JSON.stringify({
    cniVersion: '1.1.0', name: 'tscni-sec', type: 'bridge', bridge: 'tsec0', isGateway: true, ipMasq: true,
    ipam: { type: 'host-local', subnet: '10.124.0.0/24', dataDir: path.join(dir, 'ipam') },
  })
  const env = { CNI_CONTAINERID: 'sec1', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: BIN_DIR }
  // strace follows nsenter into the plugin (and the plugin into iptables): every process counts.
  const add = strace([NSENTER, `--net=${host.path}`, '--', BRIDGE], { ...env, CNI_COMMAND: 'ADD' }, conf)
  t.equal(add.status, 0, add.stdout + add.stderr)
  t.same(add.touches, [], 'bridge + host-local + iptables ADD: nothing in /tmp')
  const del = strace([NSENTER, `--net=${host.path}`, '--', BRIDGE], { ...env, CNI_COMMAND: 'DEL' }, conf)
  t.equal(del.status, 0, del.stdout + del.stderr)
  t.same(del.touches, [], 'DEL: nothing in /tmp')
})
