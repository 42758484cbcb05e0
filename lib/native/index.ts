import * as path from 'node:path'

/** The syscalls the C addon (native/tscni.c) provides. */
export interface TscniNative {
  setns(fd: number, nstype: number): void
  flock(fd: number, op: number): void
  readonly CLONE_NEWNET: number
  readonly LOCK_SH: number
  readonly LOCK_EX: number
  readonly LOCK_NB: number
  readonly LOCK_UN: number
}

// Set by the bundle banner (scripts/build.mjs): bundles find their .node files in ../lib next to
// the real path of the executable; sources run from the repo find them in dist/lib.
declare const __tscniBundle: boolean | undefined

/** Directory holding the built .node files (tscni.node, netlink.node). */
export function nativeDir(): string {
  if (process.env.TSCNI_NATIVE_DIR) return process.env.TSCNI_NATIVE_DIR
  if (typeof __tscniBundle !== 'undefined') return path.join(__dirname, '..', 'lib')
  return path.join(__dirname, '..', '..', 'dist', 'lib')
}

let loaded: TscniNative | undefined

/** Loads the addon on first use: plugins that never enter a namespace never pay for the dlopen. */
export function native(): TscniNative {
  if (!loaded) {
    const mod = { exports: {} as TscniNative }
    process.dlopen(mod, path.join(nativeDir(), 'tscni.node'))
    loaded = mod.exports
  }
  return loaded
}
