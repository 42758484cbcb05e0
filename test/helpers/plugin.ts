import { spawnSync } from 'node:child_process'
import * as path from 'node:path'

/** dist/bin: the built executable and its plugin symlinks, used as CNI_PATH (tests run after `npm run build`). */
export const BIN_DIR = path.join(__dirname, '..', '..', 'dist', 'bin')
/**
 * The PATH plugins get in the tests: where iptables and nft live, and no node. The product must
 * run on a host without Node.js, so no test may lean on the one that runs the tests.
 */
export const RUNTIME_PATH = '/usr/sbin:/sbin'
/** Absolute, because RUNTIME_PATH does not reach /usr/bin. */
export const NSENTER = '/usr/bin/nsenter'
/** The Go reference plugins from Debian's containernetworking-plugins. */
export const REF_DIR = '/usr/lib/cni'

export interface PluginRun {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON, or undefined when it is empty or not JSON. */
  json: any
}

export interface RunOptions {
  /** The CNI_* variables (and anything else) the runtime would set. */
  env: Record<string, string | undefined>
  /** The config on stdin: an object is serialized, a string is sent as it is. */
  stdin?: object | string
  /** Path of a namespace to run the plugin in (the test's fake host); default: the current one. */
  hostNetns?: string
}

/**
 * Executes a plugin the way a runtime does: a fresh process, the CNI_* variables on top of a minimal
 * environment (runtimes do not pass the caller's shell environment), the config on stdin.
 */
export function runPlugin(file: string, opts: RunOptions): PluginRun {
  const env: Record<string, string> = { PATH: RUNTIME_PATH }
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v
  const input = typeof opts.stdin === 'string' ? opts.stdin : JSON.stringify(opts.stdin ?? {})
  const [cmd, args] = opts.hostNetns ? [NSENTER, [`--net=${opts.hostNetns}`, '--', file]] : [file, []]
  const r = spawnSync(cmd, args as string[], { env, input, encoding: 'utf8', timeout: 60_000 })
  // A plugin may exit without reading stdin (e.g. on a missing variable): EPIPE on our side is fine.
  if (r.error && !((r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status !== null)) throw r.error
  let json: unknown
  try {
    json = r.stdout ? JSON.parse(r.stdout) : undefined
  } catch {
    json = undefined
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json }
}

/** The CNI_* variables of one attachment. */
export function cniEnv(command: string, a: { containerID?: string; netns?: string; ifName?: string; path?: string; args?: string }) {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: a.containerID,
    CNI_NETNS: a.netns,
    CNI_IFNAME: a.ifName,
    CNI_PATH: a.path ?? BIN_DIR,
    CNI_ARGS: a.args,
  }
}
