// Start-up benchmark: median whole-process time of `loopback` VERSION and ADD against the
// `node -e 0` floor, measured in the same interleaved run. Run as root after `npm run build`.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeNetns, removeAllNetns } from './netns.mjs'
import { measure, printRows, runtimeEnv } from './measure.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'dist', 'bin')
const rounds = Number(process.env.BENCH_ROUNDS ?? 40)
if (!existsSync(join(bin, 'loopback'))) throw new Error('run `npm run build` first')

const ns = makeNetns('startup')
const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'bench', type: 'loopback' })
const cniEnv = (command) => runtimeEnv({
  CNI_COMMAND: command, CNI_CONTAINERID: 'bench', CNI_NETNS: ns.path, CNI_IFNAME: 'lo', CNI_PATH: bin,
})

const variants = [
  { name: 'node -e 0 (floor)', cmd: [process.execPath, '-e', '0'], env: runtimeEnv() },
  { name: 'loopback VERSION', cmd: [join(bin, 'loopback')], env: cniEnv('VERSION'), input: conf },
  { name: 'loopback ADD', cmd: [join(bin, 'loopback')], env: cniEnv('ADD'), input: conf },
]
const ref = '/usr/lib/cni/loopback'
if (existsSync(ref)) {
  // The Debian reference speaks spec <= 1.0.0: same work, its newest version.
  const refConf = JSON.stringify({ cniVersion: '1.0.0', name: 'bench', type: 'loopback' })
  variants.push({ name: 'reference loopback ADD (Go)', cmd: [ref], env: cniEnv('ADD'), input: refConf })
}

try {
  const rows = measure(variants, { rounds, baseline: variants[0].name })
  printRows(`loopback start-up, ${rounds} interleaved rounds, ${process.version}, NODE_EXTRA_CA_CERTS unset`, rows, 'floor')
  const add = rows.find((r) => r.name === 'loopback ADD')
  console.log(`\nloopback ADD / node -e 0 = ${add.ratio.toFixed(2)} (target <= 1.6)`)
} finally {
  removeAllNetns()
}
