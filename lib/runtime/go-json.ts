/**
 * JSON text as Go's encoding/json writes it, so that what we send to plugins and write to the
 * result cache is byte-for-byte what libcni would write for the same input:
 * - compact, no spaces;
 * - object keys sorted (libcni passes every config through a `map[string]interface{}`, and Go
 *   marshals map keys in byte order) unless the value is wrapped in `GoRaw`;
 * - `<`, `>`, `&`, U+2028 and U+2029 escaped inside strings (Go's HTML-safe default).
 * Numbers need nothing special: both sides hold JSON numbers as float64 and print them alike.
 */

/** Already-encoded JSON text, embedded as it is (a Go struct whose field order must be kept). */
export class GoRaw {
  constructor(readonly json: string) {}
}

/** Encodes `value` like Go's json.Marshal of the same data held in maps and slices. */
export function goMarshal(value: unknown): string {
  return encode(value, true)
}

/**
 * Encodes an object keeping its key order (a Go struct's field order; undefined fields are left
 * out, like `omitempty`), with nested plain objects sorted like maps.
 */
export function goMarshalStruct(fields: Record<string, unknown>): string {
  return encode(fields, false)
}

function encode(v: unknown, sortKeys: boolean): string {
  if (v instanceof GoRaw) return v.json
  if (v === null || v === undefined) return 'null'
  switch (typeof v) {
    case 'string':
      return goString(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${v}`)
      return JSON.stringify(v)
    case 'object':
      break
    default:
      throw new Error(`json: unsupported type: ${typeof v}`)
  }
  if (Array.isArray(v)) return `[${v.map((el) => encode(el, true)).join(',')}]`
  const obj = v as Record<string, unknown>
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined)
  if (sortKeys) keys.sort(compareBytes)
  return `{${keys.map((k) => `${goString(k)}:${encode(obj[k], true)}`).join(',')}}`
}

/** A JSON string with Go's extra escapes for `<`, `>`, `&`, U+2028 and U+2029. */
function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Go sorts map keys by their UTF-8 bytes; for our keys (ASCII, mostly) that is code-unit order too. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

export { goQuote } from '../skel/go-quote'

/** Go's `%T` of a value decoded from JSON into interface{}: how libcni names a wrong type. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>'
  if (Array.isArray(v)) return '[]interface {}'
  switch (typeof v) {
    case 'string':
      return 'string'
    case 'number':
      return 'float64'
    case 'boolean':
      return 'bool'
    default:
      return 'map[string]interface {}'
  }
}

/** The JSON kind Go names in "cannot unmarshal X into ...". */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'object') return 'object'
  return typeof v === 'boolean' ? 'bool' : typeof v
}
