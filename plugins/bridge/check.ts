/**
 * CHECK: compares an attachment with the prevResult of its ADD (the reference's cmdCheck, messages
 * included): the bridge, the container veth and its host peer on the bridge, then the container's
 * addresses and routes.
 */
import { type Link, Rtnl } from '../../lib/netlink'
import type { Netns } from '../../lib/ns'
import { parseIP } from '../../lib/ip/address'
import { maskHex, networkText, parsePrefix } from '../../lib/ip/prefix'
import { type CmdArgs, type IPConfig, type Interface, type Result, type Route, parsePrevResult } from '../../lib/skel'
import type { BridgeNetConf } from './config'

interface FoundIf {
  found: boolean
  name: string
  index: number
  peerIndex: number
  masterIndex: number
}

const notFound = (): FoundIf => ({ found: false, name: '', index: 0, peerIndex: 0, masterIndex: 0 })

/** Looks the interface up by name and checks whether it should have a sandbox. */
function lookup(rtnl: Rtnl, intf: Interface, expectInSandbox: boolean): Link {
  if (!intf.name) throw new Error('Interface name missing ')
  let link: Link | undefined
  try {
    link = rtnl.getLinkByName(intf.name)
  } catch {
    link = undefined
  }
  if (!link) throw new Error(`Interface name ${intf.name} not found`)
  if (expectInSandbox && !intf.sandbox) throw new Error(`Interface ${intf.name} is expected to be in a sandbox`)
  if (!expectInSandbox && intf.sandbox) throw new Error(`Interface ${intf.name} should not be in sandbox`)
  return link
}

function checkBridge(host: Rtnl, intf: Interface, n: BridgeNetConf): FoundIf {
  const link = lookup(host, intf, false)
  if (link.kind !== 'bridge') throw new Error(`Interface ${intf.name} does not have link type of bridge`)
  if (intf.mac && intf.mac !== link.mac) throw new Error(`Bridge interface ${intf.name} Mac doesn't match: ${intf.mac}`)
  if (link.promisc !== n.promiscMode) {
    throw new Error(`Bridge interface ${intf.name} configured Promisc Mode ${n.promiscMode} doesn't match current state: ${link.promisc} `)
  }
  return { found: true, name: link.name, index: link.index, peerIndex: 0, masterIndex: link.master ?? 0 }
}

function peerOf(link: Link): number {
  if (!link.peerIndex || link.peerIndex <= 0) throw new Error(`Unable to obtain veth peer index for veth ${link.name}`)
  return link.peerIndex
}

function checkContainerIf(ctr: Rtnl, intf: Interface): FoundIf {
  const link = lookup(ctr, intf, true)
  if (link.kind !== 'veth') throw new Error(`Error: Container interface ${link.name} not of type veth`)
  const peerIndex = peerOf(link)
  if (intf.mac && intf.mac !== link.mac) {
    throw new Error(`Interface ${intf.name} Mac ${intf.mac} doesn't match container Mac: ${link.mac}`)
  }
  return { found: true, name: link.name, index: link.index, peerIndex, masterIndex: 0 }
}

/** The host end: a veth whose peer is the container interface and whose master is the bridge. */
function checkHostVeth(host: Rtnl, intf: Interface, br: FoundIf, cont: FoundIf): FoundIf {
  const link = lookup(host, intf, false)
  if (link.kind !== 'veth') return notFound() // not something CNI made: skip it
  const peerIndex = peerOf(link)
  if (link.index !== cont.peerIndex || cont.index !== peerIndex || (link.master ?? 0) !== br.index) return notFound()
  if (intf.mac && intf.mac !== link.mac) throw new Error(`Interface ${intf.name} Mac doesn't match: ${intf.mac} not found`)
  return { found: true, name: link.name, index: link.index, peerIndex, masterIndex: link.master ?? 0 }
}

