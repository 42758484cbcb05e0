/**
 * The names and comments the reference derives from a network and an attachment (its pkg/utils),
 * so rules made by either implementation are found and removed by the other.
 *
 *   formatChainName('net', 'ctr')         CNI-<24 hex of sha512('netctr')>        (bridge ipMasq)
 *   formatChainName('net', 'ctr', 'DN-')  CNI-DN-<21 hex of sha512('netctr')>     (portmap)
 *   formatComment('net', 'ctr')           name: "net" id: "ctr"
 */
import { sha512Hex as sha512 } from '../native/hash'

/** iptables chain names the reference makes are exactly this long. */
export const MAX_CHAIN_LENGTH = 28
const CHAIN_PREFIX = 'CNI-'

/** The first `length` hex digits of sha512(text). */
export function sha512Hex(text: string, length: number): string {
  return sha512(text).slice(0, length)
}

/**
 * `prefix` followed by hex digits of sha512(toHash), `length` characters in all (the reference's
 * MustFormatHashWithPrefix; like it, refuses a prefix that leaves no room for the hash).
 */
export function formatHashWithPrefix(length: number, prefix: string, toHash: string): string {
  if (prefix.length >= length || length > 128) throw new Error('invalid length')
  return (prefix + sha512(toHash)).slice(0, length)
}

/**
 * The chain of one attachment: `CNI-` + `prefix` + hex digits of sha512(network + containerID), 28
 * characters (FormatChainName, MustFormatChainNameWithPrefix).
 */
export function formatChainName(network: string, containerID: string, prefix = ''): string {
  return formatHashWithPrefix(MAX_CHAIN_LENGTH, CHAIN_PREFIX + prefix, network + containerID)
}

/** Go's %q for the strings CNI allows in names and IDs (and anything else JSON escapes the same way). */
export function goQuote(s: string): string {
  return JSON.stringify(s)
}

/** The rule comment of one attachment: `name: "<network>" id: "<containerID>"` (FormatComment). */
export function formatComment(network: string, containerID: string): string {
  return `name: ${goQuote(network)} id: ${goQuote(containerID)}`
}

/** `name: "net" id: "ctr"` -> {network, containerID}; undefined for any other comment. */
export function parseComment(comment: string): { network: string; containerID: string } | undefined {
  const m = /^name: ("(?:[^"\\]|\\.)*") id: ("(?:[^"\\]|\\.)*")$/.exec(comment)
  if (!m) return undefined
  try {
    return { network: JSON.parse(m[1]) as string, containerID: JSON.parse(m[2]) as string }
  } catch {
    return undefined
  }
}
