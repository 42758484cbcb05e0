import { parseResult, type Result } from '../skel/result'
import {
  type CachedAttachment,
  DEFAULT_CACHE_DIR,
  deleteCacheEntry,
  listCachedAttachments,
  readCachedConfig,
  readCachedResult,
  writeCacheEntry,
} from './cache'
import type { NetworkConfigList, PluginConfig } from './conf'
import { JoinedError, RuntimeError, wrapError } from './errors'
import { type CniEnv, execPlugin, type ExecOptions, findInPath } from './exec'
import { goQuote, jsonKind } from './go-json'
import { goJsonParse } from './go-json-parse'
import { attachmentRequest, type GcAttachment, gcRequest, type RuntimeConf, statusRequest } from './request'
import { validateContainerID, validateInterfaceName, validateNetworkName } from '../skel/validate-names'
import { CURRENT_SPEC_VERSION, versionAtLeast } from './versions'
import { probeVersion, type VersionInfo } from './version-info'

export interface RuntimeOptions extends ExecOptions {
  /** Directories searched for plugin executables (CNI_PATH, already split). */
  path: string[]
  /** Where results are cached; default /var/lib/cni (libcni's). */
  cacheDir?: string
}

/**
 * Runs network config lists the way libcni's CNIConfig does (spec 1.1.0 §"Execution of network
 * configurations"):
 * - add: plugins in order, each getting the previous one's result as prevResult; the last result
 *   is cached and returned. No automatic DEL on failure (the caller's duty).
 * - del: plugins in reverse, each with the cached result (lists ≥ 0.4.0); the cache file goes
 *   once all succeeded. A cache that can't be read is removed and DEL goes on without it.
 * - check: refused below 0.4.0, skipped with disableCheck; plugins in order with the cached result.
 * - status: nothing below 1.1.0; plugins in order, the first error returned as the plugin gave it.
 * - gc: skipped with disableGC; DEL of every cached attachment of the network that is not in the
 *   valid set, then GC on every plugin (≥ 1.1.0); every error is collected and reported.
 */
export class CniRuntime {
  readonly path: string[]
  readonly cacheDir: string
  private readonly execOpts: ExecOptions

  constructor(opts: RuntimeOptions) {
    const { path, cacheDir, ...execOpts } = opts
    this.path = path
    this.cacheDir = cacheDir || DEFAULT_CACHE_DIR
    this.execOpts = execOpts
  }

  async add(list: NetworkConfigList, rt: RuntimeConf): Promise<Result> {
    let result: Result | undefined
    for (const plugin of list.plugins) {
      try {
        result = await this.addOne(list, plugin, result, rt)
      } catch (err) {
        throw wrapError(`plugin ${describe(plugin)} failed (add)`, err)
      }
    }
    if (!result) throw new RuntimeError(`network ${goQuote(list.name)} has no plugins`)
    try {
      writeCacheEntry(this.cacheDir, result, list.bytes, list.name, rt)
    } catch (err) {
      throw wrapError(`failed to set network ${goQuote(list.name)} cached result`, err)
    }
    return result
  }

  private async addOne(list: NetworkConfigList, plugin: PluginConfig, prev: Result | undefined, rt: RuntimeConf): Promise<Result> {
    const pluginPath = findInPath(plugin.type, this.path)
    // Checked before anything runs, so a bad name never reaches a plugin (codes 3/4/7 as in libcni).
    validateContainerID(rt.containerId)
    validateNetworkName(list.name)
    validateInterfaceName(rt.ifName)
    const stdin = attachmentRequest(list, plugin, prev, rt)
    const stdout = await execPlugin(pluginPath, stdin, this.env('ADD', rt), this.execOpts)
    return parsePluginResult(stdout, list.cniVersion)
  }

