import type { Syscalls } from './syscalls'

export type { Syscalls } from './syscalls'

let loaded: Syscalls | undefined

/**
 * The syscall layer, loaded on first use (a plugin that never enters a namespace never pays):
 * bun:ffi in the compiled executable, the N-API addon under Node.
 */
export function native(): Syscalls {
  if (!loaded) {
    loaded = process.versions.bun
      ? (require('./ffi') as typeof import('./ffi')).loadFfi()
      : (require('./addon') as typeof import('./addon')).loadAddon()
  }
  return loaded
}
