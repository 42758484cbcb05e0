// Where one bridge + host-local ADD (isGateway + ipMasq) of ours spends its wall time, next to the
// Go reference doing the same ADD:
//   - runtime floor: process start to first JS, i.e. a Bun executable compiled from a do-nothing
//     file (bench/floor.mjs), run the same way (nsenter into the fake host);
//   - iptables/nft: each exec of the tool, from its execve to its exit;
//   - netlink: request/response pairs, from each send on a netlink socket to the end of the last
//     receive before the next send on that socket;
//   - rest: what is left, i.e. our own JS work (module loading past the floor, config, host-local,
//     sysctl and file I/O, waiting on children between execs).
// Untraced medians (BENCH_ROUNDS, default 15) give the true totals; one run of each under
// `strace -f -tt -T -yy` (the median-total one of 3) gives the phases. strace stops every traced syscall, process and thread
// creation, so traced times are inflated (more so for Go, which starts more threads and execs more);
// the breakdown is therefore made within the traced run, where its parts add up, and the untraced
// totals are printed beside it. Run as root after `npm run build`:
//   BENCH_ROUNDS=5 node bench/profile.mjs
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { bridgeConf } from './bridge.mjs'
import { runtimeFloor } from './floor.mjs'
import { makeNetns, removeAllNetns } from './netns.mjs'
import {
  IMPLS, NSENTER, benchRounds, cniEnv, isMain, measure, printContext, requirePlugins, runChecked, runtimeEnv, tempDir,
} from './measure.mjs'

const STRACE = '/usr/bin/strace'
/** Traced runs per variant; the one with the median total is shown. */
const TRACES = 3
const SUBNETS = { ours: '10.111.0.0/16', go: '10.112.0.0/16' }
const TOOLS = /^(iptables|ip6tables|nft)/ // iptables-nft, iptables-legacy-save, ... too
// -yy names each fd's socket (netlink vs the socketpairs Bun gives its children), -s keeps
// iptables' arguments readable, verbose=execve decodes only execve's arrays (less tracer work).
const STRACE_FLAGS = ['-f', '-tt', '-T', '-yy', '--seccomp-bpf', '-s', '48', '-e', 'verbose=execve',
  '-e', 'trace=execve,sendto,sendmsg,recvfrom,recvmsg']

/** One implementation's fake host and container, bridge warm; ADD and DEL steps. */
function setup(impl) {
  const host = makeNetns(`prof-${impl.key}-h`)
  const ctr = makeNetns(`prof-${impl.key}-c`)
  const input = bridgeConf({ cniVersion: impl.cniVersion, subnet: SUBNETS[impl.key], dataDir: tempDir('prof'), masq: true })
  const step = (command) => ({
    cmd: [NSENTER, `--net=${host.path}`, '--', join(impl.bin, 'bridge')],
    env: cniEnv(command, { netns: ctr.path, cniPath: impl.bin }),
    input,
  })
  const node = { impl, host, add: step('ADD'), del: step('DEL') }
  runChecked(`${impl.label} warm-up ADD`, node.add)
  runChecked(`${impl.label} warm-up DEL`, node.del)
  return node
}

/** `step` run under strace; returns the trace file's text. */
function traced(label, step) {
  const out = join(tempDir('strace'), 'trace')
  runChecked(`${label} (strace)`, { ...step, cmd: [STRACE, ...STRACE_FLAGS, '-o', out, '--', ...step.cmd] })
  return readFileSync(out, 'utf8')
}

// --- trace parsing ----------------------------------------------------------------------------

/** `HH:MM:SS.micro` -> ms since midnight. */
const clock = (t) => {
  const [h, m, s] = t.split(':')
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000
}

/**
 * Calls from strace -f -tt -T output, unfinished/resumed halves joined: [{pid, start, end, name,
 * text, ret}] plus exits [{pid, at}]. `end` = start + the <duration> strace measured.
 */
