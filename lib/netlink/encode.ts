/**
 * Byte-level helpers: netlink attributes (host byte order, 4-byte aligned), IP addresses, CIDRs and
 * MAC addresses as the kernel wants them. Nothing here loads the `netlink` package.
 */
import * as net from 'node:net'
import * as os from 'node:os'
import { NLA_F_NESTED } from './consts'

export type IpFamily = 4 | 6

let littleEndian: boolean | undefined
function le(): boolean {
  if (littleEndian === undefined) littleEndian = os.endianness() === 'LE'
  return littleEndian
}

// ---- integers in host order ----

export function u8(n: number): Buffer {
  return Buffer.from([n & 0xff])
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  if (le()) b.writeUInt16LE(n)
  else b.writeUInt16BE(n)
  return b
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  if (le()) b.writeUInt32LE(n >>> 0)
  else b.writeUInt32BE(n >>> 0)
  return b
}

export function readU16(b: Buffer, off = 0): number {
  return le() ? b.readUInt16LE(off) : b.readUInt16BE(off)
}

export function readU32(b: Buffer, off = 0): number {
  return le() ? b.readUInt32LE(off) : b.readUInt32BE(off)
}

export function readS32(b: Buffer, off = 0): number {
  return le() ? b.readInt32LE(off) : b.readInt32BE(off)
}

/** Reads a 1-, 2- or 4-byte unsigned attribute payload (the kernel is not always consistent). */
export function readUint(b: Buffer): number {
  if (b.length >= 4) return readU32(b)
  if (b.length >= 2) return readU16(b)
  return b.length ? b[0] : 0
}

/** A NUL-terminated string attribute. */
export function cstring(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'utf8')
}

export function readCstring(b: Buffer): string {
  const end = b.indexOf(0)
  return b.toString('utf8', 0, end < 0 ? b.length : end)
}

// ---- attributes ----

const pad4 = (n: number): number => (n + 3) & ~3

/** One attribute (struct nlattr + payload), padded to 4 bytes. `nested` sets NLA_F_NESTED. */
export function attr(type: number, payload: Buffer | Buffer[] = [], nested = false): Buffer {
  const body = Array.isArray(payload) ? Buffer.concat(payload) : payload
  const len = 4 + body.length
  if (len > 0xffff) throw new RangeError(`netlink attribute ${type} too long (${len} bytes)`)
  const out = Buffer.alloc(pad4(len))
  const hdr = le()
  if (hdr) {
    out.writeUInt16LE(len, 0)
    out.writeUInt16LE((type & 0x3fff) | (nested ? NLA_F_NESTED : 0), 2)
  } else {
    out.writeUInt16BE(len, 0)
    out.writeUInt16BE((type & 0x3fff) | (nested ? NLA_F_NESTED : 0), 2)
  }
  body.copy(out, 4)
  return out
}

/** Calls `fn` for each attribute in `b`. `type` has the NLA_F_* flag bits removed. */
export function walkAttrs(b: Buffer, fn: (type: number, data: Buffer) => void): void {
  let off = 0
  while (off + 4 <= b.length) {
    const len = readU16(b, off)
    const type = readU16(b, off + 2) & 0x3fff
    if (len < 4 || off + len > b.length) break // truncated: stop rather than misread
    fn(type, b.subarray(off + 4, off + len))
    off += pad4(len)
  }
}

/** Attributes by type; a repeated type keeps the last one (use walkAttrs for lists). */
export function attrMap(b: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>()
  walkAttrs(b, (type, data) => m.set(type, data))
  return m
}

// ---- IP addresses ----

/** 4 for an IPv4 address, 6 for IPv6, 0 for anything else. */
export function ipFamily(ip: string): IpFamily | 0 {
  if (net.isIPv4(ip)) return 4
  if (net.isIPv6(ip) && !ip.includes('%')) return 6
  return 0
}

function v4Bytes(ip: string): number[] {
  return ip.split('.').map(Number)
}

