// `npm run demo`: two "containers" (network namespaces) attached to a bridge network with cnitool,
// pinging each other, checked, detached, and everything removed again, also on Ctrl-C or failure.
//
// Nothing touches the real host network: the bridge lives in a third namespace that plays the host
// (cnitool runs inside it through nsenter), IPAM state and the result cache live in a temp dir.
// Namespaces are named tscni-demo-<pid>-{host,a,b}; leftovers of a killed run are swept at start.
//
// For tests: TSCNI_DEMO_CNI_PATH replaces dist/bin as the plugin directory.
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const cnitool = path.join(dist, 'cnitool')
const cniPath = process.env.TSCNI_DEMO_CNI_PATH || path.join(dist, 'bin')
const NETNS_PREFIX = 'tscni-demo-'
const NETWORK = 'tscni-demo'
const ns = { host: `${NETNS_PREFIX}${process.pid}-host`, a: `${NETNS_PREFIX}${process.pid}-a`, b: `${NETNS_PREFIX}${process.pid}-b` }
const nsPath = (name) => `/run/netns/${name}`

const made = { netns: [], tempDir: undefined }
let child // the command running now, killed on Ctrl-C
let cleaning

// ---- output ----
const say = (text = '') => process.stdout.write(`${text}\n`)
const indent = (text) => text.trimEnd().split('\n').map((l) => `     ${l}`).join('\n')
let stepNo = 0
const step = (text) => say(`\n${++stepNo}. ${text}`)

class DemoError extends Error {}

