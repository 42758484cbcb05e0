import type { CaseResult, Level } from './case'

const LEVELS: readonly Level[] = ['MUST', 'SHOULD', 'REF']

export interface Summary {
  pass: number
  fail: number
  skip: number
  mustFailures: number
}

export function summarize(results: readonly CaseResult[]): Summary {
  const s = { pass: 0, fail: 0, skip: 0, mustFailures: 0 }
  for (const r of results) {
    s[r.verdict]++
    if (r.verdict === 'fail' && r.level === 'MUST') s.mustFailures++
  }
  return s
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length))
const mark = (r: CaseResult | undefined): string => (r ? { pass: 'pass', fail: 'FAIL', skip: 'skip' }[r.verdict] : '-')

/** The human report: one table per level, failures and skips explained under it. */
export function formatReport(dir: string, results: readonly CaseResult[]): string {
  const lines: string[] = [`Conformance of ${dir}`, '']
  for (const level of LEVELS) {
    const rows = results.filter((r) => r.level === level)
    if (!rows.length) continue
    const s = summarize(rows)
    lines.push(`${level}: ${s.pass} passed, ${s.fail} failed, ${s.skip} skipped`)
    for (const r of rows) {
      lines.push(`  ${pad(mark(r), 5)} ${pad(r.plugin, 11)} ${pad(r.id, 34)} ${r.title}  (${r.section})`)
      if (r.reason && r.verdict !== 'pass') lines.push(`        ${r.reason}`)
      if (r.note && r.verdict === 'fail') lines.push(`        note: ${r.note}`)
    }
    lines.push('')
  }
  const s = summarize(results)
  lines.push(`${s.pass} passed, ${s.fail} failed, ${s.skip} skipped; MUST failures: ${s.mustFailures}`)
  return lines.join('\n')
}

/** Cases whose verdicts differ between two directories, side by side. */
export function formatDiff(ours: string, ref: string, a: readonly CaseResult[], b: readonly CaseResult[]): string {
  const key = (r: CaseResult): string => `${r.plugin} ${r.id}`
  const byKey = new Map(b.map((r) => [key(r), r]))
  const keys = [...new Set([...a.map(key), ...b.map(key)])]
  const aByKey = new Map(a.map((r) => [key(r), r]))
  const rows = keys.filter((k) => aByKey.get(k)?.verdict !== byKey.get(k)?.verdict)
  const lines = [`Differences: ${ours} (left) vs ${ref} (right)`, '']
  if (!rows.length) lines.push('  none')
  for (const k of rows) {
    const l = aByKey.get(k)
    const r = byKey.get(k)
    const level = (l ?? r)?.level ?? ''
    lines.push(`  ${pad(level, 6)} ${pad(k, 46)} ${pad(mark(l), 5)} | ${mark(r)}`)
    if (l?.verdict !== 'pass' && l?.reason) lines.push(`        left:  ${l.reason}`)
    if (r?.verdict !== 'pass' && r?.reason) lines.push(`        right: ${r.reason}`)
  }
  return lines.join('\n')
}
