/**
 * Where the index comes from and where it goes: loaded from `.tscni/` (snapshot + journal) when it
 * describes the directory as it is now, rebuilt by a full scan of the IP files otherwise, and
 * written back after our changes (a journal append of a few dozen bytes, or a new snapshot when
 * the journal is long or unusable: rewriting a 480 KB snapshot on every ADD would cost the write
 * and, on ext4, a synchronous flush at the replacing rename).
 *
 * The index lives in a subdirectory so that writing it does not touch the network directory's
 * times, which are what tells us whether anyone else (the Go plugin, an admin) changed the
 * directory since our last change (see store/index.ts).
 */
import { fs } from '../../../lib/native/fs'
import { joinPath } from '../../../lib/util/path'
import { AllocIndex, BaseIndex } from './alloc-index'
import { goTrimSpace, ipOfFileName, ownerHash, TMP_PREFIX, v4OfFileName } from './format'
import { errCode, PRIVATE_FILE_MODE, readOrNull, sameStamp, statDirStamp, type DirStamp, unlinkQuiet, writeAll, writeAtomic } from './files'
import {
  applyJournal,
  decodeSnapshot,
  encodePending,
  encodeSnapshot,
  INDEX_DIR,
  INDEX_FILE,
  JOURNAL_FILE,
  JOURNAL_MAX,
  randomGeneration,
} from './index-codec'

/** The owner hash of an IP file (0 when it cannot be read). */
export function readOwnerHash(file: string): number {
  try {
    return ownerHash(goTrimSpace(fs.readFileSync(file, 'utf8')))
  } catch {
    return 0
  }
}

/** The index files of `dir`, if they describe the directory as it is now (`now`). */
export function loadIndexFiles(dir: string, now: DirStamp): AllocIndex | null {
  const idxDir = joinPath(dir, INDEX_DIR)
  const index = decodeSnapshot(readOrNull(joinPath(idxDir, INDEX_FILE)) ?? Buffer.alloc(0))
  if (!index) return null
  applyJournal(index, readOrNull(joinPath(idxDir, JOURNAL_FILE)))
  return sameStamp(index.stamp, now) ? index : null
}

/**
 * Rebuilds the index from the directory: every IP-named file and its owner (one read per file).
 * Removes stale temp files on the way (the caller holds the lock, so no writer is running).
 */
export function scanDirectory(dir: string): AllocIndex {
  const v4: Array<[number, number]> = []
  const v6: Array<[bigint, number]> = []
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(TMP_PREFIX)) {
      unlinkQuiet(joinPath(dir, name))
      continue
    }
    // IPv4 first, without bigints: this runs per file.
    const n4 = v4OfFileName(name)
    if (n4 !== null) {
      v4.push([n4, readOwnerHash(joinPath(dir, name))])
      continue
    }
    const ip = name.includes(':') ? ipOfFileName(name) : null
    if (!ip) continue
    const h = readOwnerHash(joinPath(dir, name))
    if (ip.family === 4) v4.push([Number(ip.value), h])
    else v6.push([ip.value, h])
  }
  // Leftovers of a flush that died half-way.
  try {
    for (const name of fs.readdirSync(joinPath(dir, INDEX_DIR))) {
      if (name.startsWith(TMP_PREFIX)) unlinkQuiet(joinPath(dir, INDEX_DIR, name))
    }
  } catch {
    // no index directory yet
  }
  v4.sort((a, b) => a[0] - b[0])
  v6.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const index = new AllocIndex(
    BaseIndex.build(4, v4.map(([k]) => BigInt(k)), v4.map(([, h]) => h)),
    BaseIndex.build(6, v6.map(([k]) => k), v6.map(([, h]) => h)),
  )
  index.needsSnapshot = true
  index.journal = fs.existsSync(joinPath(dir, INDEX_DIR, JOURNAL_FILE)) ? 'stale' : 'absent'
  index.stamp = statDirStamp(dir)
  return index
}

/**
 * Records our changes in the index files: appended to the journal, or as a new snapshot when the
 * journal is long or unusable. Returns 'stale' without writing if the directory changed behind
 * our back since our last change (the caller drops the index; the next operation rescans). A
 * failure to write only costs the next process a full scan, so it is not an error of the
 * operation: the index is then marked to be written as a snapshot next time.
 */
export function flushIndex(dir: string, index: AllocIndex): 'ok' | 'stale' {
  if (!index.stamp) return 'ok'
  try {
    if (!sameStamp(index.stamp, statDirStamp(dir))) return 'stale'
    const idxDir = joinPath(dir, INDEX_DIR)
    try {
      fs.mkdirSync(idxDir, { mode: 0o755 })
      // Creating it changed the network directory.
      index.stamp = statDirStamp(dir)
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw err
    }
    const stamp = index.stamp
    if (index.needsSnapshot || index.journalRecords + index.pending.length + 1 > JOURNAL_MAX) {
      writeSnapshot(idxDir, index, stamp)
      return 'ok'
    }
    try {
      appendJournal(idxDir, index, stamp)
    } catch {
      writeSnapshot(idxDir, index, stamp)
    }
  } catch {
    // The in-memory index is still right for this process; make its next flush a snapshot.
    index.needsSnapshot = true
  }
  return 'ok'
}

/** Writes the whole index as a new snapshot generation (temp + rename) and drops the journal. */
function writeSnapshot(idxDir: string, index: AllocIndex, stamp: DirStamp): void {
  index.merge()
  index.generation = randomGeneration()
  writeAtomic(idxDir, INDEX_FILE, encodeSnapshot(index, stamp), PRIVATE_FILE_MODE)
  // The old journal belongs to the old generation: harmless if this unlink never happens.
  unlinkQuiet(joinPath(idxDir, JOURNAL_FILE))
  index.pending = []
  index.journalRecords = 0
  index.journal = 'absent'
  index.needsSnapshot = false
}

/** Appends the pending changes and a commit record to the journal, in one write. */
function appendJournal(idxDir: string, index: AllocIndex, stamp: DirStamp): void {
  const journalPath = joinPath(idxDir, JOURNAL_FILE)
  if (index.journal === 'stale') unlinkQuiet(journalPath)
  const fresh = index.journal !== 'ok'
  const records = encodePending(index, stamp, fresh)
  // Appending never creates the file: a journal that vanished means another process wrote a
  // snapshot, and records without a header would be garbage (the caller then writes a snapshot
  // instead).
  const c = fs.constants
  const fd = fs.openSync(journalPath, fresh ? c.O_WRONLY | c.O_CREAT | c.O_EXCL : c.O_WRONLY | c.O_APPEND, PRIVATE_FILE_MODE)
  try {
    writeAll(fd, [records])
  } finally {
    fs.closeSync(fd)
  }
  index.journalRecords += index.pending.length + 1
  index.pending = []
  index.journal = 'ok'
}
