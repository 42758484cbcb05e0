/**
 * One rtnetlink socket: requests, dumps and the errno of whatever the kernel rejects.
 *
 * From the `netlink` package we use only the transport (netlink/dist/netlink: the native socket,
 * framing, sequence numbers, multipart grouping). Messages are encoded and decoded here and in the
 * sibling files, because the package's rt encoders cost about 7 ms of start-up to load and type
 * every nested attribute as a raw Buffer anyway.
 */
import type * as NetlinkModule from 'netlink/dist/netlink'
import type { NetlinkSocket } from 'netlink/dist/netlink'
import type { NetlinkMessage } from 'netlink/dist/structs'
import type { Netns } from '../ns'
import { NLM_F, NLMSG, RTM_NAME } from './consts'
import { readS32, readU16, readU32 } from './encode'
import { NetlinkError, toNetlinkError } from './errors'

const NETLINK_ROUTE = 0

/** How often a dump that the kernel flags as interrupted is retried (Go's netlinksafe uses 5). */
export const DUMP_ATTEMPTS = 5

let netlinkModule: typeof NetlinkModule | undefined

/** Loads the package's transport on first use: plugin paths that never talk netlink never pay for it. */
function transport(): typeof NetlinkModule {
  if (!netlinkModule) netlinkModule = require('netlink/dist/netlink') as typeof NetlinkModule
  return netlinkModule
}

/** A reply as it came off the wire (header type and flags, payload after the nlmsghdr). */
export interface RawMessage {
  type: number
  flags: number
  data: Buffer
}

/** What the raw-datagram scanner learns about one dump in flight. */
export interface DumpState {
  /** Some part of the reply carried NLM_F_DUMP_INTR: the kernel's tables changed during the dump. */
  interrupted: boolean
  /** Negative errno from NLMSG_DONE (a dump that failed half-way), 0 if none. */
  doneErrno: number
}

/**
 * Scans one received datagram for the dumps we watch. The package drops NLMSG_DONE and never
 * exposes header flags through its request API, so NLM_F_DUMP_INTR (set on the parts that follow
 * a change, often only on DONE) and a DONE errno are read from the raw datagram here.
 */
export function scanDatagram(buf: Buffer, watched: Map<number, DumpState>): void {
  let off = 0
  while (off + 16 <= buf.length) {
    const len = readU32(buf, off)
    if (len < 16 || off + len > buf.length) return
    const state = watched.get(readU32(buf, off + 8))
    if (state) {
      const type = readU16(buf, off + 4)
      if (readU16(buf, off + 6) & NLM_F.DUMP_INTR) state.interrupted = true
      if (type === NLMSG.DONE && len >= 20) {
        const errno = readS32(buf, off + 16)
        if (errno < 0) state.doneErrno = errno
      }
    }
    off += (len + 3) & ~3
  }
}

/**
 * Runs `once` until it reports a complete dump, at most `attempts` times (like Go's
 * pkg/netlinksafe). After that, fails with EINTR rather than return an inconsistent list.
 */
export async function retryInterrupted<T>(
  once: () => Promise<{ result: T; interrupted: boolean }>,
  op: string,
  object?: string,
  attempts = DUMP_ATTEMPTS,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const { result, interrupted } = await once()
    if (!interrupted) return result
  }
  throw new NetlinkError(
    4,
    op,
    object,
    `dump interrupted ${attempts} times: results may be incomplete or inconsistent`,
  )
}

/**
 * An rtnetlink socket bound to one network namespace for its whole life. Requests are serialised
 * (the kernel allows one dump per socket at a time, and the package's multipart grouping is
 * per socket, not per sequence number).
 */
export class RtnlSocket {
  private queue: Promise<unknown> = Promise.resolve()
  private readonly watched = new Map<number, DumpState>()
  private failInFlight: ((err: Error) => void) | undefined
  private closed = false

  private constructor(private readonly nl: NetlinkSocket) {
    nl.socket.on('message', (buf: Buffer) => {
      if (this.watched.size) scanDatagram(buf, this.watched)
    })
    // Without a listener an 'error' event would throw; fail the request in flight instead.
    nl.on('error', (err) => this.failInFlight?.(err))
  }

  /**
   * Opens a socket in `ns` (entered on this thread only for the synchronous socket() + bind()), or
   * in the current namespace. The socket stays in that namespace; everything after is plain async.
   */
  static open(ns?: Netns): RtnlSocket {
    const { createNetlink } = transport()
    const nl = ns ? ns.runSync(() => createNetlink(NETLINK_ROUTE)) : createNetlink(NETLINK_ROUTE)
    return new RtnlSocket(nl)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.failInFlight?.(new Error('rtnetlink socket closed'))
    this.nl.close()
  }

  /**
   * Sends one request (REQUEST|ACK are added) and returns the reply messages: none for a plain
   * ACK. An NLMSG_ERROR becomes a NetlinkError naming `op` and `object`.
   */
  request(type: number, payload: Buffer, flags: number, object?: string): Promise<RawMessage[]> {
    return this.serial(async () => (await this.exchange(type, payload, flags, object, false)).messages)
  }

  /** A dump request (NLM_F_DUMP), retried while the kernel flags it as interrupted. */
  dump(type: number, payload: Buffer, object?: string): Promise<RawMessage[]> {
    const op = RTM_NAME[type] ?? `message ${type}`
    return retryInterrupted(
      async () => {
        const { messages, interrupted } = await this.serial(() =>
          this.exchange(type, payload, NLM_F.DUMP, object, true),
        )
        return { result: messages, interrupted }
      },
      op,
      object,
    )
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async exchange(
    type: number,
    payload: Buffer,
    flags: number,
    object: string | undefined,
    isDump: boolean,
  ): Promise<{ messages: RawMessage[]; interrupted: boolean }> {
    const op = RTM_NAME[type] ?? `message ${type}`
    if (this.closed) throw new Error(`${op}: rtnetlink socket closed`)
    const seq = this.nl.generateSeq()
    const state: DumpState = { interrupted: false, doneErrno: 0 }
    if (isDump) this.watched.set(seq, state)
    let replies: NetlinkMessage[]
    try {
      replies = await new Promise<NetlinkMessage[]>((resolve, reject) => {
        this.failInFlight = reject
        this.nl.request(type, [payload], { flags, seq, checkError: false }).then(([msgs]) => resolve(msgs), reject)
      })
    } catch (err) {
      throw toNetlinkError(err, op, object)
    } finally {
      this.failInFlight = undefined
      this.watched.delete(seq)
    }
    const first = replies[0]
    if (first && first.type === NLMSG.ERROR) {
      const errno = first.data.length >= 4 ? readS32(first.data, 0) : 0
      if (errno !== 0) throw new NetlinkError(errno, op, object)
      return { messages: [], interrupted: false }
    }
    if (state.doneErrno) throw new NetlinkError(state.doneErrno, op, object)
    const messages: RawMessage[] = []
    for (const m of replies) {
      if (m.type === NLMSG.ERROR || m.type === NLMSG.DONE || m.type === NLMSG.NOOP) continue
      if (m.flags & NLM_F.DUMP_INTR) state.interrupted = true
      messages.push({ type: m.type, flags: m.flags, data: m.data })
    }
    return { messages, interrupted: state.interrupted }
  }
}
