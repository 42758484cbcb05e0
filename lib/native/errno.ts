/**
 * Linux errno numbers and names (asm-generic, shared by x86_64 and arm64), as a plain table: the
 * runtimes' own tables (node:os, node:util) cost milliseconds of start-up to load under Bun, and a
 * plugin needs only the names. test/lib/native/errno.test.ts checks the table against Node's.
 */
const NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC',
  9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 15: 'ENOTBLK',
  16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL',
  23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE',
  30: 'EROFS', 31: 'EMLINK', 32: 'EPIPE', 33: 'EDOM', 34: 'ERANGE', 35: 'EDEADLK', 36: 'ENAMETOOLONG',
  37: 'ENOLCK', 38: 'ENOSYS', 39: 'ENOTEMPTY', 40: 'ELOOP', 42: 'ENOMSG', 43: 'EIDRM', 60: 'ENOSTR',
  61: 'ENODATA', 62: 'ETIME', 63: 'ENOSR', 67: 'ENOLINK', 71: 'EPROTO', 72: 'EMULTIHOP', 74: 'EBADMSG',
  75: 'EOVERFLOW', 76: 'ENOTUNIQ', 84: 'EILSEQ', 88: 'ENOTSOCK', 89: 'EDESTADDRREQ', 90: 'EMSGSIZE',
  91: 'EPROTOTYPE', 92: 'ENOPROTOOPT', 93: 'EPROTONOSUPPORT', 94: 'ESOCKTNOSUPPORT', 95: 'EOPNOTSUPP',
  96: 'EPFNOSUPPORT', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 100: 'ENETDOWN',
  101: 'ENETUNREACH', 102: 'ENETRESET', 103: 'ECONNABORTED', 104: 'ECONNRESET', 105: 'ENOBUFS',
  106: 'EISCONN', 107: 'ENOTCONN', 108: 'ESHUTDOWN', 109: 'ETOOMANYREFS', 110: 'ETIMEDOUT',
  111: 'ECONNREFUSED', 112: 'EHOSTDOWN', 113: 'EHOSTUNREACH', 114: 'EALREADY', 115: 'EINPROGRESS',
  116: 'ESTALE', 122: 'EDQUOT', 125: 'ECANCELED', 130: 'EOWNERDEAD', 131: 'ENOTRECOVERABLE',
  132: 'ERFKILL', 133: 'EHWPOISON',
  // Kernel-internal, but netlink hands it out (e.g. for an operation a driver lacks).
  524: 'ENOTSUPP',
}

let numbers: Map<string, number> | undefined

/** errno name for a (positive or negative) errno number; 'E<n>' when unknown. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno)
  return NAMES[n] ?? `E${n}`
}

/** The (positive) number of an errno name, or undefined. EWOULDBLOCK is EAGAIN, as on Linux. */
export function errnoOf(name: string): number | undefined {
  if (!numbers) {
    numbers = new Map(Object.entries(NAMES).map(([n, k]) => [k, Number(n)]))
    numbers.set('EWOULDBLOCK', 11)
    numbers.set('EDEADLOCK', 35)
  }
  return numbers.get(name)
}
