import { goTypeName } from './go-json'
import { compareVersions, parseVersion } from '../skel/result/version'

// One ParseVersion for the plugin side and the runtime side (lib/skel holds it).
export { compareVersions, parseVersion }

/** The newest spec version this runtime implements; a list never runs at a higher one. */
export const CURRENT_SPEC_VERSION = '1.1.0'

/**
 * The version a network config list runs at (spec 1.1.0 §"Network configuration": "select the
 * highest supported version from ... `cniVersion` and `cniVersions`"), as libcni picks it:
 * - without `cniVersions`, `cniVersion` as written (even "9.9.9"; "" stays "", meaning 0.1.0);
 * - with it, the highest of `cniVersions` ∪ {cniVersion}, ignoring anything above 1.1.0;
 *   if every entry is ignored, `cniVersion` as written.
 * Plugins are not consulted. Errors carry libcni's wording; the caller adds the
 * "error parsing configuration list: " prefix.
 */
export function selectCniVersion(cniVersion: string, cniVersions: unknown): string {
  if (cniVersions === undefined) return cniVersion
  // libcni prints the type of its own (nil) slice here, not of the value: always this text.
  if (!Array.isArray(cniVersions)) throw new Error('invalid type for cniVersions: []interface {}')
  const usable: string[] = []
  cniVersions.forEach((v: unknown, i) => {
    if (typeof v !== 'string') throw new Error(`invalid type for cniVersions index ${i}: ${goTypeName(v)}`)
    if (!aboveCurrent(v, (msg) => `invalid cniVersions entry ${v} at index ${i}: ${msg}`)) usable.push(v)
  })
  if (cniVersion !== '' && !aboveCurrent(cniVersion, (msg) => `invalid cniVersion ${cniVersion}: ${msg}`)) {
    usable.push(cniVersion)
  }
  if (usable.length === 0) return cniVersion
  return usable.reduce((best, v) => (compareVersions(v, best) > 0 ? v : best))
}

function aboveCurrent(v: string, describe: (msg: string) => string): boolean {
  try {
    return compareVersions(v, CURRENT_SPEC_VERSION) > 0
  } catch (err) {
    throw new Error(describe((err as Error).message))
  }
}

/** `version >= other`, for the verb gates (CHECK ≥ 0.4.0, STATUS/GC ≥ 1.1.0). Throws on a malformed version. */
export function versionAtLeast(version: string, other: string): boolean {
  return compareVersions(version, other) >= 0
}
