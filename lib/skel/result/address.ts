import { formatIP, parseAddr } from '../../ip/address'

/**
 * Address parsing for results. The reference holds result addresses as Go net.IP/net.IPNet, so
 * what it prints is always the Go canonical text: IPv4 and IPv4-mapped IPv6 as a dotted quad,
 * other IPv6 in RFC 5952 form, CIDRs with host bits kept. Doing the same here keeps our
 * output byte-identical for any input the reference accepts.
 */

export type IpFamily = 4 | 6

export interface ParsedAddress {
  /** 4 for IPv4 and IPv4-mapped IPv6 (Go's To4() != nil), else 6. */
  family: IpFamily
  /** Canonical text as the reference prints it. */
  text: string
}

/** Parses an IP address; undefined when it is not one (zones such as "%eth0" are refused, as in Go). */
export function parseIp(s: string): ParsedAddress | undefined {
  const ip = parseIpBits(s)
  return ip && { family: ip.family, text: ip.text }
}

/**
 * Parses "addr/prefix"; undefined when it is not a CIDR. For an IPv4-mapped address the prefix
 * is re-based on the IPv4 part, as Go's IPNet.String() does ("::ffff:10.1.0.5/112" -> "10.1.0.5/16").
 */
export function parseCidr(s: string): ParsedAddress | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIpBits(s.slice(0, slash))
  const prefixText = s.slice(slash + 1)
  if (!ip || !/^[0-9]+$/.test(prefixText)) return undefined
  const prefix = Number(prefixText)
  if (prefix > ip.bits) return undefined
  const printed = ip.family === 4 && ip.bits === 128 ? Math.max(0, prefix - 96) : prefix
  return { family: ip.family, text: `${ip.text}/${printed}` }
}

/** parseCidr for a field that must hold a CIDR; the error names the field. */
export function requireCidr(value: string, path: string): ParsedAddress {
  const cidr = parseCidr(value)
  if (!cidr) throw new Error(`${path} must be a CIDR string, got ${JSON.stringify(value)}`)
  return cidr
}

/** parseIp for a field that must hold an IP address; the error names the field. */
export function requireIp(value: string, path: string): ParsedAddress {
  const ip = parseIp(value)
  if (!ip) throw new Error(`${path} must be an IP address string, got ${JSON.stringify(value)}`)
  return ip
}

interface IpBits extends ParsedAddress {
  /** Bit length of the address as written: 128 for any IPv6 literal, even IPv4-mapped. */
  bits: 32 | 128
}

function parseIpBits(s: string): IpBits | undefined {
  const addr = parseAddr(s)
  if (!addr) return undefined
  const bits = addr.family === 4 ? 32 : 128
  const v4Mapped = addr.family === 6 && addr.value >> 32n === 0xffffn
  // formatIP prints an IPv4-mapped value dotted, as Go does for any address with a To4() form.
  return { family: v4Mapped ? 4 : addr.family, text: formatIP(addr.family, addr.value), bits }
}
