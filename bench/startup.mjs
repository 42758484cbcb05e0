// Start-up: loopback ADD, ours against the Go reference, interleaved in one run, with the Bun
// runtime floor (a compiled do-nothing executable), our VERSION and the harness's own cost per
// process (/bin/true) alongside for scale. Loopback
// only touches the container namespace, so it is exec'd directly with CNI_NETNS, as a runtime
// execs it (no fake host, no nsenter: nothing added to either side). Also prints the peak RSS of
// one ADD. Run as root after `npm run build`:
//   BENCH_ROUNDS=5 node bench/startup.mjs
import { join } from 'node:path'
import { runtimeFloor } from './floor.mjs'
import { makeNetns, removeAllNetns } from './netns.mjs'
import {
  IMPLS, benchRounds, cniEnv, isMain, measure, oursBin, peakRss, printContext, printResults, printRss, requirePlugins,
  resultRow, runtimeEnv,
} from './measure.mjs'

export function benchStartup({ rounds = benchRounds(30) } = {}) {
  requirePlugins(['loopback'])
  printContext('loopback start-up', rounds)
  try {
    const ns = makeNetns('lo')
    const step = (impl, command) => ({
      cmd: [join(impl.bin, 'loopback')],
      env: cniEnv(command, { netns: ns.path, ifName: 'lo', cniPath: impl.bin }),
      input: JSON.stringify({ cniVersion: impl.cniVersion, name: 'bench', type: 'loopback' }),
    })
    const adds = IMPLS.map((impl) => ({ name: `${impl.label} loopback ADD`, steps: [step(impl, 'ADD')] }))
    const extras = [
      { name: 'Bun floor (compiled do-nothing executable)', steps: [{ cmd: [runtimeFloor()], env: runtimeEnv() }] },
      { name: 'ours loopback VERSION', steps: [step(IMPLS[0], 'VERSION')] },
      // What the harness itself costs per process (Node's spawnSync): in every time printed.
      { name: 'harness floor (/bin/true)', steps: [{ cmd: ['/bin/true'], env: runtimeEnv() }] },
    ]
    const res = measure([...adds, ...extras], { rounds, warmup: 3 })
    const rows = [resultRow('loopback ADD', res.get(adds[0].name).median, res.get(adds[1].name).median, { max: 2.0 })]
    printResults('loopback, medians', rows)
    for (const v of extras) console.log(`  ${v.name}: ${res.get(v.name).median.toFixed(1)} ms`)

    const rss = [{ what: 'loopback ADD', ...Object.fromEntries(IMPLS.map((impl, i) => [impl.key, peakRss(adds[i].name, adds[i].steps[0])?.maxrssKiB ?? null])) }]
    printRss(rss)
    return { rows, rss }
  } finally {
    removeAllNetns()
  }
}

if (isMain(import.meta.url)) benchStartup()
