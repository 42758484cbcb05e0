/**
 * The host-local disk store: one network's allocations under `<dataDir>/<network>`, in the
 * reference's format (format.ts), locked with flock(2) on `<dir>/lock` like the Go plugin, so
 * both implementations can share a node and exclude each other.
 *
 * Writes are atomic. A reservation is a temp file linked to the IP's name (link(2) fails with
 * EEXIST when the name is taken, so it is as exclusive as the reference's O_EXCL create and never
 * leaves a half-written file); `last_reserved_ip.N` is a temp file renamed over the old one.
 *
 * With tens of thousands of allocations, listing the directory (~40 ms for 60,000 names) and
 * reading every owner (~300 ms) on each ADD would dominate the plugin's run time, so look-ups go
 * through an index (alloc-index.ts) kept in `.tscni/` (index-files.ts). It is trusted only while
 * the directory's (dev, ino, mtime, ctime) are what they were right after our last change: any
 * create or delete by anyone else changes them, and the next operation rebuilds the index with
 * one full scan. (Since Linux 6.13 a change right after our stat always gets a distinct ctime;
 * older kernels have a window of one timer tick.) Hash hits are always confirmed by reading the
 * file, so a stale or colliding entry can cause at most a miss, never a wrong release; and the
 * link(2) of a reservation stays the source of truth for whether an address is free.
 *
 * Every operation except `open`, `lock`, `unlock`, `close` and `lastReservedIP` must run with the
 * lock held (they throw otherwise).
 */
import { fs } from '../../../lib/native/fs'
import { joinPath } from '../../../lib/util/path'
import { native } from '../../../lib/native'
import { type Family, IP, parseIP } from '../../../lib/ipam/range'
import { AllocIndex } from './alloc-index'
import { goPathError } from '../../../lib/util/go-errors'
import { errCode, mkdirAll, sameStamp, statDirStamp, unlinkQuiet, writeAtomic, writeTemp } from './files'
import {
  type AllocationOwner,
  fileContent,
  goTrimSpace,
  ipOfFileName,
  LAST_IP_FILE_PREFIX,
  LOCK_FILE,
  ownerHash,
  ownerKeys,
  parseOwner,
  validateNetworkName,
} from './format'
import { flushIndex, loadIndexFiles, readOwnerHash, scanDirectory } from './index-files'

export {
  type AllocationOwner,
  DEFAULT_DATA_DIR,
  goTrimSpace,
  LAST_IP_FILE_PREFIX,
  LINE_BREAK,
  LOCK_FILE,
  TMP_PREFIX,
  validateNetworkName,
} from './format'
export { INDEX_DIR, INDEX_FILE } from './index-codec'

/** The part of the store the allocator uses (a test double implements it too). */
export interface AllocatorStore {
  lock(): void
  unlock(): void
  /** Creates the IP file; false when the address is already taken. Records last_reserved_ip.N. */
  reserve(ip: IP, id: string, ifname: string, rangeSetIndex: number): boolean
  lastReservedIP(rangeSetIndex: number): IP | null
  /** IPs whose file content is `id\r\nifname` or the legacy `id`, in file-name order. */
  getByID(id: string, ifname: string): IP[]
  releaseByID(id: string, ifname: string): IP[]
  /**
   * Optional fast path: the first address in [from, to] with no IP file known to the store, or
   * null. The allocator still reserves with link(2), which has the last word.
   */
  firstUntaken?(family: Family, from: bigint, to: bigint): bigint | null
}

/** One network's allocations under `<dataDir>/<network>`. */
export class Store implements AllocatorStore {
  /** `<dataDir>/<network>`. */
  readonly dir: string
  private lockFd: number
  private lockDepth = 0
  private index: AllocIndex | null = null
  /** The index was checked against the directory during the current lock. */
  private checked = false
  /** The in-memory index has changes the index files lack. */
  private dirty = false

  /**
   * Opens (creating if needed) the network's directory, mode 0755, and its lock file. Throws on an
   * invalid network name before touching the file system, and with the reference's texts
   * ("mkdir <path>: not a directory") when the directory cannot be made.
   */
  static open(dataDir: string, network: string): Store {
    return new Store(dataDir, network)
  }

