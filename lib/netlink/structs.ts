/**
 * The fixed headers in front of rtnetlink attributes: struct ifinfomsg, ifaddrmsg, rtmsg
 * (<linux/rtnetlink.h>, <linux/if_addr.h>), in host byte order.
 */
import { readS32, readU16, readU32, u16, u32 } from './encode'

export const IFINFOMSG_LEN = 16
export const IFADDRMSG_LEN = 8
export const RTMSG_LEN = 12

/** struct ifinfomsg */
export interface IfInfoMsg {
  family: number
  type: number
  index: number
  flags: number
  change: number
}

export function ifinfomsg(m: Partial<IfInfoMsg> = {}): Buffer {
  return Buffer.concat([
    Buffer.from([m.family ?? 0, 0]),
    u16(m.type ?? 0),
    u32(m.index ?? 0),
    u32(m.flags ?? 0),
    u32(m.change ?? 0),
  ])
}

export function parseIfinfomsg(b: Buffer): IfInfoMsg {
  if (b.length < IFINFOMSG_LEN) throw new Error(`short ifinfomsg (${b.length} bytes)`)
  return { family: b[0], type: readU16(b, 2), index: readS32(b, 4), flags: readU32(b, 8), change: readU32(b, 12) }
}

/** struct ifaddrmsg */
export interface IfAddrMsg {
  family: number
  prefixLen: number
  flags: number
  scope: number
  index: number
}

export function ifaddrmsg(m: Partial<IfAddrMsg> = {}): Buffer {
  return Buffer.concat([Buffer.from([m.family ?? 0, m.prefixLen ?? 0, m.flags ?? 0, m.scope ?? 0]), u32(m.index ?? 0)])
}

export function parseIfaddrmsg(b: Buffer): IfAddrMsg {
  if (b.length < IFADDRMSG_LEN) throw new Error(`short ifaddrmsg (${b.length} bytes)`)
  return { family: b[0], prefixLen: b[1], flags: b[2], scope: b[3], index: readU32(b, 4) }
}

/** struct rtmsg */
export interface RtMsg {
  family: number
  dstLen: number
  srcLen: number
  tos: number
  table: number
  protocol: number
  scope: number
  type: number
  flags: number
}

export function rtmsg(m: Partial<RtMsg> = {}): Buffer {
  return Buffer.concat([
    Buffer.from([
      m.family ?? 0,
      m.dstLen ?? 0,
      m.srcLen ?? 0,
      m.tos ?? 0,
      m.table ?? 0,
      m.protocol ?? 0,
      m.scope ?? 0,
      m.type ?? 0,
    ]),
    u32(m.flags ?? 0),
  ])
}

export function parseRtmsg(b: Buffer): RtMsg {
  if (b.length < RTMSG_LEN) throw new Error(`short rtmsg (${b.length} bytes)`)
  return {
    family: b[0],
    dstLen: b[1],
    srcLen: b[2],
    tos: b[3],
    table: b[4],
    protocol: b[5],
    scope: b[6],
    type: b[7],
    flags: readU32(b, 8),
  }
}
