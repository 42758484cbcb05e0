/**
 * The binary formats of the index files in `<network>/.tscni/` (ours only; the Go plugin walks
 * into the directory but no name there is an IP and no content looks like an owner):
 *
 * `index`, a snapshot, written whole (temp + rename). Host byte order for the arrays, checked by
 * BYTE_ORDER_MARK; header fields little-endian:
 *   0 "TSCNIDX2" | 8 u32 n4 | 12 u32 n6 | 16 u64 dev | 24 u64 ino | 32 i64 mtimeNs | 40 i64 ctimeNs
 *   48 u32 byte-order mark | 52 u32 zero | 56 u64 generation | 64 u32 keys4[n4] | u32 hash4[n4]
 *   | u64 hi6[n6] | u64 lo6[n6] | u32 hash6[n6]
 *
 * `journal`, appended to by each operation after the snapshot: a 16-byte header "TSCNIJR2" + the
 * snapshot's generation (u64 LE), then 32-byte records (LE):
 *   u32 magic | u8 type (1 set, 2 delete, 3 commit) | u8 family | u16 0 | u32 hash | u32 checksum
 *   | u64 a | u64 b
 * For set/delete, (a, b) are the address's high and low 64 bits; a commit carries the directory's
 * mtimeNs and ctimeNs after the changes before it. Only committed groups count; a torn or corrupt
 * tail is ignored (and forces a new snapshot).
 */
import { AllocIndex, BaseIndex, type Change } from './alloc-index'
import type { DirStamp } from './files'

export const INDEX_DIR = '.tscni'
export const INDEX_FILE = 'index'
export const JOURNAL_FILE = 'journal'
/** Journal records before the next flush writes a new snapshot instead. */
export const JOURNAL_MAX = 512

const INDEX_MAGIC = 'TSCNIDX2'
const INDEX_HEADER = 64
const BYTE_ORDER_MARK = 0x01020304
const JOURNAL_MAGIC = 'TSCNIJR2'
export const JOURNAL_HEADER = 16
const RECORD_SIZE = 32
const RECORD_MAGIC = 0x4a524543
const REC_SET = 1
const REC_DELETE = 2
const REC_COMMIT = 3
const U64 = 0xffffffffffffffffn

/** The snapshot file's parts (call index.merge() first so the overlay is empty). */
export function encodeSnapshot(index: AllocIndex, stamp: DirStamp): NodeJS.ArrayBufferView[] {
  const b4 = index.base(4)
  const b6 = index.base(6)
  const head = Buffer.alloc(INDEX_HEADER)
  head.write(INDEX_MAGIC, 0, 'latin1')
  const dv = new DataView(head.buffer, head.byteOffset, INDEX_HEADER)
  dv.setUint32(8, b4.n, true)
  dv.setUint32(12, b6.n, true)
  dv.setBigUint64(16, stamp.dev, true)
  dv.setBigUint64(24, stamp.ino, true)
  dv.setBigInt64(32, stamp.mtimeNs, true)
  dv.setBigInt64(40, stamp.ctimeNs, true)
  new Uint32Array(head.buffer, head.byteOffset + 48, 1)[0] = BYTE_ORDER_MARK
  dv.setBigUint64(56, index.generation, true)
  return [head, b4.k4, b4.h, b6.hi, b6.lo, b6.h]
}

/** Parses a snapshot file; null when it is not one of ours, is truncated or was written elsewhere. */
export function decodeSnapshot(raw: Buffer): AllocIndex | null {
  if (raw.length < INDEX_HEADER || raw.toString('latin1', 0, 8) !== INDEX_MAGIC) return null
  // Typed-array views need aligned offsets: copy if the buffer does not start on an 8-byte boundary.
  const buf = raw.byteOffset % 8 === 0 ? raw : Buffer.from(raw)
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length)
  if (new Uint32Array(buf.buffer, buf.byteOffset + 48, 1)[0] !== BYTE_ORDER_MARK) return null
  const n4 = dv.getUint32(8, true)
  const n6 = dv.getUint32(12, true)
  if (buf.length !== INDEX_HEADER + 8 * n4 + 20 * n6) return null
  let off = buf.byteOffset + INDEX_HEADER
  const k4 = new Uint32Array(buf.buffer, off, n4)
  off += 4 * n4
  const h4 = new Uint32Array(buf.buffer, off, n4)
  off += 4 * n4
  const hi = new BigUint64Array(buf.buffer, off, n6)
  off += 8 * n6
  const lo = new BigUint64Array(buf.buffer, off, n6)
  off += 8 * n6
  const h6 = new Uint32Array(buf.buffer, off, n6)
  const none64 = new BigUint64Array(0)
  const index = new AllocIndex(
    new BaseIndex(4, n4, h4, k4, none64, none64),
    new BaseIndex(6, n6, h6, new Uint32Array(0), hi, lo),
  )
  index.stamp = {
    dev: dv.getBigUint64(16, true),
    ino: dv.getBigUint64(24, true),
    mtimeNs: dv.getBigInt64(32, true),
    ctimeNs: dv.getBigInt64(40, true),
  }
  index.generation = dv.getBigUint64(56, true)
  return index
}

