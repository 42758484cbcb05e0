/**
 * Real etcd members for the etcd-ipam tests, started and stopped by the tests: 127.0.0.1 only,
 * ports from 23790-23899 (each test file passes its own base so parallel files never collide),
 * data under /run/tscni-test-etcd-<pid>-<port> (never /tmp). Everything is killed and removed at
 * teardown, also when a test fails; a process exit handler catches the rest.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { BIN_DIR, RUNTIME_PATH } from './plugin'

export const ETCD = '/usr/bin/etcd'
export const HAVE_ETCD = fs.existsSync(ETCD)
export const ETCD_IPAM = path.join(BIN_DIR, 'etcd-ipam')

export interface Member {
  name: string
  clientPort: number
  peerPort: number
  url: string
  dataDir: string
  proc?: ChildProcess
  log?: string
}

export interface Cluster {
  members: Member[]
  endpoints: string[]
  /** SIGKILL one member. */
  kill(i: number): void
  stop(i: number): void
  cont(i: number): void
  killAll(): void
}

const live = new Set<ChildProcess>()
const dirs = new Set<string>()
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

export type Tap = { teardown(fn: () => unknown): void }

export interface StartOptions {
  base: number
  size?: number
  /** TLS for clients: files made by the test. */
  tls?: { cert: string; key: string; ca: string; clientCert: string; clientKey: string }
  /**
   * Run the members inside this namespace (a test's own) instead of the real host namespace:
   * peers on its loopback, clients on `clientHosts` (its addresses). Health is checked from inside.
   */
  netns?: string
  clientHosts?: string[]
}

async function healthy(url: string, tls: StartOptions['tls'], deadline: number, log: () => string, netns?: string): Promise<void> {
  for (;;) {
    try {
      if (netns) {
        const r = spawnSync('/usr/bin/nsenter', [`--net=${netns}`, '--', '/usr/bin/etcdctl', '--endpoints', url, '--dial-timeout', '1s', 'endpoint', 'health'], { encoding: 'utf8', env: { ETCDCTL_API: '3' } })
        if (r.status === 0) return
      } else if (!tls) {
        const r = await fetch(`${url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==' }), signal: AbortSignal.timeout(1000) })
        if (r.ok) return
      } else {
        const r = spawnSync('/usr/bin/etcdctl', ['--endpoints', url, '--cacert', tls.ca, '--cert', tls.clientCert, '--key', tls.clientKey, '--dial-timeout', '1s', 'endpoint', 'health'], { encoding: 'utf8', env: { ETCDCTL_API: '3' } })
        if (r.status === 0) return
      }
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${url} did not come up: ${log().slice(-600)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function startCluster(t: Tap, o: StartOptions): Promise<Cluster> {
  const size = o.size ?? 1
  if (o.base < 23790 || o.base + size * 2 > 23899) throw new Error('etcd test ports are 23790-23899')
  const scheme = o.tls ? 'https' : 'http'
  const members: Member[] = []
  for (let i = 0; i < size; i++) {
    const clientPort = o.base + 2 * i
    const dataDir = `/run/tscni-test-etcd-${process.pid}-${clientPort}`
    fs.rmSync(dataDir, { recursive: true, force: true })
    dirs.add(dataDir)
    const hosts = o.clientHosts ?? ['127.0.0.1']
    members.push({ name: `m${i}`, clientPort, peerPort: clientPort + 1, url: hosts.map((h) => `${scheme}://${h}:${clientPort}`).join(','), dataDir })
  }
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',')
  const startOne = (m: Member): void => {
    const args = [
      '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', m.url, '--advertise-client-urls', m.url,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', `tscni-${process.pid}-${o.base}`,
      '--log-level', 'error', '--logger', 'zap', '--heartbeat-interval', '50', '--election-timeout', '500',
      '--enable-pprof=false',
    ]
    if (o.tls) args.push('--cert-file', o.tls.cert, '--key-file', o.tls.key, '--trusted-ca-file', o.tls.ca, '--client-cert-auth')
    // nsenter execs etcd (no --fork): the child's pid is etcd's, so kill() reaches it.
    const [file, argv] = o.netns ? ['/usr/bin/nsenter', [`--net=${o.netns}`, '--', ETCD, ...args]] : [ETCD, args]
    const proc = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: RUNTIME_PATH } })
    m.log = ''
    proc.stderr?.on('data', (d) => (m.log = (m.log + d).slice(-4000)))
    live.add(proc)
    proc.on('exit', () => live.delete(proc))
    m.proc = proc
  }
  members.forEach(startOne)
  const cleanup = async (): Promise<void> => {
    for (const m of members) {
      if (m.proc && m.proc.exitCode === null && m.proc.signalCode === null) {
        m.proc.kill('SIGCONT')
        m.proc.kill('SIGKILL')
        await new Promise((r) => m.proc!.once('exit', r))
      }
      fs.rmSync(m.dataDir, { recursive: true, force: true })
      dirs.delete(m.dataDir)
    }
  }
  t.teardown(cleanup)
  const deadline = Date.now() + 20_000
  await Promise.all(members.map((m) => healthy(m.url.split(',')[0], o.tls, deadline, () => m.log ?? '', o.netns)))
  return {
    members,
    endpoints: members.map((m) => m.url.split(',')[0]),
    kill: (i) => members[i].proc?.kill('SIGKILL'),
    stop: (i) => members[i].proc?.kill('SIGSTOP'),
    cont: (i) => members[i].proc?.kill('SIGCONT'),
    killAll: () => members.forEach((m) => m.proc?.kill('SIGKILL')),
  }
}

