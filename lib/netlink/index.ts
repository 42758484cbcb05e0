/**
 * lib/netlink: the project's one typed layer over rtnetlink. The only place that knows attribute
 * encodings; everything else talks in names, ifindexes, CIDR strings and MAC strings.
 */
export { Rtnl } from './rtnl'
export { NetlinkError, errnoName, errnoText } from './errors'
export type { Link, OperState, BridgePortInfo, BridgePortState, CreateBridgeOptions, CreateVethOptions } from './links'
export type { BridgePortOptions, BridgeVlan, BridgeVlanOptions } from './bridge'
export type { Addr, AddrFlags, AddAddrOptions, ListAddrsOptions } from './addrs'
export type { Route, RouteSpec, NextHop, ListRoutesOptions, AddRouteOptions } from './routes'
export type { ScopeName, ProtocolName, RouteTypeName } from './consts'
export {
  type Cidr,
  type IpFamily,
  bytesToIp,
  cidrContains,
  formatCidr,
  formatMac,
  ipFamily,
  ipToBytes,
  networkOf,
  normalizeIp,
  parseCidr,
  parseMac,
} from './encode'
export { Conntrack, type ConntrackFlow, IPPROTO } from './conntrack'