  async check(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    if (!versionAtLeast(list.cniVersion, '0.4.0')) {
      throw new RuntimeError(`configuration version ${goQuote(list.cniVersion)} does not support the CHECK command`)
    }
    if (list.disableCheck) return
    let cached: Result | undefined
    try {
      cached = readCachedResult(this.cacheDir, list.name, list.cniVersion, rt)
    } catch (err) {
      throw wrapError(`failed to get network ${goQuote(list.name)} cached result`, err)
    }
    // libcni returns a CHECK error as the plugin gave it, without naming the plugin.
    for (const plugin of list.plugins) {
      const pluginPath = findInPath(plugin.type, this.path)
      const stdin = attachmentRequest(list, plugin, cached, rt)
      await execPlugin(pluginPath, stdin, this.env('CHECK', rt), this.execOpts)
    }
  }

  async del(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    let cached: Result | undefined
    if (versionAtLeast(list.cniVersion, '0.4.0')) {
      try {
        cached = readCachedResult(this.cacheDir, list.name, list.cniVersion, rt)
      } catch {
        // A cache we cannot use would make every later DEL fail the same way: drop it.
        deleteCacheEntry(this.cacheDir, list.name, rt)
        cached = undefined
      }
    }
    for (const plugin of [...list.plugins].reverse()) {
      try {
        const pluginPath = findInPath(plugin.type, this.path)
        const stdin = attachmentRequest(list, plugin, cached, rt)
        await execPlugin(pluginPath, stdin, this.env('DEL', rt), this.execOpts)
      } catch (err) {
        throw wrapError(`plugin ${describe(plugin)} failed (delete)`, err)
      }
    }
    try {
      deleteCacheEntry(this.cacheDir, list.name, rt)
    } catch {
      // libcni ignores a cache file it cannot remove.
    }
  }

  async status(list: NetworkConfigList): Promise<void> {
    if (!atLeastQuiet(list.cniVersion, CURRENT_SPEC_VERSION)) return
    for (const plugin of list.plugins) {
      const pluginPath = findInPath(plugin.type, this.path)
      // The first error as it is: its code (50, 51, ...) is the answer.
      await execPlugin(pluginPath, statusRequest(list, plugin), this.env('STATUS'), this.execOpts)
    }
  }

  /**
   * GC of one network. `validAttachments` undefined (what cnitool passes) means no attachment is
   * known to be valid: every cached attachment of the network is deleted, and plugins get no
   * `cni.dev/valid-attachments` key.
   */
  async gc(list: NetworkConfigList, opts: { validAttachments?: GcAttachment[] } = {}): Promise<void> {
    if (list.disableGC) return
    let cached: CachedAttachment[]
    try {
      cached = listCachedAttachments(this.cacheDir)
    } catch {
      return // libcni gives up silently when the cache directory can't be listed
    }
    const valid = new Set((opts.validAttachments ?? []).map((a) => `${a.containerID}\u0000${a.ifname}`))
    const errors: Error[] = []
    for (const a of cached) {
      if (a.networkName !== list.name || valid.has(`${a.containerId}\u0000${a.ifName}`)) continue
      const rt: RuntimeConf = { containerId: a.containerId, netns: a.netns ?? '', ifName: a.ifName }
      if (a.cniArgs) rt.args = a.cniArgs
      if (a.capabilityArgs) rt.capabilityArgs = a.capabilityArgs
      try {
        await this.del(list, rt)
      } catch (err) {
        errors.push(wrapError(`failed to delete stale attachment ${rt.containerId} ${rt.ifName}`, err))
      }
    }
    if (atLeastQuiet(list.cniVersion, CURRENT_SPEC_VERSION)) {
      for (const plugin of list.plugins) {
        try {
          const pluginPath = findInPath(plugin.type, this.path)
          await execPlugin(pluginPath, gcRequest(list, plugin, opts.validAttachments), this.env('GC'), this.execOpts)
        } catch (err) {
          errors.push(wrapError(`failed to GC plugin ${plugin.type}`, err))
        }
      }
    }
    if (errors.length > 0) throw new JoinedError(errors)
  }

