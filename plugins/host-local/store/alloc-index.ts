/**
 * The store's in-memory index of a network directory: every IP-named file's address, with a
 * 32-bit hash of its trimmed content (its owner, see format.ownerHash).
 *
 * It is an immutable sorted snapshot per family (BaseIndex, typed arrays: cheap to load from and
 * write to disk, binary-searchable) plus an overlay of the changes made since (a Map). Lookups
 * that matter on every ADD are O(log n): "first free address from here" (firstUntaken) skips a
 * run of taken addresses of any length with one binary search. Persistence (the `.tscni/` files)
 * is index-codec.ts and index-files.ts; when the index may be trusted is decided in store/index.ts.
 */
import type { Family } from '../../../lib/ipam/range'
import type { DirStamp } from './files'

/** Changes kept beside the snapshot in memory before they are merged into it. */
const OVERLAY_MAX = 1024
/** Overlay value of an address deleted since the snapshot. */
const ABSENT = -1
const U64 = 0xffffffffffffffffn

/** Sorted, unique addresses of one family with their owner hashes; immutable once built. */
export class BaseIndex {
  constructor(
    readonly family: Family,
    readonly n: number,
    /** Owner hashes, parallel to the keys. */
    readonly h: Uint32Array,
    /** IPv4 keys (empty for IPv6). */
    readonly k4: Uint32Array,
    /** IPv6 keys: high and low 64 bits (empty for IPv4). */
    readonly hi: BigUint64Array,
    readonly lo: BigUint64Array,
  ) {}

  static empty(family: Family): BaseIndex {
    return BaseIndex.build(family, [], [])
  }

  /** From sorted unique keys and their hashes. */
  static build(family: Family, keys: bigint[], hashes: number[]): BaseIndex {
    const n = keys.length
    const h = Uint32Array.from(hashes)
    if (family === 4) {
      const k4 = new Uint32Array(n)
      for (let i = 0; i < n; i++) k4[i] = Number(keys[i])
      return new BaseIndex(4, n, h, k4, new BigUint64Array(0), new BigUint64Array(0))
    }
    const hi = new BigUint64Array(n)
    const lo = new BigUint64Array(n)
    for (let i = 0; i < n; i++) {
      hi[i] = keys[i] >> 64n
      lo[i] = keys[i] & U64
    }
    return new BaseIndex(6, n, h, new Uint32Array(0), hi, lo)
  }

  key(i: number): bigint {
    return this.family === 4 ? BigInt(this.k4[i]) : (this.hi[i] << 64n) | this.lo[i]
  }

  /** First index whose key is >= v. */
  lowerBound(v: bigint): number {
    let lo = 0
    let hi = this.n
    if (this.family === 4) {
      const x = Number(v)
      const k = this.k4
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (k[mid] < x) lo = mid + 1
        else hi = mid
      }
      return lo
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.key(mid) < v) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  has(v: bigint): boolean {
    const i = this.lowerBound(v)
    return i < this.n && this.key(i) === v
  }

  /**
   * The first address in [from, to] that is not a key, or null. Keys are sorted and unique, so a
   * run of consecutive keys starting at index p ends at the largest q with key(q)-key(p) = q-p;
   * a binary search finds it, making this O(log n) however long the run of taken addresses is.
   */
  firstUntaken(from: bigint, to: bigint): bigint | null {
    if (from > to) return null
    const p = this.lowerBound(from)
    if (p >= this.n || this.key(p) !== from) return from
    let lo = p
    let hi = this.n - 1
    if (this.family === 4) {
      const k = this.k4
      const base = k[p]
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1
        if (k[mid] - base === mid - p) lo = mid
        else hi = mid - 1
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1
        if (this.key(mid) - from === BigInt(mid - p)) lo = mid
        else hi = mid - 1
      }
    }
    const next = this.key(lo) + 1n
    return next <= to ? next : null
  }

  /**
   * Indexes whose hash is `a` or `b`. TypedArray#indexOf is native: this runs once per process,
   * before the JIT has warmed up, where a JS loop over 60,000 entries would cost milliseconds.
   */
  indexesOfHash(a: number, b: number): number[] {
    const h = this.h
    const out: number[] = []
    for (let i = h.indexOf(a); i >= 0; i = h.indexOf(a, i + 1)) out.push(i)
    if (b !== a) for (let i = h.indexOf(b); i >= 0; i = h.indexOf(b, i + 1)) out.push(i)
    return out
  }
}

/** One change to the index: an IP file created (with its owner hash) or deleted. */
export interface Change {
  kind: 'set' | 'delete'
  family: Family
  key: bigint
  hash: number
}

/** Where the index's journal file stands, for index-files.ts. */
export type JournalState = 'absent' | 'ok' | 'stale'

/**
 * Every IP-named file of the directory (address -> owner hash) as a snapshot plus an overlay of
 * changes since, the directory stamp it describes, and the bookkeeping of its files on disk.
 */
