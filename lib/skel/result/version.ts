import { goQuote } from '../go-quote'
import { SUPPORTED_VERSIONS, type ResultFamily, type SpecVersion } from './types'

export function isSupportedVersion(v: string): v is SpecVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v)
}

/**
 * The result shape a version answers in. '' is the version of a config without cniVersion,
 * which the reference treats as 0.1.0.
 */
export function versionFamily(v: string): ResultFamily {
  switch (v) {
    case '':
    case '0.1.0':
    case '0.2.0':
      return '020'
    case '0.3.0':
    case '0.3.1':
    case '0.4.0':
      return '040'
    case '1.0.0':
    case '1.1.0':
      return '100'
    default:
      throw new Error(`unsupported CNI result version ${JSON.stringify(v)}`)
  }
}

/**
 * Compares two versions numerically part by part: -1, 0 or 1.
 * Accepts what the reference's version.ParseVersion accepts: '' (meaning 0.1.0) and one to
 * three dot-separated decimal parts, missing parts being 0 ("1.1" == "1.1.0").
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

const PART_NAMES = ['major', 'minor', 'micro'] as const

/**
 * libcni's version.ParseVersion, with its error texts (they reach runtimes' messages): "" is 0.1.0;
 * one to three parts, missing ones 0; each part read like Go's strconv.Atoi (a sign is allowed).
 */
export function parseVersion(version: string): [number, number, number] {
  if (version === '') return [0, 1, 0]
  const parts = version.split('.')
  if (parts.length > 3) throw new Error(`invalid version ${goQuote(version)}: too many parts`)
  const out: [number, number, number] = [0, 0, 0]
  parts.forEach((part, i) => {
    const why = atoiError(part)
    if (why) {
      throw new Error(`failed to convert ${PART_NAMES[i]} version part ${goQuote(part)}: strconv.Atoi: parsing ${goQuote(part)}: ${why}`)
    }
    out[i] = Number(part)
  })
  return out
}

/** Why Go's strconv.Atoi refuses `s`, or undefined when it accepts it. */
function atoiError(s: string): string | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return 'invalid syntax'
  const n = BigInt(s)
  return n > 9223372036854775807n || n < -9223372036854775808n ? 'value out of range' : undefined
}
