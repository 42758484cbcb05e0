/**
 * POSIX path joining with node:path's exact results, for the plugin path: under Bun, node:path is a
 * lazily loaded module that costs about a millisecond to load. test/lib/util/path.test.ts checks it
 * against node:path.
 */

/** Resolves `.` and `..` and collapses slashes, like path.posix.normalize. */
export function normalizePath(p: string): string {
  if (p === '') return '.'
  const absolute = p.startsWith('/')
  const trailing = p.endsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop()
      else if (!absolute) out.push('..')
      continue
    }
    out.push(part)
  }
  const joined = out.join('/')
  if (absolute) return trailing && joined ? `/${joined}/` : `/${joined}`
  if (joined === '') return trailing ? './' : '.'
  return trailing ? `${joined}/` : joined
}

/** path.posix.join: the non-empty parts joined with '/', then normalized. */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((s) => s !== '').join('/')
  return joined === '' ? '.' : normalizePath(joined)
}
