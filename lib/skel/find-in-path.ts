import { fs } from '../native/fs'
import { joinPath } from '../util/path'
import { goQuote } from './go-quote'

/**
 * libcni's invoke.FindInPath, for runtimes and for plugins that delegate: the first
 * `<dir>/<plugin>` in `paths` that is a regular file (symlinks followed, the exec bit not checked).
 * Errors in the reference's words.
 */
export function findInPath(plugin: string, paths: readonly string[]): string {
  if (plugin === '') throw new Error('no plugin name provided')
  if (plugin.includes('/')) throw new Error(`invalid plugin name: ${plugin}`)
  if (paths.length === 0) throw new Error('no paths provided')
  for (const dir of paths) {
    const full = joinPath(dir, plugin)
    try {
      if (fs.statSync(full).isFile()) return full
    } catch {
      // not in this directory
    }
  }
  throw new Error(`failed to find plugin ${goQuote(plugin)} in path [${paths.join(' ')}]`)
}