  /** The cached result of an attachment in the list's version (libcni GetNetworkListCachedResult). */
  cachedResult(list: NetworkConfigList, rt: RuntimeConf): Result | undefined {
    return readCachedResult(this.cacheDir, list.name, list.cniVersion, rt)
  }

  /** The cached config bytes and parameters of an attachment (libcni GetNetworkListCachedConfig). */
  cachedConfig(list: NetworkConfigList, rt: RuntimeConf): { config: Buffer; rt: RuntimeConf } | undefined {
    return readCachedConfig(this.cacheDir, list.name, rt)
  }

  /** Cached attachments, all or one container's (libcni GetCachedAttachments). */
  cachedAttachments(containerId = ''): CachedAttachment[] {
    return listCachedAttachments(this.cacheDir, containerId)
  }

  /** Asks a plugin which spec versions it supports (its VERSION command). */
  async versionInfo(pluginType: string): Promise<VersionInfo> {
    return probeVersion(findInPath(pluginType, this.path), this.execOpts)
  }

  /**
   * Checks that every plugin of the list exists and supports the list's version (libcni
   * ValidateNetworkList). Returns the capabilities the list enables; throws listing every problem.
   */
  async validate(list: NetworkConfigList): Promise<string[]> {
    const wanted = list.cniVersion || '0.1.0'
    const problems: string[] = []
    const caps = new Set<string>()
    for (const plugin of list.plugins) {
      try {
        const info = await this.versionInfo(plugin.type)
        if (!info.supportedVersions.includes(wanted)) {
          problems.push(`plugin ${plugin.type} does not support config version ${goQuote(wanted)}`)
        }
      } catch (err) {
        problems.push((err as Error).message)
      }
      for (const [cap, on] of Object.entries(plugin.capabilities)) if (on) caps.add(cap)
    }
    if (problems.length > 0) throw new RuntimeError(`[${problems.join(' ')}]`)
    return [...caps]
  }

  /** The CNI_* variables: all six, empty where the verb has no attachment (GC, STATUS). */
  private env(command: string, rt?: RuntimeConf): CniEnv {
    return {
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt?.containerId ?? '',
      CNI_NETNS: rt?.netns ?? '',
      CNI_ARGS: (rt?.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
      CNI_IFNAME: rt?.ifName ?? '',
      CNI_PATH: this.path.join(':'),
    }
  }
}

/** `type="bridge" name="x"`: how libcni names a plugin in errors. */
function describe(plugin: PluginConfig): string {
  return plugin.name ? `type=${goQuote(plugin.type)} name=${goQuote(plugin.name)}` : `type=${goQuote(plugin.type)}`
}

/** libcni ignores a malformed version at these gates (it treats it as "not new enough"). */
function atLeastQuiet(version: string, other: string): boolean {
  try {
    return versionAtLeast(version, other)
  } catch {
    return false
  }
}

/**
 * An ADD's stdout read as libcni reads it: must be a JSON object (`null` is an empty one); a
 * missing or empty `cniVersion` is the config's (libcni issue #895); any known version is
 * accepted, whatever the config's.
 */
export function parsePluginResult(stdout: Buffer, confVersion: string): Result {
  let raw: unknown
  try {
    raw = goJsonParse(stdout.toString('utf8'))
  } catch (err) {
    throw new Error(`failed to unmarshal raw result: ${(err as Error).message}`)
  }
  if (raw === null) raw = {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`failed to unmarshal raw result: json: cannot unmarshal ${jsonKind(raw)} into Go value of type map[string]interface {}`)
  }
  const obj = { ...(raw as Record<string, unknown>) }
  const own = obj.cniVersion
  if (typeof own !== 'string' || own === '') obj.cniVersion = confVersion || '0.1.0'
  return parseResult(obj, obj.cniVersion as string)
}
