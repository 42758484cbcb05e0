/**
 * Calling a delegated (IPAM) plugin, as libcni's invoke.Delegate* does: the plugin is looked up in
 * CNI_PATH, gets this process's whole environment with CNI_COMMAND replaced and the very same stdin
 * bytes, its stderr is passed through, and its error object comes back as a CniError with its own
 * code, msg and details.
 *
 * In-process delegates. Executing a plugin costs a process start. When the plugin found in
 * CNI_PATH is the running tscni executable itself (a symlink to it), and the composition root (a
 * plugin's main.ts) registered its verbs here, it runs inside this process instead, through
 * lib/skel's dispatch() with the environment and stdin an exec would get: same code, same store and
 * lock, same result text. Anything else is executed.
 */
import { fs } from '../native/fs'
import { CniError, ErrorCode } from '../skel/errors'
import { type Outcome, type PluginFuncs, type PluginInfo, dispatch } from '../skel/dispatch'
import { type Result, parseResult } from '../skel/result'
import { writeAllSync } from '../skel/stdio'
import { sleepSync } from '../util/sleep'
import { SpawnError, spawnSyncFile } from '../native/spawn'

export type DelegateVerb = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC'

/** Where and how one delegate call runs. */
export interface DelegateOptions {
  /** CNI_PATH, split (CmdArgs.path). */
  paths: readonly string[]
  /** The environment the delegate inherits (default: this process's); CNI_COMMAND is replaced. */
  env?: NodeJS.ProcessEnv
}

import { findInPath } from '../skel/find-in-path'

export { findInPath }

// ---- in-process delegates ----

export interface InProcessDelegate {
  funcs: PluginFuncs
  info: PluginInfo
}

const registry = new Map<string, InProcessDelegate>()

/** Lets `type` run in-process when CNI_PATH resolves it to our own install (see the file comment). */
export function registerInProcessDelegate(type: string, delegate: InProcessDelegate): void {
  registry.set(type, delegate)
}

export function unregisterInProcessDelegate(type: string): void {
  registry.delete(type)
}

function realpathOrUndefined(file: string): string | undefined {
  try {
    return fs.realpathSync(file)
  } catch {
    return undefined
  }
}

/** The running tscni executable's real path; undefined under Node (tests and development). */
function runningExecutable(): string | undefined {
  return process.versions.bun ? process.execPath : undefined
}

/**
 * The registered delegate for `type` if `found` (what CNI_PATH resolved) is the running executable
 * itself (the bin directory's symlinks all point at it): then the delegate is this very code.
 */
export function inProcessDelegateFor(type: string, found: string, self = runningExecutable()): InProcessDelegate | undefined {
  const delegate = registry.get(type)
  if (!delegate || !self) return undefined
  const selfReal = realpathOrUndefined(self)
  if (!selfReal || realpathOrUndefined(found) !== selfReal) return undefined
  return delegate
}

// ---- running one ----

function execFile(file: string, stdin: Buffer, env: NodeJS.ProcessEnv): Outcome {
  for (let attempt = 0; ; attempt++) {
    let r
    try {
      r = spawnSyncFile(file, [], { env, input: stdin })
    } catch (err) {
      // The reference retries a plugin that is being replaced ("text file busy") for up to 5 s.
      if (err instanceof SpawnError && err.code === 'ETXTBSY' && attempt < 5) {
        sleepSync(1000)
        continue
      }
      throw new CniError(ErrorCode.Internal, `netplugin failed with no error message: ${(err as Error).message}`)
    }
    const stderr = r.stderr.toString('utf8')
    const stdout = r.stdout.toString('utf8')
    if (r.status === null) {
      // Killed: report it like Go's exec error, folded in below as "exit status".
      return { stdout, stderr: stderr || `signal: ${r.signal}`, exitCode: -1 }
    }
    return { stdout, stderr, exitCode: r.status }
  }
}

/** invoke's pluginErr: the delegate's error object, or a message built from what it printed. */
function delegateError(outcome: Outcome): CniError {
  const { stdout, stderr, exitCode } = outcome
  if (stdout.length === 0) {
    if (stderr.length === 0) return new CniError(ErrorCode.Internal, `netplugin failed with no error message: exit status ${exitCode}`)
    return new CniError(ErrorCode.Internal, `netplugin failed: ${JSON.stringify(stderr)}`)
  }
  let obj: unknown
  try {
    obj = JSON.parse(stdout)
  } catch (err) {
    return new CniError(
      ErrorCode.Internal,
      `netplugin failed but error parsing its diagnostic message ${JSON.stringify(stdout)}: ${(err as Error).message}`,
    )
  }
  const o = (typeof obj === 'object' && obj !== null ? obj : {}) as { code?: unknown; msg?: unknown; details?: unknown }
  // An error object without a usable code would print as code 0; 999 says "internal" honestly.
  const code = typeof o.code === 'number' && Number.isInteger(o.code) && o.code !== 0 ? o.code : ErrorCode.Internal
  return new CniError(code, typeof o.msg === 'string' ? o.msg : '', typeof o.details === 'string' ? o.details : undefined)
}

/**
 * Runs `type` with CNI_COMMAND=`verb` and `stdin`; returns its stdout. Its stderr goes to ours; a
 * failure is thrown as the delegate's CniError.
 */
export async function execDelegate(type: string, verb: DelegateVerb, stdin: Buffer, opts: DelegateOptions): Promise<string> {
  const file = findInPath(type, opts.paths)
  const env = { ...(opts.env ?? process.env), CNI_COMMAND: verb }
  const inProcess = inProcessDelegateFor(type, file)
  const outcome = inProcess
    ? await dispatch(inProcess.funcs, inProcess.info, {
        env,
        readStdin: () => stdin,
        peekStdin: async () => stdin.toString('utf8'),
      })
    : execFile(file, stdin, env)
  if (outcome.stderr) writeAllSync(2, outcome.stderr)
  if (outcome.exitCode !== 0) throw delegateError(outcome)
  return outcome.stdout
}

/**
 * Delegated ADD: the delegate's result in the current (1.x) shape. A result without cniVersion is
 * read as the config's version (`confVersion`), as libcni does.
 */
export async function delegateAdd(type: string, stdin: Buffer, confVersion: string, opts: DelegateOptions): Promise<Result> {
  const out = await execDelegate(type, 'ADD', stdin, opts)
  let raw: unknown
  try {
    raw = JSON.parse(out)
  } catch (err) {
    throw new Error(`failed to unmarshal raw result: ${(err as Error).message}`)
  }
  if (raw === null) raw = {}
  return parseResult(raw, confVersion)
}

export async function delegateDel(type: string, stdin: Buffer, opts: DelegateOptions): Promise<void> {
  await execDelegate(type, 'DEL', stdin, opts)
}

export async function delegateCheck(type: string, stdin: Buffer, opts: DelegateOptions): Promise<void> {
  await execDelegate(type, 'CHECK', stdin, opts)
}

export async function delegateStatus(type: string, stdin: Buffer, opts: DelegateOptions): Promise<void> {
  await execDelegate(type, 'STATUS', stdin, opts)
}

export async function delegateGc(type: string, stdin: Buffer, opts: DelegateOptions): Promise<void> {
  await execDelegate(type, 'GC', stdin, opts)
}
