/**
 * Running the packet-filter tools (iptables, ip6tables, nft): always an argument array, never a
 * shell string, found on PATH and then in the usual sbin/bin directories (runtimes often give
 * plugins a minimal PATH). Input, when there is some, goes on stdin (nft batches go as an argument
 * instead, see nftables.ts). Asynchronous, so the IPv4 and IPv6 tables can be programmed at the same
 * time. Never call these inside a `Netns.runSync()` window: the child would be born in that
 * namespace. iptables.ts and nftables.ts build on this; plugins use those, not this file.
 */
import { fs } from '../native/fs'
import { SpawnError, spawnFile } from '../native/spawn'

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

/**
 * A tool that ran and failed, worded like go-iptables: `running [<tool> <args>]: exit status N:
 * <stderr, else stdout, trimmed>`. `args` is what the caller chose to show (iptables.ts leaves out
 * `--wait`).
 */
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
    const file = `${dir.replace(/\/+$/, '')}/${tool}`
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

/** Runs `tool args...`; resolves with whatever exit status it had. Rejects only when it cannot start. */
export async function runTool(tool: string, args: readonly string[], input?: string): Promise<ToolResult> {
  const file = findTool(tool)
  if (!file) throw new ToolMissingError(tool, 'executable file not found in $PATH')
  try {
    const r = await spawnFile(file, args, { env: process.env, input })
    return { code: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') }
  } catch (err) {
    if (err instanceof SpawnError) throw new ToolMissingError(tool, err.message)
    throw err
  }
}

/** runTool, throwing ToolError on a non-zero exit. */
export async function runToolOk(tool: string, args: readonly string[], input?: string): Promise<ToolResult> {
  const r = await runTool(tool, args, input)
  if (r.code !== 0) throw new ToolError(tool, args, r)
  return r
}
