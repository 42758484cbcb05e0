import * as fs from 'node:fs'
import * as path from 'node:path'
import { goField } from '../json/go-struct'
import { convertResult, parseResult, type Result } from '../skel/result'
import { compareBytes, goMarshalStruct } from './go-json'
import { goJsonParse } from './go-json-parse'
import { resultJson, type RuntimeConf } from './request'

/**
 * The result cache, in libcni's on-disk format so that Go tools and ours read each other's files
 * (`cnitool add` with one, `del` with the other). One file per attachment:
 *
 *   <cacheDir>/results/<network>-<containerId>-<ifName>      (dir 0700, file 0600)
 *
 * holding Go's compact encoding of
 *
 *   {"kind":"cniCacheV1","containerId":…,"config":"<base64 of the conflist bytes>","ifName":…,
 *    "networkName":…,"netns":…,"cniArgs":[["K","V"]],"capabilityArgs":{…},"result":{…}}
 *
 * in that field order, with `netns`, `cniArgs`, `capabilityArgs` and `result` left out when empty,
 * and the keys inside `capabilityArgs` and `result` sorted (Go maps). A file that is not such an
 * object is read as a legacy cache: a bare result.
 */

/** libcni's default; tests and the demo must pass their own. */
export const DEFAULT_CACHE_DIR = '/var/lib/cni'

export const CACHE_KIND_V1 = 'cniCacheV1'

/** What a cniCacheV1 file holds. */
export interface CacheEntry {
  containerId: string
  /** The network config list's bytes at ADD time. */
  config: Buffer
  ifName: string
  networkName: string
  netns?: string
  cniArgs?: [string, string][]
  capabilityArgs?: Record<string, unknown>
  /** The result object as stored (sorted keys, its own cniVersion); parse with cachedResultOf. */
  result?: Record<string, unknown>
}

export function cacheFilePath(cacheDir: string, network: string, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): string {
  if (network === '' || rt.containerId === '' || rt.ifName === '') {
    throw new Error(
      `cache file path requires network name (${JSON.stringify(network)}), container ID (${JSON.stringify(rt.containerId)}), and interface name (${JSON.stringify(rt.ifName)})`,
    )
  }
  return path.join(cacheDir, 'results', `${network}-${rt.containerId}-${rt.ifName}`)
}

/** The file's bytes for an ADD's outcome: exactly what libcni's cacheAdd writes for the same input. */
export function encodeCacheEntry(result: Result, config: Buffer, network: string, rt: RuntimeConf): string {
  return goMarshalStruct({
    kind: CACHE_KIND_V1,
    containerId: rt.containerId,
    config: config.toString('base64'),
    ifName: rt.ifName,
    networkName: network,
    netns: rt.netns || undefined,
    cniArgs: rt.args?.length ? rt.args : undefined,
    capabilityArgs: rt.capabilityArgs && Object.keys(rt.capabilityArgs).length ? rt.capabilityArgs : undefined,
    // libcni marshals the result, decodes it into a map and marshals that: keys sorted.
    result: JSON.parse(resultJson(result)),
  })
}

/**
 * Writes the cache file for an attachment. Unlike libcni (which truncates and writes in place) the
 * bytes go to a temp file renamed over the old one, so a reader never sees half a file.
 */
