/**
 * The names and comments the reference derives from a network and an attachment, so rules made by
 * either implementation are found and removed by the other.
 */
import { sha512Hex as sha512 } from '../native/hash'

/** The first `length` hex digits of sha512(text) (the reference's MustFormatHashWithPrefix). */
export function sha512Hex(text: string, length: number): string {
  return sha512(text).slice(0, length)
}

/** iptables masquerade chain: `CNI-` + 24 hex digits of sha512(network + containerID). */
export function masqChainName(network: string, containerID: string): string {
  return `CNI-${sha512Hex(network + containerID, 24)}`
}

/** Go's %q for the strings CNI allows in names and IDs (and anything else JSON escapes the same way). */
export function goQuote(s: string): string {
  return JSON.stringify(s)
}

/** iptables masquerade comment: `name: "<network>" id: "<containerID>"`. */
export function masqComment(network: string, containerID: string): string {
  return `name: ${goQuote(network)} id: ${goQuote(containerID)}`
}
