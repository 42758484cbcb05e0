/**
 * One netlink socket (rtnetlink, or netfilter's for conntrack), synchronous: a request goes out and the answer is read right away with a
 * blocking recv (bounded by a receive timeout). A plugin is a short-lived process doing one thing
 * at a time, so there is no event loop to feed and no native binding that needs libuv; a namespace
 * window can hold netlink talk like any other synchronous work.
 *
 * The transport (framing, sequence numbers, multipart dumps, NLM_F_DUMP_INTR, the errno of
 * NLMSG_ERROR and of NLMSG_DONE) is here; messages are encoded and decoded in the sibling files.
 */
import { native } from '../native'
import type { Netns } from '../ns'
import { NLM_F, NLMSG, RTM_NAME } from './consts'
import { readS32, readU16, readU32 } from './encode'
import { NetlinkError, toNetlinkError } from './errors'

/** Netlink families (protocols) this project speaks. */
export const NETLINK = { ROUTE: 0, NETFILTER: 12 } as const

/** How often a dump that the kernel flags as interrupted is retried (Go's netlinksafe uses 5). */
export const DUMP_ATTEMPTS = 5

/** How long one request may wait for the kernel's answer before it fails with ETIMEDOUT. */
export const REPLY_TIMEOUT_MS = 10_000

/**
 * Big enough for any datagram we ask for: the kernel fills a dump datagram up to 32 KiB, and a
 * larger one is reported (MSG_TRUNC) rather than misread.
 */
const RECV_BUFFER_SIZE = 64 * 1024

const NLMSG_HDRLEN = 16

/** A reply as it came off the wire (header type and flags, payload after the nlmsghdr). */
export interface RawMessage {
  type: number
  flags: number
  data: Buffer
}

/** One message of a received datagram, with the header fields the transport checks. */
export interface WireMessage extends RawMessage {
  seq: number
}

/** Splits one datagram into its messages; a malformed tail ends the list. */
export function parseDatagram(buf: Buffer): WireMessage[] {
  const out: WireMessage[] = []
  let off = 0
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off)
    if (len < NLMSG_HDRLEN || off + len > buf.length) break
    out.push({
      type: readU16(buf, off + 4),
      flags: readU16(buf, off + 6),
      seq: readU32(buf, off + 8),
      data: buf.subarray(off + NLMSG_HDRLEN, off + len),
    })
    off += (len + 3) & ~3
  }
  return out
}

/** The nlmsghdr + payload of one request. */
export function encodeRequest(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const msg = Buffer.alloc(NLMSG_HDRLEN + payload.length)
  msg.writeUInt32LE(msg.length, 0)
  msg.writeUInt16LE(type, 4)
  msg.writeUInt16LE(flags, 6)
  msg.writeUInt32LE(seq, 8)
  msg.writeUInt32LE(0, 12) // to the kernel
  payload.copy(msg, NLMSG_HDRLEN)
  return msg
}

/**
 * Runs `once` until it reports a complete dump, at most `attempts` times (like Go's
 * pkg/netlinksafe). After that, fails with EINTR rather than return an inconsistent list.
 */
export function retryInterrupted<T>(
  once: () => { result: T; interrupted: boolean },
  op: string,
  object?: string,
  attempts = DUMP_ATTEMPTS,
): T {
  for (let i = 0; i < attempts; i++) {
    const { result, interrupted } = once()
    if (!interrupted) return result
  }
  throw new NetlinkError(4, op, object, `dump interrupted ${attempts} times: results may be incomplete or inconsistent`)
}

/** A failed send/recv as a NetlinkError (the system error's errno, or ETIMEDOUT for a timeout). */
function transportError(err: unknown, op: string, object: string | undefined): unknown {
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'EAGAIN' || e?.code === 'EWOULDBLOCK') {
    return new NetlinkError(110, op, object, `no answer from the kernel within ${REPLY_TIMEOUT_MS} ms`)
  }
  return toNetlinkError(err, op, object)
}

/** Names for message types other than rtnetlink's, for error texts (set by the protocol modules). */
export const MESSAGE_NAMES: Record<number, string> = {}

