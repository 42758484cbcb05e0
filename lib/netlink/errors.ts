import { errnoName as nameOf, errnoOf } from '../native/errno'

/**
 * A request the kernel rejected (or a dump that could not be completed). Keeps the errno name so
 * idempotent callers can test it: `if (NetlinkError.is(err, 'EEXIST')) ...`.
 *
 * The message reads like the Go plugins' errors with the op and object in front:
 * `RTM_NEWLINK "br0": file exists (EEXIST)`. `reason` alone is the Go text (`file exists`), for
 * callers that compose their own message in the reference's words.
 */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError'
  /** errno name: 'EEXIST', 'ENODEV', 'EOPNOTSUPP', ... */
  readonly code: string
  /** Negative errno, as in Node's own system errors (EEXIST is -17). */
  readonly errno: number
  /** The Go/glibc strerror text in lower case: 'file exists'. */
  readonly reason: string

  constructor(
    errno: number,
    /** The request that failed: 'RTM_NEWLINK', 'RTM_GETADDR', ... */
    readonly op: string,
    /** What it was about, as shown in the message: '"br0"', 'link 7', '10.1.0.0/24 via 10.1.0.1'. */
    readonly object?: string,
    reason?: string,
  ) {
    const n = -Math.abs(errno)
    const code = errnoName(n)
    const text = reason ?? errnoText(n)
    super(`${op}${object ? ` ${object}` : ''}: ${text} (${code})`)
    this.code = code
    this.errno = n
    this.reason = text
  }

  /** True when `err` is a NetlinkError with one of the given codes (any code when none given). */
  static is(err: unknown, ...codes: string[]): err is NetlinkError {
    return err instanceof NetlinkError && (codes.length === 0 || codes.includes(err.code))
  }
}

/** errno name for a (positive or negative) errno number; 'E<n>' when unknown. */
export function errnoName(errno: number): string {
  return nameOf(errno)
}

/** Numbers for the errno names, so callers can build errors without hard-coding. */
export function errnoNumber(name: string): number {
  const n = errnoOf(name)
  if (n === undefined) throw new TypeError(`unknown errno name ${name}`)
  return -n
}

// glibc's strerror texts as Go prints them (golang.org/x/sys/unix errorList), for the errnos rtnetlink
// actually returns. Others are shown by number.
const TEXT: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left on device',
  EMLINK: 'too many links',
  EDOM: 'numerical argument out of domain',
  ERANGE: 'numerical result out of range',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  ENODATA: 'no data available',
  ENOLINK: 'link has been severed',
  EPROTO: 'protocol error',
  EOVERFLOW: 'value too large for defined data type',
  ENOTUNIQ: 'name not unique on network',
  EMSGSIZE: 'message too long',
  EPROTONOSUPPORT: 'protocol not supported',
  EOPNOTSUPP: 'operation not supported',
  EAFNOSUPPORT: 'address family not supported by protocol',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  ENETDOWN: 'network is down',
  ENETUNREACH: 'network is unreachable',
  ENOBUFS: 'no buffer space available',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
}

/** The human text for an errno, in Go's words where known. */
export function errnoText(errno: number): string {
  const name = errnoName(errno)
  return TEXT[name] ?? `errno ${Math.abs(errno)}`
}

/** A system error (errno or an errno-name code) as a NetlinkError; anything else unchanged. */
export function toNetlinkError(err: unknown, op: string, object?: string): unknown {
  if (err instanceof NetlinkError) return err
  if (!(err instanceof Error)) return err
  const e = err as NodeJS.ErrnoException
  if (typeof e.errno === 'number' && e.errno !== 0) return new NetlinkError(e.errno, op, object)
  if (typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) {
    const n = errnoOf(e.code)
    if (n) return new NetlinkError(n, op, object)
  }
  return err
}
