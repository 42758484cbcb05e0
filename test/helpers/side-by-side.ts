/**
 * Strict side-by-side assertions: one assertion per difference, named by its path, with both values,
 * so a failure says exactly what differs. The only differences that pass are those a test forgives
 * with an entry of the central list (test/helpers/deliberate.ts), and every such allowance must be
 * seen (one that matches nothing fails: the list cannot go stale).
 *
 * Observations are plain JSON-like trees: `{ exit, stdout, <namespace>: NsState, store }`. Stdout
 * that is JSON becomes a tree whose leaves are `Raw` (their exact text: byte for byte, key order
 * aside), plus its `layout` (indented without newline, compact with newline, ...).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { type Allowance, DELIBERATE, type DeliberateId, deliberate } from './deliberate'
import { type GoValue, layoutOf, parseRaw, printCompact, printIndent } from './go-json'

/** A JSON leaf as printed (`"1.0.0"`, `7`, `true`). */
export class Raw {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `<raw ${this.text}>`
  }
}

/** Marks "not there" in allowances and messages. */
export const ABSENT = Symbol('absent')

export interface Difference {
  path: string
  ours: unknown
  reference: unknown
}

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Raw)

/** Line diff (LCS): the lines only ours has and the lines only the reference has, in order. */
export function lineDiff(ours: string[], reference: string[]): { ours: string[]; reference: string[] } {
  const n = ours.length
  const m = reference.length
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = ours[i] === reference[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  const o: string[] = []
  const r: string[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (ours[i] === reference[j]) i++, j++
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) o.push(ours[i++])
    else r.push(reference[j++])
  }
  while (i < n) o.push(ours[i++])
  while (j < m) r.push(reference[j++])
  return { ours: o, reference: r }
}

/** Every leaf-level difference. Arrays of strings are diffed as lines (`path[lines]`). */
export function differences(ours: unknown, reference: unknown, at = ''): Difference[] {
  const join = (k: string) => (at ? `${at}.${k}` : k)
  if (ours instanceof Raw || reference instanceof Raw) {
    const a = ours instanceof Raw ? ours.text : ours
    const b = reference instanceof Raw ? reference.text : reference
    return a === b && (ours instanceof Raw) === (reference instanceof Raw) ? [] : [{ path: at, ours, reference }]
  }
  if (isObj(ours) && isObj(reference)) {
    const out: Difference[] = []
    for (const k of [...new Set([...Object.keys(ours), ...Object.keys(reference)])].sort()) {
      if (!(k in ours)) out.push({ path: join(k), ours: ABSENT, reference: reference[k] })
      else if (!(k in reference)) out.push({ path: join(k), ours: ours[k], reference: ABSENT })
      else out.push(...differences(ours[k], reference[k], join(k)))
    }
    return out
  }
  if (Array.isArray(ours) && Array.isArray(reference)) {
    if ([...ours, ...reference].every((x) => typeof x === 'string') && (ours.length > 1 || reference.length > 1)) {
      const d = lineDiff(ours as string[], reference as string[])
      return d.ours.length || d.reference.length ? [{ path: `${at}[lines]`, ...d }] : []
    }
    const out: Difference[] = []
    for (let i = 0; i < Math.max(ours.length, reference.length); i++) {
      const p = `${at}[${i}]`
      if (i >= ours.length) out.push({ path: p, ours: ABSENT, reference: reference[i] })
      else if (i >= reference.length) out.push({ path: p, ours: ours[i], reference: ABSENT })
      else out.push(...differences(ours[i], reference[i], p))
    }
    return out
  }
  return JSON.stringify(ours) === JSON.stringify(reference) ? [] : [{ path: at, ours, reference }]
}

/** A value as a message shows it: raw leaves as printed, trees as compact JSON. */
export function show(x: unknown, max = 400): string {
  if (x === ABSENT) return '(absent)'
  if (x instanceof Raw) return x.text
  if (x === undefined) return 'undefined'
  const text = JSON.stringify(x)
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text
}

/** Raw leaves decoded, for comparing with an allowance's expected value. */
function plain(x: unknown): unknown {
  if (x === ABSENT) return ABSENT
  if (x instanceof Raw) return JSON.parse(x.text)
  if (Array.isArray(x)) return x.map(plain)
  if (isObj(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]))
  return x
}

function matches(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'function') return actual !== ABSENT && Boolean(expected(plain(actual)))
  if (expected instanceof RegExp) return typeof plain(actual) === 'string' && expected.test(plain(actual) as string)
  if (expected === ABSENT || actual === ABSENT) return expected === actual
  return JSON.stringify(expected) === JSON.stringify(plain(actual))
}

function describe(expected: unknown): string {
  if (expected === ABSENT) return '(absent)'
  if (expected instanceof RegExp) return String(expected)
  if (typeof expected === 'function') return `a value for which ${expected.toString()}`
  return JSON.stringify(expected)
}

/** The part of a tap Test these helpers use. */
export interface Asserts {
  pass(msg: string): unknown
  fail(...args: [string] | [string, any]): unknown
}

