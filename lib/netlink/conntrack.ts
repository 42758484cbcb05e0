/**
 * Connection tracking over NETLINK_NETFILTER (ctnetlink): list the flows of one family and delete
 * them one by one, as the reference does through vishvananda/netlink's ConntrackDeleteFilters. No
 * `conntrack` tool is run. Used by portmap so that a stale UDP flow never keeps sending a mapped
 * port's traffic to a container that is gone.
 */
import { attr, attrMap, bytesToIp, ipToBytes, u8, walkAttrs } from './encode'
import { NetlinkError } from './errors'
import { MESSAGE_NAMES, NETLINK, NetlinkSocket } from './socket'
import type { Netns } from '../ns'

const NFNL_SUBSYS_CTNETLINK = 1
const IPCTNL_MSG = { NEW: 0, GET: 1, DELETE: 2 } as const
const msgType = (m: number): number => (NFNL_SUBSYS_CTNETLINK << 8) | m
MESSAGE_NAMES[msgType(IPCTNL_MSG.GET)] = 'IPCTNL_MSG_CT_GET'
MESSAGE_NAMES[msgType(IPCTNL_MSG.DELETE)] = 'IPCTNL_MSG_CT_DELETE'

// <linux/netfilter/nfnetlink_conntrack.h>
const CTA = { TUPLE_ORIG: 1, TUPLE_REPLY: 2, ZONE: 18 } as const
const CTA_TUPLE = { IP: 1, PROTO: 2, ZONE: 3 } as const
const CTA_IP = { V4_SRC: 1, V4_DST: 2, V6_SRC: 3, V6_DST: 4 } as const
const CTA_PROTO = { NUM: 1, SRC_PORT: 2, DST_PORT: 3 } as const

const AF_INET = 2
const AF_INET6 = 10

export const IPPROTO = { TCP: 6, UDP: 17, SCTP: 132 } as const

/** One tracked flow, by its original-direction tuple. */
export interface ConntrackFlow {
  family: 4 | 6
  protocol: number
  src: string
  dst: string
  srcPort: number
  dstPort: number
  /** The conntrack zone (CTA_ZONE), when the flow has one. */
  zone?: number
}

/** struct nfgenmsg: family, version 0, resource id 0 (big-endian). */
function nfgenmsg(family: 4 | 6): Buffer {
  return Buffer.from([family === 4 ? AF_INET : AF_INET6, 0, 0, 0])
}

const be16 = (n: number): Buffer => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

function parseTuple(data: Buffer): Omit<ConntrackFlow, 'family' | 'zone'> {
  const t = attrMap(data)
  const out = { protocol: 0, src: '', dst: '', srcPort: 0, dstPort: 0 }
  const ip = t.get(CTA_TUPLE.IP)
  if (ip) {
    walkAttrs(ip, (type, v) => {
      if (type === CTA_IP.V4_SRC || type === CTA_IP.V6_SRC) out.src = bytesToIp(v)
      if (type === CTA_IP.V4_DST || type === CTA_IP.V6_DST) out.dst = bytesToIp(v)
    })
  }
  const proto = t.get(CTA_TUPLE.PROTO)
  if (proto) {
    walkAttrs(proto, (type, v) => {
      if (type === CTA_PROTO.NUM) out.protocol = v[0]
      if (type === CTA_PROTO.SRC_PORT && v.length >= 2) out.srcPort = v.readUInt16BE(0)
      if (type === CTA_PROTO.DST_PORT && v.length >= 2) out.dstPort = v.readUInt16BE(0)
    })
  }
  return out
}

/** The CTA_TUPLE_ORIG attribute that names `flow` to the kernel. */
function encodeTuple(flow: ConntrackFlow): Buffer {
  const [srcType, dstType] = flow.family === 4 ? [CTA_IP.V4_SRC, CTA_IP.V4_DST] : [CTA_IP.V6_SRC, CTA_IP.V6_DST]
  const ip = attr(CTA_TUPLE.IP, [attr(srcType, ipToBytes(flow.src)), attr(dstType, ipToBytes(flow.dst))], true)
  const protoAttrs = [attr(CTA_PROTO.NUM, u8(flow.protocol))]
  if (flow.protocol === IPPROTO.TCP || flow.protocol === IPPROTO.UDP || flow.protocol === IPPROTO.SCTP) {
    protoAttrs.push(attr(CTA_PROTO.SRC_PORT, be16(flow.srcPort)), attr(CTA_PROTO.DST_PORT, be16(flow.dstPort)))
  }
  return attr(CTA.TUPLE_ORIG, [ip, attr(CTA_TUPLE.PROTO, protoAttrs, true)], true)
}

/** A ctnetlink connection in one namespace (the current one when `ns` is omitted). */
export class Conntrack {
  private constructor(private readonly socket: NetlinkSocket) {}

  static open(ns?: Netns): Conntrack {
    return new Conntrack(NetlinkSocket.open(ns, NETLINK.NETFILTER))
  }

  close(): void {
    this.socket.close()
  }

  /** Every flow of `family` in the conntrack table. */
  list(family: 4 | 6): ConntrackFlow[] {
    const msgs = this.socket.dump(msgType(IPCTNL_MSG.GET), nfgenmsg(family), `ipv${family} conntrack table`)
    const flows: ConntrackFlow[] = []
    for (const m of msgs) {
      if (m.type !== msgType(IPCTNL_MSG.NEW) || m.data.length < 4) continue
      const attrs = attrMap(m.data.subarray(4))
      const orig = attrs.get(CTA.TUPLE_ORIG)
      if (!orig) continue
      const flow: ConntrackFlow = { family, ...parseTuple(orig) }
      const zone = attrs.get(CTA.ZONE)
      if (zone && zone.length >= 2) flow.zone = zone.readUInt16BE(0)
      flows.push(flow)
    }
    return flows
  }

  /** Deletes one flow; false when it was already gone. */
  delete(flow: ConntrackFlow): boolean {
    const body = [nfgenmsg(flow.family), encodeTuple(flow)]
    if (flow.zone !== undefined) body.push(attr(CTA.ZONE, be16(flow.zone)))
    try {
      this.socket.request(msgType(IPCTNL_MSG.DELETE), Buffer.concat(body), 0, `${flow.src}:${flow.srcPort} -> ${flow.dst}:${flow.dstPort}`)
      return true
    } catch (err) {
      if (NetlinkError.is(err, 'ENOENT')) return false
      throw err
    }
  }

  /**
   * Deletes every flow of `family` and `protocol` whose original destination port is `port`,
   * whatever the addresses (the reference's filter for stale UDP host-port flows). Returns how
   * many it deleted.
   */
  deleteByDestinationPort(family: 4 | 6, protocol: number, port: number): number {
    let deleted = 0
    for (const flow of this.list(family)) {
      if (flow.protocol === protocol && flow.dstPort === port && this.delete(flow)) deleted++
    }
    return deleted
  }
}
