/**
 * Prefix arithmetic on top of lib/ip/address.ts: an address with its prefix length (Go's net.IPNet
 * as the CNI types keep it, host bits included), its network, containment, Go's mask text.
 */
import { type Family, IP, parseCIDR } from './address'

/** `10.1.2.3/24` as the reference holds it: the address keeps its host bits. */
export interface Prefix {
  ip: IP
  prefix: number
}

/**
 * Parses `addr/len` like Go's types.ParseCIDR. An IPv4-mapped IPv6 address becomes IPv4 with its
 * prefix re-based (`::ffff:10.1.2.3/120` -> `10.1.2.3/24`), as Go prints it. Throws Go's
 * `invalid CIDR address: X` otherwise.
 */
export function parsePrefix(cidr: string): Prefix {
  const c = parseCIDR(cidr)
  let prefix = c.prefix
  if (c.ip.family === 4 && c.maskBits === 128) {
    if (prefix < 96) throw new Error(`invalid CIDR address: ${cidr}`)
    prefix -= 96
  }
  return { ip: c.ip, prefix }
}

export function bitsOf(family: Family): 32 | 128 {
  return family === 4 ? 32 : 128
}

/** The netmask of `prefix` bits as a number. */
export function maskValue(family: Family, prefix: number): bigint {
  const bits = BigInt(bitsOf(family))
  const all = (1n << bits) - 1n
  return (all >> BigInt(prefix)) ^ all
}

/** The network address: host bits cleared. */
export function networkIP(p: Prefix): IP {
  return IP.of(p.ip.family, p.ip.value & maskValue(p.ip.family, p.prefix))
}

/** `10.1.2.0/24` for `10.1.2.3/24`. */
export function networkText(p: Prefix): string {
  return `${networkIP(p)}/${p.prefix}`
}

/** `10.1.2.3/24`: the address with its host bits (Go's IPNet.String()). */
export function prefixText(p: Prefix): string {
  return `${p.ip}/${p.prefix}`
}

/** True when `ip` lies inside `p`'s network (same family only, like Go's IPNet.Contains). */
export function prefixContains(p: Prefix, ip: IP): boolean {
  if (ip.family !== p.ip.family) return false
  const mask = maskValue(p.ip.family, p.prefix)
  return (ip.value & mask) === (p.ip.value & mask)
}

/** Go's IPMask.String(): the mask as lower-case hex, 8 digits for IPv4, 32 for IPv6. */
export function maskHex(family: Family, prefix: number): string {
  return maskValue(family, prefix).toString(16).padStart(family === 4 ? 8 : 32, '0')
}

/**
 * Go's net.IP.IsGlobalUnicast(): not unspecified, loopback, multicast, link-local unicast or the
 * IPv4 limited broadcast. RFC 1918 and ULA addresses count as global.
 */
export function isGlobalUnicast(ip: IP): boolean {
  const v = ip.value
  if (ip.family === 4) {
    if (v === 0n || v === 0xffffffffn) return false
    const first = v >> 24n
    if (first === 127n || (first >= 224n && first <= 239n)) return false
    if (v >> 16n === 0xa9fen) return false // 169.254/16
    return true
  }
  if (v === 0n || v === 1n) return false
  if (v >> 120n === 0xffn) return false // ff00::/8
  if (v >> 118n === 0x3fan) return false // fe80::/10
  return true
}
