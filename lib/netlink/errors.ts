import * as os from 'node:os'
import * as util from 'node:util'

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

// Names Linux shares between two errnos: prefer the one the kernel sources and Go print.
const PREFERRED: Record<number, string> = { 95: 'EOPNOTSUPP', 11: 'EAGAIN', 35: 'EDEADLK' }

let names: Map<number, string> | undefined

/** errno name for a (positive or negative) errno number; 'E<n>' when unknown. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno)
  if (PREFERRED[n]) return PREFERRED[n]
  if (!names) {
    names = new Map()
    const table = os.constants.errno as Record<string, number>
    for (const name of Object.keys(table)) if (!names.has(table[name])) names.set(table[name], name)
  }
  return names.get(n) ?? `E${n}`
}

/** Numbers for the errno names, so callers can build errors without hard-coding. */
export function errnoNumber(name: string): number {
  const n = (os.constants.errno as Record<string, number>)[name]
  if (n === undefined) throw new TypeError(`unknown errno name ${name}`)
  return -n
}

// glibc's strerror texts as Go prints them (golang.org/x/sys/unix errorList), for the errnos rtnetlink
// actually returns. Others fall back to libuv's text.
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
  if (TEXT[name]) return TEXT[name]
  const entry = util.getSystemErrorMap().get(-Math.abs(errno))
  return entry ? entry[1] : `errno ${Math.abs(errno)}`
}

/**
 * The one mapping from whatever the `netlink` package throws to a NetlinkError. The package
 * throws `Error('Request rejected: EEXIST')` when it checks errors itself; we disable that check
 * and read the errno from NLMSG_ERROR directly, but send failures and that text still pass here.
 */
export function toNetlinkError(err: unknown, op: string, object?: string): unknown {
  if (err instanceof NetlinkError) return err
  if (!(err instanceof Error)) return err
  const e = err as NodeJS.ErrnoException
  if (typeof e.errno === 'number' && e.errno !== 0) return new NetlinkError(e.errno, op, object)
  if (typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) {
    const n = (os.constants.errno as Record<string, number>)[e.code]
    if (n) return new NetlinkError(n, op, object)
  }
  const m = /^Request rejected: (-?\w+)$/.exec(e.message)
  if (m) {
    const n = /^-?\d+$/.test(m[1]) ? Number(m[1]) : (os.constants.errno as Record<string, number>)[m[1]]
    if (n) return new NetlinkError(n, op, object)
  }
  return err
}
