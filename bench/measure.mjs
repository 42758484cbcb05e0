// Whole-process timing, interleaved: each round runs every variant once in a shuffled order, so
// machine drift hits all variants alike. A variant is one sample made of one or more processes run
// one after the other (ADD then DEL), timed together so every sample leaves the state it found.
// Also: peak RSS of one process tree (python3's os.wait4), the shared result rows and printing.
import { execFileSync, spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const oursBin = join(root, 'dist', 'bin')
export const goBin = '/usr/lib/cni'
export const NSENTER = '/usr/bin/nsenter'
export const OURS_VERSION = '1.1.0'
/** The Debian reference (containernetworking-plugins 1.1.1) speaks spec <= 1.0.0: its newest. */
export const GO_VERSION = '1.0.0'

/** The two implementations, each with its bin directory and the cniVersion its configs carry. */
export const IMPLS = [
  { key: 'ours', label: 'ours', bin: oursBin, cniVersion: OURS_VERSION },
  { key: 'go', label: 'Go', bin: goBin, cniVersion: GO_VERSION },
]

/** Rounds from BENCH_ROUNDS, else the script's default. */
export function benchRounds(fallback = 25) {
  const n = Number(process.env.BENCH_ROUNDS ?? fallback)
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, got ${process.env.BENCH_ROUNDS}`)
  return n
}

/** True when the module at `url` is the script node was started with (not imported by all.mjs). */
export const isMain = (url) => process.argv[1] !== undefined && url === pathToFileURL(resolve(process.argv[1])).href

/** Fails early, with the fix, when a plugin of either implementation is missing. */
export function requirePlugins(names) {
  for (const impl of IMPLS) {
    for (const p of names) {
      if (!existsSync(join(impl.bin, p))) {
        throw new Error(`${join(impl.bin, p)} missing: ${impl.key === 'ours' ? 'run `npm run build`' : 'apt-get install containernetworking-plugins'}`)
      }
    }
  }
}

// Private temp dirs (stdin files, data dirs, fixtures), all removed at exit.
const temps = []
export function tempDir(label = 'tmp') {
  const d = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), `tscni-b-${label}-`))
  temps.push(d)
  return d
}
process.on('exit', () => temps.forEach((d) => rmSync(d, { recursive: true, force: true })))

/**
 * The environment a container runtime gives a plugin: a minimal PATH and the CNI_* variables,
 * nothing else (no NODE_EXTRA_CA_CERTS, no HOME).
 */
export function runtimeEnv(extra = {}) {
  return { PATH: '/usr/sbin:/sbin', ...extra }
}

/** CNI_* for one invocation. */
export function cniEnv(command, { containerID = 'bench-ctr', netns, ifName = 'eth0', cniPath }) {
  return runtimeEnv({ CNI_COMMAND: command, CNI_CONTAINERID: containerID, CNI_NETNS: netns, CNI_IFNAME: ifName, CNI_PATH: cniPath })
}

// Runtimes (Go's exec) hand plugins a pipe on stdin; Node's spawn would hand them a socket, which
// plugins read differently. A file takes the same path as a pipe, so stdin always comes from a file.
let stdinDir
let stdinFiles = 0
export function stdinFile(text) {
  stdinDir ??= tempDir('stdin')
  const file = join(stdinDir, String(stdinFiles++))
  writeFileSync(file, text)
  return file
}

/** Runs one step ({cmd, env, input}) synchronously; returns [ms, result]. */
function runStep(step) {
  step.stdinFile ??= stdinFile(step.input ?? '')
  const fd = openSync(step.stdinFile, 'r')
  const t0 = process.hrtime.bigint()
  const r = spawnSync(step.cmd[0], step.cmd.slice(1), { env: step.env, stdio: [fd, 'pipe', 'pipe'] })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  closeSync(fd)
  return [ms, r]
}

/** One step, untimed, that must succeed (setup, cleanup between samples). */
export function runChecked(label, step) {
  const [, r] = runStep(step)
  if (r.status !== 0) throw new Error(`${label} exited ${r.status ?? r.signal}: ${r.stdout}${r.stderr}`)
  return r.stdout.toString()
}

/** One sample of a variant: its steps in order; returns the time of each step. */
function sampleOnce(v) {
  const times = v.steps.map((step, i) => {
    const [ms, r] = runStep(step)
    if (r.status !== 0) throw new Error(`${v.name} step ${i + 1} exited ${r.status ?? r.signal}: ${r.stdout}${r.stderr}`)
    return ms
  })
  v.after?.()
  return times
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * variants: [{name, steps: [{cmd: [file, ...args], env, input}], after?()}]; a sample is all
 * steps, timed as one; after() runs untimed after each sample. Returns Map name -> {median, stepMedians, samples}.
 */
export function measure(variants, { rounds, warmup = 2 }) {
  const samples = new Map(variants.map((v) => [v.name, []]))
  for (let i = 0; i < warmup; i++) for (const v of variants) sampleOnce(v)
  for (let r = 0; r < rounds; r++) {
    for (const v of shuffled(variants)) samples.get(v.name).push(sampleOnce(v))
  }
  const out = new Map()
  for (const v of variants) {
    const s = samples.get(v.name)
    out.set(v.name, {
      median: median(s.map((t) => t.reduce((a, b) => a + b, 0))),
      stepMedians: v.steps.map((_, i) => median(s.map((t) => t[i]))),
      samples: s.length,
    })
  }
  return out
}

function shuffled(xs) {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

/**
 * A result row for the final table. `target` is {max, text?}: ratio (ours / Go) must be <= max;
 * where ours must be N times faster, max is 1/N and the speedup is printed too.
 */
export function resultRow(measureName, oursMs, goMs, target) {
  const ratio = oursMs / goMs
  return { measure: measureName, ours: oursMs, go: goMs, ratio, target, met: ratio <= target.max }
}

export function targetText(t) {
  return t.text ?? `<= ${t.max.toFixed(1)}x`
}

/** Prints result rows as a table: medians, ratio, target, met. */
export function printResults(title, rows) {
  console.log(`\n${title}`)
  const w = Math.max(44, ...rows.map((r) => r.measure.length))
  console.log(`${'measure'.padEnd(w)} ${'ours ms'.padStart(9)} ${'Go ms'.padStart(9)} ${'ours/Go'.padStart(8)} ${'target'.padStart(16)} ${'met'.padStart(4)}`)
  for (const r of rows) {
    console.log(
      `${r.measure.padEnd(w)} ${fmtMs(r.ours).padStart(9)} ${fmtMs(r.go).padStart(9)} ${fmtRatio(r.ratio).padStart(8)} ` +
        `${targetText(r.target).padStart(16)} ${(r.met ? 'yes' : 'NO').padStart(4)}` +
        // Where ours must be N times faster, say how many times it is.
        (r.target.max < 1 ? `  (Go/ours = ${(1 / r.ratio).toFixed(1)}x)` : ''),
    )
  }
}

/** Two decimals, three below 0.1 (the 60,000-store ratio would otherwise read 0.01). */
export const fmtRatio = (r) => r.toFixed(r < 0.1 ? 3 : 2)

export const fmtMs = (ms) => (ms >= 1000 ? ms.toFixed(0) : ms.toFixed(1))

// --- peak RSS ---------------------------------------------------------------------------------

// python3's os.wait4 gives the rusage of a reaped child: ru_maxrss (KiB) is the peak of that
// process and of the children it reaped (an iptables it ran, Go's separate host-local), so the
// largest single process of the tree. nsenter execs the plugin: same process. One catch: exec(2)
// records the peak of the image it replaces, so a child forked from python (~13 MiB) would report
// at least python's size. The command is therefore started by a short-lived /bin/sh (~1 MiB) in
// the background and reparented to python, made a child subreaper, which reaps it. PWD, which dash
// would add, is unset so the plugin sees exactly the given environment.
const RSS_HELPER = `
import ctypes, json, os, sys, time
argv, env, stdin, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
r, w = os.pipe()
t0 = time.monotonic()
sh = os.posix_spawn("/bin/sh", ["sh", "-c", 'unset PWD; i=$1 o=$2; shift 2; "$@" <"$i" >"$o" 2>&1 & echo $!',
    "sh", stdin, out, *argv], env, file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
os.close(w)
os.wait4(sh, 0)
pid = int(os.read(r, 64))
_, status, ru = os.wait4(pid, 0)
print("%.3f %d %d" % ((time.monotonic() - t0) * 1000, ru.ru_maxrss, os.waitstatus_to_exitcode(status)))
`

let pythonMissing
/**
 * Peak RSS of one run of `step`: {wallMs, maxrssKiB}, or null when python3 is missing. Throws with
 * the plugin's output when it fails.
 */
export function peakRss(label, step) {
  if (pythonMissing) return null
  step.stdinFile ??= stdinFile(step.input ?? '')
  const out = stdinFile('')
  let line
  try {
    line = execFileSync('python3', ['-c', RSS_HELPER, JSON.stringify(step.cmd), JSON.stringify(step.env), step.stdinFile, out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (e) {
    if (e.code === 'ENOENT') {
      pythonMissing = true
      return null
    }
    throw e
  }
  const [wallMs, maxrssKiB, exit] = line.trim().split(/\s+/).map(Number)
  if (exit !== 0) throw new Error(`${label} exited ${exit}: ${readFileSync(out, 'utf8')}`)
  return { wallMs, maxrssKiB }
}

let methodFloor
/** An RSS row: {what, ours, go} in KiB (null when unmeasurable). */
export function printRss(rows) {
  if (rows.some((r) => r.ours === null || r.go === null)) {
    console.log('\nRSS: n/a (python3 missing)')
    return
  }
  // What the method reports for a program that does nothing: anything near it is noise.
  methodFloor ??= peakRss('/bin/true', { cmd: ['/bin/true'], env: runtimeEnv() })
  console.log(`\npeak RSS of one ADD (max resident set of the largest process in the tree; /bin/true: ${(methodFloor.maxrssKiB / 1024).toFixed(1)} MiB)`)
  console.log(`${'plugin'.padEnd(34)} ${'ours MiB'.padStart(9)} ${'Go MiB'.padStart(9)} ${'ours/Go'.padStart(8)}`)
  for (const r of rows) {
    console.log(`${r.what.padEnd(34)} ${(r.ours / 1024).toFixed(1).padStart(9)} ${(r.go / 1024).toFixed(1).padStart(9)} ${(r.ours / r.go).toFixed(2).padStart(8)}`)
  }
}

/** The first lines of every script's output: what ran, on what, how loaded. */
export function printContext(what, rounds, unit = 'interleaved rounds') {
  const load = readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ')
  let bun = '?'
  try {
    bun = readFileSync(join(root, 'dist', 'BUILD'), 'utf8').trim()
  } catch { /* not built by scripts/build.mjs */ }
  console.log(`\n=== ${what}: ${rounds} ${unit}; ours = dist/bin (${bun}, cniVersion ${OURS_VERSION}), ` +
    `Go = ${goBin} (cniVersion ${GO_VERSION}); load ${load}`)
}
