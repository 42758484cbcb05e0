/**
 * Reads JSON the way Go's encoding/json fills a struct, for the fields a plugin knows: keys match
 * case-insensitively ("IPAM", "DataDir" and "RuntimeConfig" work in the reference), the last
 * matching key wins (objects merge, as Go decodes into the same struct), unknown keys are dropped
 * and `null` means "not set". The output uses the canonical key names, so a JSON Schema validator
 * and the code after it only ever see one spelling.
 *
 * Types are not checked here: a value of the wrong type is passed on as it is, for the schema
 * validator to name.
 */

/** What a field holds: an object with known fields, an array of one shape, or a scalar. */
export interface Shape {
  fields?: Record<string, Shape>
  items?: Shape
  /**
   * What `null` stands for. Without it a null field is dropped (absent) and a null array item
   * stays null.
   */
  nullAs?: () => unknown
}

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Lower-cased key -> canonical key (a handful of keys: built per object, nothing cached). */
function lookup(fields: Record<string, Shape>): Map<string, string> {
  return new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]))
}

/** `value` read through `shape` (see the module comment). */
export function foldKeys(value: unknown, shape: Shape): unknown {
  if (value === null) return shape.nullAs ? shape.nullAs() : null
  if (shape.fields) return isObject(value) ? foldObject(value, shape.fields, {}) : value
  if (shape.items) {
    const items = shape.items
    return Array.isArray(value) ? value.map((v) => foldKeys(v, items)) : value
  }
  return value
}

function foldObject(obj: Json, fields: Record<string, Shape>, into: Json): Json {
  const names = lookup(fields)
  for (const key of Object.keys(obj)) {
    const name = names.get(key.toLowerCase())
    if (name === undefined) continue
    const shape = fields[name]
    const v = obj[key]
    if (v === null && !shape.nullAs) {
      delete into[name]
    } else if (shape.fields && isObject(v) && isObject(into[name])) {
      foldObject(v, shape.fields, into[name] as Json)
    } else {
      into[name] = foldKeys(v, shape)
    }
  }
  return into
}