export class AllocIndex {
  private base4: BaseIndex
  private base6: BaseIndex
  private readonly overlay: Record<Family, Map<bigint, number>> = { 4: new Map(), 6: new Map() }
  private sortedOverlay: Record<Family, Array<[bigint, number]> | null> = { 4: null, 6: null }
  /** The directory stamp this index describes. */
  stamp: DirStamp | null = null
  /** Identifies the snapshot file; the journal names the generation it extends. */
  generation = 0n
  /** Changes not yet written to the journal. */
  pending: Change[] = []
  /** Records in the journal file that belong to this snapshot. */
  journalRecords = 0
  /** The journal file: absent, ours (appendable), or foreign/old (to be replaced). */
  journal: JournalState = 'absent'
  /** The snapshot file does not hold `base` (e.g. after a scan or a merge): write a new one. */
  needsSnapshot = false

  constructor(base4?: BaseIndex, base6?: BaseIndex) {
    this.base4 = base4 ?? BaseIndex.empty(4)
    this.base6 = base6 ?? BaseIndex.empty(6)
  }

  /** The snapshot part of one family (call merge() first to include every change). */
  base(f: Family): BaseIndex {
    return f === 4 ? this.base4 : this.base6
  }

  has(f: Family, key: bigint): boolean {
    const o = this.overlay[f].get(key)
    return o !== undefined ? o !== ABSENT : this.base(f).has(key)
  }

  /** Records a new IP file (to be journaled). */
  set(f: Family, key: bigint, hash: number): void {
    const c: Change = { kind: 'set', family: f, key, hash }
    this.apply(c)
    this.pending.push(c)
  }

  /** Records a deleted IP file (to be journaled); nothing if the index does not hold it. */
  delete(f: Family, key: bigint): void {
    if (!this.has(f, key)) return
    const c: Change = { kind: 'delete', family: f, key, hash: 0 }
    this.apply(c)
    this.pending.push(c)
  }

  /** Applies a change to the overlay (merging it into the snapshot when it grows large). */
  apply(c: Change): void {
    this.overlay[c.family].set(c.key, c.kind === 'set' ? c.hash >>> 0 : ABSENT)
    this.sortedOverlay[c.family] = null
    if (this.overlay[4].size + this.overlay[6].size > OVERLAY_MAX) this.merge()
  }

  private sorted(f: Family): Array<[bigint, number]> {
    let s = this.sortedOverlay[f]
    if (!s) {
      s = [...this.overlay[f]].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      this.sortedOverlay[f] = s
    }
    return s
  }

  /** The first address in [from, to] without an IP file, or null. */
  firstUntaken(f: Family, from: bigint, to: bigint): bigint | null {
    const base = this.base(f)
    const ov = this.overlay[f]
    if (ov.size === 0) return base.firstUntaken(from, to)
    const sorted = this.sorted(f)
    let cur = from
    while (cur <= to) {
      const b = base.firstUntaken(cur, to)
      const limit = b ?? to + 1n
      // Everything in [cur, limit) is in the snapshot; one deleted since is free.
      for (const [k, v] of sorted) {
        if (k >= limit) break
        if (k >= cur && v === ABSENT) return k
      }
      if (b === null) return null
      const o = ov.get(b)
      if (o === undefined || o === ABSENT) return b
      cur = b + 1n // added since the snapshot
    }
    return null
  }

  /** Addresses whose owner hash is `a` or `b`. */
  matchHashes(a: number, b: number): Array<[Family, bigint]> {
    const out: Array<[Family, bigint]> = []
    for (const f of [4, 6] as const) {
      const base = this.base(f)
      const ov = this.overlay[f]
      for (const i of base.indexesOfHash(a, b)) {
        const k = base.key(i)
        if (!ov.has(k)) out.push([f, k])
      }
      for (const [k, v] of ov) if (v !== ABSENT && (v === a || v === b)) out.push([f, k])
    }
    return out
  }

  /** Folds the overlay into new snapshot arrays (the snapshot file must then be rewritten). */
  merge(): void {
    for (const f of [4, 6] as const) {
      if (this.overlay[f].size === 0) continue
      const base = this.base(f)
      const ov = this.sorted(f)
      const keys: bigint[] = []
      const hashes: number[] = []
      let i = 0
      let j = 0
      while (i < base.n || j < ov.length) {
        const bk = i < base.n ? base.key(i) : null
        const [ok, oh] = j < ov.length ? ov[j] : [null, 0]
        if (ok === null || (bk !== null && bk < ok)) {
          keys.push(bk as bigint)
          hashes.push(base.h[i++])
          continue
        }
        if (bk === ok) i++
        j++
        if (oh !== ABSENT) {
          keys.push(ok)
          hashes.push(oh)
        }
      }
      const merged = BaseIndex.build(f, keys, hashes)
      if (f === 4) this.base4 = merged
      else this.base6 = merged
      this.overlay[f].clear()
      this.sortedOverlay[f] = null
    }
    this.pending = []
    this.needsSnapshot = true
  }
}
