import { fs } from '../native/fs'
import { native } from '../native'

// statfs(2) magic numbers: a network namespace is a file on nsfs, or /proc/<pid>/ns/net on procfs.
const NSFS_MAGIC = 0x6e736673
const PROC_SUPER_MAGIC = 0x9fa0

/** The namespace path does not exist: DEL treats this as "already gone". */
export class NetnsNotFoundError extends Error {
  override readonly name = 'NetnsNotFoundError'
  readonly code = 'ENOENT'
  constructor(readonly nsPath: string) {
    super(`failed to Statfs "${nsPath}": no such file or directory`)
  }
}

/** The path exists but is not a network namespace (a regular file, a directory, another ns type). */
export class NotNetnsError extends Error {
  override readonly name = 'NotNetnsError'
  constructor(
    readonly nsPath: string,
    detail: string,
  ) {
    super(detail)
  }
}

/** An open network namespace. Close it when done; the fd keeps the namespace alive meanwhile. */
export class Netns {
  private closed = false
  constructor(
    readonly path: string,
    readonly fd: number,
  ) {}

  /**
   * Runs `fn` with the calling thread inside this namespace and switches back in `finally`.
   * setns moves only the main thread: libuv pool threads stay behind, so `fn` must be synchronous
   * (sockets, *Sync calls on /proc/sys) and must not start async work. Sockets opened inside stay
   * bound to this namespace after the switch back, so async netlink talk happens afterwards.
   */
  runSync<T>(fn: () => T): T {
    const { setns, CLONE_NEWNET } = native()
    const original = fs.openSync('/proc/thread-self/ns/net', fs.constants.O_RDONLY)
    try {
      setns(this.fd, CLONE_NEWNET)
      try {
        return fn()
      } finally {
        restoreOrDie(original)
      }
    } finally {
      fs.closeSync(original)
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    fs.closeSync(this.fd)
  }
}

function restoreOrDie(originalFd: number): void {
  const { setns, CLONE_NEWNET } = native()
  try {
    setns(originalFd, CLONE_NEWNET)
  } catch (err) {
    // Go's answer is to keep the thread locked so it dies; ours is the process: nothing more may run
    // in the wrong namespace. Print the CNI error by hand, because the normal path cannot be trusted.
    const msg = `failed to switch back to the original network namespace: ${(err as Error).message}`
    fs.writeSync(1, JSON.stringify({ code: 999, msg }, null, 4))
    process.exit(1)
  }
}

/** Checks that `nsPath` is a network namespace file the way the reference does (statfs magic). */
export function checkNetnsPath(nsPath: string): void {
  let type: number
  try {
    type = fs.statfsSync(nsPath).type
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') throw new NetnsNotFoundError(nsPath)
    throw new NotNetnsError(nsPath, `failed to Statfs "${nsPath}": ${e.message}`)
  }
  if (type !== NSFS_MAGIC && type !== PROC_SUPER_MAGIC) {
    throw new NotNetnsError(nsPath, `unknown FS magic on "${nsPath}": ${type.toString(16)}`)
  }
}

/** Validates and opens a network namespace path. */
export function openNetns(nsPath: string): Netns {
  checkNetnsPath(nsPath)
  let fd: number
  try {
    fd = fs.openSync(nsPath, fs.constants.O_RDONLY)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOENT') throw new NetnsNotFoundError(nsPath)
    throw new NotNetnsError(nsPath, `failed to open "${nsPath}": ${e.message}`)
  }
  return new Netns(nsPath, fd)
}

/** Runs `fn` inside the namespace at `nsPath`: open, enter, leave, close. */
export function withNetnsPathSync<T>(nsPath: string, fn: () => T): T {
  const ns = openNetns(nsPath)
  try {
    return ns.runSync(fn)
  } finally {
    ns.close()
  }
}