/** Go's %+v of a types.Route, for the "not found" message. */
function describeRoute(r: Route): string {
  const p = parsePrefix(r.dst)
  const opt = (v: number | undefined): string => (v === undefined ? '<nil>' : String(v))
  return (
    `{Dst:{IP:${p.ip} Mask:${maskHex(p.ip.family, p.prefix)}} GW:${r.gw ?? '<nil>'} MTU:${r.mtu ?? 0} ` +
    `AdvMSS:${r.advmss ?? 0} Priority:${r.priority ?? 0} Table:${opt(r.table)} Scope:${opt(r.scope)}}`
  )
}

/** Every IP is on the interface, with a route to its subnet (ValidateExpectedInterfaceIPs). */
function checkIPs(ctr: Rtnl, ifName: string, ips: readonly IPConfig[]): void {
  for (const ipc of ips) {
    const want = parsePrefix(ipc.address)
    const link = ctr.getLinkByName(ifName)
    if (!link) throw new Error(`Cannot find container link ${ifName}`)
    const addrs = ctr.listAddrs({ index: link.index })
    const match = addrs.some((a) => a.prefixLen === want.prefix && parseIP(a.address)?.equals(want.ip))
    if (!match) throw new Error(`Failed to match addr ${want.ip}/${want.prefix} on interface ${ifName}`)
    const subnet = networkText(want)
    const routes = ctr.listRoutes({ family: want.ip.family })
    if (!routes.some((r) => r.dst === subnet)) throw new Error(`Failed to find Gateway ${ipc.gateway ?? '<nil>'} for interface ${ifName}`)
  }
}

/**
 * Every route is in its table (main unless the route names one, as ADD put it there); a default
 * route matches on its destination only.
 */
function checkRoutes(ctr: Rtnl, routes: readonly Route[]): void {
  for (const r of routes) {
    const p = parsePrefix(r.dst)
    const isDefault = p.prefix === 0 && p.ip.value === 0n
    const dst = `${p.ip}/${p.prefix}`
    const gw = r.gw ? parseIP(r.gw) : null
    const table = ctr.listRoutes({ family: p.ip.family, table: r.table || undefined })
    const found = table.some((k) => {
      if (isDefault) return k.dst === dst
      if (k.dst !== dst) return false
      return !gw || (k.gw !== undefined && !!parseIP(k.gw)?.equals(gw))
    })
    if (!found) throw new Error(`Expected Route ${describeRoute(r)} not found in routing table`)
  }
}

export function checkAttachment(args: CmdArgs, n: BridgeNetConf, netns: Netns): void {
  if (n.prevResult === undefined) throw new Error('Required prevResult missing')
  const result: Result = parsePrevResult(n.prevResult, args.cniVersion)
  const interfaces = result.interfaces ?? []
  let brMap: Interface = { name: '' }
  let contMap: Interface = { name: '' }
  for (const intf of interfaces) {
    if (intf.name === n.bridge) brMap = intf
    else if (intf.name === args.ifName && intf.sandbox === args.netns) contMap = intf
  }

  const host = Rtnl.open()
  const ctr = Rtnl.open(netns)
  try {
    const br = checkBridge(host, brMap, n)
    if (args.netns !== (contMap.sandbox ?? '')) {
      throw new Error(`Sandbox in prevResult ${contMap.sandbox ?? ''} doesn't match configured netns: ${args.netns}`)
    }
    const cont = checkContainerIf(ctr, contMap)
    let veth = notFound()
    for (const intf of interfaces) {
      if (intf.name === brMap.name || intf.name === contMap.name) continue
      veth = checkHostVeth(host, intf, br, cont)
      if (veth.found) break
    }
    if (!br.found) throw new Error(`CNI created bridge ${n.bridge} in host namespace was not found`)
    if (!cont.found) throw new Error(`CNI created interface in container ${args.ifName} not found`)
    if (!veth.found) throw new Error(`CNI veth created for bridge ${n.bridge} was not found`)

    checkIPs(ctr, args.ifName, result.ips ?? [])
    checkRoutes(ctr, result.routes ?? [])
  } finally {
    ctr.close()
    host.close()
  }
}
