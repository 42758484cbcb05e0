import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'
import { CaseFailure, CaseSkip, type PluginName } from './case'
import { type Execution, execPlugin } from './exec'
import { createNetns, deleteNetns, runIn } from './netns'

export interface Attachment {
  containerID?: string
  netns?: string
  ifName?: string
  args?: string
  path?: string
}

export interface ExecRequest {
  /** Which plugin of the directory; default: the case's plugin. */
  plugin?: PluginName
  command: string
  /** CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH; CNI_PATH defaults to the plugin dir. */
  attach?: Attachment
  /** Raw variables on top (undefined removes one). */
  env?: Record<string, string | undefined>
  stdin: object | string
  /** The fake host namespace to run in (bridge); default: where the harness runs. */
  hostNetns?: string
}

/**
 * Everything a case needs: the plugin under test, the spec version to speak to it, fresh
 * namespaces and directories (all removed after the case, whatever happened), and expectations.
 */
export class CaseContext {
  private readonly cleanups: Array<() => void> = []

  constructor(
    readonly plugin: PluginName,
    readonly pluginDir: string,
    /** The newest version the plugin supports: what cases speak unless they need another. */
    readonly version: string,
    readonly supportedVersions: readonly string[],
  ) {}

  file(plugin: PluginName = this.plugin): string {
    return path.join(this.pluginDir, plugin)
  }

  supports(version: string): boolean {
    return this.supportedVersions.includes(version)
  }

  /** The version cases speak is `version` or newer. */
  atLeast(version: string): boolean {
    const a = this.version.split('.').map(Number)
    const b = version.split('.').map(Number)
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0)
    return true
  }

  /** A fresh network namespace path, deleted after the case. */
  netns(): string {
    const ns = createNetns()
    this.cleanups.push(() => deleteNetns(ns.name))
    return ns.path
  }

  /** A fresh directory (IPAM data dir, files), removed after the case. */
  tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnit-'))
    this.cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  /** A link name nobody else uses (bridges of concurrent cases never collide). */
  uniqueName(prefix: string): string {
    return `${prefix}${randomBytes(3).toString('hex')}`
  }

  onCleanup(fn: () => void): void {
    this.cleanups.push(fn)
  }

  exec(req: ExecRequest): Promise<Execution> {
    const a = req.attach ?? {}
    const env: Record<string, string | undefined> = {
      CNI_COMMAND: req.command,
      CNI_CONTAINERID: a.containerID,
      CNI_NETNS: a.netns,
      CNI_IFNAME: a.ifName,
      CNI_ARGS: a.args,
      CNI_PATH: a.path ?? this.pluginDir,
      ...req.env,
    }
    const stdin = typeof req.stdin === 'string' ? req.stdin : JSON.stringify(req.stdin)
    return execPlugin(this.file(req.plugin), { env, stdin, ...(req.hostNetns ? { netns: req.hostNetns } : {}) })
  }

  /** Runs a command in a namespace for reading state (ip, iptables, nft). */
  inNetns(netnsPath: string, cmd: string, args: string[]): string {
    return runIn(netnsPath, cmd, args)
  }

  expect(ok: unknown, message: string, seen?: unknown): void {
    if (!ok) throw new CaseFailure(message, seen)
  }

  /** The execution succeeded (exit 0). */
  expectSuccess(e: Execution, what: string): void {
    this.expect(e.code === 0, `${what}: expected success, got exit ${e.code}`, e.stdout || e.stderr)
  }

  /**
   * The execution failed the CNI way: non-zero exit and an error object on stdout; with `code`,
   * that code.
   */
  expectError(e: Execution, what: string, code?: number): void {
    this.expect(e.code !== 0, `${what}: expected an error, got exit 0`, e.stdout)
    const obj = e.json
    this.expect(
      obj && typeof obj === 'object' && Number.isInteger(obj.code) && typeof obj.msg === 'string',
      `${what}: stdout is not a CNI error object {code, msg}`,
      e.stdout || e.stderr,
    )
    if (code !== undefined) this.expect(obj.code === code, `${what}: expected error code ${code}, got ${obj.code} (${obj.msg})`)
  }

  skip(reason: string): never {
    throw new CaseSkip(reason)
  }

  cleanup(): void {
    while (this.cleanups.length) {
      try {
        this.cleanups.pop()?.()
      } catch {
        // best effort: one failing cleanup must not keep the others from running
      }
    }
  }
}
