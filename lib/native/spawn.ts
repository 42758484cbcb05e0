/**
 * Running another program with an argument array (never a shell), its output collected. Bun's
 * native spawn in the executable; node:child_process under Node (which costs ~1.4 ms to load under
 * Bun).
 */
export interface SpawnOptions {
  env: Record<string, string | undefined>
  /** Written to the child's stdin, which is then closed. */
  input?: Uint8Array | string
}

export interface SpawnResult {
  /** Exit status; null when a signal ended it. */
  status: number | null
  /** The signal's name ('SIGKILL') when one ended it. */
  signal: string | null
  stdout: Buffer
  stderr: Buffer
}

/** The program could not be started (ENOENT, EACCES, ETXTBSY...): `.code` holds the errno name. */
export class SpawnError extends Error {
  override readonly name = 'SpawnError'
  constructor(
    readonly file: string,
    readonly code: string,
    reason: string,
  ) {
    super(`fork/exec ${file}: ${reason}`)
  }
}

interface BunSubprocess {
  exitCode: number | null
  signalCode: string | null
  stdout: Buffer | ReadableStream<Uint8Array>
  stderr: Buffer | ReadableStream<Uint8Array>
  exited: Promise<number>
}
interface BunSpawnOptions {
  cmd: string[]
  env: Record<string, string | undefined>
  stdin: Uint8Array | 'ignore'
  stdout: 'pipe'
  stderr: 'pipe'
}
declare const Bun:
  | { spawnSync(o: BunSpawnOptions): BunSubprocess; spawn(o: BunSpawnOptions): BunSubprocess }
  | undefined

// Go's (and glibc's) texts for what exec fails with.
const EXEC_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ETXTBSY: 'text file busy',
  ENOEXEC: 'exec format error',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
}

function spawnError(file: string, err: unknown): SpawnError {
  const e = err as { code?: unknown; message?: string }
  const code = typeof e?.code === 'string' ? e.code : 'EIO'
  return new SpawnError(file, code, EXEC_TEXT[code] ?? e?.message ?? code)
}

function stdinOf(input: Uint8Array | string | undefined): Uint8Array {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : (input ?? new Uint8Array(0))
}

/** Runs `file args...` to completion. Throws SpawnError only when it cannot start. */
export function spawnSyncFile(file: string, args: readonly string[], opts: SpawnOptions): SpawnResult {
  if (typeof Bun !== 'undefined') {
    let p: BunSubprocess
    try {
      p = Bun.spawnSync({ cmd: [file, ...args], env: opts.env, stdin: stdinOf(opts.input), stdout: 'pipe', stderr: 'pipe' })
    } catch (err) {
      throw spawnError(file, err)
    }
    return { status: p.exitCode, signal: p.signalCode, stdout: p.stdout as Buffer, stderr: p.stderr as Buffer }
  }
  const cp = require('node:child_process') as typeof import('node:child_process')
  const r = cp.spawnSync(file, args, { env: opts.env, input: stdinOf(opts.input), maxBuffer: 256 * 1024 * 1024 })
  const err = r.error as NodeJS.ErrnoException | undefined
  // A child that exits without reading all of stdin: its answer still counts (as in Go's exec).
  if (err && !(err.code === 'EPIPE' && (r.status !== null || r.signal !== null))) throw spawnError(file, err)
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

async function drain(s: Buffer | ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.isBuffer(s) ? s : Buffer.from(await new Response(s).arrayBuffer())
}

/**
 * Runs `file args...` without blocking, so several tools can run at once (the IPv4 and IPv6
 * tables). Rejects with SpawnError only when it cannot start.
 */
export async function spawnFile(file: string, args: readonly string[], opts: SpawnOptions): Promise<SpawnResult> {
  if (typeof Bun !== 'undefined') {
    let p: BunSubprocess
    try {
      p = Bun.spawn({ cmd: [file, ...args], env: opts.env, stdin: stdinOf(opts.input), stdout: 'pipe', stderr: 'pipe' })
    } catch (err) {
      throw spawnError(file, err)
    }
    const [stdout, stderr] = await Promise.all([drain(p.stdout), drain(p.stderr), p.exited])
    return { status: p.exitCode, signal: p.signalCode, stdout, stderr }
  }
  const cp = require('node:child_process') as typeof import('node:child_process')
  return new Promise((resolve, reject) => {
    const child = cp.spawn(file, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const errOut: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => errOut.push(c))
    child.on('error', (e) => reject(spawnError(file, e)))
    child.on('close', (status, signal) => resolve({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(errOut) }))
    child.stdin.on('error', () => {}) // a tool that exits without reading stdin: EPIPE is not our error
    child.stdin.end(stdinOf(opts.input))
  })
}