  constructor(dataDir: string, network: string) {
    validateNetworkName(network)
    this.dir = joinPath(dataDir, network)
    mkdirAll(this.dir, 0o755)
    const lockPath = joinPath(this.dir, LOCK_FILE)
    try {
      this.lockFd = fs.openSync(lockPath, fs.constants.O_CREAT | fs.constants.O_RDONLY, 0o750)
    } catch (err) {
      throw goPathError('open', lockPath, err)
    }
  }

  // ---- the lock ----

  /** Takes flock(LOCK_EX) on `<dir>/lock`, blocking. Re-entrant within this Store. */
  lock(): void {
    if (this.lockFd < 0) throw new Error('store is closed')
    if (this.lockDepth++ > 0) return
    try {
      const n = native()
      n.flock(this.lockFd, n.LOCK_EX)
    } catch (err) {
      this.lockDepth--
      throw err
    }
    this.checked = false
  }

  /** Writes the index if it changed, then releases the lock (at the outermost unlock). */
  unlock(): void {
    if (this.lockDepth === 0) throw new Error('store: unlock without lock')
    if (--this.lockDepth > 0) return
    try {
      if (this.dirty) {
        this.dirty = false
        if (this.index && flushIndex(this.dir, this.index) === 'stale') this.index = null
      }
    } finally {
      const n = native()
      n.flock(this.lockFd, n.LOCK_UN)
    }
  }

  /** Runs `fn` with the lock held. */
  withLock<T>(fn: () => T): T {
    this.lock()
    try {
      return fn()
    } finally {
      this.unlock()
    }
  }

  /** Releases the lock if held and closes the lock file. */
  close(): void {
    if (this.lockFd < 0) return
    if (this.lockDepth > 0) {
      this.lockDepth = 1
      this.unlock()
    }
    fs.closeSync(this.lockFd)
    this.lockFd = -1
  }

  private requireLock(): void {
    if (this.lockDepth === 0) throw new Error('store: operation needs the lock (call lock() first)')
  }

  private ipPath(ip: IP): string {
    return joinPath(this.dir, ip.toString())
  }

  // ---- operations ----

  /**
   * Reserves `ip` for (id, ifname): the file `<ip>` with content `TrimSpace(id)\r\nifname`, mode
   * 0644 like the reference's, then `last_reserved_ip.<rangeSetIndex>`. Returns false when the
   * address is taken. If recording last_reserved_ip fails, the reservation is undone and the error
   * thrown.
   */
  reserve(ip: IP, id: string, ifname: string, rangeSetIndex: number): boolean {
    this.requireLock()
    const index = this.beginChange()
    try {
      const target = this.ipPath(ip)
      const content = fileContent(id, ifname)
      const tmp = writeTemp(this.dir, content)
      try {
        fs.linkSync(tmp, target)
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err
        // Taken by someone the index did not know about: learn the owner for later look-ups.
        index.set(ip.family, ip.value, readOwnerHash(target))
        return false
      } finally {
        unlinkQuiet(tmp)
      }
      index.set(ip.family, ip.value, ownerHash(goTrimSpace(content)))
      try {
        writeAtomic(this.dir, LAST_IP_FILE_PREFIX + rangeSetIndex, ip.toString())
      } catch (err) {
        unlinkQuiet(target)
        index.delete(ip.family, ip.value)
        throw err
      }
      return true
    } finally {
      this.endChange(index)
    }
  }

  /**
   * The content of `last_reserved_ip.<rangeSetIndex>` parsed without trimming, like the reference:
   * a missing, unreadable or invalid file gives null. Needs no lock (the file is replaced atomically).
   */
  lastReservedIP(rangeSetIndex: number): IP | null {
    try {
      return parseIP(fs.readFileSync(joinPath(this.dir, LAST_IP_FILE_PREFIX + rangeSetIndex), 'utf8'))
    } catch {
      return null
    }
  }

  /** IPs whose trimmed file content is `id\r\nifname` or (legacy) `id`, in file-name order. */
  getByID(id: string, ifname: string): IP[] {
    this.requireLock()
    const { current, legacy } = ownerKeys(id, ifname)
    return this.findOwned([current, legacy])
  }

  /** True if any IP file belongs to (id, ifname), or failing that to the legacy `id` (CHECK). */
  hasAnyForID(id: string, ifname: string): boolean {
    this.requireLock()
    return this.getByID(id, ifname).length > 0
  }

