import { goMarshal, goQuote, goTypeName, jsonKind } from './go-json'
import { goJsonParse } from './go-json-parse'
import { type PluginConfig, pluginFromValue, pluginStringField } from './plugin-conf'
import { selectCniVersion } from './versions'

/**
 * Network configuration lists: parsing a conflist (or upconverting a legacy single-plugin .conf)
 * into what the runtime executes. Follows libcni's conf.go, wording of errors included, because
 * people compare the two tools' messages. Reading files and directories is in load.ts, one plugin
 * object in plugin-conf.ts.
 */

type JsonObject = Record<string, unknown>

export type { PluginConfig }

/** A network configuration list (a .conflist, or a .conf upconverted to one). */
export interface NetworkConfigList {
  name: string
  /** The version the list runs at: `cniVersion`, or the best of `cniVersions` (see versions.ts). */
  cniVersion: string
  disableCheck: boolean
  disableGC: boolean
  loadOnlyInlinedPlugins: boolean
  plugins: PluginConfig[]
  /** The file's bytes as read (the result cache keeps them, base64). */
  bytes: Buffer
  /** The file it came from, when it came from one. */
  file?: string
}

/** Parses a conflist's bytes (libcni NetworkConfFromBytes). Plugins from `<dir>/<name>/` are not added here. */
export function parseNetworkConfigList(bytes: Buffer | string): NetworkConfigList {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
  const fail = (msg: string) => new Error(`error parsing configuration list: ${msg}`)
  const raw = decodeObject(buf, (msg) => fail(msg))

  if (!Object.hasOwn(raw, 'name')) throw fail('no name')
  const name = raw.name
  if (typeof name !== 'string') throw fail(`invalid name type ${goTypeName(name)}`)

  let cniVersion = ''
  if (Object.hasOwn(raw, 'cniVersion')) {
    if (typeof raw.cniVersion !== 'string') throw fail(`invalid cniVersion type ${goTypeName(raw.cniVersion)}`)
    cniVersion = raw.cniVersion
  }
  try {
    cniVersion = selectCniVersion(cniVersion, raw.cniVersions)
  } catch (err) {
    throw fail((err as Error).message)
  }

  const readBool = (key: string): boolean => {
    if (!Object.hasOwn(raw, key)) return false
    const v = raw[key]
    if (typeof v === 'boolean') return v
    if (typeof v !== 'string') throw fail(`invalid type ${goTypeName(v)} for ${key}`)
    const s = v.toLowerCase()
    if (s === 'true') return true
    if (s === 'false') return false
    throw fail(`invalid value ${goQuote(s)} for ${key}`)
  }
  const list: NetworkConfigList = {
    name,
    cniVersion,
    disableCheck: readBool('disableCheck'),
    disableGC: readBool('disableGC'),
    loadOnlyInlinedPlugins: readBool('loadOnlyInlinedPlugins'),
    plugins: [],
    bytes: buf,
  }

  if (!Object.hasOwn(raw, 'plugins')) {
    if (list.loadOnlyInlinedPlugins) throw fail("`loadOnlyInlinedPlugins` is true, and no 'plugins' key")
    return list
  }
  const plugins = raw.plugins
  if (!Array.isArray(plugins)) throw fail(`invalid 'plugins' type ${goTypeName(plugins)}`)
  if (plugins.length === 0) throw fail('no plugins in list')
  plugins.forEach((p: unknown, i) => {
    try {
      list.plugins.push(pluginFromValue(p))
    } catch (err) {
      throw new Error(`failed to parse plugin config ${i}: ${(err as Error).message}`)
    }
  })
  return list
}

/**
 * A legacy single-plugin config upconverted to a list (libcni ConfListFromConf): its bytes become
 * Go's encoding of {cniVersion, name, plugins: [the object]}, which is also what the cache keeps.
 */
export function listFromPluginConfig(plugin: PluginConfig, file?: string): NetworkConfigList {
  const bytes = Buffer.from(
    goMarshal({ cniVersion: pluginStringField(plugin.conf, 'cniVersion'), name: plugin.name, plugins: [plugin.conf] }),
  )
  const list = parseNetworkConfigList(bytes)
  if (file !== undefined) list.file = file
  return list
}

/** JSON.parse into an object as Go unmarshals into map[string]interface{}: `null` is an empty map. */
function decodeObject(buf: Buffer, fail: (msg: string) => Error): JsonObject {
  let value: unknown
  try {
    value = goJsonParse(buf.toString('utf8'))
  } catch (err) {
    throw fail((err as Error).message)
  }
  if (value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw fail(`json: cannot unmarshal ${jsonKind(value)} into Go value of type map[string]interface {}`)
  }
  return value as JsonObject
}
