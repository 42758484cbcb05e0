/** Bridge ports: hairpin/isolated, and port VLANs (AF_BRIDGE RTM_SETLINK/DELLINK/GETLINK). */
import {
  AF,
  BRIDGE_FLAGS,
  BRIDGE_VLAN_INFO,
  IFLA,
  IFLA_BRIDGE,
  IFLA_BRPORT,
  RTEXT_FILTER,
  RTM,
} from './consts'
import { attr, readU16, u16, u32, u8, walkAttrs } from './encode'
import type { NetlinkSocket } from './socket'
import { IFINFOMSG_LEN, ifinfomsg, parseIfinfomsg } from './structs'

export interface BridgePortOptions {
  /** Hairpin mode (IFLA_BRPORT_MODE): frames may leave through the port they came in. */
  hairpin?: boolean
  /** Port isolation (IFLA_BRPORT_ISOLATED): no traffic to other isolated ports. */
  isolated?: boolean
}

/** One VLAN entry on a bridge port. */
export interface BridgeVlan {
  vid: number
  /** Untagged ingress frames get this VID. */
  pvid: boolean
  /** Egress frames leave untagged. */
  untagged: boolean
}

export interface BridgeVlanOptions {
  pvid?: boolean
  untagged?: boolean
  /**
   * Program the bridge's view of the port (BRIDGE_FLAGS_MASTER, the default, as the Go plugin does)
   * or the device itself (`self: true`).
   */
  self?: boolean
}

/**
 * Sets bridge port options on an enslaved link, like Go's LinkSetHairpin / LinkSetIsolated:
 * AF_BRIDGE RTM_SETLINK with IFLA_PROTINFO. The kernel reads IFLA_PROTINFO as IFLA_BRPORT_*
 * attributes only when NLA_F_NESTED is set (without it the payload is a bare port state), so the
 * flag is required here. EOPNOTSUPP when the link is not a bridge port.
 */
export function setBridgePortOptions(s: NetlinkSocket, index: number, o: BridgePortOptions): void {
  const opts: Buffer[] = []
  if (o.hairpin !== undefined) opts.push(attr(IFLA_BRPORT.MODE, u8(o.hairpin ? 1 : 0)))
  if (o.isolated !== undefined) opts.push(attr(IFLA_BRPORT.ISOLATED, u8(o.isolated ? 1 : 0)))
  if (!opts.length) return
  const req = Buffer.concat([ifinfomsg({ family: AF.BRIDGE, index }), attr(IFLA.PROTINFO, opts, true)])
  s.request(RTM.SETLINK, req, 0, `link ${index}`)
}

function vlanRequest(index: number, vid: number, o: BridgeVlanOptions): Buffer {
  let flags = 0
  if (o.pvid) flags |= BRIDGE_VLAN_INFO.PVID
  if (o.untagged) flags |= BRIDGE_VLAN_INFO.UNTAGGED
  const spec = [
    attr(IFLA_BRIDGE.FLAGS, u16(o.self ? BRIDGE_FLAGS.SELF : BRIDGE_FLAGS.MASTER)),
    attr(IFLA_BRIDGE.VLAN_INFO, Buffer.concat([u16(flags), u16(vid)])),
  ]
  return Buffer.concat([ifinfomsg({ family: AF.BRIDGE, index }), attr(IFLA.AF_SPEC, spec)])
}

/** Adds (or updates the flags of) VLAN `vid` on a bridge port, like Go's BridgeVlanAdd. */
export function addBridgeVlan(
  s: NetlinkSocket,
  index: number,
  vid: number,
  o: BridgeVlanOptions = {},
): void {
  s.request(RTM.SETLINK, vlanRequest(index, vid, o), 0, `link ${index} vid ${vid}`)
}

/** Removes VLAN `vid` from a bridge port, like Go's BridgeVlanDel. */
export function deleteBridgeVlan(
  s: NetlinkSocket,
  index: number,
  vid: number,
  o: Pick<BridgeVlanOptions, 'self'> = {},
): void {
  s.request(RTM.DELLINK, vlanRequest(index, vid, o), 0, `link ${index} vid ${vid}`)
}

/**
 * VLANs of every bridge port in the namespace, by port ifindex (AF_BRIDGE dump with
 * RTEXT_FILTER_BRVLAN: one IFLA_BRIDGE_VLAN_INFO per VID, repeated attributes).
 */
export function listBridgeVlans(s: NetlinkSocket): Map<number, BridgeVlan[]> {
  const req = Buffer.concat([ifinfomsg({ family: AF.BRIDGE }), attr(IFLA.EXT_MASK, u32(RTEXT_FILTER.BRVLAN))])
  const out = new Map<number, BridgeVlan[]>()
  for (const m of s.dump(RTM.GETLINK, req)) {
    if (m.type !== RTM.NEWLINK) continue
    const { index } = parseIfinfomsg(m.data)
    const vlans: BridgeVlan[] = []
    walkAttrs(m.data.subarray(IFINFOMSG_LEN), (type, data) => {
      if (type !== IFLA.AF_SPEC) return
      walkAttrs(data, (t, v) => {
        if (t !== IFLA_BRIDGE.VLAN_INFO || v.length < 4) return
        const flags = readU16(v, 0)
        vlans.push({
          vid: readU16(v, 2),
          pvid: (flags & BRIDGE_VLAN_INFO.PVID) !== 0,
          untagged: (flags & BRIDGE_VLAN_INFO.UNTAGGED) !== 0,
        })
      })
    })
    out.set(index, vlans)
  }
  return out
}

/** VLANs on one bridge port ([] when it has none or is not a port). */
export function getBridgeVlans(s: NetlinkSocket, index: number): BridgeVlan[] {
  return (listBridgeVlans(s)).get(index) ?? []
}
