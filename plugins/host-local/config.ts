/**
 * host-local's configuration, read from the WHOLE network config on stdin like the reference's
 * LoadIPAMConfig (reference-plugins.md §2.1): top-level `name`, `cniVersion`, `ipam`, `args`,
 * `runtimeConfig` (and, for GC, `cni.dev/valid-attachments`). Everything else is ignored, so the
 * stdin of a delegating plugin (e.g. the whole bridge config) is fine as it is.
 *
 * Three stages, each with its own kind of error:
 * 1. Key folding (lib/json/go-struct.ts): Go's case-insensitive keys, nulls meaning "not set",
 *    unknown keys dropped.
 * 2. Types (lib/schemas/host-local.schema.json): a wrong type is code 7 naming the field. (The
 *    reference answers 999 with Go's decoder text; see README.md.)
 * 3. Values, with the reference's texts and order: first what Go's decoder rejects (addresses
 *    and CIDRs, "invalid IP address: x"), then `IPAM config missing 'ipam' key`, CNI_ARGS,
 *    requested IPs, the range-set list, each set, the per-family limit of spec < 0.3.0, overlaps.
 *    These are plain Errors (code 999, like the reference).
 */
import { checkConfig } from '../../lib/schemas/check-config'
import validateHostLocalConf from '../../lib/schemas/generated/host-local'
import { parseCniArgs } from '../../lib/skel/cni-args'
import { decodeGoStruct, GO_ANY, type GoShape } from '../../lib/json/go-struct'
import type { BaseNetConf } from '../../lib/skel/netconf'
import type { Route } from '../../lib/skel/result/types'
import { compareVersions } from '../../lib/skel/result/version'
import { canonicalizeRangeSet, type IP, parseCIDR, parseIP, type RangeConfig, type RangeSet } from './range'
import { DEFAULT_DATA_DIR } from './store/format'

/** One (containerID, ifname) a GC request says is still in use. */
export interface Attachment {
  containerID: string
  ifname: string
}

/** What host-local works with, every value checked. */
export interface IPAMConfig {
  /** The network name: the store's directory under dataDir. */
  name: string
  /** The config's cniVersion as written ("" when absent), for the reference's messages. */
  cniVersion: string
  /** One address is allocated from each set, in this order; the index names last_reserved_ip.N. */
  rangeSets: RangeSet[]
  /** `ipam.routes`, returned as they are. */
  routes: Route[]
  dataDir: string
  /** `ipam.resolvConf`, read at ADD time into the result's dns. */
  resolvConf?: string
  /** Requested addresses (CNI_ARGS IP, args.cni.ips, runtimeConfig.ips), canonical, de-duplicated. */
  requestedIPs: IP[]
  /**
   * GC: `cni.dev/valid-attachments`, else `cni.dev/attachments` (null = []); undefined when
   * neither key is present.
   */
  validAttachments?: Attachment[]
}

// ---- stage 1: the fields host-local reads, as Go's decoder finds them ----

const scalar = GO_ANY
const rangeShape: GoShape = { fields: { subnet: scalar, rangeStart: scalar, rangeEnd: scalar, gateway: scalar } }
// A null range set is an empty one, a null range an empty range, a null IP an empty IP (Go's zero
// values), so they meet the reference's texts ("empty range set", "IP <nil> not v4 nor v6").
const rangeSetsShape: GoShape = { items: { nullAs: () => [], items: { nullAs: () => ({}), ...rangeShape } } }
const ipsShape: GoShape = { items: { nullAs: () => '' } }
const routeShape: GoShape = {
  fields: { dst: scalar, gw: scalar, mtu: scalar, advmss: scalar, priority: scalar, table: scalar, scope: scalar },
}
const attachmentsShape: GoShape = { nullAs: () => [], items: { fields: { containerID: scalar, ifname: scalar } } }

const NET_SHAPE: GoShape = {
  fields: {
    ipam: {
      fields: {
        type: scalar,
        ...rangeShape.fields,
        ranges: rangeSetsShape,
        routes: { items: routeShape },
        dataDir: scalar,
        resolvConf: scalar,
      },
    },
    runtimeConfig: { fields: { ipRanges: rangeSetsShape, ips: ipsShape } },
    args: { fields: { cni: { fields: { ips: ipsShape } } } },
    'cni.dev/valid-attachments': attachmentsShape,
    'cni.dev/attachments': attachmentsShape,
  },
}

interface RawRange {
  subnet?: string
  rangeStart?: string
  rangeEnd?: string
  gateway?: string
}

/** The folded, type-checked config (what the schema guarantees). */
interface FoldedNet {
  name: string
  cniVersion?: string
  ipam?: RawRange & {
    type?: string
    ranges?: RawRange[][]
    routes?: Route[]
    dataDir?: string
    resolvConf?: string
  }
  runtimeConfig?: { ipRanges?: RawRange[][]; ips?: string[] }
  args?: { cni?: { ips?: string[] } }
  'cni.dev/valid-attachments'?: Attachment[]
  'cni.dev/attachments'?: Attachment[]
}

function foldNet(conf: BaseNetConf): FoldedNet {
  const folded = decodeGoStruct(conf, NET_SHAPE) as Record<string, unknown>
  // skel has read these (case-sensitively); keep them for the netconf part of the schema.
  folded.name = conf.name
  if (conf.cniVersion !== undefined) folded.cniVersion = conf.cniVersion
  return checkConfig<FoldedNet>(validateHostLocalConf, folded)
}

// ---- stage 3: values ----

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
function decodeValues(n: FoldedNet): { argIPs: Array<IP | null>; runtimeIPs: Array<IP | null> } {
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

function requestedIPs(cniArgs: string, argIPs: Array<IP | null>, runtimeIPs: Array<IP | null>): IP[] {
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

function routesOf(routes: Route[] | undefined): Route[] {
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
function rangeSetConfigs(n: FoldedNet): RangeConfig[][] {
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

function canonicalRangeSets(configs: RangeConfig[][], cniVersion: string): RangeSet[] {
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

function validAttachments(n: FoldedNet): Attachment[] | undefined {
  const list = n['cni.dev/valid-attachments'] ?? n['cni.dev/attachments']
  return list?.map((a) => ({ containerID: a.containerID, ifname: a.ifname }))
}

/**
 * Reads host-local's config from the whole network config and the raw CNI_ARGS. Throws CniError
 * code 7 for a field of the wrong type, plain Errors with the reference's texts for the rest.
 */
export function loadIPAMConfig(conf: BaseNetConf, cniArgs: string): IPAMConfig {
  const n = foldNet(conf)
  const { argIPs, runtimeIPs } = decodeValues(n)
  const ipam = n.ipam
  if (!ipam) throw new Error("IPAM config missing 'ipam' key")
  const requested = requestedIPs(cniArgs, argIPs, runtimeIPs)
  const cniVersion = typeof conf.cniVersion === 'string' ? conf.cniVersion : ''
  const out: IPAMConfig = {
    name: n.name,
    cniVersion,
    rangeSets: canonicalRangeSets(rangeSetConfigs(n), cniVersion),
    routes: routesOf(ipam.routes),
    dataDir: ipam.dataDir || DEFAULT_DATA_DIR,
    requestedIPs: requested,
  }
  if (ipam.resolvConf) out.resolvConf = ipam.resolvConf
  const valid = validAttachments(n)
  if (valid) out.validAttachments = valid
  return out
}
