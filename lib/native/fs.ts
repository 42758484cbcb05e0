/**
 * The synchronous file-system calls the plugins make, as one object shaped like node:fs (the subset
 * in `FileSystem`). Under Node it *is* node:fs. In the compiled executable it goes through bun:ffi
 * to libc: Bun loads its node:fs lazily, and that load alone costs about 1.8 ms, a tenth of a whole
 * plugin run. Errors look like Node's (`.code`, `.errno`, `.syscall`, `.path`, and the message
 * "ENOENT: no such file or directory, open '/x'"), so callers cannot tell the two apart.
 */
import type * as NodeFs from 'node:fs'
import { errnoName } from './errno'

/** The node:fs calls the plugin path uses. */
export type FileSystem = Pick<
  typeof NodeFs,
  | 'openSync'
  | 'closeSync'
  | 'readSync'
  | 'writeSync'
  | 'readFileSync'
  | 'writeFileSync'
  | 'statSync'
  | 'lstatSync'
  | 'fstatSync'
  | 'statfsSync'
  | 'accessSync'
  | 'existsSync'
  | 'realpathSync'
  | 'readdirSync'
  | 'mkdirSync'
  | 'unlinkSync'
  | 'rmdirSync'
  | 'renameSync'
  | 'linkSync'
  | 'constants'
>

// Linux values, the same on x86_64 and arm64 for everything used here.
const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, TRUNC: 0o1000, APPEND: 0o2000, NONBLOCK: 0o4000, CLOEXEC: 0o2000000 }
const CONSTANTS = {
  O_RDONLY: O.RDONLY, O_WRONLY: O.WRONLY, O_RDWR: O.RDWR, O_CREAT: O.CREAT, O_EXCL: O.EXCL, O_TRUNC: O.TRUNC,
  O_APPEND: O.APPEND, O_NONBLOCK: O.NONBLOCK, F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1,
  S_IFMT: 0o170000, S_IFREG: 0o100000, S_IFDIR: 0o040000, S_IFCHR: 0o020000, S_IFSOCK: 0o140000, S_IFLNK: 0o120000, S_IFIFO: 0o010000,
}
const AT_FDCWD = -100
const AT_SYMLINK_NOFOLLOW = 0x100
const AT_EMPTY_PATH = 0x1000
const STATX_BASIC_STATS = 0x7ff
const EINTR = 4

// libuv's descriptions (what Node puts in its messages) where they differ from glibc's.
const UV_TEXT: Record<string, string> = {
  EEXIST: 'file already exists', EISDIR: 'illegal operation on a directory', ELOOP: 'too many symbolic links encountered',
  ENAMETOOLONG: 'name too long', EIO: 'i/o error', EBUSY: 'resource busy or locked', ETXTBSY: 'text file is busy',
  EXDEV: 'cross-device link not permitted',
}
const GLIBC_TEXT: Record<string, string> = {
  EPERM: 'operation not permitted', ENOENT: 'no such file or directory', EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable', EACCES: 'permission denied', ENOTDIR: 'not a directory',
  EINVAL: 'invalid argument', EMFILE: 'too many open files', ENOSPC: 'no space left on device',
  EROFS: 'read-only file system', EMLINK: 'too many links', ENOTEMPTY: 'directory not empty', ENODEV: 'no such device',
  ENXIO: 'no such device or address',
}

interface ErrnoError extends Error {
  code: string
  errno: number
  syscall: string
  path?: string
  dest?: string
}