function messageName(protocol: number, type: number): string {
  return (protocol === NETLINK.ROUTE ? RTM_NAME[type] : MESSAGE_NAMES[type]) ?? `message ${type}`
}

/** A netlink socket bound to one network namespace for its whole life. */
export class NetlinkSocket {
  private seq: number
  private closed = false
  private readonly buf = Buffer.allocUnsafe(RECV_BUFFER_SIZE)

  private constructor(
    private readonly fd: number,
    readonly protocol: number,
  ) {
    // Any start works; a varying one keeps a reply meant for an earlier process's socket apart.
    this.seq = (Date.now() & 0x7fffffff) >>> 0
  }

  /**
   * Opens a socket of `protocol` (rtnetlink unless told otherwise) in `ns` (entered for the socket()
   * call only), or in the current namespace.
   */
  static open(ns?: Netns, protocol: number = NETLINK.ROUTE): NetlinkSocket {
    const open = (): number => native().netlinkOpen(protocol, REPLY_TIMEOUT_MS)
    return new NetlinkSocket(ns ? ns.runSync(open) : open(), protocol)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    native().close(this.fd)
  }

  /**
   * Sends one request (REQUEST|ACK are added) and returns the reply messages: none for a plain
   * ACK. An NLMSG_ERROR becomes a NetlinkError naming `op` and `object`.
   */
  request(type: number, payload: Buffer, flags: number, object?: string): RawMessage[] {
    return this.exchange(type, payload, flags | NLM_F.ACK, object, false).messages
  }

  /** A dump request (NLM_F_DUMP), retried while the kernel flags it as interrupted. */
  dump(type: number, payload: Buffer, object?: string): RawMessage[] {
    const op = messageName(this.protocol, type)
    return retryInterrupted(() => {
      const { messages, interrupted } = this.exchange(type, payload, NLM_F.DUMP, object, true)
      return { result: messages, interrupted }
    }, op, object)
  }

  private exchange(
    type: number,
    payload: Buffer,
    flags: number,
    object: string | undefined,
    isDump: boolean,
  ): { messages: RawMessage[]; interrupted: boolean } {
    const op = messageName(this.protocol, type)
    if (this.closed) throw new Error(`${op}: netlink socket closed`)
    const sys = native()
    this.seq = (this.seq + 1) >>> 0
    const seq = this.seq
    try {
      sys.netlinkSend(this.fd, encodeRequest(type, flags | NLM_F.REQUEST, seq, payload))
    } catch (err) {
      throw transportError(err, op, object)
    }
    const messages: RawMessage[] = []
    let interrupted = false
    for (;;) {
      let n: number
      try {
        n = sys.netlinkRecv(this.fd, this.buf)
      } catch (err) {
        throw transportError(err, op, object)
      }
      if (n > this.buf.length) throw new NetlinkError(105, op, object, `reply of ${n} bytes truncated`)
      for (const m of parseDatagram(this.buf.subarray(0, n))) {
        if (m.seq !== seq) continue // the late answer to an earlier request that timed out
        if (m.flags & NLM_F.DUMP_INTR) interrupted = true
        if (m.type === NLMSG.ERROR) {
          const errno = m.data.length >= 4 ? readS32(m.data, 0) : 0
          if (errno !== 0) throw new NetlinkError(errno, op, object)
          return { messages, interrupted } // the ACK ends a request
        }
        if (m.type === NLMSG.DONE) {
          const errno = m.data.length >= 4 ? readS32(m.data, 0) : 0
          if (errno < 0) throw new NetlinkError(errno, op, object)
          return { messages, interrupted }
        }
        if (m.type === NLMSG.NOOP || m.type === NLMSG.OVERRUN) continue
        // Payloads are copied out: the receive buffer is reused by the next datagram.
        messages.push({ type: m.type, flags: m.flags, data: Buffer.from(m.data) })
        if (!isDump && !(m.flags & NLM_F.MULTI) && !(flags & NLM_F.ACK)) return { messages, interrupted }
      }
    }
  }
}
