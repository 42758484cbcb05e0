/**
 * Applying an IPAM result to an interface (the reference's ipam.ConfigureIface, shared by every
 * plugin that puts addresses on a container interface): addresses, link up, IPv6 DAD settle, routes.
 */
import { type Link, NetlinkError, type Rtnl, type ScopeName } from '../netlink'
import type { Netns } from '../ns'
import { readSysctl, writeSysctl } from '../ip/sysctl'
import { parseIP } from '../ip/address'
import { maskHex, networkIP, parsePrefix } from '../ip/prefix'
import type { IPConfig, Result, Route } from '../skel/result'
import { writeAllSync } from '../skel/stdio'
import { sleepSync } from '../util/sleep'

/** How long IPv6 addresses may stay tentative (DAD) before ADD fails, and how often to look (the
 * reference looks every 50 ms; a look is one cheap dump, and DAD usually ends between two of them). */
export const DAD_SETTLE_TIMEOUT_MS = 5000
export const DAD_SETTLE_INTERVAL_MS = 10

const SCOPE_NAMES: Record<number, ScopeName> = { 0: 'universe', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' }

/** The text Go's errors carry: the errno text for kernel errors, the message otherwise. */
export function errText(err: unknown): string {
  if (err instanceof NetlinkError) return err.reason
  return err instanceof Error ? err.message : String(err)
}


/** `{Interface:2 Address:{IP:10.1.2.3 Mask:ffffff00} Gateway:10.1.2.1}`: Go's %+v of an IPConfig. */
export function describeIPConfig(ipc: IPConfig): string {
  const p = parsePrefix(ipc.address)
  const iface = ipc.interface === undefined ? '<nil>' : String(ipc.interface)
  return `{Interface:${iface} Address:{IP:${p.ip} Mask:${maskHex(p.ip.family, p.prefix)}} Gateway:${ipc.gateway ?? '<nil>'}}`
}

/**
 * Marks a default route that the bridge made itself for isDefaultGateway. The reference builds its
 * destination from net.IPv4zero (a 16-byte IPv4-in-IPv6 value), so Go prints it differently from a
 * parsed 0.0.0.0/0; the mark lets an error name it exactly as the reference does. A symbol key:
 * never printed in a result.
 */
export const ZERO_DEFAULT_ROUTE = Symbol('default route built from net.IPv4zero/IPv6zero')

/** Go's %v of a route's destination (a net.IPNet value): `{10.1.0.0 ffff0000}`. */
function goIPNet(r: Route): string {
  const p = parsePrefix(r.dst)
  if ((r as { [ZERO_DEFAULT_ROUTE]?: boolean })[ZERO_DEFAULT_ROUTE]) {
    return p.ip.family === 4 ? '{0.0.0.0 00000000000000000000ffff00000000}' : `{:: ${'0'.repeat(32)}}`
  }
  return `{${networkIP(p)} ${maskHex(p.ip.family, p.prefix)}}`
}

/**
 * Puts `result`'s addresses for `ifName` on that interface inside `netns` (reached through `rtnl`, a
 * socket opened in it), sets it up, waits for IPv6 DAD when there is an IPv6 gateway, and adds the
 * routes (a route without gw goes via the first gateway of its family).
 */
export function configureIface(netns: Netns, rtnl: Rtnl, ifName: string, result: Result): void {
  const interfaces = result.interfaces ?? []
  if (interfaces.length === 0) throw new Error('no interfaces to configure')
  let link: Link | undefined
  try {
    link = rtnl.getLinkByName(ifName)
  } catch (err) {
    throw new Error(`failed to lookup ${JSON.stringify(ifName)}: ${errText(err)}`)
  }
  if (!link) throw new Error(`failed to lookup ${JSON.stringify(ifName)}: Link not found`)

  let v4gw: string | undefined
  let v6gw: string | undefined
  let ipv6Enabled = false
  for (const ipc of result.ips ?? []) {
    if (ipc.interface === undefined) continue
    const idx = ipc.interface
    if (idx < 0 || idx >= interfaces.length || interfaces[idx].name !== ifName) {
      throw new Error(`failed to add IP addr ${describeIPConfig(ipc)} to ${JSON.stringify(ifName)}: invalid interface index`)
    }
    const family = parsePrefix(ipc.address).ip.family
    if (family === 6 && !ipv6Enabled) {
      netns.runSync(() => enableIPv6(ifName))
      ipv6Enabled = true
    }
    try {
      rtnl.addAddr(link.index, ipc.address)
    } catch (err) {
      throw new Error(`failed to add IP addr ${describeIPConfig(ipc)} to ${JSON.stringify(ifName)}: ${errText(err)}`)
    }
    // The first gateway of each family is the default next hop of that family's gw-less routes.
    const gw = ipc.gateway === undefined ? null : parseIP(ipc.gateway)
    if (gw?.family === 4) v4gw ??= ipc.gateway
    else if (gw?.family === 6) v6gw ??= ipc.gateway
  }

  try {
    rtnl.setLinkUp(link.index)
  } catch (err) {
    throw new Error(`failed to set ${JSON.stringify(ifName)} UP: ${errText(err)}`)
  }

  if (v6gw) {
    try {
      settleAddresses(rtnl, ifName, DAD_SETTLE_TIMEOUT_MS)
    } catch (err) {
      throw new Error(`failed to settle addresses for ${JSON.stringify(ifName)}: ${errText(err)}`)
    }
  }

  for (const r of result.routes ?? []) {
    const family = parsePrefix(r.dst).ip.family
    const gw = r.gw ?? (family === 4 ? v4gw : v6gw)
    const scope = r.scope === undefined ? 'universe' : SCOPE_NAMES[r.scope]
    // Debian's words (HEAD adds metric, scope and table; Debian's routes have none of them).
    const describe = `'${goIPNet(r)} via ${gw ?? '<nil>'} dev ${ifName}'`
    if (!scope) throw new Error(`failed to add route ${describe}: unknown route scope ${r.scope}`)
    try {
      rtnl.addRoute(
        {
          dst: r.dst,
          gw,
          index: link.index,
          priority: r.priority || undefined,
          table: r.table || undefined,
          scope,
          mtu: r.mtu || undefined,
          advmss: r.advmss || undefined,
        },
        { exclusive: false },
      )
    } catch (err) {
      throw new Error(`failed to add route ${describe}: ${errText(err)}`)
    }
  }
}

/**
 * Before the first IPv6 address: IPv6 on for `lo` and the interface, and keep_addr_on_down so the
 * addresses survive a link down. Runs inside the namespace window (synchronous only).
 */
function enableIPv6(ifName: string): void {
  for (const iface of ['lo', ifName]) {
    const name = `net/ipv6/conf/${iface}/disable_ipv6`
    let value: string
    try {
      value = readSysctl(name)
    } catch (err) {
      writeAllSync(2, `ipam_linux: failed to read sysctl ${JSON.stringify(name)}: ${(err as Error).message}\n`)
      continue
    }
    if (value === '0') continue
    try {
      writeSysctl(name, '0')
    } catch (err) {
      throw new Error(`failed to enable IPv6 for interface ${JSON.stringify(iface)} (${name}=${value}): ${(err as Error).message}`)
    }
  }
  try {
    writeSysctl(`net/ipv6/conf/${ifName}/keep_addr_on_down`, '1')
  } catch (err) {
    throw new Error(`failed to enable keep_addr_on_down for interface ${JSON.stringify(ifName)}: ${(err as Error).message}`)
  }
}

/**
 * Waits until no IPv6 address of `ifName` is tentative. DADFAILED is an error at once; still
 * tentative at the deadline is an error only while the link is operationally up (a link without
 * carrier never finishes DAD, and that is not this plugin's failure).
 */
export function settleAddresses(rtnl: Rtnl, ifName: string, timeoutMs: number): void {
  const link = rtnl.getLinkByName(ifName)
  if (!link) throw new Error('failed to retrieve link: Link not found')
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const addrs = rtnl.listAddrs({ index: link.index, family: 6 })
    const failed = addrs.find((a) => a.flags.dadfailed)
    if (failed) throw new Error(`link ${ifName} has address ${failed.address} in DADFAILED state`)
    if (!addrs.some((a) => a.flags.tentative)) return
    if (Date.now() > deadline) {
      const now = rtnl.getLinkByName(ifName)
      if (now?.operState === 'up') {
        throw new Error(`link ${ifName} still has tentative addresses after ${Math.round(timeoutMs / 1000)} seconds`)
      }
      return
    }
    sleepSync(DAD_SETTLE_INTERVAL_MS)
  }
}
