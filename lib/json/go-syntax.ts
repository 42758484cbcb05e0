/**
 * The first syntax error of a JSON text, worded exactly as Go's encoding/json words it ("unexpected
 * end of JSON input", "invalid character 'x' looking for beginning of value", ...), so a malformed
 * config gets the reference's message whatever JavaScript engine parses it (V8 and JavaScriptCore
 * each have their own texts). Only called after JSON.parse failed: it walks the text once, the way
 * Go's scanner does, byte by byte.
 */

/** Go's quoteChar: the byte in single quotes, escaped like strconv.Quote. */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`
  if (c === 0x22) return `'"'`
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' }
  if (named[c]) return `'${named[c]}'`
  const hex = c.toString(16).padStart(2, '0')
  if (c < 0x20 || c === 0x7f) return `'\\x${hex}'`
  // Go reads the byte as the rune U+00XX: the C1 controls, NBSP and the soft hyphen are not printable.
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u00${hex}'`
  return `'${String.fromCharCode(c)}'`
}

class GoSyntaxError extends Error {}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)

/** Go's message for the first syntax error in `text`, or undefined when it has none. */
export function goSyntaxError(text: string | Uint8Array): string | undefined {
  const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  let i = 0
  const eof = (): never => {
    throw new GoSyntaxError('unexpected end of JSON input')
  }
  // Go's scanner feeds a space at the end of the input: where a space is not allowed (inside a
  // literal, a number or an escape), the error names that space instead of the end.
  const bad = (context: string): never => {
    throw new GoSyntaxError(`invalid character ${quoteChar(i < b.length ? b[i] : 0x20)} ${context}`)
  }
  const skipSpace = (): void => {
    while (i < b.length && isSpace(b[i])) i++
  }
  const literal = (word: string): void => {
    for (let k = 1; k < word.length; k++) {
      i++
      if (i >= b.length || b[i] !== word.charCodeAt(k)) bad(`in literal ${word} (expecting '${word[k]}')`)
    }
    i++
  }
  const str = (): void => {
    i++ // the opening quote
    for (;;) {
      if (i >= b.length) eof()
      const c = b[i]
      if (c === 0x22) {
        i++
        return
      }
      if (c < 0x20) bad('in string literal')
      if (c === 0x5c) {
        i++
        if (i >= b.length) bad('in string escape code')
        const e = b[i]
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++
            if (i >= b.length || !isHex(b[i])) bad('in \\u hexadecimal character escape')
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) {
          bad('in string escape code')
        }
      }
      i++
    }
  }
  const num = (): void => {
    if (b[i] === 0x2d) {
      i++
      if (i >= b.length || !isDigit(b[i])) bad('in numeric literal')
    }
    if (b[i] === 0x30) i++
    else while (i < b.length && isDigit(b[i])) i++
    if (i < b.length && b[i] === 0x2e) {
      i++
      if (i >= b.length || !isDigit(b[i])) bad('after decimal point in numeric literal')
      while (i < b.length && isDigit(b[i])) i++
    }
    if (i < b.length && (b[i] === 0x65 || b[i] === 0x45)) {
      i++
      if (i < b.length && (b[i] === 0x2b || b[i] === 0x2d)) i++
      if (i >= b.length || !isDigit(b[i])) bad('in exponent of numeric literal')
      while (i < b.length && isDigit(b[i])) i++
    }
  }
  const value = (): void => {
    skipSpace()
    if (i >= b.length) eof()
    const c = b[i]
    if (c === 0x7b) return object()
    if (c === 0x5b) return array()
    if (c === 0x22) return str()
    if (c === 0x2d || isDigit(c)) return num()
    if (c === 0x74) return literal('true')
    if (c === 0x66) return literal('false')
    if (c === 0x6e) return literal('null')
    bad('looking for beginning of value')
  }
  const object = (): void => {
    i++
    skipSpace()
    if (i >= b.length) eof()
    if (b[i] === 0x7d) {
      i++
      return
    }
    for (;;) {
      skipSpace()
      if (i >= b.length) eof()
      if (b[i] !== 0x22) bad('looking for beginning of object key string')
      str()
      skipSpace()
      if (i >= b.length) eof()
      if (b[i] !== 0x3a) bad('after object key')
      i++
      value()
      skipSpace()
      if (i >= b.length) eof()
      if (b[i] === 0x2c) {
        i++
        continue
      }
      if (b[i] === 0x7d) {
        i++
        return
      }
      bad('after object key:value pair')
    }
  }
  const array = (): void => {
    i++
    skipSpace()
    if (i >= b.length) eof()
    if (b[i] === 0x5d) {
      i++
      return
    }
    for (;;) {
      value()
      skipSpace()
      if (i >= b.length) eof()
      if (b[i] === 0x2c) {
        i++
        continue
      }
      if (b[i] === 0x5d) {
        i++
        return
      }
      bad('after array element')
    }
  }
  try {
    value()
    skipSpace()
    if (i < b.length) bad('after top-level value')
    return undefined
  } catch (err) {
    if (err instanceof GoSyntaxError) return err.message
    throw err
  }
}

/** Go's name for a JSON value's kind in "cannot unmarshal X into ...". */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (v === null) return 'null'
  if (typeof v === 'object') return 'object'
  return typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'number' : 'string'
}
