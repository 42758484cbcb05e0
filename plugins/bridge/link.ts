/**
 * The bridge's link work, named for what each step makes true: ensureBridge, setupVeth,
 * ensureVlanInterface, ensureAddr, waitPortUp. Everything goes through rtnetlink sockets (lib/netlink);
 * error texts are the reference's.
 */
import { type Link, NetlinkError, type Rtnl } from '../../lib/netlink'
import { trySysctl } from '../../lib/ip/sysctl'
import { parsePrefix, prefixContains, prefixText } from '../../lib/ip/prefix'
import { errText } from '../../lib/ipam'
import type { Interface } from '../../lib/skel'
import { sleepSync } from '../../lib/util/sleep'
import { randomBytes } from '../../lib/native/hash'

/** `veth` + 8 hex digits of 4 random bytes, like the reference (NetworkManager ignores veth*). */
export function randomVethName(): string {
  return `veth${Buffer.from(randomBytes(4)).toString('hex')}`
}

/** A random locally administered unicast MAC. */
export function randomMac(): string {
  const b = randomBytes(6)
  b[0] = (b[0] & 0xfe) | 0x02
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')
}

function fail(msg: string): Error {
  return new Error(msg)
}

const q = (s: string): string => JSON.stringify(s)

/** The link called `name`, or undefined when there is none or the lookup fails. */
function lookupQuietly(rtnl: Rtnl, name: string): Link | undefined {
  try {
    return rtnl.getLinkByName(name)
  } catch {
    return undefined
  }
}

/** Best-effort removal during an undo: the error that made us undo is the one worth reporting. */
function deleteQuietly(rtnl: Rtnl, index: number): void {
  try {
    rtnl.deleteLink(index)
  } catch {
    // already gone, or not ours to report
  }
}

/** The bridge called `name`, checked to be one (`could not lookup` / `already exists but is not a bridge`). */
export function bridgeByName(host: Rtnl, name: string): Link {
  let link: Link | undefined
  try {
    link = host.getLinkByName(name)
  } catch (err) {
    throw fail(`could not lookup ${q(name)}: ${errText(err)}`)
  }
  if (!link) throw fail(`could not lookup ${q(name)}: Link not found`)
  if (link.kind !== 'bridge') throw fail(`${q(name)} already exists but is not a bridge`)
  return link
}

export interface EnsureBridgeOptions {
  name: string
  /** MTU of a bridge created now (an existing one keeps its own); 0 = kernel default. */
  mtu: number
  promisc: boolean
  /** VLAN filtering for a bridge created now. */
  vlanFiltering: boolean
}

/**
 * Creates the bridge or reuses the existing one, then: promiscuous mode if asked (never switched
 * off), accept_ra=0 (we own its routes), up. Returns the bridge as read before any port joins, whose
 * MAC ensureAddr later pins. Errors carry `failed to create bridge "<br>": `.
 */
export function ensureBridge(host: Rtnl, o: EnsureBridgeOptions): Link {
  try {
    // Usually the bridge is there already: one lookup instead of a create that answers EEXIST.
    if (!lookupQuietly(host, o.name)) {
      try {
        host.createBridge(o.name, { mtu: o.mtu || undefined, vlanFiltering: o.vlanFiltering ? true : undefined })
      } catch (err) {
        if (!NetlinkError.is(err, 'EEXIST')) throw fail(`could not add ${q(o.name)}: ${errText(err)}`)
      }
    }
    // Checked before touching it: a device of another kind keeps its flags.
    const br = bridgeByName(host, o.name)
    if (o.promisc && !br.promisc) {
      try {
        host.setPromisc(br.index, true)
      } catch (err) {
        throw fail(`could not set promiscuous mode on ${q(o.name)}: ${errText(err)}`)
      }
    }
    trySysctl(`net/ipv6/conf/${o.name}/accept_ra`, '0')
    if (!br.up) {
      try {
        host.setLinkUp(br.index)
      } catch (err) {
        throw fail(errText(err))
      }
    }
    return br
  } catch (err) {
    throw fail(`failed to create bridge ${q(o.name)}: ${(err as Error).message}`)
  }
}

export interface VethOptions {
  /** The end made in `creator`'s namespace (the container's CNI_IFNAME). */
  ifName: string
  mtu: number
  /** MAC of that end; the host end gets a kernel-random one. */
  mac?: string
  /** Goes into the result as the container interface's sandbox. */
  sandbox?: string
  bridge: Link
  hairpin: boolean
  isolated: boolean
  vlan: number
  vlans: readonly number[]
  preserveDefaultVlan: boolean
}

