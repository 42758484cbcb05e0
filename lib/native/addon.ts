import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Syscalls } from './syscalls'

/**
 * The N-API addon for lib/ under Node (tests, development). Built by `npm run build` into
 * dist/node/tscni.node; found relative to this source file only, never through the environment.
 */
export function loadAddon(): Syscalls {
  const mod = { exports: {} as Omit<Syscalls, 'close'> }
  process.dlopen(mod, path.join(__dirname, '..', '..', 'dist', 'node', 'tscni.node'))
  return { ...mod.exports, close: (fd) => fs.closeSync(fd) }
}
