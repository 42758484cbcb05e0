/**
 * host-local allocation for one range set (reference-plugins.md §2.2): the requested-IP path, the
 * duplicate check, and the round-robin iterator. The store decides what is free (its link(2)
 * reservation is the source of truth); when it offers `firstUntaken`, whole runs of taken
 * addresses are skipped without trying them one by one, which keeps a nearly full /16 as cheap as
 * an empty one. The order in which addresses are tried is exactly the reference's.
 */
import { IP, type Range, type RangeSet } from '../../lib/ipam/range'
import type { AllocatorStore } from './store'

export { canonicalizeRange, canonicalizeRangeSet, IP, parseIP, parseCIDR, Range, RangeSet } from '../../lib/ipam/range'
export type { Family, RangeConfig } from '../../lib/ipam/range'
export type { AllocatorStore } from './store'

/** One allocated address with the range it came from. */
export interface Allocation {
  ip: IP
  /** The subnet's prefix length. */
  prefix: number
  /** The range's gateway (always set: it defaults to network+1). */
  gateway: IP
  range: Range
}

/** "10.1.2.2/24": the `address` of a result IP. */
export function allocationCIDR(a: Allocation): string {
  return `${a.ip}/${a.prefix}`
}

/** A stretch of one range the iterator walks in ascending order, [from, to] inclusive. */
export interface Segment {
  range: Range
  from: bigint
  to: bigint
}

/**
 * The round-robin order as segments. If `last` (last_reserved_ip) is inside the set, start right
 * after it in its range, go on through the following ranges (wrapping to range 0) and end with
 * `last` itself; otherwise walk every range from range 0's rangeStart. Gateways are skipped by
 * the caller. Every address of the set appears exactly once.
 */
export function iterationSegments(set: RangeSet, last: IP | null): Segment[] {
  const ranges = set.ranges
  const full = (r: Range): Segment => ({ range: r, from: r.rangeStart.value, to: r.rangeEnd.value })
  const at = last ? ranges.findIndex((r) => r.contains(last)) : -1
  if (!last || at < 0) return ranges.map(full)
  const r = ranges[at]
  const segs: Segment[] = []
  if (last.value < r.rangeEnd.value) segs.push({ range: r, from: last.value + 1n, to: r.rangeEnd.value })
  for (let j = 1; j < ranges.length; j++) segs.push(full(ranges[(at + j) % ranges.length]))
  segs.push({ range: r, from: r.rangeStart.value, to: last.value })
  return segs
}

/** Every candidate in the reference's order (gateways skipped). For tests and small sets. */
export function* iterate(set: RangeSet, last: IP | null): Generator<IP> {
  for (const seg of iterationSegments(set, last)) {
    const gw = seg.range.gateway
    for (let v = seg.from; v <= seg.to; v++) {
      if (gw.family === seg.range.family && v === gw.value) continue
      yield IP.of(seg.range.family, v)
    }
  }
}

export interface AllocateRequest {
  containerID: string
  ifname: string
  /** Position of the range set in the final list: names `last_reserved_ip.<index>`. */
  rangeSetIndex: number
  /** A requested address already known to lie inside `rangeSet` (CNI_ARGS IP, args, runtimeConfig). */
  requestedIP?: IP | null
}

/**
 * Allocates one address from `rangeSet` for (containerID, ifname), holding the store's lock for
 * the duration (like the reference's allocator.Get). Errors carry the reference texts; the caller
 * prefixes `failed to allocate for range <idx>: `.
 */
export function allocate(store: AllocatorStore, rangeSet: RangeSet, req: AllocateRequest): Allocation {
  store.lock()
  try {
    return req.requestedIP ? allocateRequested(store, rangeSet, req, req.requestedIP) : allocateNext(store, rangeSet, req)
  } finally {
    store.unlock()
  }
}

function allocateRequested(store: AllocatorStore, rangeSet: RangeSet, req: AllocateRequest, ip: IP): Allocation {
  const range = rangeSet.rangeFor(ip)
  if (ip.equals(range.gateway)) throw new Error(`requested ip ${ip} is subnet's gateway`)
  if (!store.reserve(ip, req.containerID, req.ifname, req.rangeSetIndex)) {
    throw new Error(`requested IP address ${ip} is not available in range set ${rangeSet}`)
  }
  return { ip, prefix: range.prefix, gateway: range.gateway, range }
}

function allocateNext(store: AllocatorStore, rangeSet: RangeSet, req: AllocateRequest): Allocation {
  // The SPEC forbids a second address for the same attachment in the same range set.
  for (const ip of store.getByID(req.containerID, req.ifname)) {
    if (rangeSet.contains(ip)) {
      throw new Error(`${ip} has been allocated to ${req.containerID}, duplicate allocation is not allowed`)
    }
  }
  const family = rangeSet.family
  const firstUntaken = store.firstUntaken?.bind(store)
  for (const seg of iterationSegments(rangeSet, store.lastReservedIP(req.rangeSetIndex))) {
    const { range } = seg
    const gw = range.gateway.family === family ? range.gateway.value : -1n
    let cur = seg.from
    for (;;) {
      const v = firstUntaken ? firstUntaken(family, cur, seg.to) : cur <= seg.to ? cur : null
      if (v === null) break
      cur = v + 1n
      if (v === gw) continue
      const ip = IP.of(family, v)
      if (store.reserve(ip, req.containerID, req.ifname, req.rangeSetIndex)) {
        return { ip, prefix: range.prefix, gateway: range.gateway, range }
      }
    }
  }
  throw new Error(`no IP addresses available in range set: ${rangeSet}`)
}

/** Releases every address of (containerID, ifname), legacy id-only files included, under the lock. */
export function release(store: AllocatorStore, containerID: string, ifname: string): IP[] {
  store.lock()
  try {
    return store.releaseByID(containerID, ifname)
  } finally {
    store.unlock()
  }
}

/**
 * True if some address of `rangeSet` (gateways excepted) has no IP file, per the store's index
 * (STATUS: when this is false for any set, ADD cannot succeed). Needs the store's lock.
 */
export function hasFreeAddress(store: Required<Pick<AllocatorStore, 'firstUntaken'>>, rangeSet: RangeSet): boolean {
  for (const { range, from, to } of iterationSegments(rangeSet, null)) {
    const gw = range.gateway.family === range.family ? range.gateway.value : -1n
    for (let cur = from; ; ) {
      const v = store.firstUntaken(range.family, cur, to)
      if (v === null) break
      if (v !== gw) return true
      cur = v + 1n
    }
  }
  return false
}
