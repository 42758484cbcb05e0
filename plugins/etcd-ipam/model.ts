/**
 * etcd-ipam's data model: the keys under `<prefix>/<network>/` (README.md, "Data model").
 *
 *   blocks/v4/<hex network>/<len>        {"node":"n1"}   a node's claim on an aligned block
 *   ips/v4/<hex address>                 {"containerID","ifname","node"}   one per allocated address
 *   handles/<containerID>/<ifname>       {"containerID","ifname","node","ips":[...]}   the attachment
 *   nodes/<node>/<containerID>/<ifname>  same value as the handle: a node's allocations, for GC
 *   released/v4/<hex address>            (lease of reuseCooldown s) an address cooling down
 *
 * Addresses are fixed-width hex so that one block is one contiguous key range (v6: 32 digits).
 */
import { type Family, IP, type Range, type RangeSet } from '../../lib/ipam/range'

export interface HandleValue {
  containerID: string
  ifname: string
  node: string
  ips: string[]
}

export function hexOf(family: Family, value: bigint): string {
  return value.toString(16).padStart(family === 4 ? 8 : 32, '0')
}

export function famTag(family: Family): string {
  return family === 4 ? 'v4' : 'v6'
}

/** A block: an aligned subnet of a pool, claimed by one node. */
export interface Block {
  family: Family
  network: bigint
  prefix: number
  key: string
}

export class Keys {
  readonly base: string
  constructor(prefix: string, network: string) {
    this.base = `${prefix}/${network}/`
  }
  block(family: Family, network: bigint, prefix: number): string {
    return `${this.base}blocks/${famTag(family)}/${hexOf(family, network)}/${prefix}`
  }
  blocksOf(family: Family): string {
    return `${this.base}blocks/${famTag(family)}/`
  }
  ip(ip: IP): string {
    return `${this.base}ips/${famTag(ip.family)}/${hexOf(ip.family, ip.value)}`
  }
  ipsOf(family: Family): string {
    return `${this.base}ips/${famTag(family)}/`
  }
  released(ip: IP): string {
    return `${this.base}released/${famTag(ip.family)}/${hexOf(ip.family, ip.value)}`
  }
  releasedOf(family: Family): string {
    return `${this.base}released/${famTag(family)}/`
  }
  handle(containerID: string, ifname: string): string {
    return `${this.base}handles/${containerID}/${ifname}`
  }
  handles(): string {
    return `${this.base}handles/`
  }
  node(node: string, containerID: string, ifname: string): string {
    return `${this.base}nodes/${node}/${containerID}/${ifname}`
  }
  nodePrefix(node: string): string {
    return `${this.base}nodes/${node}/`
  }
  /** The key range [start, end) of the addresses from..to of a family under `of` (ips/ or released/). */
  addrRange(of: string, family: Family, from: bigint, to: bigint): { key: string; rangeEnd: string } {
    return { key: of + hexOf(family, from), rangeEnd: of + hexOf(family, to) + '\0' }
  }
  /** The block a key names, or null. */
  parseBlock(key: string): Block | null {
    const m = /blocks\/(v4|v6)\/([0-9a-f]+)\/(\d+)$/.exec(key)
    if (!m || !key.startsWith(this.base)) return null
    return { family: m[1] === 'v4' ? 4 : 6, network: BigInt('0x' + m[2]), prefix: Number(m[3]), key }
  }
  /** The address an ips/ or released/ key names. */
  parseAddr(key: string): bigint | null {
    const m = /\/(v4|v6)\/([0-9a-f]+)$/.exec(key)
    return m ? BigInt('0x' + m[2]) : null
  }
}

/** The value a node writes into its blocks (compared byte for byte in ADD's txn). */
export function blockValue(node: string): string {
  return JSON.stringify({ node })
}

export function blockOwner(value: string): string | undefined {
  try {
    return (JSON.parse(value) as { node?: string }).node
  } catch {
    return undefined
  }
}

function mask(bits: number, prefix: number): bigint {
  return (1n << BigInt(bits - prefix)) - 1n
}

/** The block length used for `range`: the configured size, or the range's own subnet when smaller. */
export function blockLen(range: Range, v4: number, v6: number): number {
  const want = range.family === 4 ? v4 : v6
  return Math.max(range.prefix, want)
}

export function blockOf(ip: IP, len: number): bigint {
  return ip.value & ~mask(ip.bits, len)
}

export function blockEnd(family: Family, network: bigint, len: number): bigint {
  return network | mask(family === 4 ? 32 : 128, len)
}

/** A stretch of usable addresses inside one block: [from, to], minus `gateway`. */
export interface Segment {
  range: Range
  from: bigint
  to: bigint
}

/** The usable stretches of `set` inside the block [start, end] (gateways are skipped by callers). */
export function segmentsIn(set: RangeSet, start: bigint, end: bigint): Segment[] {
  const out: Segment[] = []
  for (const r of set.ranges) {
    const from = r.rangeStart.value > start ? r.rangeStart.value : start
    const to = r.rangeEnd.value < end ? r.rangeEnd.value : end
    if (from <= to) out.push({ range: r, from, to })
  }
  return out
}

/** Addresses usable in the segments, gateways excepted, not in `taken`; at most `limit`. */
export function freeIn(segs: Segment[], taken: Set<bigint>, limit = Infinity): Array<{ value: bigint; range: Range }> {
  const out: Array<{ value: bigint; range: Range }> = []
  for (const s of segs) {
    const gw = s.range.gateway.family === s.range.family ? s.range.gateway.value : -1n
    for (let v = s.from; v <= s.to; v++) {
      if (v === gw || taken.has(v)) continue
      out.push({ value: v, range: s.range })
      if (out.length >= limit) return out
    }
  }
  return out
}

/** How many usable addresses the segments hold (gateways excepted). */
export function sizeOf(segs: Segment[]): bigint {
  let n = 0n
  for (const s of segs) {
    n += s.to - s.from + 1n
    const gw = s.range.gateway
    if (gw.family === s.range.family && gw.value >= s.from && gw.value <= s.to) n -= 1n
  }
  return n
}

export { IP }
