import type { Netns } from '../ns'
import * as addrs from './addrs'
import type { AddAddrOptions, Addr, ListAddrsOptions } from './addrs'
import * as bridge from './bridge'
import type { BridgePortOptions, BridgeVlan, BridgeVlanOptions } from './bridge'
import * as links from './links'
import type { CreateBridgeOptions, CreateVethOptions, Link } from './links'
import * as routes from './routes'
import type { AddRouteOptions, ListRoutesOptions, Route, RouteSpec } from './routes'
import { RtnlSocket } from './socket'

/**
 * An rtnetlink connection to one network namespace. Open it with `Rtnl.open(ns)` (the only
 * synchronous step inside the namespace), then await its methods freely; close it when done.
 * Every rejection by the kernel is a NetlinkError carrying the errno name.
 *
 * ```ts
 * const host = Rtnl.open(hostNs)
 * try {
 *   await host.createBridge('cni0', { mtu: 1500 })
 *   const br = await host.getLinkByName('cni0')
 * } finally {
 *   host.close()
 * }
 * ```
 */
export class Rtnl {
  private constructor(readonly socket: RtnlSocket) {}

  /** Opens a socket in `ns`, or in the namespace the calling thread is in. */
  static open(ns?: Netns): Rtnl {
    return new Rtnl(RtnlSocket.open(ns))
  }

  close(): void {
    this.socket.close()
  }

  // ---- links ----

  /** undefined when there is no such link. */
  getLinkByName(name: string): Promise<Link | undefined> {
    return links.getLinkByName(this.socket, name)
  }

  /** undefined when there is no such link. */
  getLinkByIndex(index: number): Promise<Link | undefined> {
    return links.getLinkByIndex(this.socket, index)
  }

  listLinks(): Promise<Link[]> {
    return links.listLinks(this.socket)
  }

  setLinkUp(index: number): Promise<void> {
    return links.setLinkUp(this.socket, index)
  }

  setLinkDown(index: number): Promise<void> {
    return links.setLinkDown(this.socket, index)
  }

  setMtu(index: number, mtu: number): Promise<void> {
    return links.setMtu(this.socket, index, mtu)
  }

  /** `mac` as 'aa:bb:cc:dd:ee:ff'; a malformed one throws Go's `address X: invalid MAC address`. */
  setMac(index: number, mac: string): Promise<void> {
    return links.setMac(this.socket, index, mac)
  }

  setMaster(index: number, masterIndex: number): Promise<void> {
    return links.setMaster(this.socket, index, masterIndex)
  }

  setNoMaster(index: number): Promise<void> {
    return links.setNoMaster(this.socket, index)
  }

  setPromisc(index: number, on: boolean): Promise<void> {
    return links.setPromisc(this.socket, index, on)
  }

  setTxQLen(index: number, qlen: number): Promise<void> {
    return links.setTxQLen(this.socket, index, qlen)
  }

  /** Moves the link into the namespace behind `netnsFd`. */
  setLinkNetns(index: number, netnsFd: number): Promise<void> {
    return links.setLinkNetns(this.socket, index, netnsFd)
  }

  /** ENODEV when the link is already gone. Deleting one veth end removes both. */
  deleteLink(index: number): Promise<void> {
    return links.deleteLink(this.socket, index)
  }

  /** EEXIST when a link with that name exists (whatever its kind). */
  createBridge(name: string, opts?: CreateBridgeOptions): Promise<void> {
    return links.createBridge(this.socket, name, opts)
  }

  /** One request creates both ends; the peer can go straight into another namespace. */
  createVethPair(opts: CreateVethOptions): Promise<void> {
    return links.createVethPair(this.socket, opts)
  }

  // ---- bridge ports ----

  /** Hairpin / isolated on a bridge port (read back through `Link.bridgePort`). */
  setBridgePortOptions(index: number, opts: BridgePortOptions): Promise<void> {
    return bridge.setBridgePortOptions(this.socket, index, opts)
  }

  addBridgeVlan(index: number, vid: number, opts?: BridgeVlanOptions): Promise<void> {
    return bridge.addBridgeVlan(this.socket, index, vid, opts)
  }

  deleteBridgeVlan(index: number, vid: number, opts?: Pick<BridgeVlanOptions, 'self'>): Promise<void> {
    return bridge.deleteBridgeVlan(this.socket, index, vid, opts)
  }

  /** VLANs of every bridge port, by port ifindex. */
  listBridgeVlans(): Promise<Map<number, BridgeVlan[]>> {
    return bridge.listBridgeVlans(this.socket)
  }

  getBridgeVlans(index: number): Promise<BridgeVlan[]> {
    return bridge.getBridgeVlans(this.socket, index)
  }

  // ---- addresses ----

  listAddrs(opts?: ListAddrsOptions): Promise<Addr[]> {
    return addrs.listAddrs(this.socket, opts)
  }

  /** EEXIST when the address is already on the link. */
  addAddr(index: number, cidr: string, opts?: AddAddrOptions): Promise<void> {
    return addrs.addAddr(this.socket, index, cidr, opts)
  }

  /** EADDRNOTAVAIL when the address is not on the link. */
  delAddr(index: number, cidr: string): Promise<void> {
    return addrs.delAddr(this.socket, index, cidr)
  }

  // ---- routes ----

  /** Main table of both families unless told otherwise. */
  listRoutes(opts?: ListRoutesOptions): Promise<Route[]> {
    return routes.listRoutes(this.socket, opts)
  }

  addRoute(route: RouteSpec, opts?: AddRouteOptions): Promise<void> {
    return routes.addRoute(this.socket, route, opts)
  }

  /** ESRCH (IPv4) or ENOENT (IPv6) when no route matches. */
  delRoute(route: RouteSpec): Promise<void> {
    return routes.delRoute(this.socket, route)
  }
}
