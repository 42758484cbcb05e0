/**
 * Small synchronous file helpers of the store: atomic writes through temp files, quiet unlinks,
 * and the directory stamp the index is validated against.
 *
 * Temp files are named `.tmp-<pid>-<rand>`: they never parse as IPs, and every writer holds the
 * store's lock, so under the lock any temp file is a leftover of a killed writer.
 */
import { fs } from '../../../lib/native/fs'
import { joinPath } from '../../../lib/util/path'
import { goPathError } from '../../../lib/util/go-errors'
import { TMP_PREFIX } from './format'

export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

export function unlinkQuiet(p: string): void {
  try {
    fs.unlinkSync(p)
  } catch {
    // already gone
  }
}

export function readOrNull(p: string): Buffer | null {
  try {
    return fs.readFileSync(p)
  } catch {
    return null
  }
}

export function writeAll(fd: number, parts: NodeJS.ArrayBufferView[]): void {
  for (const p of parts) {
    const buf = Buffer.from(p.buffer, p.byteOffset, p.byteLength)
    let off = 0
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off)
  }
}

export function randomSuffix(): string {
  return Math.floor(Math.random() * 0x100000000)
    .toString(16)
    .padStart(8, '0')
}

/** A fresh temp file name in `dir`. */
export function tempName(dir: string): string {
  return joinPath(dir, `${TMP_PREFIX}${process.pid}-${randomSuffix()}`)
}

/**
 * The mode of the store's own files (IP files, last_reserved_ip.N): the reference's 0644 (before the
 * umask), so a side-by-side listing of the directory shows the same modes. Our private index files
 * under `.tscni/` are 0600.
 */
export const STORE_FILE_MODE = 0o644
export const PRIVATE_FILE_MODE = 0o600

/** Writes `content` to a fresh temp file in `dir` (mode `mode` before the umask); returns its path. */
export function writeTemp(dir: string, content: string | NodeJS.ArrayBufferView[], mode = STORE_FILE_MODE): string {
  for (;;) {
    const tmp = tempName(dir)
    let fd: number
    try {
      fd = fs.openSync(tmp, 'wx', mode)
    } catch (err) {
      if (errCode(err) === 'EEXIST') continue
      throw err
    }
    try {
      if (typeof content === 'string') fs.writeSync(fd, content)
      else writeAll(fd, content)
    } catch (err) {
      fs.closeSync(fd)
      unlinkQuiet(tmp)
      throw err
    }
    fs.closeSync(fd)
    return tmp
  }
}

/** Replaces `<dir>/<name>` with `content` atomically (temp + rename). */
export function writeAtomic(dir: string, name: string, content: string | NodeJS.ArrayBufferView[], mode = STORE_FILE_MODE): void {
  const tmp = writeTemp(dir, content, mode)
  try {
    fs.renameSync(tmp, joinPath(dir, name))
  } catch (err) {
    unlinkQuiet(tmp)
    throw err
  }
}

/**
 * What identifies one state of a directory's entry list: any create, delete or rename of an entry
 * changes its mtime and ctime (and a replaced directory has another inode).
 */
export interface DirStamp {
  dev: bigint
  ino: bigint
  mtimeNs: bigint
  ctimeNs: bigint
}

export function statDirStamp(dir: string): DirStamp {
  const st = fs.statSync(dir, { bigint: true })
  return { dev: st.dev, ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs }
}

export function sameStamp(a: DirStamp | null, b: DirStamp): boolean {
  return !!a && a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs
}

/**
 * Go's os.MkdirAll: creates `dir` and any missing parents with `mode`, and fails naming the path
 * where it failed ("mkdir /proc/x: no such file or directory"), like the reference. Node's
 * recursive mkdirSync is not used: on Node 20 it never returns when mkdir(2) answers ENOENT under
 * an existing parent (e.g. anything under /proc).
 */
export function mkdirAll(dir: string, mode: number): void {
  let st: ReturnType<typeof fs.statSync> | undefined
  try {
    st = fs.statSync(dir)
  } catch {
    st = undefined
  }
  if (st) {
    if (st.isDirectory()) return
    throw goPathError('mkdir', dir, Object.assign(new Error('ENOTDIR: not a directory'), { code: 'ENOTDIR' }))
  }
  let i = dir.length
  while (i > 0 && dir[i - 1] === '/') i--
  let j = i
  while (j > 0 && dir[j - 1] !== '/') j--
  if (j > 1) mkdirAll(dir.slice(0, j - 1), mode)
  try {
    fs.mkdirSync(dir, { mode })
  } catch (err) {
    // "foo/." and a racing creator: fine if it is a directory now.
    try {
      if (fs.lstatSync(dir).isDirectory()) return
    } catch {
      // fall through to the mkdir error
    }
    throw goPathError('mkdir', dir, err)
  }
}
