// Whole-process timing, interleaved: each round runs every variant once in a shuffled order, so
// machine drift hits all variants alike. Reports medians and ratios against a baseline variant.
import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Runtimes (Go's exec) hand plugins a pipe on stdin; Node's spawn would hand them a socket, which
// plugins read differently. A file takes the same path as a pipe, so stdin comes from a file.
const stdinDir = mkdtempSync(join(tmpdir(), 'tscni-b-stdin-'))
process.on('exit', () => rmSync(stdinDir, { recursive: true, force: true }))
let stdinFiles = 0

function stdinFile(text) {
  const file = join(stdinDir, String(stdinFiles++))
  writeFileSync(file, text)
  return file
}

/** The environment a container runtime gives a plugin: no NODE_EXTRA_CA_CERTS (Node 20 pays ~40 ms for it). */
export function runtimeEnv(extra = {}) {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...extra }
  return env
}

function timeOnce(v) {
  v.stdinFile ??= stdinFile(typeof v.input === 'function' ? '' : (v.input ?? ''))
  if (typeof v.input === 'function') writeFileSync(v.stdinFile, v.input())
  const fd = openSync(v.stdinFile, 'r')
  const t0 = process.hrtime.bigint()
  const r = spawnSync(v.cmd[0], v.cmd.slice(1), { env: v.env, stdio: [fd, 'pipe', 'pipe'] })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  closeSync(fd)
  if (r.status !== 0 && !v.allowFail) {
    throw new Error(`${v.name} exited ${r.status}: ${r.stdout}${r.stderr}`)
  }
  v.after?.()
  return ms
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * variants: [{name, cmd: [file, ...args], env, input?, after?()}]; `input` is stdin text, or a
 * function returning it for each run. baseline: a variant name.
 */
export function measure(variants, { rounds = 40, warmup = 3, baseline } = {}) {
  const times = new Map(variants.map((v) => [v.name, []]))
  for (let i = 0; i < warmup; i++) for (const v of variants) timeOnce(v)
  for (let r = 0; r < rounds; r++) {
    const order = [...variants].sort(() => Math.random() - 0.5)
    for (const v of order) times.get(v.name).push(timeOnce(v))
  }
  const base = median(times.get(baseline ?? variants[0].name))
  const rows = variants.map((v) => {
    const t = times.get(v.name)
    return { name: v.name, median: median(t), ratio: median(t) / base }
  })
  return rows
}

export function printRows(title, rows, baselineName) {
  console.log(`\n${title}`)
  console.log(`${'variant'.padEnd(44)} ${'median ms'.padStart(10)} ${('x ' + baselineName).padStart(18)}`)
  for (const r of rows) {
    console.log(`${r.name.padEnd(44)} ${r.median.toFixed(1).padStart(10)} ${r.ratio.toFixed(2).padStart(18)}`)
  }
}
