/**
 * IP addresses, the one parser and printer of the project (results, netlink, host-local).
 *
 * Parsing follows Go's net.ParseIP (netip rules: no leading zeros in IPv4 octets, no zones,
 * IPv4-mapped IPv6 becomes IPv4) and printing follows net.IP.String() (dotted IPv4, RFC 5952
 * lower-case IPv6), so what we print is what the reference prints. Hand-written on purpose:
 * node:net's isIPv6 compiles a large regular expression on first use, ~5 ms of every plugin's
 * start-up. Nothing runs at module load time.
 */

export type Family = 4 | 6

const V4_MAX = 0xffffffffn
const V6_MAX = (1n << 128n) - 1n

/** One IPv4 or IPv6 address. Immutable; compare with `equals`, print with `toString`. */
export class IP {
  private str: string | undefined

  private constructor(
    readonly family: Family,
    readonly value: bigint,
  ) {}

  static v4(value: bigint | number): IP {
    const v = BigInt(value)
    if (v < 0n || v > V4_MAX) throw new RangeError(`IPv4 value out of range: ${v}`)
    return new IP(4, v)
  }

  static v6(value: bigint): IP {
    if (value < 0n || value > V6_MAX) throw new RangeError(`IPv6 value out of range: ${value}`)
    return new IP(6, value)
  }

  /** Builds an address of `family` from its numeric value (no range check beyond the family's width). */
  static of(family: Family, value: bigint): IP {
    return family === 4 ? IP.v4(value) : IP.v6(value)
  }

  get bits(): 32 | 128 {
    return this.family === 4 ? 32 : 128
  }

  equals(other: IP | null | undefined): boolean {
    return !!other && other.family === this.family && other.value === this.value
  }

  /** The next address (Go ip.NextIP); wraps to zero past the family's last address. */
  next(): IP {
    const max = this.family === 4 ? V4_MAX : V6_MAX
    return new IP(this.family, this.value === max ? 0n : this.value + 1n)
  }

  /** Go's net.IP.String(). */
  toString(): string {
    if (this.str === undefined) this.str = formatIP(this.family, this.value)
    return this.str
  }

  toJSON(): string {
    return this.toString()
  }
}

/** Prints an address the way Go's net.IP.String() does. */
export function formatIP(family: Family, value: bigint): string {
  if (family === 4) return formatV4(Number(value))
  // An IPv4-mapped IPv6 value (::ffff:a.b.c.d) prints dotted in Go, like any 16-byte IPv4 address.
  if (value >> 32n === 0xffffn) return formatV4(Number(value & V4_MAX))
  const words: number[] = new Array(8)
  for (let i = 7, v = value; i >= 0; i--, v >>= 16n) words[i] = Number(v & 0xffffn)
  // RFC 5952: the longest run of two or more zero groups becomes "::", the leftmost on a tie.
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  let out = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::'
      i += bestLen - 1
      continue
    }
    if (out !== '' && !out.endsWith(':')) out += ':'
    out += words[i].toString(16)
  }
  return out
}

/** Dotted-quad of a 32-bit value held in a JS number (the allocator's hot loop uses this). */
export function formatV4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

/**
 * Go's net.ParseIP: returns null for anything it would reject. IPv4-mapped IPv6 addresses come
 * back as IPv4 (what canonicalizeIP does to every address host-local touches).
 */
export function parseIP(s: string): IP | null {
  const parsed = parseAddr(s)
  if (!parsed) return null
  return canonical(parsed.family, parsed.value)
}

function canonical(family: Family, value: bigint): IP {
  if (family === 6 && value >> 32n === 0xffffn) return IP.v4(value & V4_MAX)
  return IP.of(family, value)
}

/** netip.ParseAddr without zones: the family is the syntax's (an IPv4-mapped address stays 6). */
export function parseAddr(s: string): { family: Family; value: bigint } | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x2e /* . */) {
      const v = parseV4(s)
      return v === null ? null : { family: 4, value: BigInt(v) }
    }
    if (c === 0x3a /* : */) {
      const v = parseV6(s)
      return v === null ? null : { family: 6, value: v }
    }
    if (c === 0x25 /* % */) return null
  }
  return null
}

/** Dotted IPv4, exactly four fields, each 0-255 without leading zeros. Returns the 32-bit value. */
export function parseIPv4Number(s: string): number | null {
  return parseV4(s)
}

