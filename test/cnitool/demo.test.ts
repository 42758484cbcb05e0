import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { makeStubWorld } from '../helpers/stubs'

/**
 * `npm run demo` (scripts/demo.mjs) as a test: the real run with the bridge and host-local plugins,
 * and its clean-up after a failure and after Ctrl-C, using stub plugins in their place.
 */
const ROOT = path.join(__dirname, '..', '..')
const DEMO = path.join(ROOT, 'scripts', 'demo.mjs')
const BIN = path.join(ROOT, 'dist', 'bin')

interface DemoRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  pid: number
}

/** Runs the demo in its own process group; `onOutput` may interrupt it like a Ctrl-C would. */
function runDemo(env: NodeJS.ProcessEnv, onOutput?: (stdout: string, interrupt: () => void) => void): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let interrupted = false
    const interrupt = () => {
      if (interrupted) return
      interrupted = true
      process.kill(-(child.pid as number), 'SIGINT') // the whole group, as a terminal does
    }
    const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 120_000)
    child.stdout.on('data', (c) => {
      stdout += c
      onOutput?.(stdout, interrupt)
    })
    child.stderr.on('data', (c) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, pid: child.pid as number })
    })
  })
}

/** What a run may have left: its namespaces and its temp dir. */
function leftovers(run: DemoRun): string[] {
  const left: string[] = []
  try {
    left.push(...fs.readdirSync('/run/netns').filter((n) => n.startsWith(`tscni-demo-${run.pid}-`)))
  } catch {
    // no netns dir: nothing left
  }
  const tmp = /NETCONFPATH=(\S+)\/net\.d/.exec(run.stdout)?.[1]
  if (tmp && fs.existsSync(tmp)) left.push(tmp)
  return left
}

const haveRealPlugins = fs.existsSync(path.join(BIN, 'bridge')) && fs.existsSync(path.join(BIN, 'host-local'))

t.test('the demo: two namespaces on a bridge ping each other, then everything is removed', {
  skip: haveRealPlugins ? false : 'dist/bin/bridge and dist/bin/host-local are not built yet',
}, async (t) => {
  const run = await runDemo({})
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /container A got eth0 = 10\.\d+\.\d+\.\d+\/\d+/)
  t.match(run.stdout, /3 packets transmitted, 3 received/)
  t.match(run.stdout, /both are as ADD left them/)
  t.match(run.stdout, /Done: /)
  t.same(leftovers(run), [], 'nothing left behind')
})

t.test('a failing demo cleans up after itself', async (t) => {
  const w = makeStubWorld(t, 'demo')
  w.plugins('bridge', 'host-local') // stubs: ADD "succeeds" but creates nothing, so the ping fails
  const run = await runDemo({ TSCNI_DEMO_CNI_PATH: w.binDir, STUB_DIR: w.dir })
  t.equal(run.code, 1)
  t.match(run.stderr, /demo failed: ping from A to B failed/)
  t.match(run.stdout, /Cleaning up\n {3}deleted namespaces .*-b, .*-a, .*-host/)
  t.same(leftovers(run), [], 'nothing left behind')
  t.ok(w.calls().some((c) => c.command === 'ADD' && c.type === 'bridge'), 'cnitool ran the (stub) bridge plugin')
})

t.test('Ctrl-C in the middle of the demo cleans up', async (t) => {
  const w = makeStubWorld(t, 'demo')
  w.plugins('bridge', 'host-local')
  w.answer('bridge', 'ADD', { sleepMs: 20_000 })
  const run = await runDemo({ TSCNI_DEMO_CNI_PATH: w.binDir, STUB_DIR: w.dir }, (out, interrupt) => {
    if (out.includes('Attaching container A')) setTimeout(interrupt, 300)
  })
  t.equal(run.code, 130, 'exit 130 after SIGINT')
  t.match(run.stdout, /SIGINT: stopping and cleaning up/)
  t.match(run.stdout, /deleted namespaces/)
  t.same(leftovers(run), [], 'nothing left behind')
})