/** Applies the committed groups of a journal file to `index` (raw null: there is none). */
export function applyJournal(index: AllocIndex, raw: Buffer | null): void {
  if (!raw) {
    index.journal = 'absent'
    return
  }
  if (
    raw.length < JOURNAL_HEADER ||
    raw.toString('latin1', 0, 8) !== JOURNAL_MAGIC ||
    raw.readBigUInt64LE(8) !== index.generation
  ) {
    index.journal = 'stale' // left over from an older snapshot
    return
  }
  index.journal = 'ok'
  let group: Change[] = []
  let off = JOURNAL_HEADER
  for (; off + RECORD_SIZE <= raw.length; off += RECORD_SIZE) {
    const rec = decodeRecord(raw, off)
    if (!rec) break
    if (rec.type === REC_COMMIT) {
      for (const c of group) index.apply(c)
      group = []
      index.journalRecords = (off + RECORD_SIZE - JOURNAL_HEADER) / RECORD_SIZE
      if (index.stamp) index.stamp = { ...index.stamp, mtimeNs: rec.a, ctimeNs: rec.b }
    } else {
      group.push(rec.change)
    }
  }
  if (off !== raw.length || group.length > 0) {
    // A torn or corrupt tail: never append after it; the next flush writes a snapshot.
    index.needsSnapshot = true
  }
}

/** The index's pending changes and a commit carrying `stamp`, as journal records. */
export function encodePending(index: AllocIndex, stamp: DirStamp, withHeader: boolean): Buffer {
  const n = index.pending.length + 1
  const head = withHeader ? JOURNAL_HEADER : 0
  const buf = Buffer.alloc(head + n * RECORD_SIZE)
  if (withHeader) {
    buf.write(JOURNAL_MAGIC, 0, 'latin1')
    buf.writeBigUInt64LE(index.generation, 8)
  }
  let off = head
  for (const c of index.pending) {
    encodeRecord(buf, off, c.kind === 'set' ? REC_SET : REC_DELETE, c.family, c.hash, c.key >> 64n, c.key & U64)
    off += RECORD_SIZE
  }
  encodeRecord(buf, off, REC_COMMIT, 0, 0, BigInt.asUintN(64, stamp.mtimeNs), BigInt.asUintN(64, stamp.ctimeNs))
  return buf
}

/** A new snapshot generation: random, never 0 (0 is "none yet"). */
export function randomGeneration(): bigint {
  const word = () => BigInt(Math.floor(Math.random() * 0x100000000))
  return ((word() << 32n) | word()) + 1n
}

function recordChecksum(buf: Buffer, off: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < RECORD_SIZE; i++) {
    if (i >= 12 && i < 16) continue
    h = Math.imul(h ^ buf[off + i], 0x01000193)
  }
  return h >>> 0
}

function encodeRecord(buf: Buffer, off: number, type: number, family: number, hash: number, a: bigint, b: bigint): void {
  buf.writeUInt32LE(RECORD_MAGIC, off)
  buf.writeUInt8(type, off + 4)
  buf.writeUInt8(family, off + 5)
  buf.writeUInt32LE(hash >>> 0, off + 8)
  buf.writeBigUInt64LE(a, off + 16)
  buf.writeBigUInt64LE(b, off + 24)
  buf.writeUInt32LE(recordChecksum(buf, off), off + 12)
}

type Decoded = { type: typeof REC_COMMIT; a: bigint; b: bigint } | { type: typeof REC_SET | typeof REC_DELETE; change: Change }

function decodeRecord(buf: Buffer, off: number): Decoded | null {
  if (buf.readUInt32LE(off) !== RECORD_MAGIC || buf.readUInt32LE(off + 12) !== recordChecksum(buf, off)) return null
  const type = buf[off + 4]
  const a = buf.readBigUInt64LE(off + 16)
  const b = buf.readBigUInt64LE(off + 24)
  if (type === REC_COMMIT) return { type, a: BigInt.asIntN(64, a), b: BigInt.asIntN(64, b) }
  const family = buf[off + 5]
  if ((type !== REC_SET && type !== REC_DELETE) || (family !== 4 && family !== 6)) return null
  const key = (a << 64n) | b
  if (family === 4 && key > 0xffffffffn) return null
  const kind = type === REC_SET ? 'set' : 'delete'
  return { type, change: { kind, family, key, hash: buf.readUInt32LE(off + 8) } }
}
