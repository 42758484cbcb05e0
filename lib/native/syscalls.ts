/**
 * The syscalls the JavaScript runtimes do not expose, as one small synchronous surface. Two
 * backends implement it: bun:ffi straight into libc (ffi.ts, the product: the compiled executable
 * loads no native file), and the N-API addon native/tscni.c (addon.ts, for lib/ under Node in the
 * tap tests). Failures throw an Error with .code (errno name), .errno (negative) and .syscall,
 * like Node's own system errors.
 */
export interface Syscalls {
  /** setns(2): moves the calling thread only (see lib/ns for the rules that follow). */
  setns(fd: number, nstype: number): void
  /** flock(2): blocking unless op has LOCK_NB; EINTR is retried. */
  flock(fd: number, op: number): void
  /** A bound NETLINK socket of `protocol` whose send and recv fail with EAGAIN after `timeoutMs`. */
  netlinkOpen(protocol: number, timeoutMs: number): number
  /** Sends one datagram; returns the bytes sent. */
  netlinkSend(fd: number, data: Uint8Array): number
  /** Receives one datagram into `buf`; returns its full length (larger than buf when truncated). */
  netlinkRecv(fd: number, buf: Uint8Array): number
  /** close(2) of a descriptor this layer opened. */
  close(fd: number): void
  readonly CLONE_NEWNET: number
  readonly LOCK_SH: number
  readonly LOCK_EX: number
  readonly LOCK_NB: number
  readonly LOCK_UN: number
}
