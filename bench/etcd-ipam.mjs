// etcd-ipam allocation latency and throughput against host-local in the same run (not a test).
//
// For 1, 10 and 50 concurrent ADDs: etcd-ipam with 10 simulated nodes (nodeName node0..node9,
// round robin) on one /16 in a real etcd started here, and host-local on one node (one dataDir,
// its flock serialising the node) as the baseline. Every ADD is one process of the executable,
// exec'd the way bridge would exec its IPAM plugin, timed from spawn to exit. After each level
// every address is deleted again (untimed). Prints p50/p99 per ADD, throughput, and the wall time
// of the 1000 etcd-ipam ADDs at 50 at once (target: under 60 s; p99 under 2x host-local's).
//
// etcd: one member on 127.0.0.1:23880 with its data in /run/tscni-test-etcd-bench-<pid>; all
// scratch state under /run, removed at exit. Run as root after `npm run build`:
//   npm run bench:etcd-ipam            (BENCH_ADDS=1000 by default; BENCH_ADDS_SERIAL=200 for c=1)
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(root, 'dist', 'bin')
const PORT = 23880
const EP = `http://127.0.0.1:${PORT}`
const WORK = `/run/tscni-test-etcd-bench-${process.pid}`
const ADDS = Number(process.env.BENCH_ADDS ?? 1000)
const ADDS_SERIAL = Number(process.env.BENCH_ADDS_SERIAL ?? 200)
const NODES = 10
const ENV = { PATH: '/usr/sbin:/sbin', CNI_PATH: BIN, CNI_IFNAME: 'eth0', CNI_NETNS: '/var/run/netns/tscni-b-unused' }

let etcd
function cleanup() {
  if (etcd && etcd.exitCode === null) etcd.kill('SIGKILL')
  rmSync(WORK, { recursive: true, force: true })
}
process.on('exit', cleanup)
process.on('SIGINT', () => process.exit(130))
process.on('SIGTERM', () => process.exit(143))

function run(file, command, conf, containerID) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const p = spawn(file, [], { env: { ...ENV, CNI_COMMAND: command, CNI_CONTAINERID: containerID }, stdio: ['pipe', 'pipe', 'ignore'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.on('error', reject)
    p.stdin.end(JSON.stringify(conf))
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0) reject(new Error(`${command} ${containerID}: ${out}`))
      else resolve(ms)
    })
  })
}

async function pool(n, width, job) {
  const lat = new Array(n)
  let next = 0
  const t0 = Date.now()
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      const i = next++
      lat[i] = await job(i)
    }
  }))
  return { lat, wall: Date.now() - t0 }
}

const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y)
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]
}

async function startEtcd() {
  mkdirSync(WORK, { recursive: true })
  etcd = spawn('/usr/bin/etcd', [
    '--name', 'b0', '--data-dir', join(WORK, 'etcd'),
    '--listen-client-urls', EP, '--advertise-client-urls', EP,
    '--listen-peer-urls', `http://127.0.0.1:${PORT + 1}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${PORT + 1}`,
    '--initial-cluster', `b0=http://127.0.0.1:${PORT + 1}`, '--log-level', 'error',
  ], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${EP}/v3/kv/range`, { method: 'POST', body: '{"key":"AA=="}' })
      if (r.ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('etcd did not start')
}

const etcdConf = (node, level) => ({
  cniVersion: '1.1.0', name: `bench${level}`,
  ipam: { type: 'etcd-ipam', endpoints: [EP], nodeName: `node${node}`, dataDir: join(WORK, 'hints'), ranges: [[{ subnet: '10.64.0.0/16' }]] },
})
const hlConf = (level) => ({
  cniVersion: '1.1.0', name: `bench${level}`,
  ipam: { type: 'host-local', dataDir: join(WORK, 'host-local'), ranges: [[{ subnet: '10.64.0.0/16' }]] },
})

async function level(width) {
  const n = width === 1 ? ADDS_SERIAL : ADDS
  const out = {}
  // Interleaved: host-local first on odd levels, etcd-ipam first on even ones.
  const order = width === 10 ? ['etcd-ipam', 'host-local'] : ['host-local', 'etcd-ipam']
  for (const impl of order) {
    const file = join(BIN, impl)
    const conf = (i) => (impl === 'etcd-ipam' ? etcdConf(i % NODES, width) : hlConf(width))
    const r = await pool(n, width, (i) => run(file, 'ADD', conf(i), `b${width}-${i}`))
    out[impl] = { p50: pct(r.lat, 0.5), p99: pct(r.lat, 0.99), wall: r.wall, perSec: (n * 1000) / r.wall, n }
    await pool(n, Math.max(width, 10), (i) => run(file, 'DEL', conf(i), `b${width}-${i}`))
  }
  return out
}

await startEtcd()
console.log(`etcd-ipam vs host-local, one ADD process each, ${NODES} etcd-ipam nodes; ${new Date().toISOString()}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`)
console.log('concurrent  impl        ADDs   p50 ms   p99 ms   ADD/s   wall s')
const results = {}
for (const width of [1, 10, 50]) {
  results[width] = await level(width)
  for (const impl of ['host-local', 'etcd-ipam']) {
    const r = results[width][impl]
    console.log(`${String(width).padStart(10)}  ${impl.padEnd(10)} ${String(r.n).padStart(5)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.perSec.toFixed(0).padStart(7)} ${(r.wall / 1000).toFixed(1).padStart(8)}`)
  }
  const ratio = results[width]['etcd-ipam'].p99 / results[width]['host-local'].p99
  console.log(`${''.padStart(10)}  p99 etcd-ipam / host-local = ${ratio.toFixed(2)}x (target < 2x)`)
}
const w = results[50]['etcd-ipam']
console.log(`${w.n} etcd-ipam ADDs across ${NODES} nodes, 50 at once: ${(w.wall / 1000).toFixed(1)} s wall (target < 60 s)`)
process.exit(0)