export interface VethPair {
  host: Interface
  container: Interface
  hostIndex: number
  containerIndex: number
}

/**
 * Creates the veth pair from the container side (one request; the peer `vethXXXXXXXX` is born in the
 * host namespace), brings the host end up with accept_ra=0 and makes it a bridge port with the
 * hairpin, isolation and VLAN settings. The container end stays down.
 *
 * `onCreated` is called as soon as the pair exists, before any later step can fail, so the caller
 * can register its removal.
 */
export function setupVeth(
  creator: Rtnl,
  host: Rtnl,
  hostNsFd: number,
  o: VethOptions,
  onCreated: (containerIndex: number) => void,
): VethPair {
  let peer = ''
  for (let attempt = 0; ; attempt++) {
    peer = randomVethName()
    try {
      creator.createVethPair({ name: o.ifName, peerName: peer, peerNetnsFd: hostNsFd, mtu: o.mtu || undefined, mac: o.mac, txQLen: 0 })
      break
    } catch (err) {
      if (err instanceof TypeError) throw fail(`failed to make veth pair: ${err.message}`)
      if (!NetlinkError.is(err, 'EEXIST')) throw fail(`failed to make veth pair: ${errText(err)}`)
      // The random name taken in the host: try another. Otherwise the container name is taken.
      if (attempt < 9 && (host.getLinkByName(peer))) continue
      // Debian's 1.1.1 words (HEAD names the peer too).
      throw fail(`container veth name provided (${o.ifName}) already exists`)
    }
  }
  const cont = creator.getLinkByName(o.ifName)
  if (!cont) {
    // Gone already (someone else removed it): take the host end down with it if it is there.
    const orphan = lookupQuietly(host, peer)
    if (orphan) deleteQuietly(host, orphan.index)
    throw fail(`failed to make veth pair: ${q(o.ifName)}: Link not found`)
  }
  onCreated(cont.index)

  const hostVeth = host.getLinkByName(peer)
  if (!hostVeth) throw fail(`failed to lookup ${q(peer)} in the host namespace: Link not found`)
  try {
    host.setLinkUp(hostVeth.index)
  } catch (err) {
    throw fail(`failed to set ${q(peer)} up: ${errText(err)}`)
  }
  trySysctl(`net/ipv6/conf/${peer}/accept_ra`, '0')

  try {
    host.setMaster(hostVeth.index, o.bridge.index)
  } catch (err) {
    throw fail(`failed to connect ${q(peer)} to bridge ${o.bridge.name}: ${errText(err)}`)
  }
  try {
    host.setBridgePortOptions(hostVeth.index, { hairpin: o.hairpin })
  } catch (err) {
    throw fail(`failed to setup hairpin mode for ${peer}: ${errText(err)}`)
  }
  try {
    host.setBridgePortOptions(hostVeth.index, { isolated: o.isolated })
  } catch (err) {
    throw fail(`failed to set isolated on for ${peer}: ${errText(err)}`)
  }
  programPortVlans(host, hostVeth.index, peer, o)

  const container: Interface = { name: cont.name, mac: cont.mac }
  if (o.sandbox !== undefined) container.sandbox = o.sandbox
  return { host: { name: peer, mac: hostVeth.mac }, container, hostIndex: hostVeth.index, containerIndex: cont.index }
}

/**
 * VLANs of a bridge port (the reference's rules): without preserveDefaultVlan, first remove what the
 * port has (the default VID 1); the access VLAN as PVID untagged; trunk VIDs tagged; a trunk without
 * an access VLAN gets VID 1 as its native VLAN.
 */
function programPortVlans(
  host: Rtnl,
  index: number,
  name: string,
  o: Pick<VethOptions, 'vlan' | 'vlans' | 'preserveDefaultVlan'>,
): void {
  if ((o.vlan !== 0 || o.vlans.length > 0) && !o.preserveDefaultVlan) {
    try {
      for (const v of host.getBridgeVlans(index)) host.deleteBridgeVlan(index, v.vid)
    } catch (err) {
      throw fail(`failed to remove default vlan on interface ${q(name)}: ${errText(err)}`)
    }
  }
  if (o.vlan !== 0) {
    try {
      host.addBridgeVlan(index, o.vlan, { pvid: true, untagged: true })
    } catch (err) {
      throw fail(`failed to setup vlan tag on interface ${q(name)}: ${errText(err)}`)
    }
  }
  for (const v of o.vlans) {
    try {
      host.addBridgeVlan(index, v)
    } catch (err) {
      throw fail(`failed to setup vlan tag on interface ${q(name)}: ${errText(err)}`)
    }
  }
  if (o.vlan === 0 && o.vlans.length > 0) {
    try {
      host.addBridgeVlan(index, 1, { pvid: true, untagged: true })
    } catch (err) {
      throw fail(`failed to setup default native vlan tag on interface ${q(name)}: ${errText(err)}`)
    }
  }
}

