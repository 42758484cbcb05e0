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

// Set by the bundle banner (scripts/build.mjs): where dist/lib is, seen from the bundle's real path.
// Sources run from the repo (tests) find the built files in dist/lib.
declare const __tscniNativeDir: string | undefined

/** Directory holding the built .node files (tscni.node, netlink.node). */
export function nativeDir(): string {
  if (process.env.TSCNI_NATIVE_DIR) return process.env.TSCNI_NATIVE_DIR
  if (typeof __tscniNativeDir !== 'undefined') return __tscniNativeDir
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