/** An etcd-ipam network config; `ipam` is merged over {type, endpoints, nodeName, dataDir}. */
export function ipamConf(endpoints: string[], dataDir: string, ipam: object = {}, extra: object = {}): Record<string, unknown> {
  return {
    cniVersion: '1.1.0',
    name: 'etcdnet',
    type: 'bridge',
    ipam: { type: 'etcd-ipam', endpoints, nodeName: 'node0', dataDir, ranges: [[{ subnet: '10.64.0.0/24' }]], ...ipam },
    ...extra,
  }
}

export interface Run {
  code: number
  stdout: string
  stderr: string
  json: any
  ms: number
}

/** Runs the plugin (the executable) without blocking the event loop. */
export function runIpam(command: string, conf: object, o: { containerID?: string; ifName?: string; args?: string; file?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const perVerb = command === 'GC' || command === 'STATUS'
  const env: Record<string, string> = { PATH: RUNTIME_PATH, CNI_COMMAND: command, CNI_PATH: BIN_DIR }
  if (!perVerb) {
    env.CNI_CONTAINERID = o.containerID ?? 'ctr-1'
    env.CNI_IFNAME = o.ifName ?? 'eth0'
    env.CNI_NETNS = '/var/run/netns/tscni-t-etcd-unused'
  }
  if (o.args) env.CNI_ARGS = o.args
  Object.assign(env, o.env)
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(o.file ?? ETCD_IPAM, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.stdin.on('error', () => {})
    child.on('close', (code, sig) => {
      let json: unknown
      try {
        json = stdout ? JSON.parse(stdout) : undefined
      } catch {
        json = undefined
      }
      resolve({ code: code ?? (sig ? -1 : -1), stdout, stderr, json, ms: Date.now() - start })
    })
    child.stdin.end(JSON.stringify(conf))
  })
}

/** Every key under `prefix` with its value (keys and values decoded), straight from etcd. */
export async function dump(endpoint: string, prefix: string): Promise<Map<string, string>> {
  const b = Buffer.from(prefix)
  const end = Buffer.from(b)
  end[end.length - 1]++
  const r = await fetch(`${endpoint}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: b.toString('base64'), range_end: end.toString('base64') }),
  })
  const j = (await r.json()) as { kvs?: Array<{ key: string; value?: string }> }
  const out = new Map<string, string>()
  for (const kv of j.kvs ?? []) out.set(Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value ?? '', 'base64').toString())
  return out
}

/**
 * The data model's invariants over a dump of one network: every handle's addresses have address
 * keys naming that handle, every address key is named by its handle, every node index key equals
 * its handle. Returns the problems found (empty when consistent) and the handles.
 */
export function consistency(kv: Map<string, string>, base: string): { problems: string[]; handles: Map<string, { ips: string[]; node: string }> } {
  const problems: string[] = []
  const handles = new Map<string, { ips: string[]; node: string; containerID: string; ifname: string }>()
  const ipOwner = new Map<string, string>()
  for (const [k, v] of kv) {
    if (k.startsWith(base + 'handles/')) handles.set(k.slice((base + 'handles/').length), JSON.parse(v))
  }
  for (const [k, v] of kv) {
    if (k.startsWith(base + 'ips/')) {
      const o = JSON.parse(v)
      const h = `${o.containerID}/${o.ifname}`
      ipOwner.set(k, h)
      if (!handles.has(h)) problems.push(`${k} held by ${h}, which has no handle`)
    }
    if (k.startsWith(base + 'nodes/')) {
      const rest = k.slice((base + 'nodes/').length)
      const h = rest.slice(rest.indexOf('/') + 1)
      if (!handles.has(h)) problems.push(`${k} has no handle`)
      else if (JSON.stringify(handles.get(h)) !== v) problems.push(`${k} differs from its handle`)
    }
  }
  const hexKey = (ip: string): string => {
    if (ip.includes(':')) throw new Error('v4 only here')
    return 'ips/v4/' + ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')
  }
  for (const [h, v] of handles) {
    for (const ip of v.ips) {
      if (ip.includes(':')) continue
      const key = base + hexKey(ip)
      if (ipOwner.get(key) !== h) problems.push(`handle ${h} names ${ip}, held by ${ipOwner.get(key) ?? 'nobody'}`)
    }
    if (!kv.has(`${base}nodes/${v.node}/${h}`)) problems.push(`handle ${h} has no node index key`)
  }
  return { problems, handles }
}

/** A fresh hint directory under /run, removed at teardown. */
export function hintDir(t: Tap, label: string): string {
  const dir = fs.mkdtempSync(`/run/tscni-test-etcd-hint-${label}-`)
  dirs.add(dir)
  t.teardown(() => {
    fs.rmSync(dir, { recursive: true, force: true })
    dirs.delete(dir)
  })
  return dir
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