function systemError(errno: number, syscall: string, path?: string, dest?: string): ErrnoError {
  const code = errnoName(errno)
  const text = UV_TEXT[code] ?? GLIBC_TEXT[code] ?? `errno ${errno}`
  const where = path === undefined ? '' : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`
  const err = new Error(`${code}: ${text}, ${syscall}${where}`) as ErrnoError
  err.code = code
  err.errno = -errno
  err.syscall = syscall
  if (path !== undefined) err.path = path
  if (dest !== undefined) err.dest = dest
  return err
}

/** The parts of fs.Stats the plugins read, from a struct statx. */
class Stats {
  constructor(
    readonly mode: number,
    readonly size: number,
    readonly ino: number | bigint,
    readonly dev: number | bigint,
    readonly mtimeNs: bigint,
    readonly ctimeNs: bigint,
    readonly uid: number,
  ) {}
  private type(): number {
    return this.mode & CONSTANTS.S_IFMT
  }
  isFile(): boolean {
    return this.type() === CONSTANTS.S_IFREG
  }
  isDirectory(): boolean {
    return this.type() === CONSTANTS.S_IFDIR
  }
  isCharacterDevice(): boolean {
    return this.type() === CONSTANTS.S_IFCHR
  }
  isSocket(): boolean {
    return this.type() === CONSTANTS.S_IFSOCK
  }
  isSymbolicLink(): boolean {
    return this.type() === CONSTANTS.S_IFLNK
  }
  isFIFO(): boolean {
    return this.type() === CONSTANTS.S_IFIFO
  }
  get mtimeMs(): number {
    return Number(this.mtimeNs / 1_000_000n)
  }
}

/** glibc's makedev, so st.dev reads the same as under Node. */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major)
  const mi = BigInt(minor)
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n)
}

type Fn = (...args: unknown[]) => unknown

function flagsOf(flags: string | number | undefined): number {
  if (typeof flags === 'number') return flags
  switch (flags ?? 'r') {
    case 'r': return O.RDONLY
    case 'r+': return O.RDWR
    case 'w': return O.WRONLY | O.CREAT | O.TRUNC
    case 'wx': return O.WRONLY | O.CREAT | O.TRUNC | O.EXCL
    case 'a': return O.WRONLY | O.CREAT | O.APPEND
    default: throw new TypeError(`unsupported open flags ${JSON.stringify(flags)}`)
  }
}

/** A NUL-terminated copy of a path for libc. */
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8')

function loadFfiFs(): FileSystem {
  const ffi = require('bun:ffi') as typeof import('bun:ffi')
  const { FFIType: T } = ffi
  const lib = ffi.dlopen('libc.so.6', {
    open: { args: [T.ptr, T.i32, T.u32], returns: T.i32 },
    close: { args: [T.i32], returns: T.i32 },
    read: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
    write: { args: [T.i32, T.ptr, T.u64], returns: T.i64 },
    statx: { args: [T.i32, T.ptr, T.i32, T.u32, T.ptr], returns: T.i32 },
    statfs: { args: [T.ptr, T.ptr], returns: T.i32 },
    access: { args: [T.ptr, T.i32], returns: T.i32 },
    realpath: { args: [T.ptr, T.ptr], returns: T.ptr },
    free: { args: [T.ptr], returns: T.void },
    opendir: { args: [T.ptr], returns: T.ptr },
    readdir: { args: [T.ptr], returns: T.ptr },
    closedir: { args: [T.ptr], returns: T.i32 },
    mkdir: { args: [T.ptr, T.u32], returns: T.i32 },
    unlink: { args: [T.ptr], returns: T.i32 },
    rmdir: { args: [T.ptr], returns: T.i32 },
    rename: { args: [T.ptr, T.ptr], returns: T.i32 },
    link: { args: [T.ptr, T.ptr], returns: T.i32 },
    __errno_location: { args: [], returns: T.ptr },
  })
  const c = lib.symbols as Record<string, Fn>
  const errno = (): number => ffi.read.i32(c.__errno_location(), 0)
  const setErrno = (v: number): void => {
    new Int32Array(ffi.toArrayBuffer(c.__errno_location() as number, 0, 4))[0] = v
  }

  /** Runs a call returning -1 on error, retrying EINTR; throws Node's error shape. */
  const check = (syscall: string, fn: () => unknown, path?: string, dest?: string): number => {
    for (;;) {
      const rc = Number(fn())
      if (rc >= 0) return rc
      const e = errno()
      if (e !== EINTR) throw systemError(e, syscall, path, dest)
    }
  }

  const statxBuf = new Uint8Array(256)
  const statxView = new DataView(statxBuf.buffer)
  const stat = (syscall: string, dirfd: number, path: string, flags: number, bigint: boolean): Stats => {
    check(syscall, () => c.statx(dirfd, cstr(path), flags, STATX_BASIC_STATS, statxBuf), syscall === 'fstat' ? undefined : path)
    const v = statxView
    const ns = (off: number): bigint => v.getBigInt64(off, true) * 1_000_000_000n + BigInt(v.getUint32(off + 8, true))
    const ino = v.getBigUint64(32, true)
    const dev = makedev(v.getUint32(136, true), v.getUint32(140, true))
    return new Stats(v.getUint16(28, true), Number(v.getBigUint64(40, true)), bigint ? ino : Number(ino), bigint ? dev : Number(dev), ns(112), ns(96), v.getUint32(20, true))
  }

  // Files read here are small (sysctls, store entries, configs): a small buffer that doubles when
  // needed keeps big allocations, and the garbage collections they bring, out of a short run.
  const readAllFd = (fd: number): Buffer => {
    let buf = Buffer.allocUnsafe(4096)
    let len = 0
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2)
        buf.copy(bigger, 0, 0, len)
        buf = bigger
      }
      const n = check('read', () => c.read(fd, buf.subarray(len), buf.length - len))
      if (n === 0) break
      len += n
    }
    return buf.subarray(0, len)
  }

  const writeAllFd = (fd: number, data: Uint8Array): void => {
    let off = 0
    while (off < data.length) off += check('write', () => c.write(fd, data.subarray(off), data.length - off))
  }

  const api = {
    constants: CONSTANTS,
    openSync: (path: string, flags?: string | number, mode = 0o666) =>
      check('open', () => c.open(cstr(path), flagsOf(flags) | O.CLOEXEC, mode), path),
    closeSync: (fd: number) => void check('close', () => c.close(fd)),
    readSync: (fd: number, buf: Uint8Array, offset = 0, length = buf.length - offset) =>
      check('read', () => c.read(fd, buf.subarray(offset), length)),
    writeSync: (fd: number, data: Uint8Array | string, offset?: number, length?: number) => {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
      const from = typeof data === 'string' ? 0 : (offset ?? 0)
      const len = typeof data === 'string' ? bytes.length : (length ?? bytes.length - from)
      return check('write', () => c.write(fd, bytes.subarray(from), len))
    },
    readFileSync: (path: string, enc?: BufferEncoding | { encoding?: BufferEncoding }) => {
      const fd = check('open', () => c.open(cstr(path), O.RDONLY | O.CLOEXEC, 0), path)
      let data: Buffer
      try {
        data = readAllFd(fd)
      } finally {
        c.close(fd)
      }
      const encoding = typeof enc === 'string' ? enc : enc?.encoding
      return encoding ? data.toString(encoding) : data
    },
    writeFileSync: (path: string, data: string | Uint8Array, opts?: { mode?: number }) => {
      const fd = check('open', () => c.open(cstr(path), O.WRONLY | O.CREAT | O.TRUNC | O.CLOEXEC, opts?.mode ?? 0o666), path)
      try {
        writeAllFd(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
      } finally {
        c.close(fd)
      }
    },
    statSync: (path: string, opts?: { bigint?: boolean }) => stat('stat', AT_FDCWD, path, 0, !!opts?.bigint),
    lstatSync: (path: string, opts?: { bigint?: boolean }) => stat('lstat', AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, !!opts?.bigint),
    fstatSync: (fd: number, opts?: { bigint?: boolean }) => stat('fstat', fd, '', AT_EMPTY_PATH, !!opts?.bigint),
    statfsSync: (path: string) => {
      const buf = new BigInt64Array(15) // struct statfs is 120 bytes; f_type comes first
      check('statfs', () => c.statfs(cstr(path), buf), path)
      return { type: Number(buf[0]) }
    },
    accessSync: (path: string, mode = 0) => void check('access', () => c.access(cstr(path), mode), path),
    existsSync: (path: string) => Number(c.access(cstr(path), 0)) === 0,
    realpathSync: (path: string) => {
      const p = c.realpath(cstr(path), null)
      // Node's realpathSync walks the path with lstat, and names that call in its errors.
      if (!p) throw systemError(errno(), 'lstat', path)
      try {
        return new ffi.CString(p as number).toString()
      } finally {
        c.free(p)
      }
    },
    readdirSync: (path: string) => {
      const dir = c.opendir(cstr(path))
      if (!dir) throw systemError(errno(), 'scandir', path)
      const names: string[] = []
      try {
        for (;;) {
          setErrno(0)
          const ent = c.readdir(dir)
          if (!ent) {
            const e = errno()
            if (e) throw systemError(e, 'scandir', path)
            break
          }
          const name = new ffi.CString(ent as number, 19).toString() // struct dirent64: d_name at 19
          if (name !== '.' && name !== '..') names.push(name)
        }
      } finally {
        c.closedir(dir)
      }
      return names
    },
    mkdirSync: (path: string, opts?: { mode?: number } | number) =>
      void check('mkdir', () => c.mkdir(cstr(path), (typeof opts === 'number' ? opts : opts?.mode) ?? 0o777), path),
    unlinkSync: (path: string) => void check('unlink', () => c.unlink(cstr(path)), path),
    rmdirSync: (path: string) => void check('rmdir', () => c.rmdir(cstr(path)), path),
    renameSync: (from: string, to: string) => void check('rename', () => c.rename(cstr(from), cstr(to)), from, to),
    linkSync: (from: string, to: string) => void check('link', () => c.link(cstr(from), cstr(to)), from, to),
  }
  return api as unknown as FileSystem
}

let loaded: FileSystem | undefined

function impl(): FileSystem {
  loaded ??= process.versions.bun ? loadFfiFs() : (require('node:fs') as FileSystem)
  return loaded
}

/**
 * The file system, loaded at its first call (a plugin that reads nothing never pays for libc's
 * symbols). Use it like node:fs: `fs.openSync(path, fs.constants.O_RDONLY)`.
 */
export const fs: FileSystem = new Proxy({} as FileSystem, {
  get: (_target, key) => impl()[key as keyof FileSystem],
})
