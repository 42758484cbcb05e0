/**
 * Ranges and range sets of host-local, with the reference's defaults and error texts
 * (reference-plugins.md §2.1). Addresses are lib/ip's IP (bigints tagged with a family).
 */
import { type Family, IP, parseCIDR, parseIPField } from '../ip/address'

export { type Family, IP, type ParsedCIDR, formatIP, formatV4, parseCIDR, parseIP, parseIPField, parseIPv4Number } from '../ip/address'

function hostMask(bits: number, prefix: number): bigint {
  return (1n << BigInt(bits - prefix)) - 1n
}

/** A range as it appears in the netconf (`ipam.ranges[i][j]` or the legacy single-range keys). */
export interface RangeConfig {
  subnet?: string
  rangeStart?: string
  rangeEnd?: string
  gateway?: string
}

/** A canonicalised range: every field set, the subnet without host bits. */
export class Range {
  constructor(
    /** Network address of the subnet (host bits zero). */
    readonly network: IP,
    readonly prefix: number,
    readonly rangeStart: IP,
    readonly rangeEnd: IP,
    readonly gateway: IP,
  ) {}

  get family(): Family {
    return this.network.family
  }

  /** "10.1.2.0/24". */
  get subnet(): string {
    return `${this.network}/${this.prefix}`
  }

  /** Last address of the subnet (the IPv4 broadcast). */
  get lastAddress(): IP {
    return IP.of(this.family, this.network.value | hostMask(this.network.bits, this.prefix))
  }

  /** True when `ip` is in the subnet and within [rangeStart, rangeEnd] (Go Range.Contains). */
  contains(ip: IP): boolean {
    return (
      ip.family === this.family &&
      ip.value >= this.rangeStart.value &&
      ip.value <= this.rangeEnd.value &&
      inSubnet(ip, this.network, this.prefix)
    )
  }

  /** Go Range.Overlaps: same family and either range holds an end of the other. */
  overlaps(other: Range): boolean {
    if (this.family !== other.family) return false
    return (
      this.contains(other.rangeStart) ||
      this.contains(other.rangeEnd) ||
      other.contains(this.rangeStart) ||
      other.contains(this.rangeEnd)
    )
  }

  /** "start-end", the form every reference error message uses. */
  toString(): string {
    return `${this.rangeStart}-${this.rangeEnd}`
  }
}

function inSubnet(ip: IP, network: IP, prefix: number): boolean {
  if (ip.family !== network.family) return false
  return (ip.value & ~hostMask(ip.bits, prefix)) === network.value
}

/**
 * Canonicalises one range like Go's Range.Canonicalize: parse, size check, host-bits check,
 * defaults (gateway and rangeStart network+1, rangeEnd broadcast-1 for IPv4 and the last address
 * for IPv6), then rangeStart/rangeEnd containment. Errors carry the reference texts.
 */
export function canonicalizeRange(cfg: RangeConfig): Range {
  if (cfg.subnet === undefined) throw new Error('IP <nil> not v4 nor v6')
  const { ip, prefix, maskBits } = parseCIDR(cfg.subnet)
  if (prefix > maskBits - 2) {
    throw new Error(`Network ${ipNetString(ip, prefix, maskBits)} too small to allocate from`)
  }
  if (ip.bits !== maskBits) throw new Error('IPNet IP and Mask version mismatch')
  const network = IP.of(ip.family, ip.value & ~hostMask(ip.bits, prefix))
  if (!network.equals(ip)) {
    throw new Error(
      `Network has host bits set. For a subnet mask of length ${prefix} the network address is ${network}`,
    )
  }
  const subnetText = `${network}/${prefix}`
  const rawStart = parseIPField(cfg.rangeStart)
  const rawEnd = parseIPField(cfg.rangeEnd)
  const gateway = parseIPField(cfg.gateway) ?? network.next()

  // Go checks containment against whatever of start/end is already set, comparing values only.
  const within = (addr: IP, start: IP | undefined, end: IP | undefined): boolean =>
    addr.family === network.family &&
    inSubnet(addr, network, prefix) &&
    (start === undefined || addr.value >= start.value) &&
    (end === undefined || addr.value <= end.value)

  let rangeStart: IP
  if (rawStart) {
    if (!within(rawStart, undefined, rawEnd)) throw new Error(`RangeStart ${rawStart} not in network ${subnetText}`)
    rangeStart = rawStart
  } else {
    rangeStart = network.next()
  }
  let rangeEnd: IP
  if (rawEnd) {
    if (!within(rawEnd, rangeStart, undefined)) throw new Error(`RangeEnd ${rawEnd} not in network ${subnetText}`)
    rangeEnd = rawEnd
  } else {
    const last = network.value | hostMask(network.bits, prefix)
    rangeEnd = IP.of(network.family, network.family === 4 ? last - 1n : last)
  }
  return new Range(network, prefix, rangeStart, rangeEnd, gateway)
}

/** Go's IPNet.String() for the "too small" message (address printed with its host bits). */
function ipNetString(ip: IP, prefix: number, maskBits: number): string {
  const shown = ip.bits === 32 && maskBits === 128 ? Math.max(0, prefix - 96) : prefix
  return `${ip}/${shown}`
}

/** The ranges of one range set: one address is allocated from each set. */
export class RangeSet {
  constructor(readonly ranges: readonly Range[]) {
    if (ranges.length === 0) throw new Error('empty range set')
  }

  get family(): Family {
    return this.ranges[0].family
  }

  contains(ip: IP): boolean {
    return this.ranges.some((r) => r.contains(ip))
  }

  /** The range holding `ip`, or undefined. */
  findRange(ip: IP): Range | undefined {
    return this.ranges.find((r) => r.contains(ip))
  }

  /** Go RangeSet.RangeFor: the range holding `ip`, else `<ip> not in range set <set>`. */
  rangeFor(ip: IP): Range {
    const r = this.findRange(ip)
    if (!r) throw new Error(`${ip} not in range set ${this}`)
    return r
  }

  /** True if any range of this set overlaps any range of `other`. */
  overlaps(other: RangeSet): boolean {
    return this.ranges.some((r) => other.ranges.some((o) => r.overlaps(o)))
  }

  /** "start-end[,start-end]" as in the reference's error messages. */
  toString(): string {
    return this.ranges.map(String).join(',')
  }
}

/**
 * Canonicalises a range set like Go's RangeSet.Canonicalize: each range, then one family for the
 * whole set, then no two ranges overlapping. The config layer prefixes `invalid range set <i>: `.
 */
export function canonicalizeRangeSet(cfgs: readonly RangeConfig[]): RangeSet {
  if (cfgs.length === 0) throw new Error('empty range set')
  const ranges: Range[] = []
  for (const cfg of cfgs) {
    const r = canonicalizeRange(cfg)
    if (ranges.length > 0 && r.family !== ranges[0].family) throw new Error('mixed address families')
    ranges.push(r)
  }
  for (let i = 0; i < ranges.length - 1; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (ranges[i].overlaps(ranges[j])) throw new Error(`subnets ${ranges[i]} and ${ranges[j]} overlap`)
    }
  }
  return new RangeSet(ranges)
}