/**
 * The gateway interface of a VLAN, `<bridge>.<vlan>`: the host end of a veth pair made in the host
 * namespace whose other (random) end is a bridge port carrying that VLAN untagged. Made once, reused
 * by every later ADD.
 */
export function ensureVlanInterface(host: Rtnl, hostNsFd: number, br: Link, vlan: number, preserveDefaultVlan: boolean): Link {
  const name = `${br.name}.${vlan}`
  let link: Link | undefined
  try {
    link = host.getLinkByName(name)
  } catch (err) {
    throw fail(`failed to find interface ${q(name)}: ${errText(err)}`)
  }
  if (link) return link
  let pair: VethPair
  let made: number | undefined
  try {
    pair = setupVeth(
      host,
      host,
      hostNsFd,
      { ifName: name, mtu: br.mtu, bridge: br, hairpin: false, isolated: false, vlan, vlans: [], preserveDefaultVlan },
      (index) => {
        made = index
      },
    )
  } catch (err) {
    // A half-made gateway pair would be reused as it is by the next ADD: take it away (the reference
    // leaves it).
    if (made !== undefined) deleteQuietly(host, made)
    throw fail(`faild to create vlan gateway ${q(name)}: ${(err as Error).message}`)
  }
  link = host.getLinkByIndex(pair.containerIndex)
  if (!link) throw fail(`failed to lookup ${q(name)}: Link not found`)
  try {
    host.setLinkUp(link.index)
  } catch (err) {
    throw fail(`failed to up ${q(name)}: ${errText(err)}`)
  }
  return link
}

/**
 * Makes `cidr` (gateway/prefix) an address of `link`. An IPv4 bridge holds one address: any other
 * IPv4 one conflicts; IPv6 addresses conflict only when their prefixes overlap. A conflict is an error
 * unless `force`, which replaces it. Then pins the link's MAC to the one it had before ports joined
 * (otherwise a bridge takes its lowest port's MAC, which changes as containers come and go).
 *
 * A bridge that was never pinned and lost its last port has MAC 00:00:00:00:00:00 (kernel 6.x), which
 * cannot be set: the reference then fails every later ADD on that bridge. We pin a fresh random
 * locally administered MAC instead.
 */
export function ensureAddr(host: Rtnl, link: Link, cidr: string, force: boolean): void {
  const want = parsePrefix(cidr)
  const wantText = prefixText(want)
  const family = want.ip.family
  let addrs
  try {
    addrs = host.listAddrs({ index: link.index, family })
  } catch (err) {
    throw fail(`could not get list of IP addresses: ${errText(err)}`)
  }
  for (const a of addrs) {
    if (a.cidr === wantText) return
    const have = parsePrefix(a.cidr)
    if (family === 4 || prefixContains(have, want.ip) || prefixContains(want, have.ip)) {
      if (!force) throw fail(`${q(link.name)} already has an IP address different from ${wantText}`)
      try {
        host.delAddr(link.index, a.cidr)
      } catch (err) {
        throw fail(`could not remove IP address from ${q(link.name)}: ${errText(err)}`)
      }
    }
  }
  try {
    host.addAddr(link.index, wantText)
  } catch (err) {
    if (!NetlinkError.is(err, 'EEXIST')) throw fail(`could not add IP address ${wantText} to ${q(link.name)}: ${errText(err)}`)
  }
  const mac = /^(00:){5}00$/.test(link.mac) ? randomMac() : link.mac
  try {
    host.setMac(link.index, mac)
  } catch (err) {
    throw fail(`could not set bridge's mac: ${errText(err)}`)
  }
}


/**
 * Waits for the host end to be operationally up (the port forwarding). The reference looks at 0,
 * 50, 550, 1550 and 2550 ms; we look every 5 ms for the same 2.55 s: a veth's carrier arrives within
 * a few milliseconds, and the first look usually comes a hair too early.
 */
export function waitPortUp(host: Rtnl, name: string, totalMs = 2550, stepMs = 5): Link {
  const deadline = Date.now() + totalMs
  for (;;) {
    const link = host.getLinkByName(name)
    if (!link) throw fail(`Link not found`)
    if (link.operState === 'up') return link
    if (Date.now() >= deadline) throw fail(`bridge port in error state: ${link.operState}`)
    sleepSync(stepMs)
  }
}
