// host-local ADD benchmark: median whole-process time of one ADD on an empty /16 and on a /16
// holding 60,000 allocations (free addresses scattered, last_reserved_ip in front of a run of
// 30,000 taken ones), for ours and for the Go reference (/usr/lib/cni/host-local, cniVersion
// 1.0.0), in one interleaved run. Prints full/empty for both; target: ours <= 1.2.
//
// Each implementation gets its own copy of each fixture, written directly in the reference's
// format (as the Go plugin would have left it), under $BENCH_DIR (default: the OS temp dir),
// removed at exit. Every run uses a fresh container ID; between runs (untimed)
// last_reserved_ip.0 is put back in front of the long run, rewritten in place as the Go plugin
// does, so every measured ADD does the same walk. Run as root after `npm run build`:
//   BENCH_ROUNDS=5 node bench/host-local.mjs
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measure, printRows, runtimeEnv } from './measure.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const ours = join(root, 'dist', 'bin', 'host-local')
const ref = '/usr/lib/cni/host-local'
const rounds = Number(process.env.BENCH_ROUNDS ?? 20)
if (!existsSync(ours)) throw new Error('run `npm run build` first')

const NET = 'bench'
const BASE = (10 << 24) | (200 << 16) // 10.200.0.0/16
const HOSTS = 65534 // .0.1 ... .255.254; .0.1 is the gateway
const TAKEN = 60000
const LAST = 100 // last_reserved_ip = 10.200.0.100 ...
const RUN = 30000 // ... followed by 30,000 taken addresses

const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'tscni-b-hl-'))
const cleanup = () => rmSync(work, { recursive: true, force: true })
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

const v4 = (off) => {
  const n = BASE + off
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
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

/** A data directory with the network as the Go plugin leaves it; returns the dataDir. */
function fixture(label, offsets) {
  const dataDir = join(work, label)
  const dir = join(dataDir, NET)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'lock'), '')
  for (const off of offsets) writeFileSync(join(dir, v4(off)), `bench-${off}\r\neth0`)
  writeFileSync(join(dir, 'last_reserved_ip.0'), v4(LAST))
  return dataDir
}

const t0 = Date.now()
const offsets = takenOffsets()
const dirs = {
  oursEmpty: fixture('ours-empty', []),
  oursFull: fixture('ours-full', offsets),
  refEmpty: fixture('ref-empty', []),
  refFull: fixture('ref-full', offsets),
}
console.log(`fixtures: 2 x ${TAKEN} allocations written in ${((Date.now() - t0) / 1000).toFixed(1)} s under ${work}`)

const conf = (dataDir, cniVersion) =>
  JSON.stringify({ cniVersion, name: NET, type: 'bridge', ipam: { type: 'host-local', subnet: '10.200.0.0/16', dataDir } })

let seq = 0
function variant(name, file, dataDir, cniVersion) {
  const v = {
    name,
    cmd: [file],
    input: conf(dataDir, cniVersion),
    env: null,
    after() {
      // Untimed: the next run gets a fresh container ID and starts from the same place.
      writeFileSync(join(dataDir, NET, 'last_reserved_ip.0'), v4(LAST))
      v.env = envFor(file)
    },
  }
  v.env = envFor(file)
  return v
}
function envFor(file) {
  return runtimeEnv({
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: `bench-ctr-${++seq}`,
    CNI_NETNS: '/var/run/netns/tscni-b-unused',
    CNI_IFNAME: 'eth0',
    CNI_PATH: dirname(file),
  })
}

const variants = [
  variant('ours ADD, empty /16', ours, dirs.oursEmpty, '1.1.0'),
  variant('ours ADD, /16 with 60,000 allocations', ours, dirs.oursFull, '1.1.0'),
]
const haveRef = existsSync(ref)
if (haveRef) {
  variants.push(
    variant('reference ADD, empty /16 (Go)', ref, dirs.refEmpty, '1.0.0'),
    variant('reference ADD, /16 with 60,000 allocations (Go)', ref, dirs.refFull, '1.0.0'),
  )
}

// Our first ADD on the full fixture meets files it has never indexed (as after any change by the
// Go plugin): it reads every owner once. Shown on its own; the rounds then measure the steady state.
{
  const first = measure([{ ...variants[1], name: 'cold' }], { rounds: 1, warmup: 0 })
  console.log(`ours, first ADD on the full /16 (builds the index from 60,000 files): ${first[0].median.toFixed(1)} ms`)
}

const rows = measure(variants, { rounds, warmup: 2, baseline: variants[0].name })
printRows(`host-local ADD, ${rounds} interleaved rounds, ${process.version}, NODE_EXTRA_CA_CERTS unset`, rows, 'ours empty')
const med = (name) => rows.find((r) => r.name === name).median
const oursRatio = med(variants[1].name) / med(variants[0].name)
console.log(`\nours      full/empty = ${oursRatio.toFixed(2)} (target <= 1.2)`)
if (haveRef) {
  const refRatio = med(variants[3].name) / med(variants[2].name)
  console.log(`reference full/empty = ${refRatio.toFixed(2)}`)
  console.log(`ours full / reference full = ${(med(variants[1].name) / med(variants[3].name)).toFixed(2)}`)
} else {
  console.log(`(no reference at ${ref}: apt-get install containernetworking-plugins)`)
}
