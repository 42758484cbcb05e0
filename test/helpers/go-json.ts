/**
 * Byte-for-byte comparison of plugin stdout, key order aside.
 *
 * A plugin's stdout is parsed into a tree whose leaves keep their exact text (`"\u003c"` stays
 * `"\u003c"`, `1.0` stays `1.0`), so nothing but the order of object keys is forgiven:
 * - `layout(text)` says how the text is laid out: Go's `json.MarshalIndent(v, "", "    ")` without a
 *   trailing newline (results and errors), compact with one trailing newline (VERSION), or `raw`
 *   when it is neither (then the text itself is compared);
 * - `canonical(text)` is the layout plus the tree printed with keys sorted at every level.
 * Two stdouts are equal key order aside when their canonical forms are equal.
 */

export type GoValue = { t: 'leaf'; raw: string } | { t: 'array'; items: GoValue[] } | { t: 'object'; entries: [string, GoValue][] }

/** Parses JSON text into a tree with raw leaves; throws on anything that is not exactly one JSON value. */
export function parseRaw(text: string): GoValue {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++
  }
  const str = (): string => {
    const start = i
    i++ // "
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    if (i >= text.length) throw new Error('unterminated string')
    i++
    return text.slice(start, i)
  }
  const value = (): GoValue => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const entries: [string, GoValue][] = []
      ws()
      if (text[i] === '}') return i++, { t: 'object', entries }
      for (;;) {
        ws()
        if (text[i] !== '"') throw new Error(`expected a key at ${i}`)
        const key = JSON.parse(str()) as string
        ws()
        if (text[i++] !== ':') throw new Error(`expected : at ${i - 1}`)
        entries.push([key, value()])
        ws()
        if (text[i] === ',') i++
        else if (text[i] === '}') return i++, { t: 'object', entries }
        else throw new Error(`expected , or } at ${i}`)
      }
    }
    if (c === '[') {
      i++
      const items: GoValue[] = []
      ws()
      if (text[i] === ']') return i++, { t: 'array', items }
      for (;;) {
        items.push(value())
        ws()
        if (text[i] === ',') i++
        else if (text[i] === ']') return i++, { t: 'array', items }
        else throw new Error(`expected , or ] at ${i}`)
      }
    }
    if (c === '"') return { t: 'leaf', raw: str() }
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i))
    if (!m) throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`)
    i += m[0].length
    return { t: 'leaf', raw: m[0] }
  }
  const v = value()
  ws()
  if (i !== text.length) throw new Error(`trailing text at ${i}`)
  JSON.parse(text) // the strict parser has the last word on validity
  return v
}

/** Go's MarshalIndent with prefix "" and indent "    ". */
export function printIndent(v: GoValue, indent = ''): string {
  const inner = indent + '    '
  if (v.t === 'leaf') return v.raw
  if (v.t === 'array') return v.items.length === 0 ? '[]' : `[\n${v.items.map((x) => inner + printIndent(x, inner)).join(',\n')}\n${indent}]`
  return v.entries.length === 0 ? '{}' : `{\n${v.entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${printIndent(x, inner)}`).join(',\n')}\n${indent}}`
}

/** Go's Marshal (compact). */
export function printCompact(v: GoValue): string {
  if (v.t === 'leaf') return v.raw
  if (v.t === 'array') return `[${v.items.map(printCompact).join(',')}]`
  return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${printCompact(x)}`).join(',')}}`
}

/** The tree with object keys sorted at every level. */
export function sortKeys(v: GoValue): GoValue {
  if (v.t === 'leaf') return v
  if (v.t === 'array') return { t: 'array', items: v.items.map(sortKeys) }
  return { t: 'object', entries: [...v.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortKeys(x)]) }
}

export type Layout = 'indented, no newline' | 'compact + newline' | 'empty' | 'raw'

export function layoutOf(text: string, v?: GoValue): Layout {
  if (text === '') return 'empty'
  if (!v) return 'raw'
  if (printIndent(v) === text) return 'indented, no newline'
  if (printCompact(v) + '\n' === text) return 'compact + newline'
  return 'raw'
}

/** Parses stdout if it is JSON; undefined otherwise. */
export function tryParse(text: string): GoValue | undefined {
  try {
    return parseRaw(text)
  } catch {
    return undefined
  }
}

/** The object member `key` (top level by default), or undefined. */
export function member(v: GoValue | undefined, key: string): GoValue | undefined {
  if (!v || v.t !== 'object') return undefined
  return v.entries.find(([k]) => k === key)?.[1]
}

/** The decoded value of a leaf (or of a whole subtree). */
export function decode(v: GoValue | undefined): unknown {
  return v === undefined ? undefined : JSON.parse(printCompact(v))
}

/** A leaf holding `value`, printed the way Go prints it (for transforms of an expectation). */
export function goLeaf(value: string | number | boolean | null): GoValue {
  return { t: 'leaf', raw: goString(value) }
}

/** JSON text as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function goString(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/** Builds a GoValue from a plain JSON value (keys in insertion order). */
export function fromPlain(value: unknown): GoValue {
  if (Array.isArray(value)) return { t: 'array', items: value.map(fromPlain) }
  if (value !== null && typeof value === 'object') return { t: 'object', entries: Object.entries(value).map(([k, x]) => [k, fromPlain(x)]) }
  return goLeaf(value as string | number | boolean | null)
}

/** Layout + the key-sorted tree: equal for two stdouts that differ in key order only. */
export function canonical(text: string, v: GoValue | undefined = tryParse(text)): string {
  const layout = layoutOf(text, v)
  if (layout === 'raw' || !v) return `[raw]\n${text}`
  if (layout === 'empty') return '[empty]'
  return `[${layout}]\n${printIndent(sortKeys(v))}`
}
