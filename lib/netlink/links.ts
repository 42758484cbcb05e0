/** Links: lookup, listing, flags and attributes, bridges and veth pairs (RTM_*LINK). */
import {
  AF,
  IFF,
  IFLA,
  IFLA_BR,
  IFLA_BRPORT,
  IFLA_INFO,
  NLM_F,
  OPER_STATE,
  RTEXT_FILTER,
  RTM,
  VETH_INFO_PEER,
} from './consts'
import { attr, attrMap, cstring, formatMac, parseMac, readCstring, readS32, readU32, readUint, u32, u8 } from './encode'
import { NetlinkError } from './errors'
import type { NetlinkSocket } from './socket'
import { IFINFOMSG_LEN, ifinfomsg, parseIfinfomsg } from './structs'

export type OperState = (typeof OPER_STATE)[number]

/** STP state of a bridge port (IFLA_BRPORT_STATE). */
export type BridgePortState = 'disabled' | 'listening' | 'learning' | 'forwarding' | 'blocking'
const PORT_STATES: BridgePortState[] = ['disabled', 'listening', 'learning', 'forwarding', 'blocking']

/** A bridge port's settings, read from IFLA_INFO_SLAVE_DATA. */
export interface BridgePortInfo {
  state?: BridgePortState
  hairpin: boolean
  isolated: boolean
}

/** A network interface as the kernel reports it (RTM_NEWLINK). */
export interface Link {
  index: number
  name: string
  /** IFLA_INFO_KIND: 'bridge', 'veth', 'dummy', ...; absent for lo and physical devices. */
  kind?: string
  /** Administratively up (IFF_UP). */
  up: boolean
  /** RFC 2863 state: 'up', 'down', 'lowerlayerdown', 'unknown', ... */
  operState: OperState
  mtu: number
  /** 'aa:bb:cc:dd:ee:ff', lowercase; '' when the device has no hardware address. */
  mac: string
  txQLen?: number
  /** ifindex of the master (bridge) this link is enslaved to. */
  master?: number
  /** IFLA_LINK: for a veth, the peer's ifindex (in the peer's namespace, see linkNetnsId). */
  peerIndex?: number
  /** IFLA_LINK_NETNSID: the namespace id (as seen from here) the peer lives in, when it is elsewhere. */
  linkNetnsId?: number
  /** Promiscuous mode set by a user (IFF_PROMISC as reported; a bridge's own use does not count). */
  promisc: boolean
  /** All-multicast mode set by a user (IFF_ALLMULTI as reported, like promisc). */
  allmulti: boolean
  /** Bridges only: IFLA_BR_VLAN_FILTERING. */
  vlanFiltering?: boolean
  /** Bridge ports only (slave kind 'bridge'). */
  bridgePort?: BridgePortInfo
}

export interface CreateBridgeOptions {
  mtu?: number
  /** Sets IFLA_BR_VLAN_FILTERING (only sent when given). */
  vlanFiltering?: boolean
  txQLen?: number
}

export interface CreateVethOptions {
  /** Name of the end created in this socket's namespace. */
  name: string
  /** Name of the other end. */
  peerName: string
  /** Put the peer directly into the namespace behind this fd (IFLA_NET_NS_FD inside VETH_INFO_PEER). */
  peerNetnsFd?: number
  /** MTU of both ends (unless peerMtu is given). */
  mtu?: number
  peerMtu?: number
  mac?: string
  peerMac?: string
  /**
   * Transmit queue length of both ends. The reference's veths carry IFLA_TXQLEN 0 (no queue: a
   * veth hands packets straight to its peer); without the attribute the kernel gives them 1000.
   */
  txQLen?: number
}

const linkObj = (index: number): string => `link ${index}`
const nameObj = (name: string): string => JSON.stringify(name)

// Skip the statistics blocks in every reply: we never read them and they are half the message.
const extMask = (): Buffer => attr(IFLA.EXT_MASK, u32(RTEXT_FILTER.SKIP_STATS))

