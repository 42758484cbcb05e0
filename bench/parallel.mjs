// 100 attachments at once, as when a node starts many pods together: per implementation, one fake
// host with one bridge (isGateway + ipMasq, warmed by one ADD/DEL) and 100 container namespaces.
// 100 bridge ADD processes are started at once (child_process.spawn, back to back) and timed until
// the last one exits; then 100 DELs likewise. All share one host-local store (one dataDir per
// implementation), as on a real node, so allocation contends on its lock. The ADD/DEL pair is
// repeated BENCH_PARALLEL_ROUNDS times (default 3) per implementation, alternating ours and Go;
// prints the median wall time of each phase and ours/Go. Every process must exit 0 and every ADD
// must get a distinct address, else it fails loudly. Run as root after `npm run build`:
//   BENCH_PARALLEL_ROUNDS=1 node bench/parallel.mjs
import { spawn } from 'node:child_process'
import { closeSync, openSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { bridgeConf } from './bridge.mjs'
import { makeNetns, removeAllNetns } from './netns.mjs'
import {
  IMPLS, NSENTER, cniEnv, isMain, median, printContext, printResults, requirePlugins, resultRow, runChecked, stdinFile,
  tempDir,
} from './measure.mjs'

const N = 100
const SUBNETS = { ours: '10.109.0.0/16', go: '10.110.0.0/16' }
const NET = 'bench' // the network name in bridgeConf: the store's directory

/** One implementation's node: fake host, N container namespaces, a warm bridge, a shared store. */
function setup(impl) {
  const host = makeNetns(`par-${impl.key}-h`)
  const ctrs = Array.from({ length: N }, (_, i) => makeNetns(`par-${impl.key}-c${i}`))
  const dataDir = tempDir(`par-${impl.key}`)
  const input = bridgeConf({ cniVersion: impl.cniVersion, subnet: SUBNETS[impl.key], dataDir, masq: true })
  const cmd = [NSENTER, `--net=${host.path}`, '--', join(impl.bin, 'bridge')]
  const step = (command, i, containerID = `bench-par-${i}`) => ({
    cmd,
    env: cniEnv(command, { containerID, netns: ctrs[i].path, cniPath: impl.bin }),
    input,
  })
  runChecked(`${impl.label} warm-up ADD`, step('ADD', 0, 'bench-warm'))
  runChecked(`${impl.label} warm-up DEL`, step('DEL', 0, 'bench-warm'))
  return { impl, dataDir, input: stdinFile(input), step }
}

/**
 * Starts all N invocations of `command` at once; resolves with the wall time until the last exit
 * and each one's stdout. Each child gets its own read fd on the config file: a shared fd would
 * share one file offset between them.
 */
function phase(node, command) {
  return new Promise((resolve, reject) => {
    const outs = new Array(N)
    let left = N
    let lastExit = 0
    const failures = []
    let started = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) {
      const s = node.step(command, i)
      const fd = openSync(node.input, 'r')
      const child = spawn(s.cmd[0], s.cmd.slice(1), { env: s.env, stdio: [fd, 'pipe', 'pipe'] })
      closeSync(fd) // the child has its own copy now
      const out = []
      const err = []
      child.stdout.on('data', (d) => out.push(d))
      child.stderr.on('data', (d) => err.push(d))
      child.on('exit', () => { lastExit = process.hrtime.bigint() })
      child.on('error', (e) => failures.push(`${command} #${i}: ${e.message}`))
      child.on('close', (code, signal) => {
        outs[i] = Buffer.concat(out).toString()
        if (code !== 0) failures.push(`${command} #${i} exited ${code ?? signal}: ${outs[i]}${Buffer.concat(err)}`)
        if (--left) return
        const ms = Number(lastExit - t0) / 1e6
        if (failures.length) reject(new Error(`${node.impl.label} ${command}: ${failures.length} of ${N} failed:\n${failures.slice(0, 5).join('\n')}`))
        else resolve({ ms, started, outs })
      })
    }
    // Starting 100 processes from Node takes a while itself: shown, and part of the wall time.
    started = Number(process.hrtime.bigint() - t0) / 1e6
  })
}

/** Every ADD got an address, and no two the same. */
function checkDistinct(node, outs) {
  const addrs = outs.map((o, i) => {
    const ip = JSON.parse(o).ips?.[0]?.address
    if (!ip) throw new Error(`${node.impl.label} ADD #${i} returned no address: ${o}`)
    return ip
  })
  const distinct = new Set(addrs).size
  if (distinct !== N) throw new Error(`${node.impl.label}: ${N} ADDs got only ${distinct} distinct addresses`)
}

/** After the DELs the shared store holds no allocation. */
function checkStoreEmpty(node) {
  // Allocation files are named by their address; ours also keeps a dot-file index beside them.
  const left = readdirSync(join(node.dataDir, NET)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
  if (left.length) throw new Error(`${node.impl.label}: ${left.length} allocations left after ${N} DELs, e.g. ${left.slice(0, 3)}`)
}

export async function benchParallel({ reps = Number(process.env.BENCH_PARALLEL_ROUNDS ?? 3) } = {}) {
  requirePlugins(['bridge', 'host-local'])
  printContext(`parallel: ${N} bridge + host-local ADDs at once, then ${N} DELs (isGateway + ipMasq)`, reps, 'rounds per implementation, alternating')
  try {
    const nodes = IMPLS.map(setup)
    const times = new Map(nodes.map((n) => [n.impl.key, { ADD: [], DEL: [] }]))
    for (let r = 0; r < reps; r++) {
      // Alternate who goes first, so neither always runs right after the other's teardown.
      for (const node of r % 2 ? [...nodes].reverse() : nodes) {
        const add = await phase(node, 'ADD')
        checkDistinct(node, add.outs)
        const del = await phase(node, 'DEL')
        checkStoreEmpty(node)
        times.get(node.impl.key).ADD.push(add.ms)
        times.get(node.impl.key).DEL.push(del.ms)
        console.log(`  round ${r + 1} ${node.impl.label.padEnd(4)}: ADD ${add.ms.toFixed(0)} ms, DEL ${del.ms.toFixed(0)} ms ` +
          `(all ${N} started after ${add.started.toFixed(0)} / ${del.started.toFixed(0)} ms); ${N} distinct addresses, store empty after DEL`)
      }
    }
    const med = (key, ph) => median(times.get(key)[ph])
    const rows = ['ADD', 'DEL'].map((ph) =>
      resultRow(`${N} bridge + host-local ${ph}s at once (wall)`, med('ours', ph), med('go', ph), { max: 2.0 }))
    printResults(`parallel, medians of ${reps} rounds`, rows)
    return { rows }
  } finally {
    removeAllNetns()
  }
}

if (isMain(import.meta.url)) await benchParallel()
