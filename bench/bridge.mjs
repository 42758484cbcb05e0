// bridge + host-local ADD and DEL latency: ours (spec 1.1.0, host-local run in-process, and once more
// with host-local executed) against the Go reference (Debian, spec 1.0.0) and the `nsenter node -e 0`
// floor, interleaved in one run, printed as medians and ratios. Every variant has its own fake host
// and container namespaces; each plugin runs inside its fake host through nsenter, as in the tests.
// Run as root after `npm run build`. BENCH_ROUNDS=N sets the rounds (default 20).
//
// A timed ADD is followed by an untimed DEL and a timed DEL by an untimed ADD, so every run starts
// from the same state: one attachment less (ADD) or more (DEL) on an existing bridge.
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeNetns, removeAllNetns } from './netns.mjs'
import { measure, printRows, runtimeEnv } from './measure.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'dist', 'bin')
const refDir = '/usr/lib/cni'
const rounds = Number(process.env.BENCH_ROUNDS ?? 20)
for (const p of ['bridge', 'host-local']) if (!existsSync(join(bin, p))) throw new Error(`dist/bin/${p} missing: run \`npm run build\` first`)

const temps = []
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'tscni-b-'))
  temps.push(d)
  return d
}
process.on('exit', () => temps.forEach((d) => rmSync(d, { recursive: true, force: true })))

// host-local executed rather than run in-process: a wrapper outside our install that execs it.
const execDir = tempDir()
writeFileSync(join(execDir, 'host-local'), `#!/bin/sh\nexec ${join(bin, 'host-local')}\n`)
chmodSync(join(execDir, 'host-local'), 0o755)

/** One attachment's worth of state: namespaces, dataDir, and the ADD/DEL invocations. */
function scenario(label, { file, cniPath, cniVersion, masq }) {
  const host = makeNetns(`${label}-h`)
  const ctr = makeNetns(`${label}-c`)
  const dataDir = tempDir()
  const conf = JSON.stringify({
    cniVersion,
    name: 'bench',
    type: 'bridge',
    bridge: 'bbr0',
    isGateway: true,
    ipMasq: masq,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.98.0.0/16' }]], dataDir },
  })
  const env = (command) =>
    runtimeEnv({ CNI_COMMAND: command, CNI_CONTAINERID: 'bench-ctr', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: cniPath })
  const cmd = ['nsenter', `--net=${host.path}`, '--', file]
  const run = (command) => {
    const r = spawnSync(cmd[0], cmd.slice(1), { env: env(command), input: conf })
    if (r.status !== 0) throw new Error(`${label} ${command} failed: ${r.stdout}${r.stderr}`)
  }
  // Warm the bridge (it exists before the measured ADDs, as on a busy node), then leave one attachment
  // in place for the DEL variant.
  run('ADD')
  return {
    add: { name: `${label} ADD`, cmd, env: env('ADD'), input: conf, after: () => run('DEL') },
    del: { name: `${label} DEL`, cmd, env: env('DEL'), input: conf, after: () => run('ADD') },
    prepareAdd: () => run('DEL'),
  }
}

function bench(masq) {
  const floorNs = makeNetns('floor')
  const variants = [{ name: 'nsenter node -e 0 (floor)', cmd: ['nsenter', `--net=${floorNs.path}`, '--', process.execPath, '-e', '0'], env: runtimeEnv() }]
  const pairs = []
  const ours = scenario('ours', { file: join(bin, 'bridge'), cniPath: bin, cniVersion: '1.1.0', masq })
  pairs.push(ours)
  const oursExec = scenario('ours, host-local executed', { file: join(bin, 'bridge'), cniPath: `${execDir}:${bin}`, cniVersion: '1.1.0', masq })
  pairs.push(oursExec)
  const hasRef = existsSync(join(refDir, 'bridge'))
  const ref = hasRef ? scenario('reference (Go)', { file: join(refDir, 'bridge'), cniPath: refDir, cniVersion: '1.0.0', masq }) : undefined
  if (ref) pairs.push(ref)

  // ADD variants start with no attachment; DEL variants with one. Separate runs keep that simple.
  for (const p of pairs) p.prepareAdd()
  const addRows = measure([...variants, ...pairs.map((p) => p.add)], { rounds, warmup: 2, baseline: variants[0].name })
  for (const p of pairs) p.del.after() // back to one attachment each
  const delRows = measure([...variants, ...pairs.map((p) => p.del)], { rounds, warmup: 2, baseline: variants[0].name })
  for (const p of pairs) p.add.after()

  const what = `isGateway${masq ? ' + ipMasq (iptables)' : ''}, IPv4`
  printRows(`bridge + host-local ADD, ${what}, ${rounds} interleaved rounds, ${process.version}`, addRows, 'floor')
  printRows(`bridge + host-local DEL, ${what}, ${rounds} interleaved rounds`, delRows, 'floor')
  const row = (rows, name) => rows.find((r) => r.name === name)
  if (ref) {
    const a = row(addRows, 'ours ADD').median / row(addRows, 'reference (Go) ADD').median
    const d = row(delRows, 'ours DEL').median / row(delRows, 'reference (Go) DEL').median
    console.log(`\nours / reference: ADD ${a.toFixed(2)} (target <= 3), DEL ${d.toFixed(2)}`)
  }
  const e = row(addRows, 'ours ADD').median / row(addRows, 'ours, host-local executed ADD').median
  console.log(`in-process host-local / executed host-local (ADD): ${e.toFixed(2)}`)
}

try {
  console.log(`load average at start: ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()}`)
  bench(true)
  bench(false)
} finally {
  removeAllNetns()
}
