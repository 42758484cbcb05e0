import { goQuote } from './go-json'

/**
 * JSON.parse with Go's error texts ("unexpected end of JSON input", "invalid character 'o' in
 * literal null (expecting 'u')"), because libcni puts those texts in the messages people see
 * (a broken conflist, a plugin printing garbage). A small scanner checks the syntax the way Go's
 * encoding/json scanner does, and reports the first error with Go's wording; valid text is then
 * handed to JSON.parse.
 */
export function goJsonParse(text: string): unknown {
  const err = goSyntaxError(text)
  if (err) throw new SyntaxError(err)
  return JSON.parse(text)
}

/** Go's message for the first syntax error in `text`, or undefined when it is valid JSON. */
export function goSyntaxError(text: string): string | undefined {
  try {
    new Scanner(text).document()
    return undefined
  } catch (err) {
    if (err instanceof ScanError) return err.message
    throw err
  }
}

class ScanError extends Error {}

const END = 'unexpected end of JSON input'

/** Go's quoteChar: a character in single quotes, escaped as strconv.Quote would. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''"
  if (c === '"') return '\'"\''
  return `'${goQuote(c).slice(1, -1)}'`
}

class Scanner {
  private i = 0
  constructor(private readonly s: string) {}

  document(): void {
    this.skipSpace()
    this.value('looking for beginning of value')
    this.skipSpace()
    if (this.i < this.s.length) this.fail('after top-level value')
  }

  private peek(): string | undefined {
    if (this.i >= this.s.length) return undefined
    return String.fromCodePoint(this.s.codePointAt(this.i) as number)
  }

  private fail(context: string): never {
    const c = this.peek()
    throw new ScanError(c === undefined ? END : `invalid character ${quoteChar(c)} ${context}`)
  }

  private skipSpace(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i] as string)) this.i++
  }

  private value(context: string): void {
    const c = this.peek()
    if (c === '{') return this.object()
    if (c === '[') return this.array()
    if (c === '"') return this.string()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number()
    if (c === 't') return this.literal('true')
    if (c === 'f') return this.literal('false')
    if (c === 'n') return this.literal('null')
    this.fail(context)
  }

  private object(): void {
    this.i++ // {
    this.skipSpace()
    if (this.peek() === '}') {
      this.i++
      return
    }
    for (;;) {
      if (this.peek() !== '"') this.fail('looking for beginning of object key string')
      this.string()
      this.skipSpace()
      if (this.peek() !== ':') this.fail('after object key')
      this.i++
      this.skipSpace()
      this.value('looking for beginning of value')
      this.skipSpace()
      const c = this.peek()
      if (c === '}') {
        this.i++
        return
      }
      if (c !== ',') this.fail('after object key:value pair')
      this.i++
      this.skipSpace()
    }
  }

  private array(): void {
    this.i++ // [
    this.skipSpace()
    if (this.peek() === ']') {
      this.i++
      return
    }
    for (;;) {
      this.value('looking for beginning of value')
      this.skipSpace()
      const c = this.peek()
      if (c === ']') {
        this.i++
        return
      }
      if (c !== ',') this.fail('after array element')
      this.i++
      this.skipSpace()
    }
  }

  private string(): void {
    this.i++ // opening quote
    for (;;) {
      const c = this.peek()
      if (c === undefined) this.fail('')
      if (c === '"') {
        this.i++
        return
      }
      if (c === '\\') {
        this.i++
        const e = this.peek()
        if (e === 'u') {
          this.i++
          for (let k = 0; k < 4; k++) {
            if (!/^[0-9a-fA-F]$/.test(this.peek() ?? '')) this.fail('in \\u hexadecimal character escape')
            this.i++
          }
          continue
        }
        if (e === undefined || !'bfnrt\\/"'.includes(e)) this.fail('in string escape code')
        this.i++
        continue
      }
      if ((c.codePointAt(0) as number) < 0x20) this.fail('in string literal')
      this.i += c.length
    }
  }

  private number(): void {
    const digit = () => {
      const c = this.peek()
      return c !== undefined && c >= '0' && c <= '9'
    }
    if (this.peek() === '-') {
      this.i++
      if (!digit()) this.fail('in numeric literal')
    }
    if (this.peek() === '0') this.i++
    else while (digit()) this.i++
    if (this.peek() === '.') {
      this.i++
      if (!digit()) this.fail('after decimal point in numeric literal')
      while (digit()) this.i++
    }
    if (this.peek() === 'e' || this.peek() === 'E') {
      this.i++
      if (this.peek() === '+' || this.peek() === '-') this.i++
      if (!digit()) this.fail('in exponent of numeric literal')
      while (digit()) this.i++
    }
  }

  private literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.peek() !== word[k]) this.fail(`in literal ${word} (expecting ${quoteChar(word[k] as string)})`)
      this.i++
    }
  }
}