/** Decodes one RTM_NEWLINK payload (ifinfomsg + IFLA_* attributes). */
export function parseLink(data: Buffer): Link {
  const hdr = parseIfinfomsg(data)
  const a = attrMap(data.subarray(IFINFOMSG_LEN))
  const get = (t: number): Buffer | undefined => a.get(t)
  const operState = get(IFLA.OPERSTATE)?.[0] ?? 0
  const link: Link = {
    index: hdr.index,
    name: readCstring(get(IFLA.IFNAME) ?? Buffer.alloc(0)),
    up: (hdr.flags & IFF.UP) !== 0,
    operState: OPER_STATE[operState] ?? 'unknown',
    mtu: get(IFLA.MTU) ? readU32(get(IFLA.MTU)!) : 0,
    mac: formatMac(get(IFLA.ADDRESS) ?? Buffer.alloc(0)),
    promisc: (hdr.flags & IFF.PROMISC) !== 0,
    allmulti: (hdr.flags & IFF.ALLMULTI) !== 0,
  }
  const txq = get(IFLA.TXQLEN)
  if (txq) link.txQLen = readU32(txq)
  const master = get(IFLA.MASTER)
  if (master && readU32(master) !== 0) link.master = readU32(master)
  const peer = get(IFLA.LINK)
  if (peer && peer.length >= 4) link.peerIndex = readS32(peer)
  const nsid = get(IFLA.LINK_NETNSID)
  if (nsid && nsid.length >= 4) link.linkNetnsId = readS32(nsid)
  const info = get(IFLA.LINKINFO)
  if (info) parseLinkInfo(info, link)
  return link
}

function parseLinkInfo(info: Buffer, link: Link): void {
  const i = attrMap(info)
  const kind = i.get(IFLA_INFO.KIND)
  if (kind) link.kind = readCstring(kind)
  const data = i.get(IFLA_INFO.DATA)
  if (link.kind === 'bridge' && data) {
    const vf = attrMap(data).get(IFLA_BR.VLAN_FILTERING)
    link.vlanFiltering = vf ? readUint(vf) !== 0 : false
  }
  const slaveKind = i.get(IFLA_INFO.SLAVE_KIND)
  const slaveData = i.get(IFLA_INFO.SLAVE_DATA)
  if (slaveKind && readCstring(slaveKind) === 'bridge') {
    const p = slaveData ? attrMap(slaveData) : new Map<number, Buffer>()
    const state = p.get(IFLA_BRPORT.STATE)
    const port: BridgePortInfo = {
      hairpin: readUint(p.get(IFLA_BRPORT.MODE) ?? Buffer.alloc(0)) === 1,
      isolated: readUint(p.get(IFLA_BRPORT.ISOLATED) ?? Buffer.alloc(0)) !== 0,
    }
    if (state) port.state = PORT_STATES[readUint(state)]
    link.bridgePort = port
  }
}

function firstLink(msgs: { type: number; data: Buffer }[]): Link | undefined {
  const m = msgs.find((x) => x.type === RTM.NEWLINK)
  return m ? parseLink(m.data) : undefined
}

/** The link called `name`, or undefined if there is none (ENODEV). */
export function getLinkByName(s: NetlinkSocket, name: string): Link | undefined {
  try {
    const req = Buffer.concat([ifinfomsg(), attr(IFLA.IFNAME, cstring(name)), extMask()])
    return firstLink(s.request(RTM.GETLINK, req, 0, nameObj(name)))
  } catch (err) {
    if (NetlinkError.is(err, 'ENODEV')) return undefined
    throw err
  }
}

/** The link with ifindex `index`, or undefined if there is none (ENODEV). */
export function getLinkByIndex(s: NetlinkSocket, index: number): Link | undefined {
  try {
    const req = Buffer.concat([ifinfomsg({ index }), extMask()])
    return firstLink(s.request(RTM.GETLINK, req, 0, linkObj(index)))
  } catch (err) {
    if (NetlinkError.is(err, 'ENODEV')) return undefined
    throw err
  }
}

/** Every link in the socket's namespace, in ifindex order. */
export function listLinks(s: NetlinkSocket): Link[] {
  const msgs = s.dump(RTM.GETLINK, Buffer.concat([ifinfomsg(), extMask()]))
  return msgs.filter((m) => m.type === RTM.NEWLINK).map((m) => parseLink(m.data))
}

/** RTM_SETLINK on one ifindex: flag changes in the header, attributes after it. */
function setLink(
  s: NetlinkSocket,
  index: number,
  change: { flags?: number; mask?: number },
  attrs: Buffer[] = [],
): void {
  const hdr = ifinfomsg({ index, flags: change.flags ?? 0, change: change.mask ?? 0 })
  s.request(RTM.SETLINK, Buffer.concat([hdr, ...attrs]), 0, linkObj(index))
}

export function setLinkUp(s: NetlinkSocket, index: number): void {
  setLink(s, index, { flags: IFF.UP, mask: IFF.UP })
}

export function setLinkDown(s: NetlinkSocket, index: number): void {
  setLink(s, index, { flags: 0, mask: IFF.UP })
}

export function setPromisc(s: NetlinkSocket, index: number, on: boolean): void {
  setLink(s, index, { flags: on ? IFF.PROMISC : 0, mask: IFF.PROMISC })
}