function parseV4(s: string): number | null {
  let val = 0
  let digits = 0
  let pos = 0
  let out = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && val === 0) return null // leading zero
      val = val * 10 + (c - 0x30)
      digits++
      if (val > 255) return null
    } else if (c === 0x2e) {
      if (i === 0 || i === s.length - 1 || s.charCodeAt(i - 1) === 0x2e) return null
      if (pos === 3) return null
      out = out * 256 + val
      pos++
      val = 0
      digits = 0
    } else {
      return null
    }
  }
  if (pos < 3) return null
  return out * 256 + val
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  return -1
}

/** IPv6 per netip.parseIPv6 (zones rejected: net.ParseIP refuses them). */
function parseV6(s: string): bigint | null {
  if (s.includes('%')) return null
  const bytes = new Array<number>(16).fill(0)
  let ellipsis = -1
  let rest = 0 // index into s
  if (s.length >= 2 && s.charCodeAt(0) === 0x3a && s.charCodeAt(1) === 0x3a) {
    ellipsis = 0
    rest = 2
    if (rest === s.length) return 0n
  }
  let i = 0
  while (i < 16) {
    let off = 0
    let acc = 0
    for (; rest + off < s.length; off++) {
      const d = hexDigit(s.charCodeAt(rest + off))
      if (d < 0) break
      acc = acc * 16 + d
      if (off > 3) return null // more than 4 digits in a group
    }
    if (off === 0) return null
    if (rest + off < s.length && s.charCodeAt(rest + off) === 0x2e) {
      // Trailing embedded IPv4.
      if (ellipsis < 0 && i !== 12) return null
      if (i + 4 > 16) return null
      const v4 = parseV4(s.slice(rest))
      if (v4 === null) return null
      bytes[i] = v4 >>> 24
      bytes[i + 1] = (v4 >>> 16) & 255
      bytes[i + 2] = (v4 >>> 8) & 255
      bytes[i + 3] = v4 & 255
      rest = s.length
      i += 4
      break
    }
    bytes[i] = acc >> 8
    bytes[i + 1] = acc & 255
    i += 2
    rest += off
    if (rest === s.length) break
    if (s.charCodeAt(rest) !== 0x3a) return null
    if (rest + 1 === s.length) return null
    rest++
    if (s.charCodeAt(rest) === 0x3a) {
      if (ellipsis >= 0) return null
      ellipsis = i
      rest++
      if (rest === s.length) break
    }
  }
  if (rest !== s.length) return null
  if (i < 16) {
    if (ellipsis < 0) return null
    const n = 16 - i
    for (let j = i - 1; j >= ellipsis; j--) bytes[j + n] = bytes[j]
    for (let j = ellipsis; j < ellipsis + n; j++) bytes[j] = 0
  } else if (ellipsis >= 0) {
    return null // "::" must stand for at least one group
  }
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

/**
 * A parsed CIDR as Go's types.ParseCIDR keeps it: the address with its host bits, the prefix
 * length, and the mask width of the syntax (128 for an IPv4-mapped IPv6 address, whose address
 * canonicalises to IPv4: the reference's "IPNet IP and Mask version mismatch").
 */
export interface ParsedCIDR {
  ip: IP
  prefix: number
  maskBits: 32 | 128
}

/** Go's net.ParseCIDR (types.ParseCIDR keeps the host bits). Error text as Go prints it. */
export function parseCIDR(s: string): ParsedCIDR {
  const slash = s.indexOf('/')
  const bad = (): Error => new Error(`invalid CIDR address: ${s}`)
  if (slash < 0) throw bad()
  const addr = parseAddr(s.slice(0, slash))
  if (!addr) throw bad()
  const maskText = s.slice(slash + 1)
  if (!/^[0-9]+$/.test(maskText)) throw bad()
  const prefix = Number(maskText)
  const maskBits = addr.family === 4 ? 32 : 128
  if (prefix > maskBits) throw bad()
  return { ip: canonical(addr.family, addr.value), prefix, maskBits }
}

/** Parses an optional IP-valued config field like Go's net.IP.UnmarshalText ("" means unset). */
export function parseIPField(s: string | undefined): IP | undefined {
  if (s === undefined || s === '') return undefined
  const ip = parseIP(s)
  if (!ip) throw new Error(`invalid IP address: ${s}`)
  return ip
}
