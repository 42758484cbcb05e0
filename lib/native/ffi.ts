/**
 * The syscalls through bun:ffi, straight into the libc the executable is already linked against
 * (dlopen of "libc.so.6" returns that loaded copy): no native file is written or loaded, so nothing
 * lands in /tmp and a noexec /tmp does not matter. Costs about 0.2 ms at first use.
 */
import { errnoName } from './errno'
import type { Syscalls } from './syscalls'

// Linux x86_64/arm64 values (the same on both).
const AF_NETLINK = 16
const SOCK_RAW = 3
const SOCK_CLOEXEC = 0o2000000
const SOL_SOCKET = 1
const SO_RCVTIMEO = 20
const SO_SNDTIMEO = 21
const MSG_TRUNC = 0x20
const EINTR = 4

type Fn = (...args: any[]) => any

export function loadFfi(): Syscalls {
  // Required here, not imported: Node (which runs lib/ in the tests) has no bun:ffi.
  const ffi = require('bun:ffi') as typeof import('bun:ffi')
  const { FFIType: T } = ffi
  const lib = ffi.dlopen('libc.so.6', {
    setns: { args: [T.i32, T.i32], returns: T.i32 },
    flock: { args: [T.i32, T.i32], returns: T.i32 },
    socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
    setsockopt: { args: [T.i32, T.i32, T.i32, T.ptr, T.u32], returns: T.i32 },
    bind: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
    send: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
    recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
    close: { args: [T.i32], returns: T.i32 },
    __errno_location: { args: [], returns: T.ptr },
  })
  const c = lib.symbols as Record<string, Fn>
  const errno = (): number => ffi.read.i32(c.__errno_location(), 0)

  /** Calls `fn` until it does not fail with EINTR; throws a system error on failure. */
  const call = (syscall: string, fn: () => number | bigint): number => {
    for (;;) {
      const rc = Number(fn())
      if (rc >= 0) return rc
      const err = errno()
      if (err === EINTR) continue
      throw Object.assign(new Error(`${syscall}: ${errnoName(err)}`), { code: errnoName(err), errno: -err, syscall })
    }
  }

  return {
    setns: (fd, nstype) => void call('setns', () => c.setns(fd, nstype)),
    flock: (fd, op) => void call('flock', () => c.flock(fd, op)),
    netlinkOpen(protocol, timeoutMs) {
      const fd = call('socket', () => c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol))
      try {
        const tv = new BigInt64Array([BigInt(Math.floor(timeoutMs / 1000)), BigInt((timeoutMs % 1000) * 1000)])
        call('setsockopt', () => c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16))
        call('setsockopt', () => c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, 16))
        const sa = new Uint8Array(12) // sockaddr_nl: family, pad, pid 0 (the kernel picks), groups 0
        sa[0] = AF_NETLINK
        call('bind', () => c.bind(fd, sa, 12))
      } catch (err) {
        c.close(fd)
        throw err
      }
      return fd
    },
    netlinkSend: (fd, data) => call('send', () => c.send(fd, data, data.length, 0)),
    netlinkRecv: (fd, buf) => call('recv', () => c.recv(fd, buf, buf.length, MSG_TRUNC)),
    close: (fd) => void call('close', () => c.close(fd)),
    CLONE_NEWNET: 0x40000000,
    LOCK_SH: 1,
    LOCK_EX: 2,
    LOCK_NB: 4,
    LOCK_UN: 8,
  }
}
