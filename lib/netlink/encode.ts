/**
 * Byte-level helpers: netlink attributes (host byte order, 4-byte aligned), IP addresses, CIDRs and
 * MAC addresses as the kernel wants them.
 */
import { formatIP, parseAddr } from '../ip/address'
import { NLA_F_NESTED } from './consts'

export type IpFamily = 4 | 6

let littleEndian: boolean | undefined
function le(): boolean {
  if (littleEndian === undefined) littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
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

/** 4 for an IPv4 address, 6 for IPv6 (IPv4-mapped included), 0 for anything else. */
export function ipFamily(ip: string): IpFamily | 0 {
  return parseAddr(ip)?.family ?? 0
}

/** The address in network byte order: 4 bytes for IPv4, 16 for IPv6. Throws on anything else. */
export function ipToBytes(ip: string): Buffer {
  const addr = parseAddr(ip)
  if (!addr) throw new TypeError(`invalid IP address: ${JSON.stringify(ip)}`)
  const out = Buffer.alloc(addr.family === 4 ? 4 : 16)
  let v = addr.value
  for (let i = out.length - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn)
  return out
}

/**
 * Text form of a 4- or 16-byte address; IPv6 in RFC 5952 canonical form. An IPv4-mapped IPv6
 * address stays IPv6 (`::ffff:a.b.c.d`, as iproute2 prints it): the kernel keeps it in the v6 family.
 */
export function bytesToIp(b: Buffer): string {
  if (b.length !== 4 && b.length !== 16) throw new TypeError(`invalid IP address length ${b.length}`)
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  if (b.length === 4) return formatIP(4, v)
  if (v >> 32n === 0xffffn) return `::ffff:${formatIP(4, v & 0xffffffffn)}`
  return formatIP(6, v)
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
