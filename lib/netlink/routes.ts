/** Routes (RTM_*ROUTE). */
import {
  AF,
  NLM_F,
  type ProtocolName,
  RT_SCOPE,
  RT_TABLE,
  RTA,
  RTAX,
  RTM,
  RTM_F_CLONED,
  RTN,
  RTPROT,
  type RouteTypeName,
  type ScopeName,
  nameOf,
} from './consts'
import {
  type IpFamily,
  attr,
  attrMap,
  bytesToIp,
  ipFamily,
  ipToBytes,
  networkOf,
  parseCidr,
  readS32,
  readU16,
  readU32,
  u32,
  walkAttrs,
} from './encode'
import type { NetlinkSocket } from './socket'
import { RTMSG_LEN, parseRtmsg, rtmsg } from './structs'

/** One next hop of a multipath (ECMP) route. */
export interface NextHop {
  index: number
  gw?: string
  /** rtnh_hops + 1 */
  weight: number
}

export interface Route {
  family: IpFamily
  /** Destination prefix, network form; '0.0.0.0/0' or '::/0' for a default route. */
  dst: string
  gw?: string
  /** Output ifindex (RTA_OIF). */
  index?: number
  table: number
  scope: ScopeName | number
  protocol: ProtocolName | number
  type: RouteTypeName | number
  /** Metric (RTA_PRIORITY). */
  priority?: number
  /** Preferred source (RTA_PREFSRC). */
  src?: string
  mtu?: number
  advmss?: number
  /** Next hops of a multipath route (then gw and index are absent). */
  multipath?: NextHop[]
}

/** What addRoute / delRoute take. */
export interface RouteSpec {
  /** Destination as 'ip/len' (host bits are cleared); '0.0.0.0/0' or '::/0' for a default route. */
  dst: string
  gw?: string
  index?: number
  /** Default: main (254). */
  table?: number
  /** Default for add: 'universe' (as Go's RouteAdd; pass 'link' for an on-link route). Delete matches any scope. */
  scope?: ScopeName
  priority?: number
  /** Default for add: 'boot' (as Go). Delete matches any protocol. */
  protocol?: ProtocolName
  /** Default 'unicast'. */
  type?: RouteTypeName
  src?: string
  mtu?: number
  advmss?: number
}

export interface ListRoutesOptions {
  family?: IpFamily
  /** Routing table; default main (254), 0 for all tables. */
  table?: number
  /** Only routes leaving through this ifindex (directly or as one of the next hops). */
  index?: number
}

export interface AddRouteOptions {
  /**
   * true (default): NLM_F_CREATE|NLM_F_EXCL, EEXIST when a route with the same key exists.
   * false: NLM_F_CREATE only, like Go's RouteAddEcmp (an IPv6 route to the same destination
   * and metric becomes another next hop; an identical route still gives EEXIST).
   */
  exclusive?: boolean
}

function parseNextHops(b: Buffer): NextHop[] {
  const hops: NextHop[] = []
  let off = 0
  while (off + 8 <= b.length) {
    const len = readU16(b, off)
    if (len < 8 || off + len > b.length) break
    const hop: NextHop = { index: readS32(b, off + 4), weight: b[off + 3] + 1 }
    const gw = attrMap(b.subarray(off + 8, off + len)).get(RTA.GATEWAY)
    if (gw) hop.gw = bytesToIp(gw)
    hops.push(hop)
    off += (len + 3) & ~3
  }
  return hops
}

/** Decodes one RTM_NEWROUTE payload; undefined for families other than IPv4/IPv6. */
export function parseRoute(data: Buffer): Route | undefined {
  const hdr = parseRtmsg(data)
  if (hdr.family !== AF.INET && hdr.family !== AF.INET6) return undefined
  const family: IpFamily = hdr.family === AF.INET ? 4 : 6
  const a = attrMap(data.subarray(RTMSG_LEN))
  const dstBytes = a.get(RTA.DST) ?? Buffer.alloc(family === 4 ? 4 : 16)
  const tableAttr = a.get(RTA.TABLE)
  const route: Route = {
    family,
    dst: `${bytesToIp(dstBytes)}/${hdr.dstLen}`,
    table: tableAttr ? readU32(tableAttr) : hdr.table,
    scope: nameOf(RT_SCOPE, hdr.scope),
    protocol: nameOf(RTPROT, hdr.protocol),
    type: nameOf(RTN, hdr.type),
  }
  const gw = a.get(RTA.GATEWAY)
  if (gw) route.gw = bytesToIp(gw)
  const oif = a.get(RTA.OIF)
  if (oif) route.index = readU32(oif)
  const prio = a.get(RTA.PRIORITY)
  if (prio) route.priority = readU32(prio)
  const src = a.get(RTA.PREFSRC)
  if (src) route.src = bytesToIp(src)
  const metrics = a.get(RTA.METRICS)
  if (metrics) {
    walkAttrs(metrics, (type, v) => {
      if (v.length < 4) return
      if (type === RTAX.MTU) route.mtu = readU32(v)
      if (type === RTAX.ADVMSS) route.advmss = readU32(v)
    })
  }
  const mp = a.get(RTA.MULTIPATH)
  if (mp) route.multipath = parseNextHops(mp)
  return route
}