export function setAllmulti(s: NetlinkSocket, index: number, on: boolean): void {
  setLink(s, index, { flags: on ? IFF.ALLMULTI : 0, mask: IFF.ALLMULTI })
}

export function setMtu(s: NetlinkSocket, index: number, mtu: number): void {
  setLink(s, index, {}, [attr(IFLA.MTU, u32(mtu))])
}

export function setMac(s: NetlinkSocket, index: number, mac: string): void {
  setLink(s, index, {}, [attr(IFLA.ADDRESS, parseMac(mac))])
}

export function setMaster(s: NetlinkSocket, index: number, masterIndex: number): void {
  setLink(s, index, {}, [attr(IFLA.MASTER, u32(masterIndex))])
}

export function setNoMaster(s: NetlinkSocket, index: number): void {
  setLink(s, index, {}, [attr(IFLA.MASTER, u32(0))])
}

export function setTxQLen(s: NetlinkSocket, index: number, qlen: number): void {
  setLink(s, index, {}, [attr(IFLA.TXQLEN, u32(qlen))])
}

/** Moves a link into the namespace behind `netnsFd` (it leaves this socket's view). */
export function setLinkNetns(s: NetlinkSocket, index: number, netnsFd: number): void {
  setLink(s, index, {}, [attr(IFLA.NET_NS_FD, u32(netnsFd))])
}

/** Deletes a link; for a veth this removes both ends. ENODEV when it is already gone. */
export function deleteLink(s: NetlinkSocket, index: number): void {
  s.request(RTM.DELLINK, ifinfomsg({ index }), 0, linkObj(index))
}

/** Creates a bridge (NLM_F_CREATE|NLM_F_EXCL: EEXIST when the name is taken). */
export function createBridge(s: NetlinkSocket, name: string, opts: CreateBridgeOptions = {}): void {
  const data: Buffer[] = []
  if (opts.vlanFiltering !== undefined) data.push(attr(IFLA_BR.VLAN_FILTERING, u8(opts.vlanFiltering ? 1 : 0)))
  const info = [attr(IFLA_INFO.KIND, cstring('bridge'))]
  if (data.length) info.push(attr(IFLA_INFO.DATA, data))
  const req = [ifinfomsg({ family: AF.UNSPEC }), attr(IFLA.IFNAME, cstring(name))]
  if (opts.mtu) req.push(attr(IFLA.MTU, u32(opts.mtu)))
  if (opts.txQLen !== undefined) req.push(attr(IFLA.TXQLEN, u32(opts.txQLen)))
  req.push(attr(IFLA.LINKINFO, info))
  s.request(RTM.NEWLINK, Buffer.concat(req), NLM_F.CREATE | NLM_F.EXCL, nameObj(name))
}

/**
 * Creates a veth pair in one request: `name` here, `peerName` here or, with peerNetnsFd, directly
 * in that namespace. VETH_INFO_PEER carries a whole struct ifinfomsg followed by the peer's IFLA_*
 * attributes. EEXIST when either name is taken (in its namespace).
 */
export function createVethPair(s: NetlinkSocket, o: CreateVethOptions): void {
  // Parse both MACs before sending anything, so a bad one fails with Go's message and no side effects.
  const mac = o.mac ? parseMac(o.mac) : undefined
  const peerMac = o.peerMac ? parseMac(o.peerMac) : undefined
  const peerMtu = o.peerMtu ?? o.mtu
  const peer = [ifinfomsg(), attr(IFLA.IFNAME, cstring(o.peerName))]
  if (peerMtu) peer.push(attr(IFLA.MTU, u32(peerMtu)))
  if (peerMac) peer.push(attr(IFLA.ADDRESS, peerMac))
  if (o.txQLen !== undefined) peer.push(attr(IFLA.TXQLEN, u32(o.txQLen)))
  if (o.peerNetnsFd !== undefined) peer.push(attr(IFLA.NET_NS_FD, u32(o.peerNetnsFd)))
  const info = [attr(IFLA_INFO.KIND, cstring('veth')), attr(IFLA_INFO.DATA, [attr(VETH_INFO_PEER, peer)])]
  const req = [ifinfomsg(), attr(IFLA.IFNAME, cstring(o.name))]
  if (o.mtu) req.push(attr(IFLA.MTU, u32(o.mtu)))
  if (mac) req.push(attr(IFLA.ADDRESS, mac))
  if (o.txQLen !== undefined) req.push(attr(IFLA.TXQLEN, u32(o.txQLen)))
  req.push(attr(IFLA.LINKINFO, info))
  const object = `${nameObj(o.name)} (peer ${nameObj(o.peerName)})`
  s.request(RTM.NEWLINK, Buffer.concat(req), NLM_F.CREATE | NLM_F.EXCL, object)
}