  /**
   * Deletes every IP file of (id, ifname); if there were none, every legacy file holding just `id`.
   * Files already gone are fine; like the reference, removal errors are not reported. Returns the
   * released IPs.
   */
  releaseByID(id: string, ifname: string): IP[] {
    this.requireLock()
    const { current, legacy } = ownerKeys(id, ifname)
    let released = this.removeOwned(current)
    if (released.length === 0) released = this.removeOwned(legacy)
    return released
  }

  /** Deletes the file of one IP (rollback, GC). Returns false if it did not exist. */
  release(ip: IP): boolean {
    this.requireLock()
    const index = this.beginChange()
    try {
      fs.unlinkSync(this.ipPath(ip))
      return true
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err
      return false
    } finally {
      index.delete(ip.family, ip.value)
      this.endChange(index)
    }
  }

  /**
   * Every allocation (IP string -> owner) in file-name order, read from the files themselves (for
   * GC; this reads every file). Legacy id-only files have no ifname.
   */
  listAllocations(): Map<string, AllocationOwner> {
    this.requireLock()
    const out = new Map<string, AllocationOwner>()
    for (const name of fs.readdirSync(this.dir).sort()) {
      if (!ipOfFileName(name)) continue
      let content: string
      try {
        content = goTrimSpace(fs.readFileSync(joinPath(this.dir, name), 'utf8'))
      } catch {
        continue
      }
      out.set(name, parseOwner(content))
    }
    return out
  }

  /** The first address in [from, to] without an IP file (per the index), or null. */
  firstUntaken(family: Family, from: bigint, to: bigint): bigint | null {
    this.requireLock()
    return this.ensureIndex().firstUntaken(family, from, to)
  }

  // ---- owner look-ups through the index, confirmed against the files ----

  private candidates(keys: string[]): IP[] {
    const index = this.ensureIndex()
    const a = ownerHash(keys[0])
    const b = ownerHash(keys[keys.length - 1])
    return index.matchHashes(a, b).map(([family, key]) => IP.of(family, key))
  }

  private readOwner(ip: IP): string | null {
    try {
      return goTrimSpace(fs.readFileSync(this.ipPath(ip), 'utf8'))
    } catch {
      return null
    }
  }

  private findOwned(keys: string[]): IP[] {
    const out = this.candidates(keys).filter((ip) => {
      const owner = this.readOwner(ip)
      return owner !== null && keys.includes(owner)
    })
    // The reference walks the directory in lexical file-name order.
    return out.sort((x, y) => {
      const a = x.toString()
      const b = y.toString()
      return a < b ? -1 : a > b ? 1 : 0
    })
  }

  private removeOwned(key: string): IP[] {
    const owned = this.findOwned([key])
    const released: IP[] = []
    if (owned.length === 0) return released
    const index = this.beginChange()
    try {
      for (const ip of owned) {
        try {
          fs.unlinkSync(this.ipPath(ip))
          released.push(ip)
        } catch (err) {
          // Like the reference, a file that cannot be removed is skipped; one already gone is
          // forgotten.
          if (errCode(err) !== 'ENOENT') continue
        }
        index.delete(ip.family, ip.value)
      }
    } finally {
      this.endChange(index)
    }
    return released
  }

  // ---- keeping the index true to the directory ----

  /**
   * The index, valid for the directory as it is now. Checked once per lock: within a lock only
   * we change the directory, and every change of ours goes through beginChange/endChange.
   */
  private ensureIndex(): AllocIndex {
    if (this.checked && this.index) return this.index
    const now = statDirStamp(this.dir)
    if (!this.index || !sameStamp(this.index.stamp, now)) {
      this.index = loadIndexFiles(this.dir, now) ?? this.rescan()
    }
    this.checked = true
    return this.index
  }

  private rescan(): AllocIndex {
    this.dirty = true
    return scanDirectory(this.dir)
  }

  /**
   * Before one of our changes: the index must still describe the directory. If not (a writer that
   * ignores the lock), rescan rather than let its change be absorbed into our stamp.
   */
  private beginChange(): AllocIndex {
    const index = this.ensureIndex()
    if (sameStamp(index.stamp, statDirStamp(this.dir))) return index
    this.index = this.rescan()
    return this.index
  }

  /** After one of our changes: the index (already updated) describes the directory as it is now. */
  private endChange(index: AllocIndex): void {
    index.stamp = statDirStamp(this.dir)
    this.dirty = true
  }
}
