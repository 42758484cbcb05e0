/**
 * Running the netfilter tools (iptables, ip6tables, nft): always an argument array, never a shell
 * string; input, when there is some, goes on stdin (a socketpair, not a pipe: tools that open
 * /dev/stdin by path cannot read it, see nftables.ts). Asynchronous, so the IPv4 and IPv6 tables can be
 * programmed at the same time. Never call these inside a `Netns.runSync()` window: the child would
 * be born in that namespace (and the window must stay synchronous anyway).
 */
import type * as ChildProcess from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export interface ToolResult {
  /** Exit status; -1 when killed by a signal. */
  code: number
  stdout: string
  stderr: string
}

/** The tool could not be started at all (not installed, not executable). */
export class ToolMissingError extends Error {
  override readonly name = 'ToolMissingError'
  constructor(
    readonly tool: string,
    detail: string,
  ) {
    super(`could not run ${tool}: ${detail}`)
  }
}

/** A tool that ran and failed. The message is what it printed, as go-iptables/knftables report it. */
export class ToolError extends Error {
  override readonly name = 'ToolError'
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly result: ToolResult,
  ) {
    const out = (result.stderr || result.stdout).trim()
    super(`running [${tool} ${args.join(' ')}]: exit status ${result.code}: ${out}`)
  }
}

// Runtimes often exec plugins with a minimal PATH (or none); the tools live in sbin.
const FALLBACK_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
const resolved = new Map<string, string | null>()

/** The absolute path of `tool` from PATH, then the usual sbin/bin directories; null when absent. */
export function findTool(tool: string): string | null {
  const cached = resolved.get(tool)
  if (cached !== undefined) return cached
  const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), ...FALLBACK_DIRS]
  let found: string | null = null
  for (const dir of dirs) {
    const file = path.join(dir, tool)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      if (fs.statSync(file).isFile()) {
        found = file
        break
      }
    } catch {
      // not here
    }
  }
  resolved.set(tool, found)
  return found
}

let childProcess: typeof ChildProcess | undefined
function cp(): typeof ChildProcess {
  // Loaded on first use: a plugin run without ipMasq/macspoofchk never pays for it.
  childProcess ??= require('node:child_process') as typeof ChildProcess
  return childProcess
}

/** Runs `tool args...`; resolves with whatever exit status it had. Rejects only when it cannot start. */
export function runTool(tool: string, args: readonly string[], input?: string): Promise<ToolResult> {
  const file = findTool(tool)
  if (!file) return Promise.reject(new ToolMissingError(tool, 'executable file not found in $PATH'))
  return new Promise((resolve, reject) => {
    const child = cp().spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: process.env })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', (e: NodeJS.ErrnoException) => reject(new ToolMissingError(tool, e.message)))
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })
    child.stdin.on('error', () => {}) // a tool that exits without reading stdin: EPIPE is not our error
    child.stdin.end(input ?? '')
  })
}

/** runTool, throwing ToolError on a non-zero exit. */
export async function runToolOk(tool: string, args: readonly string[], input?: string): Promise<ToolResult> {
  const r = await runTool(tool, args, input)
  if (r.code !== 0) throw new ToolError(tool, args, r)
  return r
}
