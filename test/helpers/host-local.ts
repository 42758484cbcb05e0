/**
 * Fixtures for host-local tests: temporary data directories, configs, and runs of the plugin
 * executable (ours or the Go reference) the way a runtime runs it. host-local never enters a
 * namespace, so CNI_NETNS is a path that need not exist.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { native } from '../../lib/native'
import { BIN_DIR, REF_DIR, runPlugin, type PluginRun } from './plugin'

export const OURS = path.join(BIN_DIR, 'host-local')
export const REF = path.join(REF_DIR, 'host-local')
export const HAVE_REF = fs.existsSync(REF)
/** Host-local does not look at CNI_NETNS; any path will do. */
export const FAKE_NETNS = '/var/run/netns/tscni-t-unused'

/** What the helpers need of a (sub)test. */
export type Tap = { teardown(fn: () => unknown): void }

/** A fresh `<tmpdir>/tscni-t-<label>-XXXXXX`, removed at teardown. */
export function tmpDir(t: Tap, label = 'hl'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tscni-t-${label}-`))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A network config for host-local with `ipam` merged over {type, dataDir}; cniVersion null omits it. */
export function hlConf(dataDir: string, ipam: object, extra: object = {}, cniVersion: string | null = '1.0.0'): Record<string, unknown> {
  const conf: Record<string, unknown> = { name: 'hlnet', type: 'bridge', ipam: { type: 'host-local', dataDir, ...ipam }, ...extra }
  if (cniVersion !== null) conf.cniVersion = cniVersion
  return conf
}

export interface HlRun {
  command: string
  conf: object | string
  containerID?: string
  ifName?: string
  args?: string
  /** Leave CNI_NETNS unset (DEL without a namespace). */
  noNetns?: boolean
  env?: Record<string, string | undefined>
}

function envOf(o: HlRun, file: string): Record<string, string | undefined> {
  const perVerb = o.command === 'GC' || o.command === 'STATUS'
  return {
    CNI_COMMAND: o.command,
    CNI_CONTAINERID: perVerb ? undefined : (o.containerID ?? 'ctr-1'),
    CNI_NETNS: perVerb || o.noNetns ? undefined : FAKE_NETNS,
    CNI_IFNAME: perVerb ? undefined : (o.ifName ?? 'eth0'),
    CNI_PATH: path.dirname(file),
    CNI_ARGS: o.args,
    ...o.env,
  }
}

/** Runs a host-local executable (default: ours) synchronously. */
export function runHL(o: HlRun, file = OURS): PluginRun {
  return runPlugin(file, { env: envOf(o, file), stdin: o.conf })
}

/** Runs a host-local executable without waiting: for parallel runs. */
export function runHLAsync(o: HlRun, file = OURS): Promise<PluginRun> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }
    for (const [k, v] of Object.entries(envOf(o, file))) if (v !== undefined) env[k] = v
    const child = spawn(file, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      let json: unknown
      try {
        json = stdout ? JSON.parse(stdout) : undefined
      } catch {
        json = undefined
      }
      resolve({ code: code ?? -1, stdout, stderr, json })
    })
    child.stdin.end(typeof o.conf === 'string' ? o.conf : JSON.stringify(o.conf))
  })
}

/** The IP files of a network directory (names that are addresses), sorted. */
export function ipFiles(netDir: string): string[] {
  if (!fs.existsSync(netDir)) return []
  return fs
    .readdirSync(netDir)
    .filter((n) => /^[0-9.]+$|:/.test(n))
    .sort()
}

/** True if flock(LOCK_EX|LOCK_NB) on `lockFile` succeeds right now (nobody holds it). */
export function lockIsFree(lockFile: string): boolean {
  const n = native()
  const fd = fs.openSync(lockFile, fs.constants.O_RDONLY)
  try {
    n.flock(fd, n.LOCK_EX | n.LOCK_NB)
    n.flock(fd, n.LOCK_UN)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EWOULDBLOCK' || code === 'EAGAIN') return false
    throw err
  } finally {
    fs.closeSync(fd)
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
