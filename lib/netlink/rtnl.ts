import type { Netns } from '../ns'
import * as addrs from './addrs'
import type { AddAddrOptions, Addr, ListAddrsOptions } from './addrs'
import * as bridge from './bridge'
import type { BridgePortOptions, BridgeVlan, BridgeVlanOptions } from './bridge'
import * as links from './links'
import type { CreateBridgeOptions, CreateVethOptions, Link } from './links'
import * as routes from './routes'
import type { AddRouteOptions, ListRoutesOptions, Route, RouteSpec } from './routes'
import { NetlinkSocket } from './socket'

/**
 * An rtnetlink connection to one network namespace. Open it with `Rtnl.open(ns)` (only the
 * socket() call happens inside the namespace; the socket stays bound to it), then call its methods:
 * each is synchronous and returns once the kernel has answered. Close it when done. Every
 * rejection by the kernel is a NetlinkError carrying the errno name.
 *
 * ```ts
 * const host = Rtnl.open(hostNs)
 * try {
 *   host.createBridge('cni0', { mtu: 1500 })
 *   const br = host.getLinkByName('cni0')
 * } finally {
 *   host.close()
 * }
 * ```
 */
export class Rtnl {
  private constructor(readonly socket: NetlinkSocket) {}

  /** Opens a socket in `ns`, or in the namespace the calling thread is in. */
  static open(ns?: Netns): Rtnl {
    return new Rtnl(NetlinkSocket.open(ns))
  }

  close(): void {
    this.socket.close()
  }

  // ---- links ----

  /** undefined when there is no such link. */
  getLinkByName(name: string): Link | undefined {
    return links.getLinkByName(this.socket, name)
  }

  /** undefined when there is no such link. */
  getLinkByIndex(index: number): Link | undefined {
    return links.getLinkByIndex(this.socket, index)
  }

  listLinks(): Link[] {
    return links.listLinks(this.socket)
  }

  setLinkUp(index: number): void {
    return links.setLinkUp(this.socket, index)
  }

  setLinkDown(index: number): void {
    return links.setLinkDown(this.socket, index)
  }

  setMtu(index: number, mtu: number): void {
    return links.setMtu(this.socket, index, mtu)
  }

  /** `mac` as 'aa:bb:cc:dd:ee:ff'; a malformed one throws Go's `address X: invalid MAC address`. */
  setMac(index: number, mac: string): void {
    return links.setMac(this.socket, index, mac)
  }

  setMaster(index: number, masterIndex: number): void {
    return links.setMaster(this.socket, index, masterIndex)
  }

  setNoMaster(index: number): void {
    return links.setNoMaster(this.socket, index)
  }

  setPromisc(index: number, on: boolean): void {
    return links.setPromisc(this.socket, index, on)
  }

  /** All-multicast mode (IFF_ALLMULTI), read back as `Link.allmulti`. */
  setAllmulti(index: number, on: boolean): void {
    return links.setAllmulti(this.socket, index, on)
  }

  setTxQLen(index: number, qlen: number): void {
    return links.setTxQLen(this.socket, index, qlen)
  }

  /** Moves the link into the namespace behind `netnsFd`. */
  setLinkNetns(index: number, netnsFd: number): void {
    return links.setLinkNetns(this.socket, index, netnsFd)
  }

  /** ENODEV when the link is already gone. Deleting one veth end removes both. */
  deleteLink(index: number): void {
    return links.deleteLink(this.socket, index)
  }

  /** EEXIST when a link with that name exists (whatever its kind). */
  createBridge(name: string, opts?: CreateBridgeOptions): void {
    return links.createBridge(this.socket, name, opts)
  }

  /** One request creates both ends; the peer can go straight into another namespace. */
  createVethPair(opts: CreateVethOptions): void {
    return links.createVethPair(this.socket, opts)
  }

  // ---- bridge ports ----

  /** Hairpin / isolated on a bridge port (read back through `Link.bridgePort`). */
  setBridgePortOptions(index: number, opts: BridgePortOptions): void {
    return bridge.setBridgePortOptions(this.socket, index, opts)
  }

  addBridgeVlan(index: number, vid: number, opts?: BridgeVlanOptions): void {
    return bridge.addBridgeVlan(this.socket, index, vid, opts)
  }

  deleteBridgeVlan(index: number, vid: number, opts?: Pick<BridgeVlanOptions, 'self'>): void {
    return bridge.deleteBridgeVlan(this.socket, index, vid, opts)
  }

  /** VLANs of every bridge port, by port ifindex. */
  listBridgeVlans(): Map<number, BridgeVlan[]> {
    return bridge.listBridgeVlans(this.socket)
  }

  getBridgeVlans(index: number): BridgeVlan[] {
    return bridge.getBridgeVlans(this.socket, index)
  }

  // ---- addresses ----

  listAddrs(opts?: ListAddrsOptions): Addr[] {
    return addrs.listAddrs(this.socket, opts)
  }

  /** EEXIST when the address is already on the link. */
  addAddr(index: number, cidr: string, opts?: AddAddrOptions): void {
    return addrs.addAddr(this.socket, index, cidr, opts)
  }

  /** EADDRNOTAVAIL when the address is not on the link. */
  delAddr(index: number, cidr: string): void {
    return addrs.delAddr(this.socket, index, cidr)
  }

  // ---- routes ----

  /** Main table of both families unless told otherwise. */
  /** The route to `ip` the kernel would pick (`ip route get`); undefined when unreachable. */
  routeTo(ip: string): Route | undefined {
    return routes.routeTo(this.socket, ip)
  }

  listRoutes(opts?: ListRoutesOptions): Route[] {
    return routes.listRoutes(this.socket, opts)
  }

  addRoute(route: RouteSpec, opts?: AddRouteOptions): void {
    return routes.addRoute(this.socket, route, opts)
  }

  /** ESRCH (IPv4) or ENOENT (IPv6) when no route matches. */
  delRoute(route: RouteSpec): void {
    return routes.delRoute(this.socket, route)
  }
}
