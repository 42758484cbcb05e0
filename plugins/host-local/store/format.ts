/**
 * The reference host-local's on-disk format (reference-plugins.md §2.3), shared byte for byte with
 * the Go plugin:
 *
 *   <dataDir>/<network>/                 mode 0755
 *     lock                               empty; flock(LOCK_EX) on it is the store's lock
 *     <ip>                               "<containerID>\r\n<ifname>", no trailing newline; legacy
 *                                        files hold only "<containerID>"
 *     last_reserved_ip.<rangeSetIndex>   the IP string, no newline
 *
 * Names and contents only: no I/O here.
 */
import { formatV4, type IP, parseIP, parseIPv4Number } from '../../../lib/ipam/range'

/** Separates container ID and ifname in an IP file. */
export const LINE_BREAK = '\r\n'
export const LAST_IP_FILE_PREFIX = 'last_reserved_ip.'
export const LOCK_FILE = 'lock'
export const DEFAULT_DATA_DIR = '/var/lib/cni/networks'
/** Our temp files (network directory and index directory); never parse as an IP. */
export const TMP_PREFIX = '.tmp-'

const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

/**
 * Throws unless `name` is a CNI network name (`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`): no `/`, no NUL,
 * no leading `.` (so neither `.` nor `..`), hence it cannot reach outside the data directory.
 */
export function validateNetworkName(name: string): void {
  if (typeof name !== 'string' || !NETWORK_NAME_RE.test(name)) {
    throw new Error(
      `invalid network name ${JSON.stringify(name)}: it names a directory under the IPAM dataDir and must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$`,
    )
  }
}

// Go's strings.TrimSpace: Unicode White_Space (unlike String.prototype.trim, includes U+0085 and
// excludes U+FEFF).
const SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
let trimRe: RegExp | undefined

/** Go's strings.TrimSpace. */
export function goTrimSpace(s: string): string {
  trimRe ??= new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, 'g')
  return s.replace(trimRe, '')
}

/** What an IP file of (id, ifname) holds: the ID trimmed like the reference, CR LF, the ifname. */
export function fileContent(id: string, ifname: string): string {
  return goTrimSpace(id) + LINE_BREAK + ifname
}

/**
 * The contents that mean "owned by (id, ifname)": the current form, then the legacy id-only form.
 * The reference compares TrimSpace(file content) against these (which are not trimmed again).
 */
export function ownerKeys(id: string, ifname: string): { current: string; legacy: string } {
  return { current: fileContent(id, ifname), legacy: goTrimSpace(id) }
}

/** Who an IP file belongs to. `ifname` is absent for legacy files holding only the container ID. */
export interface AllocationOwner {
  id: string
  ifname?: string
}

/** Reads a (trimmed) IP file content. */
export function parseOwner(trimmed: string): AllocationOwner {
  const cut = trimmed.indexOf(LINE_BREAK)
  return cut < 0 ? { id: trimmed } : { id: trimmed.slice(0, cut), ifname: trimmed.slice(cut + LINE_BREAK.length) }
}

/**
 * The address an IP file's name stands for, or null for any other file. Only canonical names
 * count: the reference reserves by canonical name, so "FD00::1" does not block fd00::1 for it
 * either.
 */
export function ipOfFileName(name: string): IP | null {
  const ip = parseIP(name)
  return ip && ip.toString() === name ? ip : null
}

/**
 * Like ipOfFileName for a hot loop over a directory: an IPv4 name gives its 32-bit value without
 * building a bigint; anything else gives null here (then ask ipOfFileName).
 */
export function v4OfFileName(name: string): number | null {
  const n = parseIPv4Number(name)
  return n !== null && formatV4(n) === name ? n : null
}

/** FNV-1a over UTF-16 code units of a trimmed content: the index's owner hash. */
export function ownerHash(trimmed: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < trimmed.length; i++) {
    h ^= trimmed.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