/** Text used in error messages: '10.1.0.0/16 via 10.1.0.1 link 3'. */
export function describeRoute(r: RouteSpec): string {
  return `${r.dst}${r.gw ? ` via ${r.gw}` : ''}${r.index !== undefined ? ` link ${r.index}` : ''}`
}

/** Routes in the socket's namespace; by default the main table of both families. Cached clones are skipped. */
export function listRoutes(s: NetlinkSocket, opts: ListRoutesOptions = {}): Route[] {
  const af = opts.family === 4 ? AF.INET : opts.family === 6 ? AF.INET6 : AF.UNSPEC
  const table = opts.table ?? RT_TABLE.MAIN
  const msgs = s.dump(RTM.GETROUTE, rtmsg({ family: af }))
  const out: Route[] = []
  for (const m of msgs) {
    if (m.type !== RTM.NEWROUTE) continue
    if (m.data.length >= RTMSG_LEN && readU32(m.data, 8) & RTM_F_CLONED) continue
    const r = parseRoute(m.data)
    if (!r) continue
    if (opts.family !== undefined && r.family !== opts.family) continue
    if (table !== 0 && r.table !== table) continue
    if (opts.index !== undefined && r.index !== opts.index && !r.multipath?.some((h) => h.index === opts.index)) {
      continue
    }
    out.push(r)
  }
  return out
}

function routeRequest(r: RouteSpec, forAdd: boolean): Buffer {
  const dst = networkOf(parseCidr(r.dst))
  if (r.gw !== undefined && ipFamily(r.gw) !== dst.family) {
    throw new TypeError(`route ${describeRoute(r)}: gateway and destination families differ`)
  }
  if (r.src !== undefined && ipFamily(r.src) !== dst.family) {
    throw new TypeError(`route ${describeRoute(r)}: source and destination families differ`)
  }
  const table = r.table ?? RT_TABLE.MAIN
  const hdr = rtmsg({
    family: dst.family === 4 ? AF.INET : AF.INET6,
    dstLen: dst.prefixLen,
    table: table < 256 ? table : RT_TABLE.UNSPEC,
    // Deleting: protocol 0 and scope NOWHERE match any route, as `ip route del` and Go's RouteDel do.
    protocol: r.protocol ? RTPROT[r.protocol] : forAdd ? RTPROT.boot : 0,
    scope: r.scope ? RT_SCOPE[r.scope] : forAdd ? RT_SCOPE.universe : RT_SCOPE.nowhere,
    type: r.type ? RTN[r.type] : forAdd ? RTN.unicast : 0,
  })
  const parts = [hdr, attr(RTA.TABLE, u32(table))]
  if (dst.prefixLen > 0) parts.push(attr(RTA.DST, dst.bytes))
  if (r.gw !== undefined) parts.push(attr(RTA.GATEWAY, ipToBytes(r.gw)))
  if (r.index !== undefined) parts.push(attr(RTA.OIF, u32(r.index)))
  if (r.priority !== undefined) parts.push(attr(RTA.PRIORITY, u32(r.priority)))
  if (r.src !== undefined) parts.push(attr(RTA.PREFSRC, ipToBytes(r.src)))
  const metrics: Buffer[] = []
  if (r.mtu) metrics.push(attr(RTAX.MTU, u32(r.mtu)))
  if (r.advmss) metrics.push(attr(RTAX.ADVMSS, u32(r.advmss)))
  if (metrics.length) parts.push(attr(RTA.METRICS, metrics))
  return Buffer.concat(parts)
}

/** Adds a route. See AddRouteOptions for EEXIST semantics. */
export function addRoute(s: NetlinkSocket, r: RouteSpec, opts: AddRouteOptions = {}): void {
  const flags = NLM_F.CREATE | (opts.exclusive === false ? 0 : NLM_F.EXCL)
  s.request(RTM.NEWROUTE, routeRequest(r, true), flags, describeRoute(r))
}

/** Deletes the route matching `r` (unset fields match anything). ESRCH (IPv4) or ENOENT (IPv6) when there is none. */
export function delRoute(s: NetlinkSocket, r: RouteSpec): void {
  s.request(RTM.DELROUTE, routeRequest(r, false), 0, describeRoute(r))
}

/**
 * The route the kernel would use to reach `ip` (RTM_GETROUTE for one destination, `ip route get`);
 * undefined when it has none (ENETUNREACH and friends).
 */
export function routeTo(s: NetlinkSocket, ip: string): Route | undefined {
  const family = ipFamily(ip)
  if (family === 0) throw new TypeError(`invalid IP address: ${ip}`)
  const hdr = rtmsg({ family: family === 4 ? AF.INET : AF.INET6, dstLen: family === 4 ? 32 : 128 })
  try {
    const msgs = s.request(RTM.GETROUTE, Buffer.concat([hdr, attr(RTA.DST, ipToBytes(ip))]), 0, ip)
    const m = msgs.find((x) => x.type === RTM.NEWROUTE)
    return m ? parseRoute(m.data) : undefined
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'ESRCH') return undefined
    throw err
  }
}