function parseTrace(text) {
  const calls = []
  const exits = new Map()
  const pending = new Map() // pid -> the first half of an interrupted call
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(\d\d:\d\d:\d\d\.\d+)\s+(.*)$/.exec(line)
    if (!m) continue
    const [, pid, t, rest] = m
    const at = clock(t)
    if (rest.startsWith('+++ exited') || rest.startsWith('+++ killed')) {
      exits.set(pid, at)
      continue
    }
    if (rest.startsWith('---')) continue // signals
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest)
    let call
    if (resumed) {
      const first = pending.get(pid)
      pending.delete(pid)
      if (!first) continue
      call = { ...first, text: first.text + resumed[2] }
    } else {
      const c = /^(\w+)\((.*)$/.exec(rest)
      if (!c) continue
      call = { pid, start: at, name: c[1], text: c[2] }
      if (rest.endsWith('<unfinished ...>')) {
        call.text = call.text.replace(/<unfinished \.\.\.>$/, '')
        pending.set(pid, call)
        continue
      }
    }
    const r = /= (-?\w+)[^=]*<(\d+\.\d+)>$/.exec(call.text)
    call.ret = r ? r[1] : '?'
    call.end = call.start + (r ? Number(r[2]) * 1000 : 0)
    calls.push(call)
  }
  return { calls, exits }
}

/** Total length of the union of [start, end] intervals (parallel execs counted once). */
function unionMs(intervals) {
  let total = 0
  let reach = -Infinity
  for (const [s, e] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (e <= reach) continue
    total += e - Math.max(s, reach)
    reach = e
  }
  return total
}

/** The phases of one traced run. */
function summarise(text) {
  const { calls, exits } = parseTrace(text)
  const execs = calls
    .filter((c) => c.name === 'execve' && c.ret === '0')
    .map((c) => {
      const path = /^"([^"]*)"/.exec(c.text)?.[1] ?? '?'
      const argv = [...(/\[(.*)\], 0x/.exec(c.text)?.[1] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"(\.\.\.)?/g)]
        .map(([, arg, cut]) => arg.replace(/\\(.)/g, '$1') + (cut ?? ''))
      return { pid: c.pid, path, tool: basename(path), argv, start: c.start, end: exits.get(c.pid) ?? c.end }
    })
  const main = calls[0]?.pid
  const total = (exits.get(main) ?? 0) - (calls[0]?.start ?? 0)
  const toolExecs = execs.filter((e) => TOOLS.test(e.tool))
  const toolPids = new Set(toolExecs.map((e) => e.pid))
  const childExecs = execs.filter((e) => e.pid !== main && !toolPids.has(e.pid)) // Go's host-local

  // Netlink pairs of the plugin only (iptables-nft speaks netlink too, in its own processes).
  const pairs = []
  const open = new Map() // socket -> the pair in progress
  for (const c of calls) {
    if (toolPids.has(c.pid)) continue
    const sock = /^\d+<(NETLINK:[^>]*)>/.exec(c.text)?.[1]
    if (!sock) continue
    if (c.name === 'sendto' || c.name === 'sendmsg') {
      const p = { start: c.start, end: c.end, recvs: 0 }
      open.set(sock, p)
      pairs.push(p)
    } else if (open.has(sock)) {
      const p = open.get(sock)
      p.end = Math.max(p.end, c.end)
      p.recvs++
    }
  }
  const answered = pairs.filter((p) => p.recvs > 0)
  return {
    total,
    toolExecs,
    toolMs: unionMs(toolExecs.map((e) => [e.start, e.end])),
    toolSumMs: toolExecs.reduce((a, e) => a + e.end - e.start, 0),
    childExecs,
    childMs: unionMs(childExecs.map((e) => [e.start, e.end])),
    netlinkPairs: answered.length,
    netlinkUnanswered: pairs.length - answered.length,
    netlinkMs: pairs.reduce((a, p) => a + p.end - p.start, 0),
  }
}

// --- report -----------------------------------------------------------------------------------

const ms = (x) => (x === undefined ? 'n/a' : x.toFixed(1))

