import * as fs from 'node:fs'
import * as path from 'node:path'
import { listFromPluginConfig, type NetworkConfigList, parseNetworkConfigList } from './conf'
import { parsePluginConfig, type PluginConfig } from './plugin-conf'

/** Where runtimes look for network configs when NETCONFPATH is not set. */
export const DEFAULT_NETCONF_DIR = '/etc/cni/net.d'

/** No config in `dir` has the wanted name (libcni's NotFoundError). */
export class NetworkNotFoundError extends Error {
  override readonly name = 'NetworkNotFoundError'
  constructor(
    readonly dir: string,
    readonly network: string,
  ) {
    super(`no net configuration with name "${network}" in ${dir}`)
  }
}

/** `dir` holds no config file at all (libcni's NoConfigsFoundError). */
export class NoConfigsFoundError extends Error {
  override readonly name = 'NoConfigsFoundError'
  constructor(readonly dir: string) {
    super(`no net configurations found in ${dir}`)
  }
}

/**
 * Finds network `name` in `dir` exactly as libcni's LoadNetworkConf does:
 * 1. every `*.conflist`, in file name order, is parsed (plus its `<dir>/<name>/*.conf` plugins);
 *    **any** file that fails to parse aborts the lookup, whatever network it holds;
 * 2. the first list whose `name` matches wins;
 * 3. else the deprecated single-plugin `*.conf` / `*.json` files, in name order (again, any
 *    parse error aborts), upconverted to a one-plugin list;
 * 4. else NetworkNotFoundError (or NoConfigsFoundError when the directory has no config at all).
 */
export function loadNetworkConfigList(dir: string, name: string): NetworkConfigList {
  const lists = confFilesOrThrow(dir, ['.conflist'])
  for (const file of lists) {
    const list = networkConfigListFromFile(file)
    if (list.name === name) return list
  }
  const singles = confFilesOrThrow(dir, ['.conf', '.json'])
  if (singles.length === 0) {
    // Lists exist but none matched: say "not found" rather than "no configs".
    throw lists.length > 0 ? new NetworkNotFoundError(dir, name) : new NoConfigsFoundError(dir)
  }
  for (const file of singles) {
    const plugin = parsePluginConfig(readConfFile(file))
    if (plugin.name === name) return listFromPluginConfig(plugin, file)
  }
  throw new NetworkNotFoundError(dir, name)
}

/** One config file as `cnitool list` reports it: the network it defines, or why it can't be read. */
export interface ConfigFileEntry {
  file: string
  kind: 'conflist' | 'conf'
  list?: NetworkConfigList
  error?: string
  /** An earlier file defines the same name, so lookups never reach this one. */
  shadowed?: boolean
}

/**
 * Every config file in `dir` in lookup order, each parsed on its own (a broken file is reported,
 * not fatal, unlike in a lookup). Note that libcni lookups in a directory holding a broken
 * .conflist fail for every name.
 */
export function listNetworkConfigFiles(dir: string): ConfigFileEntry[] {
  const entries: ConfigFileEntry[] = []
  const seen = new Set<string>()
  const add = (file: string, kind: ConfigFileEntry['kind'], load: () => NetworkConfigList) => {
    try {
      const list = load()
      const entry: ConfigFileEntry = { file, kind, list }
      if (seen.has(list.name)) entry.shadowed = true
      seen.add(list.name)
      entries.push(entry)
    } catch (err) {
      entries.push({ file, kind, error: (err as Error).message })
    }
  }
  for (const file of confFilesOrThrow(dir, ['.conflist'])) add(file, 'conflist', () => networkConfigListFromFile(file))
  for (const file of confFilesOrThrow(dir, ['.conf', '.json'])) {
    add(file, 'conf', () => listFromPluginConfig(parsePluginConfig(readConfFile(file)), file))
  }
  return entries
}

function confFilesOrThrow(dir: string, exts: string[]): string[] {
  try {
    return confFiles(dir, exts)
  } catch (err) {
    throw new Error(errnoText(err))
  }
}

/** Reads and parses a .conflist, appending `<dir>/<name>/*.conf` unless loadOnlyInlinedPlugins (NetworkConfFromFile). */
export function networkConfigListFromFile(file: string): NetworkConfigList {
  const list = parseNetworkConfigList(readConfFile(file))
  list.file = file
  if (!list.loadOnlyInlinedPlugins) list.plugins.push(...pluginsFromDir(path.dirname(file), list.name))
  if (list.plugins.length === 0) throw new Error('no plugin configs found')
  return list
}

/** The plugin objects in `<confDir>/<network>/*.conf`, in file name order. */
export function pluginsFromDir(confDir: string, network: string): PluginConfig[] {
  const dir = path.join(confDir, network)
  let files: string[]
  try {
    files = confFiles(dir, ['.conf'])
  } catch (err) {
    throw new Error(`failed to read plugin config files in ${dir}: ${errnoText(err)}`)
  }
  return files.map((f) => parsePluginConfig(readConfFile(f)))
}

export function readConfFile(file: string): Buffer {
  try {
    return fs.readFileSync(file)
  } catch (err) {
    throw new Error(`error reading ${file}: ${errnoText(err)}`)
  }
}

/**
 * The files in `dir` whose extension is one of `extensions`, sorted by name; a missing directory
 * has none (libcni ConfFiles). Directories are skipped, symlinks are not.
 */
export function confFiles(dir: string, extensions: string[]): string[] {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  return entries
    .filter((e) => !e.isDirectory() && extensions.includes(goExt(e.name)))
    .map((e) => e.name)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((n) => path.join(dir, n))
}

/** Go's filepath.Ext: from the last dot of the name, including a leading one (".conflist" has ext ".conflist"). */
function goExt(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? '' : name.slice(dot)
}

/** "open /x: no such file or directory", the way Go words a failed syscall on a path. */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (!e.code || !e.syscall) return (err as Error).message
  const reason = ERRNO_TEXT[e.code] ?? e.code
  return e.path ? `${e.syscall} ${e.path}: ${reason}` : `${e.syscall}: ${reason}`
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EPERM: 'operation not permitted',
  ENOEXEC: 'exec format error',
  ETXTBSY: 'text file busy',
  EEXIST: 'file exists',
}