// ---- running commands ----
/** Runs a command, resolving with its output; rejects with a readable error when it fails. */
function run(cmd, args, { env, allowFail = false, inherit = true } = {}) {
  return new Promise((resolve, reject) => {
    child = spawn(cmd, args, { env: inherit ? { ...process.env, ...env } : env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.on('error', (err) => reject(new DemoError(`cannot run ${cmd}: ${err.message}`)))
    child.on('close', (code, signal) => {
      child = undefined
      if (code === 0 || allowFail) resolve({ code, stdout, stderr })
      else reject(new DemoError(`${[cmd, ...args].join(' ')} failed (${signal ?? `exit ${code}`}): ${(stderr || stdout).trim()}`))
    })
  })
}

/**
 * cnitool run the way a container runtime would, on the demo "host" (inside its namespace), with a
 * runtime's minimal environment: the tools' PATH and no Node.js, which the product does not need.
 * (STUB_DIR passes through for the demo's own test, whose stub plugins log there.)
 */
function cnitoolOnHost(args, env) {
  const runtimeEnv = { PATH: '/usr/sbin:/sbin', ...(process.env.STUB_DIR ? { STUB_DIR: process.env.STUB_DIR } : {}), ...env }
  return run(whichOnPath('nsenter'), [`--net=${nsPath(ns.host)}`, '--', cnitool, ...args], { env: runtimeEnv, inherit: false })
}

// ---- set-up checks ----
function checkPrerequisites() {
  if (process.getuid?.() !== 0) throw new DemoError('the demo creates network namespaces: run it as root (sudo npm run demo)')
  const missing = () => ['ip', 'nsenter', 'ping', 'cc'].filter((tool) => !onPath(tool))
  if (missing().length === 0) return
  // A fresh Debian machine lacks some of these: install them the way CI does.
  say(`Installing what the demo needs (${missing().join(', ')} missing): scripts/install-deps.sh`)
  spawnSync('bash', [path.join(root, 'scripts', 'install-deps.sh')], { stdio: 'inherit' })
  const still = missing()
  if (still.length) throw new DemoError(`${still.join(', ')} could not be installed (Debian: apt-get install iproute2 util-linux iputils-ping gcc)`)
}

/** The absolute path of `tool` in one of PATH's directories, or undefined. */
function whichOnPath(tool) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = path.join(dir || '.', tool)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

const onPath = (tool) => whichOnPath(tool) !== undefined

function ensureBuilt() {
  const needed = [cnitool, ...(process.env.TSCNI_DEMO_CNI_PATH ? [] : ['bridge', 'host-local'].map((p) => path.join(cniPath, p)))]
  if (needed.every((f) => fs.existsSync(f))) return
  say('Building tscni first (npm run build)...')
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' })
  if (r.status !== 0) throw new DemoError('the build failed')
  const missing = needed.filter((f) => !fs.existsSync(f))
  if (missing.length) {
    throw new DemoError(`the demo needs ${missing.map((f) => path.relative(root, f)).join(' and ')}, which this checkout does not build yet`)
  }
}

/** Deletes demo namespaces left by a run that was killed (its pid is gone). */
function sweepStale() {
  let names = []
  try {
    names = fs.readdirSync('/run/netns').filter((n) => n.startsWith(NETNS_PREFIX))
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(/^tscni-demo-(\d+)-/.exec(name)?.[1])
    if (pid && pid !== process.pid && isAlive(pid)) continue
    spawnSync('ip', ['netns', 'del', name])
    say(`(removed ${name}, left behind by an earlier run)`)
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

// ---- the network config ----
/**
 * A bridge + host-local conflist: the first such example in examples/netconf/ if there is one,
 * else our own. Either way IPAM state goes to the temp dir, never to /var/lib/cni.
 */
function networkConfig(dataDir) {
  const examples = path.join(root, 'examples', 'netconf')
  let files = []
  try {
    files = fs.readdirSync(examples).filter((f) => f.endsWith('.conflist')).sort()
  } catch {
    // no examples yet
  }
  for (const file of files) {
    try {
      const conf = JSON.parse(fs.readFileSync(path.join(examples, file), 'utf8'))
      const bridge = conf.plugins?.find((p) => p.type === 'bridge')
      if (bridge?.ipam?.type !== 'host-local' || conf.plugins.some((p) => !['bridge', 'loopback', 'host-local'].includes(p.type))) continue
      bridge.ipam.dataDir = dataDir
      return { conf, source: `from examples/netconf/${file}, dataDir moved to the temp dir`, bridge: bridge.bridge || 'cni0' }
    } catch {
      // not usable: try the next one
    }
  }
  const conf = {
    cniVersion: '1.1.0',
    name: NETWORK,
    plugins: [
      { type: 'bridge', bridge: 'tscni-demo0', isGateway: true, ipam: { type: 'host-local', subnet: '10.88.0.0/24', dataDir } },
    ],
  }
  return { conf, source: 'built in: examples/netconf/ has no bridge + host-local conflist yet', bridge: 'tscni-demo0' }
}

/** The container's IPv4 address from an ADD result (the address on the interface inside the namespace). */
function containerAddress(result) {
  const sandboxIdx = (result.interfaces ?? []).findIndex((i) => i.sandbox)
  const ips = (result.ips ?? []).filter((ip) => !ip.address.includes(':'))
  const ip = ips.find((i) => i.interface === sandboxIdx) ?? ips[0]
  if (!ip) throw new DemoError(`the ADD result has no IPv4 address: ${JSON.stringify(result)}`)
  return ip.address
}

// ---- the demo ----
async function demo() {
  checkPrerequisites()
  ensureBuilt()
  say('tscni demo: two containers on a bridge network')
  say('Everything happens in network namespaces named tscni-demo-*; your host network is not touched.')
  sweepStale()

  step('Creating three network namespaces')
  for (const name of [ns.host, ns.a, ns.b]) {
    await run('ip', ['netns', 'add', name])
    made.netns.push(name)
  }
  say(`   ${ns.host}  plays the host (the bridge will live here)`)
  say(`   ${ns.a}     container A`)
  say(`   ${ns.b}     container B`)

  made.tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-demo-'))
  const netconfDir = path.join(made.tempDir, 'net.d')
  fs.mkdirSync(netconfDir)
  const { conf, source, bridge } = networkConfig(path.join(made.tempDir, 'ipam'))
  const network = conf.name
  fs.writeFileSync(path.join(netconfDir, '10-demo.conflist'), `${JSON.stringify(conf, null, 2)}\n`)
  // Set every variable cnitool reads, so nothing from the caller's shell leaks in.
  const env = { NETCONFPATH: netconfDir, CNI_PATH: cniPath, CNI_CACHE_DIR: path.join(made.tempDir, 'cache'), CNI_IFNAME: 'eth0', CNI_ARGS: '', CAP_ARGS: '' }
  step(`Network config "${network}" (${source})`)
  say(indent(JSON.stringify(conf, null, 2)))
  say(`   NETCONFPATH=${netconfDir}  CNI_PATH=${cniPath}`)

  const addrs = {}
  for (const [key, name] of [['a', ns.a], ['b', ns.b]]) {
    step(`Attaching container ${key.toUpperCase()}: cnitool add ${network} ${nsPath(name)}`)
    const { stdout } = await cnitoolOnHost(['add', network, nsPath(name)], env)
    addrs[key] = containerAddress(JSON.parse(stdout))
    say(`   container ${key.toUpperCase()} got eth0 = ${addrs[key]} (bridge ${bridge} in the host namespace)`)
  }

  const target = addrs.b.split('/')[0]
  step(`Container A pings container B (${target}) through the bridge`)
  const ping = await run('ip', ['netns', 'exec', ns.a, 'ping', '-c', '3', '-W', '2', target], { allowFail: true })
  say(indent(ping.stdout || ping.stderr))
  if (ping.code !== 0) throw new DemoError(`ping from A to B failed (exit ${ping.code})`)

  step('Checking both attachments: cnitool check')
  for (const name of [ns.a, ns.b]) await cnitoolOnHost(['check', network, nsPath(name)], env)
  say('   both are as ADD left them')

  step('Detaching both: cnitool del')
  for (const name of [ns.a, ns.b]) await cnitoolOnHost(['del', network, nsPath(name)], env)
  say('   interfaces removed, addresses released')
}

/** Removes everything the demo made; safe to call more than once and at any point. */
function cleanup() {
  cleaning ??= (async () => {
    const removed = []
    for (const name of [...made.netns].reverse()) {
      const r = spawnSync('ip', ['netns', 'del', name], { encoding: 'utf8' })
      if (r.status === 0 || !fs.existsSync(nsPath(name))) removed.push(name)
      else process.stderr.write(`could not delete namespace ${name}: ${r.stderr}`)
    }
    if (made.tempDir) fs.rmSync(made.tempDir, { recursive: true, force: true })
    if (removed.length || made.tempDir) {
      step('Cleaning up')
      if (removed.length) say(`   deleted namespaces ${removed.join(', ')} (with them the bridge and the veth pairs)`)
      if (made.tempDir) say(`   deleted ${made.tempDir} (config, IPAM state, result cache)`)
    }
  })()
  return cleaning
}

function onSignal(signal, code) {
  say(`\n${signal}: stopping and cleaning up`)
  child?.kill('SIGTERM')
  cleanup().finally(() => process.exit(code))
}
process.on('SIGINT', () => onSignal('SIGINT', 130))
process.on('SIGTERM', () => onSignal('SIGTERM', 143))

try {
  await demo()
  await cleanup()
  say('\nDone: both containers talked over the bridge, and everything the demo made is gone.')
} catch (err) {
  process.stderr.write(`\ndemo failed: ${err instanceof DemoError ? err.message : err.stack}\n`)
  await cleanup()
  process.exitCode = 1
}