function printBreakdown(untraced, floorTraced, s) {
  const { ours, go } = s
  // Ours runs host-local in-process (childMs 0); Go's rest has no floor taken off (no Go floor here).
  const rest = ours.total - floorTraced.total - ours.toolMs - ours.netlinkMs - ours.childMs
  const goRest = go.total - go.toolMs - go.netlinkMs - go.childMs
  const share = (x) => `${((100 * x) / ours.total).toFixed(0)}%`.padStart(5)
  const row = (what, o, oShare, g, count = '') =>
    console.log(`${what.padEnd(52)} ${ms(o).padStart(8)} ${oShare.padStart(5)} ${(g === undefined ? '' : ms(g)).padStart(8)}   ${count}`)
  console.log(`\nbreakdown of one ADD, traced run (median total of ${TRACES}; strace -f inflates times, parts add up)`)
  console.log(`${'phase'.padEnd(52)} ${'ours ms'.padStart(8)} ${'share'.padStart(5)} ${'Go ms'.padStart(8)}   counts (ours / Go)`)
  row('total (nsenter execve to exit)', ours.total, share(ours.total), go.total)
  row('runtime floor (nsenter + do-nothing Bun exe)', floorTraced.total, share(floorTraced.total), undefined)
  row('iptables/nft execs (execve to exit, union)', ours.toolMs, share(ours.toolMs), go.toolMs,
    `${ours.toolExecs.length} / ${go.toolExecs.length} execs`)
  row('netlink round trips (send to last recv)', ours.netlinkMs, share(ours.netlinkMs), go.netlinkMs,
    `${ours.netlinkPairs} / ${go.netlinkPairs} pairs`)
  row('host-local exec (execve to exit)', ours.childMs, share(ours.childMs), go.childMs,
    `${ours.childExecs.length} / ${go.childExecs.length} execs`)
  row('rest = our JS work (total - all above)', rest, share(rest), goRest, 'Go: its runtime start included')
  console.log('\nuntraced medians (the real times)')
  // Untraced times are spawn to exit as the harness sees them (Node's spawnSync adds ~2-3 ms).
  console.log(`  ours ADD ${ms(untraced.ours)} ms, Go ADD ${ms(untraced.go)} ms, runtime floor ${ms(untraced.floor)} ms ` +
    `(spawn to exit); traced/untraced: ours x${(ours.total / untraced.ours).toFixed(1)}, Go x${(go.total / untraced.go).toFixed(1)}`)
  if (ours.toolSumMs > ours.toolMs + 0.05) console.log(`  ours: iptables execs overlap (sum ${ms(ours.toolSumMs)} ms, union ${ms(ours.toolMs)} ms)`)
  for (const [label, x] of [['ours', ours], ['Go', go]]) {
    console.log(`\n${label}: ${x.toolExecs.length} iptables/nft execs (execve to exit)`)
    for (const e of x.toolExecs) console.log(`  ${ms(e.end - e.start).padStart(6)} ms  ${[e.tool, ...e.argv.slice(1)].join(' ').slice(0, 110)}`)
  }
}

export function profile({ rounds = benchRounds(15) } = {}) {
  requirePlugins(['bridge', 'host-local'])
  printContext('profile: one bridge + host-local ADD (isGateway + ipMasq)', rounds)
  try {
    const nodes = Object.fromEntries(IMPLS.map((impl) => [impl.key, setup(impl)]))
    const floorStep = { cmd: [NSENTER, `--net=${nodes.ours.host.path}`, '--', runtimeFloor()], env: runtimeEnv() }

    // Untraced: each ADD undone (untimed) before the next, as in the real benchmarks.
    const variants = [
      { name: 'floor', steps: [floorStep] },
      ...IMPLS.map((impl) => ({ name: impl.key, steps: [nodes[impl.key].add], after: () => runChecked(`${impl.label} DEL`, nodes[impl.key].del) })),
    ]
    const res = measure(variants, { rounds })
    const untraced = Object.fromEntries(variants.map((v) => [v.name, res.get(v.name).median]))

    if (!existsSync(STRACE)) {
      console.log(`\n${STRACE} not installed: no breakdown (apt-get install strace). Untraced: ours ADD ${ms(untraced.ours)} ms, ` +
        `Go ADD ${ms(untraced.go)} ms, runtime floor ${ms(untraced.floor)} ms`)
      return { untraced }
    }
    // Everything traced has just run untraced: page cache and bridge are warm. A single traced run
    // can catch a hiccup, so each is traced TRACES times (interleaved) and the run with the median
    // total is the one shown: still one ADD, a typical one.
    const runs = { floor: [], ours: [], go: [] }
    for (let i = 0; i < TRACES; i++) {
      runs.floor.push(summarise(traced('floor', floorStep)))
      for (const impl of IMPLS) {
        const n = nodes[impl.key]
        runs[impl.key].push(summarise(traced(`${impl.label} ADD`, n.add)))
        runChecked(`${impl.label} DEL`, n.del)
      }
    }
    const typical = (xs) => [...xs].sort((a, b) => a.total - b.total)[xs.length >> 1]
    const floorTraced = typical(runs.floor)
    const s = { ours: typical(runs.ours), go: typical(runs.go) }
    printBreakdown(untraced, floorTraced, s)
    return { untraced, traced: s, floorTraced }
  } finally {
    removeAllNetns()
  }
}

if (isMain(import.meta.url)) profile()