export function writeCacheEntry(cacheDir: string, result: Result, config: Buffer, network: string, rt: RuntimeConf): void {
  const file = cacheFilePath(cacheDir, network, rt)
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.tmp-${process.pid}`
  try {
    fs.writeFileSync(tmp, encodeCacheEntry(result, config, network, rt), { mode: 0o600 })
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
}

/** Removes an attachment's cache file; quiet when it is not there. */
export function deleteCacheEntry(cacheDir: string, network: string, rt: RuntimeConf): void {
  let file: string
  try {
    file = cacheFilePath(cacheDir, network, rt)
  } catch {
    return
  }
  fs.rmSync(file, { force: true })
}

/**
 * Reads a cniCacheV1 file's fields the way Go decodes it into libcni's cachedInfo struct (keys
 * case-insensitive, wrong types are errors, `config` strict base64). Undefined when the text is
 * not such a file.
 */
export function decodeCacheEntry(text: string): CacheEntry | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const obj = value as Record<string, unknown>
  const str = (name: string): string | undefined => {
    const v = goField(obj, name)
    if (v === undefined || v === null) return ''
    return typeof v === 'string' ? v : undefined
  }
  const kind = str('kind')
  const containerId = str('containerId')
  const ifName = str('ifName')
  const networkName = str('networkName')
  const netns = str('netns')
  const configText = str('config')
  if (kind !== CACHE_KIND_V1 || containerId === undefined || ifName === undefined || networkName === undefined) return undefined
  if (netns === undefined || configText === undefined) return undefined
  const config = decodeStdBase64(configText)
  if (!config) return undefined
  const cniArgs = decodePairs(goField(obj, 'cniArgs'))
  if (cniArgs === null) return undefined
  const capabilityArgs = optObject(goField(obj, 'capabilityArgs'))
  const result = optObject(goField(obj, 'result'))
  if (capabilityArgs === null || result === null) return undefined
  const entry: CacheEntry = { containerId, config, ifName, networkName }
  if (netns) entry.netns = netns
  if (cniArgs) entry.cniArgs = cniArgs
  if (capabilityArgs) entry.capabilityArgs = capabilityArgs
  if (result) entry.result = result
  return entry
}

/** Go's base64.StdEncoding: padded, standard alphabet, line breaks ignored; null when invalid. */
function decodeStdBase64(s: string): Buffer | null {
  const clean = s.replace(/[\r\n]/g, '')
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return null
  return Buffer.from(clean, 'base64')
}

/** [][2]string: extra elements are dropped and missing ones are "" (as Go fills a fixed array). Null when invalid. */
function decodePairs(v: unknown): [string, string][] | undefined | null {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) return null
  const out: [string, string][] = []
  for (const pair of v) {
    if (pair === null) {
      out.push(['', ''])
      continue
    }
    if (!Array.isArray(pair) || pair.some((s) => s !== null && typeof s !== 'string')) return null
    out.push([(pair[0] as string | null) ?? '', (pair[1] as string | null) ?? ''])
  }
  return out.length ? out : undefined
}

function optObject(v: unknown): Record<string, unknown> | undefined | null {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) return null
  return Object.keys(v).length ? (v as Record<string, unknown>) : undefined
}

/** The raw cache file of an attachment, or undefined when it cannot be read (libcni ignores read errors). */
function readCacheFile(cacheDir: string, network: string, rt: RuntimeConf): string | undefined {
  const file = cacheFilePath(cacheDir, network, rt)
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * The cached result of an attachment converted to `cniVersion` (the list's), as libcni's
 * getCachedResult: undefined when there is no file; a file that is not cniCacheV1 is read as a
 * bare (legacy) result. Throws when the result cannot be parsed or converted.
 */
export function readCachedResult(cacheDir: string, network: string, cniVersion: string, rt: RuntimeConf): Result | undefined {
  const text = readCacheFile(cacheDir, network, rt)
  if (text === undefined) return undefined
  const entry = decodeCacheEntry(text)
  let raw: unknown
  if (entry) {
    raw = entry.result ?? null
  } else {
    try {
      raw = goJsonParse(text)
    } catch (err) {
      throw new Error(`decoding version from network config: ${(err as Error).message}`)
    }
  }
  return cachedResultOf(raw, cniVersion)
}

/** A stored result (of any version) read and converted to `cniVersion`. */
export function cachedResultOf(raw: unknown, cniVersion: string): Result {
  const obj = raw === null ? {} : raw
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    throw new Error(`decoding version from network config: json: cannot unmarshal ${Array.isArray(obj) ? 'array' : typeof obj} into Go value of type struct { CNIVersion string "json:\\"cniVersion\\"" }`)
  }
  const version = goField(obj as Record<string, unknown>, 'cniVersion')
  if (version !== undefined && version !== null && typeof version !== 'string') {
    throw new Error(`decoding version from network config: json: cannot unmarshal ${typeof version} into Go struct field .cniVersion of type string`)
  }
  const stored = parseResult(obj, (version as string | undefined) || '0.1.0')
  try {
    return convertResult(stored, cniVersion)
  } catch (err) {
    throw new Error(`failed to convert cached result to config version ${JSON.stringify(cniVersion)}: ${(err as Error).message}`)
  }
}

/** The cached config bytes and attachment parameters (libcni's GetNetworkListCachedConfig); undefined when not cached. */
export function readCachedConfig(cacheDir: string, network: string, rt: RuntimeConf): { config: Buffer; rt: RuntimeConf } | undefined {
  const text = readCacheFile(cacheDir, network, rt)
  if (text === undefined) return undefined
  let kind: unknown
  try {
    kind = goField(goJsonParse(text) as Record<string, unknown>, 'kind')
  } catch (err) {
    throw new Error(`failed to unmarshal cached network ${JSON.stringify(network)} config: ${(err as Error).message}`)
  }
  const entry = decodeCacheEntry(text)
  if (!entry) throw new Error(`read cached network ${JSON.stringify(network)} config has wrong kind: ${kind ?? ''}`)
  const cached: RuntimeConf = { ...rt }
  if (entry.cniArgs) cached.args = entry.cniArgs
  if (entry.capabilityArgs) cached.capabilityArgs = entry.capabilityArgs
  else delete cached.capabilityArgs
  return { config: entry.config, rt: cached }
}

/** An attachment found in the cache (libcni's NetworkAttachment, plus the stored result). */
export interface CachedAttachment extends CacheEntry {
  /** The cache file it came from. */
  file: string
}

/**
 * Every readable cniCacheV1 attachment in `<cacheDir>/results`, in file name order, optionally
 * only those of `containerId` (libcni's GetCachedAttachments). Files that cannot be read or
 * decoded, legacy files, and entries without ifName or networkName are skipped.
 */
export function listCachedAttachments(cacheDir: string, containerId = ''): CachedAttachment[] {
  const dir = path.join(cacheDir, 'results')
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: CachedAttachment[] = []
  for (const name of names.sort(compareBytes)) {
    if (containerId) {
      const part = `-${containerId}-`
      const pos = name.indexOf(part)
      if (pos <= 0 || pos + part.length >= name.length) continue
    }
    const file = path.join(dir, name)
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      continue
    }
    const entry = decodeCacheEntry(text)
    if (!entry) continue
    if (containerId && entry.containerId !== containerId) continue
    if (entry.ifName === '' || entry.networkName === '') continue
    out.push({ ...entry, file })
  }
  return out
}
