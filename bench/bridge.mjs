// bridge + host-local, ours against the Go reference in one interleaved run. A sample is one ADD
// process followed by one DEL process for the same attachment, timed together, so every sample
// leaves the state it found (one warm bridge, no attachment). Two configurations: isGateway, and
// isGateway + ipMasq (iptables). Every variant has its own fake host namespace (the plugin runs in it
// through nsenter, Go too: nothing subtracted) and its own container namespace, subnet and dataDir.
// Also prints the peak RSS of one ADD. Run as root after `npm run build`:
//   BENCH_ROUNDS=5 node bench/bridge.mjs
import { join } from 'node:path'
import { makeNetns, removeAllNetns } from './netns.mjs'
import {
  IMPLS, NSENTER, benchRounds, cniEnv, isMain, measure, peakRss, printContext, printResults, printRss, requirePlugins,
  resultRow, runChecked, tempDir,
} from './measure.mjs'

/** Distinct 10.x subnets per configuration and implementation. */
const SUBNETS = {
  gw: { ours: '10.101.0.0/16', go: '10.102.0.0/16' },
  masq: { ours: '10.103.0.0/16', go: '10.104.0.0/16' },
}

/** The bridge config; identical for both implementations but for cniVersion. */
export function bridgeConf({ cniVersion, subnet, dataDir, masq }) {
  return JSON.stringify({
    cniVersion,
    name: 'bench',
    type: 'bridge',
    bridge: 'bbr0',
    isGateway: true,
    ipMasq: masq,
    ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir },
  })
}

/** One implementation's attachment in its own fake host: ADD/DEL steps, bridge already warm. */
function scenario(impl, config) {
  const host = makeNetns(`${config}-${impl.key}-h`)
  const ctr = makeNetns(`${config}-${impl.key}-c`)
  const input = bridgeConf({ cniVersion: impl.cniVersion, subnet: SUBNETS[config][impl.key], dataDir: tempDir('data'), masq: config === 'masq' })
  const step = (command) => ({
    cmd: [NSENTER, `--net=${host.path}`, '--', join(impl.bin, 'bridge')],
    env: cniEnv(command, { netns: ctr.path, cniPath: impl.bin }),
    input,
  })
  const add = step('ADD')
  const del = step('DEL')
  const name = `${impl.label} ${config}`
  // Warm: the bridge exists before the measured samples, as on a busy node (DEL keeps it).
  runChecked(`${name} warm-up ADD`, add)
  runChecked(`${name} warm-up DEL`, del)
  return { name, impl, config, add, del, variant: { name, steps: [add, del] } }
}

/** Runs the benchmark, prints its section; returns {rows, rss} for all.mjs. */
export function benchBridge({ rounds = benchRounds(25) } = {}) {
  requirePlugins(['bridge', 'host-local'])
  printContext('bridge + host-local ADD+DEL', rounds)
  try {
    const scenarios = []
    for (const config of ['gw', 'masq']) for (const impl of IMPLS) scenarios.push(scenario(impl, config))
    const res = measure(scenarios.map((s) => s.variant), { rounds })

    const pick = (config, key) => res.get(scenarios.find((s) => s.config === config && s.impl.key === key).name)
    const split = (config) => {
      const [o, g] = [pick(config, 'ours'), pick(config, 'go')]
      const f = (m) => `ADD ${m.stepMedians[0].toFixed(1)} + DEL ${m.stepMedians[1].toFixed(1)}`
      return `ours ${f(o)} ms, Go ${f(g)} ms`
    }
    const rows = [
      resultRow('bridge + host-local ADD+DEL, isGateway', pick('gw', 'ours').median, pick('gw', 'go').median, { max: 1.5 }),
      resultRow('bridge + host-local ADD+DEL, isGateway + ipMasq', pick('masq', 'ours').median, pick('masq', 'go').median, { max: 1.0 }),
    ]
    printResults('bridge + host-local, medians of ADD+DEL samples', rows)
    console.log(`  split (medians of each step), isGateway:          ${split('gw')}`)
    console.log(`  split (medians of each step), isGateway + ipMasq: ${split('masq')}`)

    // Peak RSS of one ADD with masquerade (the iptables children count too); DEL afterwards, untimed.
    const rssOf = (key) => {
      const s = scenarios.find((x) => x.config === 'masq' && x.impl.key === key)
      const r = peakRss(`${s.name} ADD`, s.add)
      runChecked(`${s.name} DEL`, s.del)
      return r?.maxrssKiB ?? null
    }
    const rss = [{ what: 'bridge + host-local ADD (ipMasq)', ours: rssOf('ours'), go: rssOf('go') }]
    printRss(rss)
    return { rows, rss }
  } finally {
    removeAllNetns()
  }
}

if (isMain(import.meta.url)) benchBridge()