/** The address in network byte order: 4 bytes for IPv4, 16 for IPv6. Throws on anything else. */
export function ipToBytes(ip: string): Buffer {
  const family = ipFamily(ip)
  if (family === 4) return Buffer.from(v4Bytes(ip))
  if (family !== 6) throw new TypeError(`invalid IP address: ${JSON.stringify(ip)}`)
  let s = ip
  const dot = s.includes('.') ? s.lastIndexOf(':') : -1
  if (dot >= 0) {
    const [a, b, c, d] = v4Bytes(s.slice(dot + 1))
    s = `${s.slice(0, dot + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [left, right] = s.split('::')
  const head = left ? left.split(':') : []
  const tail = right === undefined ? [] : right ? right.split(':') : []
  const groups = right === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

/** Text form of a 4- or 16-byte address; IPv6 in RFC 5952 canonical form (as iproute2 and Go print it). */
export function bytesToIp(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  if (b.length !== 16) throw new TypeError(`invalid IP address length ${b.length}`)
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`
  }
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i))
  // longest run of zero groups (length >= 2, leftmost on ties) becomes '::'
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':')
  if (bestAt < 0) return hex(groups)
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`
}

/** Canonical text of an address ('fd00:0::1' -> 'fd00::1'); throws on invalid input. */
export function normalizeIp(ip: string): string {
  return bytesToIp(ipToBytes(ip))
}

/** A parsed `ip/len`. `address` is the address as given (host bits kept), in canonical text. */
export interface Cidr {
  family: IpFamily
  address: string
  bytes: Buffer
  prefixLen: number
}

/** Parses `ip/len`; a bare address means a host prefix (/32 or /128). Throws TypeError when invalid. */
export function parseCidr(cidr: string): Cidr {
  const slash = cidr.indexOf('/')
  const ip = slash < 0 ? cidr : cidr.slice(0, slash)
  const family = ipFamily(ip)
  if (!family) throw new TypeError(`invalid CIDR address: ${cidr}`)
  const max = family === 4 ? 32 : 128
  const lenText = slash < 0 ? String(max) : cidr.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) throw new TypeError(`invalid CIDR address: ${cidr}`)
  const bytes = ipToBytes(ip)
  return { family, address: bytesToIp(bytes), bytes, prefixLen: Number(lenText) }
}

export function formatCidr(c: { address: string; prefixLen: number }): string {
  return `${c.address}/${c.prefixLen}`
}

function masked(bytes: Buffer, prefixLen: number, fill: 0 | 1): Buffer {
  const out = Buffer.from(bytes)
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLen - i * 8))
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff
    out[i] = fill ? out[i] | (~mask & 0xff) : out[i] & mask
  }
  return out
}

/** The network of a prefix: host bits cleared ('10.1.2.3/24' -> 10.1.2.0/24). */
export function networkOf(c: Cidr): Cidr {
  const bytes = masked(c.bytes, c.prefixLen, 0)
  return { ...c, bytes, address: bytesToIp(bytes) }
}

/** The IPv4 broadcast address of a prefix (host bits set). */
export function broadcastOf(c: Cidr): Buffer {
  return masked(c.bytes, c.prefixLen, 1)
}

/** True when `ip` (text or bytes) lies inside prefix `c`. */
export function cidrContains(c: Cidr, ip: string | Buffer): boolean {
  const b = typeof ip === 'string' ? ipToBytes(ip) : ip
  if (b.length !== c.bytes.length) return false
  return masked(b, c.prefixLen, 0).equals(masked(c.bytes, c.prefixLen, 0))
}

// ---- MAC addresses ----

/** Parses 'aa:bb:cc:dd:ee:ff' (or with '-'); the error text is Go's net.ParseMAC one. */
export function parseMac(mac: string): Buffer {
  if (!/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(mac)) {
    throw new TypeError(`address ${mac}: invalid MAC address`)
  }
  return Buffer.from(mac.split(/[:-]/).map((h) => parseInt(h, 16)))
}

/** 'aa:bb:cc:dd:ee:ff', lowercase; '' for an empty buffer. */
export function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')
}
