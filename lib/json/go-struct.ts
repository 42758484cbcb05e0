/**
 * Go's encoding/json rules for reading a JSON object into a struct, in one place. Every config
 * loader (plugins and the runtime side) reads the fields it knows through here, so that
 * `{"HostPort":8080,"PROTOCOL":"tcp"}` (containerd's spelling) reads as `{hostPort, protocol}`, as in
 * the reference:
 * - a key matches a field case-insensitively, with Go's folding (Go 1.19, the reference's: ASCII
 *   letters, plus `ſ` (U+017F) for `s` and the Kelvin sign (U+212A) for `k`);
 * - the LAST matching key wins; when both the earlier and the later value are objects of a shape with
 *   fields, they merge, as Go decodes the second object into the struct the first one filled;
 * - `null` means "not set": the field is dropped (even when an earlier key had set it), unless its
 *   shape says what `null` stands for (`nullAs`, e.g. Go's zero value `[]` or `{}`);
 * - keys that match no field are dropped (the Go struct has nowhere to put them) or kept as they
 *   are, as the caller chooses;
 * - types are NOT checked: a value of the wrong type is passed on as it is, for the JSON Schema
 *   validator after this to name.
 * The output uses the canonical field names, so the validator and the code after it see one
 * spelling. The input is never modified; output objects are fresh, kept values are shared.
 *
 * Canonical field names are ASCII (as every Go struct tag we mirror is).
 */

/** What a field holds: an object with known fields, an array of one shape, or any other value. */
export interface GoShape {
  /** An object (a Go struct): its fields by canonical name. */
  readonly fields?: Readonly<Record<string, GoShape>>
  /** An array (a Go slice): the shape of every item. */
  readonly items?: GoShape
  /**
   * What `null` stands for (called once per null). Without it a null field is dropped (absent) and
   * a null array item stays null.
   */
  readonly nullAs?: () => unknown
}

/** A field whose value is taken as it is (a scalar, or an object/array nobody looks into). */
export const GO_ANY: GoShape = Object.freeze({})

export interface GoDecodeOptions {
  /**
   * Keys that match no field, at any level: `drop` them (default; what Go's struct keeps) or
   * `keep` them under their own spelling, with their value untouched (for a loader that passes the
   * object on, or whose schema wants to see them).
   */
  unknownKeys?: 'drop' | 'keep'
}

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The form of a key under which Go's decoder matches it to a field name (Go 1.19's equalFold against
 * an ASCII name: ASCII case, `ſ` = `s`, `K` (Kelvin) = `k`; toLowerCase already maps the Kelvin sign).
 */
export function goFoldKey(key: string): string {
  const lower = key.toLowerCase()
  return lower.includes('\u017f') ? lower.replace(/\u017f/g, 's') : lower
}

/** Folded key -> canonical name (a handful of keys: built per object, nothing cached at load). */
function lookup(fields: Readonly<Record<string, GoShape>>): Map<string, string> {
  return new Map(Object.keys(fields).map((k) => [goFoldKey(k), k]))
}

/** Sets an own data property (a kept key such as `__proto__` must not become the prototype). */
function setOwn(obj: Json, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
}

/**
 * The core: a field's value after one more matching key with value `v`, given what it held so far
 * (`prev`, undefined when unset). Undefined means the field is (now) not set.
 */
function nextValue(prev: unknown, v: unknown, shape: GoShape, keep: boolean): unknown {
  if (v === null && !shape.nullAs) return undefined
  if (shape.fields && isObject(v) && isObject(prev)) return decodeObject(v, shape.fields, prev, keep)
  return decodeValue(v, shape, keep)
}

function decodeValue(value: unknown, shape: GoShape, keep: boolean): unknown {
  if (value === null) return shape.nullAs ? shape.nullAs() : null
  if (shape.fields) return isObject(value) ? decodeObject(value, shape.fields, {}, keep) : value
  if (shape.items) {
    const items = shape.items
    return Array.isArray(value) ? value.map((v) => decodeValue(v, items, keep)) : value
  }
  return value
}

function decodeObject(obj: Json, fields: Readonly<Record<string, GoShape>>, into: Json, keep: boolean): Json {
  const names = lookup(fields)
  for (const key of Object.keys(obj)) {
    const name = names.get(goFoldKey(key))
    if (name === undefined) {
      if (keep) setOwn(into, key, obj[key])
      continue
    }
    const v = nextValue(into[name], obj[key], fields[name], keep)
    if (v === undefined) delete into[name]
    else into[name] = v
  }
  return into
}

/**
 * `value` read through `shape` the way Go's encoding/json fills a struct (see the module comment).
 * An object of a shape with fields comes out as a fresh object under canonical names; anything else
 * that does not fit the shape comes out as it is.
 */
export function decodeGoStruct(value: unknown, shape: GoShape, options?: GoDecodeOptions): unknown {
  return decodeValue(value, shape, options?.unknownKeys === 'keep')
}

/**
 * One field of a Go struct read out of a parsed JSON object: `name` matched like Go (case-insensitive,
 * the last match wins, `null` is not set). The value is returned as it is (no shape, no copy);
 * undefined when not set.
 */
export function goField(obj: Readonly<Json>, name: string): unknown {
  const wanted = goFoldKey(name)
  let found: unknown
  for (const key of Object.keys(obj)) {
    if (goFoldKey(key) === wanted) found = nextValue(found, obj[key], GO_ANY, false)
  }
  return found
}
