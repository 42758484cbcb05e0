import { goField } from '../json/go-struct'
import { jsonKind } from './go-json'
import { goJsonParse } from './go-json-parse'

/**
 * One plugin object of a network config, read as libcni reads it into its PluginConf struct:
 * field names match case-insensitively, the fields it knows must have their Go types (with Go's
 * "cannot unmarshal" texts), `type` must be present. The object itself is kept as written.
 */

type JsonObject = Record<string, unknown>

/** One plugin of a list: its object as written, plus the fields the runtime itself reads. */
export interface PluginConfig {
  /** The plugin object (parsed JSON); request configs are built from it. */
  conf: JsonObject
  /** `type`: the executable's name in CNI_PATH. */
  type: string
  /** The plugin object's own `name`, if any (only used in error messages; the list's name wins). */
  name: string
  /** `capabilities`: which capability args this plugin wants as `runtimeConfig`. */
  capabilities: Record<string, boolean>
}

/** Parses one plugin object from its bytes (a `<dir>/<network>/*.conf` file, or a legacy .conf). */
export function parsePluginConfig(bytes: Buffer | string): PluginConfig {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
  let value: unknown
  try {
    value = goJsonParse(buf.toString('utf8'))
  } catch (err) {
    throw new Error(`error parsing configuration: ${(err as Error).message}`)
  }
  return pluginFromValue(value)
}

/**
 * A plugin object as libcni reads it into its PluginConf struct: field names match case-insensitively,
 * the fields it knows must have their types, `type` must be present.
 */
export function pluginFromValue(value: unknown): PluginConfig {
  const fail = (msg: string) => new Error(`error parsing configuration: ${msg}`)
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw fail(`json: cannot unmarshal ${jsonKind(value)} into Go value of type types.PluginConf`)
  }
  const conf = (value ?? {}) as JsonObject
  const typeError = checkPluginFields(conf)
  if (typeError) throw fail(typeError)
  const type = pluginStringField(conf, 'type')
  if (type === '') throw fail("missing 'type'")
  const capabilities: Record<string, boolean> = {}
  const caps = goField(conf, 'capabilities')
  if (caps) Object.assign(capabilities, caps)
  return { conf: value === null ? {} : conf, type, name: pluginStringField(conf, 'name'), capabilities }
}

export function pluginStringField(conf: JsonObject, name: string): string {
  const v = goField(conf, name)
  return typeof v === 'string' ? v : ''
}

/**
 * The fields of libcni's PluginConf and their Go types; a value of the wrong JSON type is a
 * decoding error there, worded "cannot unmarshal <kind> into Go struct field <Struct>.<path> of
 * type <type>" where <Struct> is the innermost struct holding the field.
 */
type Shape =
  | { kind: 'string' | 'bool' | 'object' }
  | { kind: 'array' | 'map'; item: Shape }
  | { kind: 'struct'; goName: string; fields: Record<string, Shape> }

const STRING: Shape = { kind: 'string' }
const STRINGS: Shape = { kind: 'array', item: STRING }

const PLUGIN_CONF: Shape & { kind: 'struct' } = {
  kind: 'struct',
  goName: 'types.PluginConf',
  fields: {
    cniVersion: STRING,
    name: STRING,
    type: STRING,
    capabilities: { kind: 'map', item: { kind: 'bool' } },
    ipam: { kind: 'struct', goName: 'types.IPAM', fields: { type: STRING } },
    dns: { kind: 'struct', goName: 'types.DNS', fields: { nameservers: STRINGS, domain: STRING, search: STRINGS, options: STRINGS } },
    prevResult: { kind: 'object' },
    'cni.dev/valid-attachments': {
      kind: 'array',
      item: { kind: 'struct', goName: 'types.GCAttachment', fields: { containerID: STRING, ifname: STRING } },
    },
  },
}

/** Returns Go's "cannot unmarshal" text for the first field whose type is wrong, or undefined. */
function checkPluginFields(conf: JsonObject): string | undefined {
  return checkStruct(conf, PLUGIN_CONF, '')
}

function checkStruct(obj: JsonObject, shape: Shape & { kind: 'struct' }, parent: string): string | undefined {
  const structName = shape.goName.replace(/^types\./, '')
  for (const [field, fieldShape] of Object.entries(shape.fields)) {
    const v = goField(obj, field)
    const where = parent ? `${parent}.${field}` : field
    const err = checkValue(v, fieldShape, `${structName}.${where}`, where)
    if (err) return err
  }
  return undefined
}

/** `field` is how Go names the place (Struct.path), `where` the JSON path for nested structs. */
function checkValue(v: unknown, shape: Shape, field: string, where: string): string | undefined {
  if (v === null || v === undefined) return undefined
  const mismatch = () => `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${field} of type ${goTypeOf(shape)}`
  const isObject = typeof v === 'object' && !Array.isArray(v)
  switch (shape.kind) {
    case 'string':
      return typeof v === 'string' ? undefined : mismatch()
    case 'bool':
      return typeof v === 'boolean' ? undefined : mismatch()
    case 'object':
      return isObject ? undefined : mismatch()
    case 'array':
      if (!Array.isArray(v)) return mismatch()
      for (const el of v) {
        const err = checkValue(el, shape.item, field, where)
        if (err) return err
      }
      return undefined
    case 'map':
      if (!isObject) return mismatch()
      for (const el of Object.values(v as JsonObject)) {
        const err = checkValue(el, shape.item, field, where)
        if (err) return err
      }
      return undefined
    case 'struct':
      return isObject ? checkStruct(v as JsonObject, shape, where) : mismatch()
  }
}

function goTypeOf(shape: Shape): string {
  switch (shape.kind) {
    case 'object':
      return 'map[string]interface {}'
    case 'array':
      return `[]${goTypeOf(shape.item)}`
    case 'map':
      return `map[string]${goTypeOf(shape.item)}`
    case 'struct':
      return shape.goName
    default:
      return shape.kind
  }
}
