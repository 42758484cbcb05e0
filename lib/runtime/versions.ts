import { goQuote, goTypeName } from './go-json'

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

/**
 * Compares versions as libcni's version.GreaterThan does, with its parse errors. Like the
 * plugin side's compareVersions (lib/skel), but Go's strconv.Atoi rules (a sign is allowed) and
 * error texts, since these reach the runtime's messages.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const pa = parseVersion(a)
  const pb = parseVersion(b)
  for (let i = 0; i < 3; i++) {
    const x = pa[i] as number
    const y = pb[i] as number
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

const PARTS = ['major', 'minor', 'micro'] as const

/** libcni's version.ParseVersion: "" is 0.1.0; one to three parts, missing ones 0. */
export function parseVersion(version: string): [number, number, number] {
  if (version === '') return [0, 1, 0]
  const parts = version.split('.')
  if (parts.length >= 4) throw new Error(`invalid version ${goQuote(version)}: too many parts`)
  const out: [number, number, number] = [0, 0, 0]
  parts.forEach((part, i) => {
    const why = atoiError(part)
    if (why) throw new Error(`failed to convert ${PARTS[i]} version part ${goQuote(part)}: strconv.Atoi: parsing ${goQuote(part)}: ${why}`)
    out[i] = Number(part)
  })
  return out
}

/** Why Go's strconv.Atoi refuses `s` (64-bit int), or undefined when it accepts it. */
function atoiError(s: string): string | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return 'invalid syntax'
  const n = BigInt(s)
  return n > 9223372036854775807n || n < -9223372036854775808n ? 'value out of range' : undefined
}
