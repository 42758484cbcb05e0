/** Interface addresses (RTM_*ADDR). */
import { AF, IFA, IFA_F, NLM_F, RT_SCOPE, RTM, type ScopeName, nameOf } from './consts'
import {
  type IpFamily,
  attr,
  attrMap,
  broadcastOf,
  bytesToIp,
  parseCidr,
  readCstring,
  readU32,
  u32,
} from './encode'
import type { NetlinkSocket } from './socket'
import { IFADDRMSG_LEN, ifaddrmsg, parseIfaddrmsg } from './structs'

/** IFA_F_* flags of an address, as booleans. */
export interface AddrFlags {
  secondary: boolean
  nodad: boolean
  optimistic: boolean
  dadfailed: boolean
  deprecated: boolean
  tentative: boolean
  permanent: boolean
  noprefixroute: boolean
}

export interface Addr {
  /** ifindex of the link holding the address. */
  index: number
  family: IpFamily
  /** The local address, canonical text ('10.1.0.2', 'fd00::2'). */
  address: string
  prefixLen: number
  /** `${address}/${prefixLen}` */
  cidr: string
  scope: ScopeName | number
  label?: string
  /** IPv4 broadcast address (IFA_BROADCAST), when set. */
  broadcast?: string
  /** Point-to-point peer (IFA_ADDRESS differing from IFA_LOCAL), when set. */
  peer?: string
  flags: AddrFlags
  /** The raw IFA_F_* bits. */
  rawFlags: number
}

export interface ListAddrsOptions {
  /** Only addresses on this ifindex. */
  index?: number
  family?: IpFamily
}

export interface AddAddrOptions {
  /** IFA_F_NODAD: skip duplicate address detection (IPv6). */
  noDad?: boolean
  /** IFA_F_NOPREFIXROUTE: do not add the prefix route. */
  noPrefixRoute?: boolean
  scope?: ScopeName
}

const familyAf = (f: IpFamily | undefined): number => (f === 4 ? AF.INET : f === 6 ? AF.INET6 : AF.UNSPEC)

function parseFlags(bits: number): AddrFlags {
  return {
    secondary: (bits & IFA_F.SECONDARY) !== 0,
    nodad: (bits & IFA_F.NODAD) !== 0,
    optimistic: (bits & IFA_F.OPTIMISTIC) !== 0,
    dadfailed: (bits & IFA_F.DADFAILED) !== 0,
    deprecated: (bits & IFA_F.DEPRECATED) !== 0,
    tentative: (bits & IFA_F.TENTATIVE) !== 0,
    permanent: (bits & IFA_F.PERMANENT) !== 0,
    noprefixroute: (bits & IFA_F.NOPREFIXROUTE) !== 0,
  }
}

/** Decodes one RTM_NEWADDR payload; undefined for families other than IPv4/IPv6. */
export function parseAddr(data: Buffer): Addr | undefined {
  const hdr = parseIfaddrmsg(data)
  if (hdr.family !== AF.INET && hdr.family !== AF.INET6) return undefined
  const a = attrMap(data.subarray(IFADDRMSG_LEN))
  const local = a.get(IFA.LOCAL)
  const address = a.get(IFA.ADDRESS)
  const main = local ?? address
  if (!main) return undefined
  const flagsAttr = a.get(IFA.FLAGS)
  const rawFlags = flagsAttr && flagsAttr.length >= 4 ? readU32(flagsAttr) : hdr.flags
  const ip = bytesToIp(main)
  const out: Addr = {
    index: hdr.index,
    family: hdr.family === AF.INET ? 4 : 6,
    address: ip,
    prefixLen: hdr.prefixLen,
    cidr: `${ip}/${hdr.prefixLen}`,
    scope: nameOf(RT_SCOPE, hdr.scope),
    flags: parseFlags(rawFlags),
    rawFlags,
  }
  const label = a.get(IFA.LABEL)
  if (label) out.label = readCstring(label)
  const brd = a.get(IFA.BROADCAST)
  if (brd) out.broadcast = bytesToIp(brd)
  if (local && address && !local.equals(address)) out.peer = bytesToIp(address)
  return out
}

/** Addresses in the socket's namespace, optionally of one link and/or one family. */
export function listAddrs(s: NetlinkSocket, opts: ListAddrsOptions = {}): Addr[] {
  const msgs = s.dump(RTM.GETADDR, ifaddrmsg({ family: familyAf(opts.family) }))
  const out: Addr[] = []
  for (const m of msgs) {
    if (m.type !== RTM.NEWADDR) continue
    const addr = parseAddr(m.data)
    if (!addr) continue
    if (opts.index !== undefined && addr.index !== opts.index) continue
    if (opts.family !== undefined && addr.family !== opts.family) continue
    out.push(addr)
  }
  return out
}

function addrRequest(index: number, cidr: string, opts: AddAddrOptions, forAdd: boolean): Buffer {
  const c = parseCidr(cidr)
  let flags = 0
  if (opts.noDad) flags |= IFA_F.NODAD
  if (opts.noPrefixRoute) flags |= IFA_F.NOPREFIXROUTE
  const parts = [
    ifaddrmsg({
      family: familyAf(c.family),
      prefixLen: c.prefixLen,
      flags: flags & 0xff,
      scope: opts.scope ? RT_SCOPE[opts.scope] : 0,
      index,
    }),
    attr(IFA.LOCAL, c.bytes),
    attr(IFA.ADDRESS, c.bytes),
  ]
  // Like Go's AddrAdd: an IPv4 address on a prefix shorter than /31 gets its broadcast address.
  if (forAdd && c.family === 4 && c.prefixLen < 31) parts.push(attr(IFA.BROADCAST, broadcastOf(c)))
  if (flags > 0xff) parts.push(attr(IFA.FLAGS, u32(flags)))
  return Buffer.concat(parts)
}

/**
 * Adds `cidr` ('10.1.0.2/24', 'fd00::2/64') to a link. NLM_F_CREATE|NLM_F_EXCL as in Go's AddrAdd:
 * EEXIST when the address is already there.
 */
export function addAddr(s: NetlinkSocket, index: number, cidr: string, opts: AddAddrOptions = {}): void {
  const req = addrRequest(index, cidr, opts, true)
  s.request(RTM.NEWADDR, req, NLM_F.CREATE | NLM_F.EXCL, `${cidr} on link ${index}`)
}

/** Removes `cidr` from a link. EADDRNOTAVAIL when it is not there. */
export function delAddr(s: NetlinkSocket, index: number, cidr: string): void {
  s.request(RTM.DELADDR, addrRequest(index, cidr, {}, false), 0, `${cidr} on link ${index}`)
}
