/**
 * The range part of an IPAM config shared by host-local and etcd-ipam: range sets (the legacy
 * single range, `ipam.ranges`, `runtimeConfig.ipRanges`), routes, and the three sources of
 * requested addresses (CNI_ARGS `IP=`, `args.cni.ips`, `runtimeConfig.ips`), with the reference
 * host-local's texts and order (reference-plugins.md §2.1). Moved out of plugins/host-local so that
 * another IPAM plugin reads the same syntax without importing a plugin.
 */
import { GO_ANY, type GoShape } from '../json/go-struct'
import { parseCniArgs } from '../skel/cni-args'
import type { Route } from '../skel/result/types'
import { compareVersions } from '../skel/result/version'
import { canonicalizeRangeSet, type IP, parseCIDR, parseIP, type RangeConfig, type RangeSet } from './range'

/** One (containerID, ifname) a GC request says is still in use. */
export interface Attachment {
  containerID: string
  ifname: string
}

// ---- key folding shapes (lib/json/go-struct.ts) ----

export const scalar = GO_ANY
export const rangeShape: GoShape = { fields: { subnet: scalar, rangeStart: scalar, rangeEnd: scalar, gateway: scalar } }
// A null range set is an empty one, a null range an empty range, a null IP an empty IP (Go's zero
// values), so they meet the reference's texts ("empty range set", "IP <nil> not v4 nor v6").
export const rangeSetsShape: GoShape = { items: { nullAs: () => [], items: { nullAs: () => ({}), ...rangeShape } } }
export const ipsShape: GoShape = { items: { nullAs: () => '' } }
export const routeShape: GoShape = {
  fields: { dst: scalar, gw: scalar, mtu: scalar, advmss: scalar, priority: scalar, table: scalar, scope: scalar },
}
export const attachmentsShape: GoShape = { nullAs: () => [], items: { fields: { containerID: scalar, ifname: scalar } } }

/** The top-level fields every range-based IPAM reads besides `ipam` itself. */
export const RUNTIME_FIELDS: Record<string, GoShape> = {
  runtimeConfig: { fields: { ipRanges: rangeSetsShape, ips: ipsShape } },
  args: { fields: { cni: { fields: { ips: ipsShape } } } },
  'cni.dev/valid-attachments': attachmentsShape,
  'cni.dev/attachments': attachmentsShape,
}

export interface RawRange {
  subnet?: string
  rangeStart?: string
  rangeEnd?: string
  gateway?: string
}

/** The folded, type-checked range-related part of a network config. */
export interface FoldedRangeNet {
  name: string
  cniVersion?: string
  ipam?: RawRange & { ranges?: RawRange[][]; routes?: Route[] }
  runtimeConfig?: { ipRanges?: RawRange[][]; ips?: string[] }
  args?: { cni?: { ips?: string[] } }
  'cni.dev/valid-attachments'?: Attachment[]
  'cni.dev/attachments'?: Attachment[]
}

// ---- values ----

/** Go's net.IP UnmarshalText: "" is unset, anything else must be an address. */
function decodeIPField(s: string | undefined): void {
  if (s === undefined || s === '') return
  if (!parseIP(s)) throw new Error(`invalid IP address: ${s}`)
}

/** Go's types.IPNet UnmarshalJSON: any string, "" included, must be a CIDR. */
function decodeCIDRField(s: string | undefined): void {
  if (s !== undefined) parseCIDR(s)
}

function decodeRange(r: RawRange): void {
  decodeIPField(r.rangeStart)
  decodeIPField(r.rangeEnd)
  decodeCIDRField(r.subnet)
  decodeIPField(r.gateway)
}

/**
 * The reference's ip.IP: `ip` or `ip/prefix` (the prefix is checked, then ignored); "" is the
 * empty IP (null here). The error has no colon, as in the reference.
 */
export function parseRequestedIP(s: string): IP | null {
  if (s === '') return null
  if (s.includes('/')) {
    try {
      return parseCIDR(s).ip
    } catch {
      throw new Error(`invalid IP address ${s}`)
    }
  }
  const ip = parseIP(s)
  if (!ip) throw new Error(`invalid IP address ${s}`)
  return ip
}

