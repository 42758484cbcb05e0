import { isIPv4, isIPv6 } from 'node:net'

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
  if (isIPv4(s)) return { family: 4, text: s, bits: 32 }
  if (s.includes('%') || !isIPv6(s)) return undefined
  const groups = ipv6Groups(s)
  if (isV4Mapped(groups)) {
    const [hi, lo] = [groups[6] as number, groups[7] as number]
    return { family: 4, text: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`, bits: 128 }
  }
  return { family: 6, text: formatIpv6(groups), bits: 128 }
}

/** The 8 16-bit groups of an IPv6 address that isIPv6() already accepted. */
function ipv6Groups(s: string): number[] {
  const halves = s.split('::')
  const left = halves[0] ? groupsOf(halves[0]) : []
  if (halves.length === 1) return left
  const right = halves[1] ? groupsOf(halves[1]) : []
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

function groupsOf(part: string): number[] {
  const out: number[] = []
  for (const g of part.split(':')) {
    if (g.includes('.')) {
      // Embedded IPv4 tail: two groups.
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number]
      out.push((a << 8) | b, (c << 8) | d)
    } else {
      out.push(parseInt(g, 16))
    }
  }
  return out
}

function isV4Mapped(groups: number[]): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff
}

/** RFC 5952 text as Go prints it: the first longest run of 2+ zero groups becomes "::". */
function formatIpv6(groups: number[]): string {
  let runStart = -1
  let runLength = 0
  for (let i = 0; i < 8; i++) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i >= 2 && j - i > runLength) {
      runStart = i
      runLength = j - i
    }
  }
  const hex = groups.map((g) => g.toString(16))
  if (runStart < 0) return hex.join(':')
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`
}
