import { spawn } from 'node:child_process'
import { goField } from '../json/go-struct'
import { CniError } from '../skel/errors'
import { goQuote } from './go-json'
import { goJsonParse } from './go-json-parse'

/**
 * Finding and executing a plugin, as libcni's pkg/invoke does it: the executable comes from
 * CNI_PATH, its environment is ours plus the CNI_* variables, the request goes to stdin, the
 * result comes back on stdout. A failure becomes a CniError holding the plugin's own code and
 * texts when it printed an error object, and libcni's "netplugin failed..." texts otherwise.
 */

/** The CNI_* variables of one invocation. libcni always sets all six, empty when unused. */
export interface CniEnv {
  CNI_COMMAND: string
  CNI_CONTAINERID: string
  CNI_NETNS: string
  CNI_ARGS: string
  CNI_IFNAME: string
  CNI_PATH: string
}

export interface ExecOptions {
  /** The environment the CNI_* variables are added to; default process.env (as libcni inherits). */
  env?: NodeJS.ProcessEnv
  /** Where a successful plugin's stderr is copied to; default process.stderr. */
  stderr?: NodeJS.WritableStream
  /** Aborting kills the plugin (SIGKILL), as cancelling libcni's context does. */
  signal?: AbortSignal
  /** Pause between retries when the executable is being written (ETXTBSY); default 1 s, as libcni. */
  retryDelayMs?: number
}

/** libcni retries a plugin that is being replaced ("text file busy") this many times, a second apart. */
const ETXTBSY_RETRIES = 5

export { findInPath } from '../skel/find-in-path'

/** What one run printed. */
interface RawRun {
  stdout: Buffer
  stderr: Buffer
  /** Go's text for how the process ended badly ("exit status 1", "signal: killed"), or undefined on success. */
  failure?: string
  /** The spawn itself failed with this errno code. */
  spawnError?: string
}

/**
 * Runs the plugin at `pluginPath` with `stdin` and the CNI_* variables; resolves with its stdout.
 * Rejects with a CniError as libcni's RawExec builds it:
 * - stdout holds an error object: its code, msg and details;
 * - stdout is something else: `netplugin failed but error parsing its diagnostic message "<stdout>": <why>`;
 * - stdout is empty: `netplugin failed: "<stderr>": exit status N`, or `... with no error message: ...`.
 * On success the plugin's stderr is copied to ours; on failure it only appears in the message.
 */
export async function execPlugin(pluginPath: string, stdin: Buffer | string, cniEnv: CniEnv, opts: ExecOptions = {}): Promise<Buffer> {
  const env = { ...(opts.env ?? process.env), ...cniEnv }
  let run: RawRun
  for (let attempt = 0; ; attempt++) {
    run = await runOnce(pluginPath, stdin, env, opts.signal)
    if (run.spawnError !== 'ETXTBSY' || attempt >= ETXTBSY_RETRIES) break
    await sleep(opts.retryDelayMs ?? 1000, opts.signal)
  }
  if (run.failure !== undefined) throw pluginError(run)
  if (run.stderr.length > 0) (opts.stderr ?? process.stderr).write(run.stderr)
  return run.stdout
}

function runOnce(file: string, stdin: Buffer | string, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined): Promise<RawRun> {
  return new Promise((resolve) => {
    const out: Buffer[] = []
    const err: Buffer[] = []
    let settled = false
    const finish = (r: Omit<RawRun, 'stdout' | 'stderr'>) => {
      if (settled) return
      settled = true
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), ...r })
    }
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(file, [], { env, stdio: ['pipe', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' })
    } catch (e) {
      // Some exec failures (ETXTBSY among them) are thrown rather than emitted.
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown'
      finish({ failure: `fork/exec ${file}: ${SPAWN_ERRNO_TEXT[code] ?? (e as Error).message}`, spawnError: code })
      return
    }
    child.stdout?.on('data', (c: Buffer) => out.push(c))
    child.stderr?.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        // The exec itself failed: Go reports it as "fork/exec <path>: <reason>".
        finish({ failure: `fork/exec ${file}: ${SPAWN_ERRNO_TEXT[e.code ?? ''] ?? e.message}`, spawnError: e.code ?? 'unknown' })
      }
      // Otherwise (an abort) 'close' follows with the signal.
    })
    child.on('close', (code, sig) => {
      if (sig) finish({ failure: `signal: ${SIGNAL_TEXT[sig] ?? sig}` })
      else if (code !== 0) finish({ failure: `exit status ${code}` })
      else finish({})
    })
    // A plugin may exit without reading its stdin: EPIPE is its business, not ours.
    child.stdin?.on('error', () => {})
    child.stdin?.end(stdin)
  })
}

function pluginError(run: RawRun): CniError {
  if (run.stdout.length === 0) {
    if (run.stderr.length === 0) return new CniError(0, `netplugin failed with no error message: ${run.failure}`)
    return new CniError(0, `netplugin failed: ${goQuote(run.stderr.toString('utf8'))}: ${run.failure}`)
  }
  const text = run.stdout.toString('utf8')
  try {
    return decodeErrorObject(text)
  } catch (err) {
    return new CniError(0, `netplugin failed but error parsing its diagnostic message ${goQuote(text)}: ${(err as Error).message}`)
  }
}

/**
 * A plugin's error object, read like Go's types.Error: keys case-insensitive, `code` an unsigned
 * integer, `msg`/`details` strings, anything else ignored; `null` is an empty error.
 */
export function decodeErrorObject(text: string): CniError {
  const value = goJsonParse(text)
  if (value === null) return new CniError(0, '')
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value} into Go value of type types.Error`)
  }
  const obj = value as Record<string, unknown>
  const code = goField(obj, 'code') ?? 0
  const msg = goField(obj, 'msg') ?? ''
  const details = goField(obj, 'details') ?? ''
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0) {
    throw new Error(`json: cannot unmarshal ${typeof code === 'number' ? `number ${code}` : typeof code} into Go struct field Error.code of type uint`)
  }
  if (typeof msg !== 'string') throw new Error(`json: cannot unmarshal ${typeof msg} into Go struct field Error.msg of type string`)
  if (typeof details !== 'string') throw new Error(`json: cannot unmarshal ${typeof details} into Go struct field Error.details of type string`)
  return new CniError(code, msg, details || undefined)
}

const SPAWN_ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOEXEC: 'exec format error',
  ETXTBSY: 'text file busy',
  EISDIR: 'is a directory',
  ENOMEM: 'cannot allocate memory',
  E2BIG: 'argument list too long',
}

/** Go's names for the signals a plugin may die of ("signal: killed"). */
const SIGNAL_TEXT: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGQUIT: 'quit',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGBUS: 'bus error',
  SIGPIPE: 'broken pipe',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })
}