/** What Go's decoder rejects while filling the structs, in the order host-local's fields come. */
export function decodeValues(n: FoldedRangeNet): { argIPs: Array<IP | null>; runtimeIPs: Array<IP | null> } {
  const ipam = n.ipam
  if (ipam) {
    decodeRange(ipam)
    for (const set of ipam.ranges ?? []) set.forEach(decodeRange)
    for (const rt of ipam.routes ?? []) {
      parseCIDR(rt.dst)
      decodeIPField(rt.gw)
    }
  }
  for (const set of n.runtimeConfig?.ipRanges ?? []) set.forEach(decodeRange)
  const runtimeIPs = (n.runtimeConfig?.ips ?? []).map(parseRequestedIP)
  const argIPs = (n.args?.cni?.ips ?? []).map(parseRequestedIP)
  return { argIPs, runtimeIPs }
}

const ENV_ARGS = { IP: parseRequestedIP }

/** CNI_ARGS IP=, then args.cni.ips, then runtimeConfig.ips: canonical, de-duplicated. */
export function requestedIPs(cniArgs: string, argIPs: Array<IP | null>, runtimeIPs: Array<IP | null>): IP[] {
  const env = parseCniArgs(cniArgs, ENV_ARGS)
  const all: Array<IP | null> = []
  // CNI_ARGS IP= replaces, args.cni.ips and runtimeConfig.ips are appended; an empty CNI_ARGS
  // value is no request at all, an empty entry in the lists is an error.
  if (env.IP) all.push(env.IP)
  all.push(...argIPs, ...runtimeIPs)
  const out: IP[] = []
  const seen = new Set<string>()
  for (const ip of all) {
    if (!ip) throw new Error('cannot understand ip: IP <nil> not v4 nor v6')
    const key = ip.toString()
    if (seen.has(key)) continue
    seen.add(key)
    out.push(ip)
  }
  return out
}

export function routesOf(routes: Route[] | undefined): Route[] {
  return (routes ?? []).map((rt) => {
    const out: Route = { dst: rt.dst }
    if (rt.gw !== undefined && rt.gw !== '') out.gw = rt.gw
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
      if (rt[k] !== undefined) out[k] = rt[k]
    }
    return out
  })
}

/** `runtimeConfig.ipRanges`, then the legacy single range (if it has a subnet), then `ipam.ranges`. */
export function rangeSetConfigs(n: FoldedRangeNet): RangeConfig[][] {
  const ipam = n.ipam ?? {}
  const sets: RangeConfig[][] = [...(n.runtimeConfig?.ipRanges ?? [])]
  if (ipam.subnet !== undefined) {
    sets.push([{ subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway }])
  }
  sets.push(...(ipam.ranges ?? []))
  return sets
}

/** True when `v` is at least 0.3.0; like the reference, an unparsable version is not. */
function atLeast030(v: string): boolean {
  try {
    return compareVersions(v, '0.3.0') >= 0
  } catch {
    return false
  }
}

export function canonicalRangeSets(configs: RangeConfig[][], cniVersion: string): RangeSet[] {
  if (configs.length === 0) throw new Error('no IP ranges specified')
  const sets = configs.map((cfg, i) => {
    try {
      return canonicalizeRangeSet(cfg)
    } catch (err) {
      throw new Error(`invalid range set ${i}: ${(err as Error).message}`)
    }
  })
  const v4 = sets.filter((s) => s.family === 4).length
  if ((v4 > 1 || sets.length - v4 > 1) && !atLeast030(cniVersion)) {
    throw new Error(`CNI version ${cniVersion} does not support more than 1 address per family`)
  }
  for (let i = 0; i < sets.length - 1; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      if (sets[i].overlaps(sets[j])) throw new Error(`range set ${i} overlaps with ${j}`)
    }
  }
  return sets
}

/** `cni.dev/valid-attachments`, else `cni.dev/attachments` (null = []); undefined when neither. */
export function validAttachmentsOf(n: FoldedRangeNet): Attachment[] | undefined {
  const list = n['cni.dev/valid-attachments'] ?? n['cni.dev/attachments']
  return list?.map((a) => ({ containerID: a.containerID, ifname: a.ifname }))
}
