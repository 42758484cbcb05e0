// host-local alone, ours against the Go reference (/usr/lib/cni/host-local, cniVersion 1.0.0) in one
// interleaved run:
//   - ADD+DEL on an empty /16: one ADD process then one DEL process, timed together (the store
//     ends as it began);
//   - ADD on a /16 holding 60,000 allocations (free addresses scattered, last_reserved_ip in front
//     of a run of 30,000 taken ones), where ours must stay >= 10x faster than Go.
// host-local touches no namespace, so it is exec'd directly, as a runtime's bridge would exec it.
//
// Each implementation gets its own copy of each fixture, written directly in the reference's format
// (as the Go plugin would have left it), under a private temp dir ($BENCH_DIR or the OS temp dir),
// removed at exit. For the 60,000 store, every run uses a fresh container ID and between runs
// (untimed) last_reserved_ip.0 is put back in front of the long run, rewritten in place as the Go
// plugin does, so every measured ADD does the same walk (the store grows by one per run: noise).
// Also prints the peak RSS of one ADD. Run as root after `npm run build`:
//   BENCH_ROUNDS=5 node bench/host-local.mjs
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  IMPLS, benchRounds, cniEnv, isMain, measure, peakRss, printContext, printResults, printRss, requirePlugins, resultRow,
  tempDir,
} from './measure.mjs'

const NET = 'bench'
/** Distinct 10.x /16s: [empty store, 60,000 store] per implementation. */
const SUBNETS = { ours: ['10.105.0.0/16', '10.107.0.0/16'], go: ['10.106.0.0/16', '10.108.0.0/16'] }
const HOSTS = 65534 // .0.1 ... .255.254; .0.1 is the gateway
const TAKEN = 60000
const LAST = 100 // last_reserved_ip = x.y.0.100 ...
const RUN = 30000 // ... followed by 30,000 taken addresses
// host-local never looks at the namespace; a runtime would still pass one.
const NETNS = '/var/run/netns/tscni-b-unused'

/** The address at `off` from the network address of a 10.x.0.0/16. */
function v4(subnet, off) {
  const [a, b] = subnet.split('.').map(Number)
  return `${a}.${b}.${off >>> 8}.${off & 255}`
}

/** The offsets (from the network address) of the 60,000 taken addresses: the run, then scattered. */
function takenOffsets() {
  const taken = new Set()
  for (let off = LAST + 1; off <= LAST + RUN; off++) taken.add(off)
  let seed = 7
  const rnd = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed % n
  }
  while (taken.size < TAKEN) {
    const off = 2 + rnd(HOSTS - 1) // 2 .. 65534 (never the network, gateway or broadcast)
    if (off !== LAST) taken.add(off)
  }
  return [...taken]
}

/** A data directory holding the network as the Go plugin leaves it; returns the dataDir. */
function fixture(dataDir, subnet, offsets) {
  const dir = join(dataDir, NET)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'lock'), '')
  for (const off of offsets) writeFileSync(join(dir, v4(subnet, off)), `bench-${off}\r\neth0`)
  writeFileSync(join(dir, 'last_reserved_ip.0'), v4(subnet, LAST))
  return dataDir
}

const conf = (impl, subnet, dataDir) =>
  JSON.stringify({ cniVersion: impl.cniVersion, name: NET, type: 'bridge', ipam: { type: 'host-local', subnet, dataDir } })

const step = (impl, command, input, containerID = 'bench-ctr') => ({
  cmd: [join(impl.bin, 'host-local')],
  env: cniEnv(command, { containerID, netns: NETNS, cniPath: impl.bin }),
  input,
})

/** ADD then DEL on an empty /16, one sample. */
function emptyVariant(impl) {
  const subnet = SUBNETS[impl.key][0]
  const input = conf(impl, subnet, fixture(tempDir(`hl-empty-${impl.key}`), subnet, []))
  return { name: `${impl.label} ADD+DEL, empty /16`, steps: [step(impl, 'ADD', input), step(impl, 'DEL', input)] }
}

let seq = 0
/** ADD on the 60,000 store; after each run: a fresh container ID, last_reserved_ip back in place. */
function fullVariant(impl, offsets) {
  const subnet = SUBNETS[impl.key][1]
  const dataDir = fixture(tempDir(`hl-full-${impl.key}`), subnet, offsets)
  const input = conf(impl, subnet, dataDir)
  const v = {
    name: `${impl.label} ADD, /16 with 60,000 allocations`,
    steps: [step(impl, 'ADD', input, `bench-ctr-${++seq}`)],
    after() {
      writeFileSync(join(dataDir, NET, 'last_reserved_ip.0'), v4(subnet, LAST))
      v.steps[0].env = step(impl, 'ADD', input, `bench-ctr-${++seq}`).env
    },
  }
  return v
}

export function benchHostLocal({ rounds = benchRounds(25) } = {}) {
  requirePlugins(['host-local'])
  printContext('host-local', rounds)
  const t0 = Date.now()
  const offsets = takenOffsets()
  const empty = IMPLS.map(emptyVariant)
  const full = IMPLS.map((impl) => fullVariant(impl, offsets))
  console.log(`fixtures: 2 x ${TAKEN} allocations written in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  // Our first ADD on the full store meets files it has never indexed (as after any change by the
  // Go plugin): it reads every owner once. Shown on its own; the rounds measure the steady state.
  const cold = measure([{ ...full[0], name: 'cold' }], { rounds: 1, warmup: 0 }).get('cold').median
  console.log(`ours, first ADD on the 60,000 store (builds its index from 60,000 files): ${cold.toFixed(1)} ms`)

  const res = measure([...empty, ...full], { rounds })
  const med = (v) => res.get(v.name).median
  const rows = [
    resultRow('host-local ADD+DEL, empty /16', med(empty[0]), med(empty[1]), { max: 2.5 }),
    resultRow('host-local ADD, /16 with 60,000 allocations', med(full[0]), med(full[1]), { max: 0.1, text: '>= 10x faster' }),
  ]
  printResults('host-local, medians', rows)
  const [e, f] = [empty[0], full[0]].map((v) => res.get(v.name))
  console.log(`  split, empty /16: ours ADD ${e.stepMedians[0].toFixed(1)} + DEL ${e.stepMedians[1].toFixed(1)} ms, ` +
    `Go ADD ${res.get(empty[1].name).stepMedians[0].toFixed(1)} + DEL ${res.get(empty[1].name).stepMedians[1].toFixed(1)} ms`)
  console.log(`  60,000 store: Go / ours = ${(med(full[1]) / med(full[0])).toFixed(1)}x (target >= 10x); ` +
    `ours full ADD / ours empty ADD = ${(f.median / e.stepMedians[0]).toFixed(2)}`)

  // Peak RSS of one ADD on the 60,000 store (the bigger of the two), then put back as after a run.
  const rss = [{
    what: 'host-local ADD (60,000 store)',
    ...Object.fromEntries(full.map((v, i) => {
      const r = peakRss(v.name, v.steps[0])
      v.after()
      return [IMPLS[i].key, r?.maxrssKiB ?? null]
    })),
  }]
  printRss(rss)
  return { rows, rss }
}

if (isMain(import.meta.url)) benchHostLocal()