/**
 * Asserts that `ours` and `reference` are the same except where an allowance forgives the
 * difference: its path matches and both values are what it names (when it names them). A
 * difference no allowance forgives fails with both values; an allowance that forgives nothing
 * fails too, unless it is optional. At most `max` failures per call, then a count.
 */
export function assertSame(t: Asserts, what: string, ours: unknown, reference: unknown, allowances: Allowance[] = [], max = 40): Difference[] {
  // The exit code and stdout first, then the store, then the kernel.
  const rank = (p: string) => (p.startsWith('exit') ? 0 : p.startsWith('stdout') ? 1 : p.startsWith('store') ? 2 : 3)
  const diffs = differences(ours, reference).sort((a, b) => rank(a.path) - rank(b.path))
  const used = new Set<Allowance>()
  const bad: Difference[] = []
  for (const d of diffs) {
    const a = allowances.find(
      (x) => x.path.test(d.path) && (x.ours === undefined || matches(x.ours, d.ours)) && (x.reference === undefined || matches(x.reference, d.reference)),
    )
    if (!a) {
      bad.push(d)
      continue
    }
    used.add(a)
    t.pass(`${what}: ${d.path} (${deliberate(a.id)}): ours ${show(d.ours, 1500)}, reference ${show(d.reference, 1500)}`)
  }
  for (const a of allowances) {
    if (used.has(a) || a.optional) continue
    const values = [a.ours !== undefined ? `ours ${describe(a.ours)}` : '', a.reference !== undefined ? `the reference ${describe(a.reference)}` : ''].filter(Boolean).join(', ')
    t.fail(`${what}: ${deliberate(a.id)} claimed at ${a.path}${values ? ` (${values})` : ''}, not seen`)
  }
  for (const d of bad.slice(0, max)) t.fail(`${what}: ${d.path}: ours ${show(d.ours)}, reference ${show(d.reference)}`)
  if (bad.length > max) t.fail(`${what}: and ${bad.length - max} more differences`)
  if (bad.length === 0) t.pass(`${what}: the same${used.size ? ' apart from deliberate differences' : ''}`)
  return bad
}

/** A tree with Raw leaves. */
export function rawTree(v: GoValue): unknown {
  if (v.t === 'leaf') return new Raw(v.raw)
  if (v.t === 'array') return v.items.map(rawTree)
  const out: Record<string, unknown> = {}
  for (const [k, x] of v.entries) out[k] = rawTree(x)
  return out
}

/**
 * What a comparison sees of stdout: its layout and, when it is JSON, the tree with raw leaves;
 * otherwise the text. `expect` turns the reference's tree into what ours must print (deliberate).
 */
export function observeStdout(text: string): { layout: string; json?: unknown; text?: string; tree?: GoValue } {
  let tree: GoValue | undefined
  try {
    tree = parseRaw(text)
  } catch {
    tree = undefined
  }
  const layout = layoutOf(text, tree)
  if (tree) return { layout, json: rawTree(tree), tree }
  return text === '' ? { layout } : { layout, text }
}

/** A transform of the reference's stdout tree into what ours must print, by a deliberate entry. */
export interface StdoutExpectation {
  id: DeliberateId
  /** The expected tree, or undefined when the entry does not apply to this output (which fails). */
  apply(reference: GoValue): GoValue | undefined
}

/** Applies expectations to the reference's stdout text; returns the text ours must print. */
export function expectedStdout(t: Asserts, what: string, reference: string, expect: StdoutExpectation[]): string {
  let text = reference
  for (const e of expect) {
    let tree: GoValue | undefined
    try {
      tree = parseRaw(text)
    } catch {
      tree = undefined
    }
    const next = tree && e.apply(tree)
    if (!next || !tree) {
      t.fail(`${what}: ${deliberate(e.id)} claimed but it does not apply to the reference's stdout ${JSON.stringify(reference)}`)
      continue
    }
    text = printIndent(tree) === text ? printIndent(next) : printCompact(next) + (text.endsWith('\n') ? '\n' : '')
    t.pass(`${what}: ${deliberate(e.id)}`)
  }
  return text
}

/** Every file and directory under `dir` with its mode and content, by relative path; {} if absent. */
export function storeState(dir: string): Record<string, { mode: string; content?: string }> {
  const out: Record<string, { mode: string; content?: string }> = {}
  const walk = (rel: string) => {
    const abs = path.join(dir, rel)
    const st = fs.lstatSync(abs)
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0')
    if (st.isDirectory()) {
      if (rel) out[rel + '/'] = { mode }
      for (const name of fs.readdirSync(abs).sort()) walk(rel ? `${rel}/${name}` : name)
    } else if (st.isFile()) {
      out[rel] = { mode, content: fs.readFileSync(abs, 'latin1') }
    } else {
      out[rel] = { mode: `${mode} (not a regular file)` }
    }
  }
  if (fs.existsSync(dir)) walk('')
  return out
}

export { DELIBERATE }
