import * as fs from 'node:fs'
import { spawn } from 'node:child_process'

/** What one plugin execution printed and how it ended. */
export interface Execution {
  code: number
  stdout: string
  stderr: string
  /** stdout as JSON, or undefined when empty or not JSON. */
  json: any
  ms: number
}

export interface ExecOptions {
  /** The variables the runtime would set; undefined values are left out. */
  env: Record<string, string | undefined>
  stdin: string
  /** Run inside this network namespace (a fake host), like a runtime on that host would. */
  netns?: string
  timeoutMs?: number
}

let nsenter: string | undefined

/** nsenter from the harness's own PATH: the plugins' minimal PATH need not reach it. */
function nsenterPath(): string {
  if (nsenter) return nsenter
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir && fs.existsSync(`${dir}/nsenter`)) return (nsenter = `${dir}/nsenter`)
  }
  return (nsenter = 'nsenter')
}

/**
 * Executes a plugin the way a runtime does: a fresh process with the CNI_* variables over a minimal
 * environment, the config on stdin, stdout and stderr collected. Asynchronous, so parallel cases
 * can run several at once.
 */
export function execPlugin(file: string, opts: ExecOptions): Promise<Execution> {
  // A runtime's minimal environment: the tools' directories (iptables, nft), nothing else.
  const env: Record<string, string> = { PATH: '/usr/sbin:/sbin' }
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v
  const [cmd, args] = opts.netns ? [nsenterPath(), [`--net=${opts.netns}`, '--', file]] : [file, []]
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      let json: unknown
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined
      } catch {
        json = undefined
      }
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, json, ms: Date.now() - started })
    })
    child.stdin.on('error', () => {}) // a plugin that never reads stdin (VERSION) may close it first
    child.stdin.end(opts.stdin)
  })
}
