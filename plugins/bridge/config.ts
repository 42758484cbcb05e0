/**
 * The bridge network configuration: every key of the reference bridge, read the way Go's
 * encoding/json reads it (keys match case-insensitively, the last duplicate wins, null means absent),
 * type-checked by the generated schema, then value-checked here with the reference's messages.
 */
import { CniError, ErrorCode, type BaseNetConf, type DNS, parseCniArgs } from '../../lib/skel'
import { checkConfig } from '../../lib/schemas/check-config'
import validateBridgeConf from '../../lib/schemas/generated/bridge'
import { checkIPMasqBackend } from './masquerade'
import { decodeGoStruct, GO_ANY, type GoShape } from '../../lib/json/go-struct'

export const DEFAULT_BRIDGE = 'cni0'

/**
 * The code of a config value the plugin refuses (a VLAN out of range, hairpin with promiscuous
 * mode): 999 with the reference's message, as the reference answers (plain Go errors), so a node
 * sees the same codes whichever bridge it runs. A wrongly typed field is code 7 naming it, from the
 * schema check, like every tscni plugin.
 */
export const CONFIG_ERROR = ErrorCode.Internal

export interface BridgeNetConf {
  name: string
  cniVersion: string
  bridge: string
  isGateway: boolean
  isDefaultGateway: boolean
  forceAddress: boolean
  ipMasq: boolean
  ipMasqBackend?: string
  mtu: number
  hairpinMode: boolean
  promiscMode: boolean
  vlan: number
  /** The `vlanTrunk` key was present (even `[]`): a new bridge gets VLAN filtering. */
  hasVlanTrunk: boolean
  /** Trunk VIDs: the union of every item, sorted, no duplicates. */
  vlans: number[]
  preserveDefaultVlan: boolean
  macspoofchk: boolean
  enabledad: boolean
  disableContainerInterface: boolean
  portIsolation: boolean
  /** `ipam.type`; '' means L2 mode (no IPAM, no addresses). */
  ipamType: string
  /** The config's `dns`, only when it sets something (then it replaces the IPAM's). */
  dns?: DNS
  /** Container interface MAC: runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC. */
  mac?: string
  prevResult?: unknown
}

type Json = Record<string, unknown>

// The keys the bridge reads, at every level, as the reference's NetConf declares them. Unknown keys
// are kept as written (the schema sees the whole config).
const TRUNK_ITEM: GoShape = { fields: { minID: GO_ANY, maxID: GO_ANY, id: GO_ANY } }
const NET_SHAPE: GoShape = {
  fields: {
    cniVersion: GO_ANY,
    name: GO_ANY,
    type: GO_ANY,
    capabilities: GO_ANY,
    ipam: { fields: { type: GO_ANY } },
    dns: { fields: { nameservers: GO_ANY, domain: GO_ANY, search: GO_ANY, options: GO_ANY } },
    args: { fields: { cni: { fields: { mac: GO_ANY } } } },
    runtimeConfig: { fields: { mac: GO_ANY } },
    prevResult: GO_ANY,
    bridge: GO_ANY,
    isGateway: GO_ANY,
    isDefaultGateway: GO_ANY,
    forceAddress: GO_ANY,
    ipMasq: GO_ANY,
    ipMasqBackend: GO_ANY,
    mtu: GO_ANY,
    hairpinMode: GO_ANY,
    promiscMode: GO_ANY,
    vlan: GO_ANY,
    vlanTrunk: { items: TRUNK_ITEM },
    preserveDefaultVlan: GO_ANY,
    macspoofchk: GO_ANY,
    enabledad: GO_ANY,
    disableContainerInterface: GO_ANY,
    portIsolation: GO_ANY,
  },
}

/** The config with Go's key matching applied at every level the bridge reads. */
function normalize(conf: BaseNetConf): Json {
  return decodeGoStruct(conf, NET_SHAPE, { unknownKeys: 'keep' }) as Json
}

function configError(msg: string): CniError {
  return new CniError(CONFIG_ERROR, msg)
}

interface TrunkItem {
  minID?: number
  maxID?: number
  id?: number
}

/** The trunk VIDs, checked item by item in the reference's order and words. */
export function collectVlanTrunk(items: readonly TrunkItem[]): number[] {
  const vids = new Set<number>()
  const valid = (v: number): boolean => v > 0 && v <= 4094
  for (const item of items) {
    const { minID, maxID, id } = item
    if (minID !== undefined && maxID !== undefined) {
      if (!valid(minID)) throw configError('incorrect trunk minID parameter')
      if (!valid(maxID)) throw configError('incorrect trunk maxID parameter')
      if (maxID < minID) throw configError('minID is greater than maxID in trunk parameter')
      for (let v = minID; v <= maxID; v++) vids.add(v)
    } else if (maxID !== undefined) {
      throw configError('minID and maxID should be configured simultaneously, minID is missing')
    } else if (minID !== undefined) {
      throw configError('minID and maxID should be configured simultaneously, maxID is missing')
    }
    if (id !== undefined) {
      if (!valid(id)) throw configError('incorrect trunk id parameter')
      vids.add(id)
    }
  }
  return [...vids].sort((a, b) => a - b)
}

/** A `dns` that sets anything (Go: a non-nil list, even empty, or a non-empty domain). */
function configuredDns(dns: Json | undefined): DNS | undefined {
  if (!dns) return undefined
  const set = dns.nameservers !== undefined || dns.search !== undefined || dns.options !== undefined || !!dns.domain
  if (!set) return undefined
  const out: DNS = {}
  if (Array.isArray(dns.nameservers)) out.nameservers = dns.nameservers as string[]
  if (typeof dns.domain === 'string' && dns.domain) out.domain = dns.domain
  if (Array.isArray(dns.search)) out.search = dns.search as string[]
  if (Array.isArray(dns.options)) out.options = dns.options as string[]
  return out
}

/**
 * Reads the config of any verb (the reference's loadNetConf): types, VLAN range, trunk and CNI_ARGS.
 * `cniArgs` is CNI_ARGS; its only key is MAC (plus IgnoreUnknown).
 */
export function loadNetConf(conf: BaseNetConf, cniArgs: string, cniVersion: string): BridgeNetConf {
  const c = checkConfig<Json>(validateBridgeConf, normalize(conf))
  const vlan = (c.vlan as number | undefined) ?? 0
  if (vlan < 0 || vlan > 4094) throw configError(`invalid VLAN ID ${vlan} (must be between 0 and 4094)`)
  const trunk = c.vlanTrunk as TrunkItem[] | undefined
  const vlans = trunk ? collectVlanTrunk(trunk) : []

  let mac: string | undefined
  const envArgs = parseCniArgs(cniArgs, { MAC: (v: string) => v })
  if (envArgs.MAC) mac = envArgs.MAC
  const argsMac = (c.args as { cni?: { mac?: string } } | undefined)?.cni?.mac
  if (argsMac) mac = argsMac
  const rtMac = (c.runtimeConfig as { mac?: string } | undefined)?.mac
  if (rtMac) mac = rtMac

  const flag = (key: string): boolean => (c[key] as boolean | undefined) ?? false
  const n: BridgeNetConf = {
    name: c.name as string,
    cniVersion,
    bridge: (c.bridge as string | undefined) ?? DEFAULT_BRIDGE,
    isGateway: flag('isGateway'),
    isDefaultGateway: flag('isDefaultGateway'),
    forceAddress: flag('forceAddress'),
    ipMasq: flag('ipMasq'),
    ipMasqBackend: c.ipMasqBackend as string | undefined,
    mtu: (c.mtu as number | undefined) ?? 0,
    hairpinMode: flag('hairpinMode'),
    promiscMode: flag('promiscMode'),
    vlan,
    hasVlanTrunk: trunk !== undefined,
    vlans,
    preserveDefaultVlan: flag('preserveDefaultVlan'),
    macspoofchk: flag('macspoofchk'),
    enabledad: flag('enabledad'),
    disableContainerInterface: flag('disableContainerInterface'),
    portIsolation: flag('portIsolation'),
    ipamType: ((c.ipam as { type?: string } | undefined)?.type as string | undefined) ?? '',
    prevResult: c.prevResult,
  }
  const dns = configuredDns(c.dns as Json | undefined)
  if (dns) n.dns = dns
  if (mac) n.mac = mac
  // isDefaultGateway implies isGateway, for every verb.
  if (n.isDefaultGateway) n.isGateway = true
  return n
}

/** The combinations only ADD refuses (DEL and CHECK of such a config still work, as in the reference). */
export function checkAddConf(n: BridgeNetConf): void {
  if (n.bridge === '') throw configError('"bridge" must not be empty (leave it out for the default cni0)')
  if (n.ipamType !== '' && n.disableContainerInterface) {
    throw configError('cannot use IPAM when DisableContainerInterface flag is set')
  }
  if (n.hairpinMode && n.promiscMode) {
    // Debian's 1.1.1 words it with a full stop (HEAD dropped it): the reference on this node.
    throw configError('cannot set hairpin mode and promiscuous mode at the same time.')
  }
  if (n.ipMasq && n.ipamType !== '') {
    try {
      checkIPMasqBackend(n.ipMasqBackend)
    } catch (err) {
      throw configError((err as Error).message)
    }
  }
}
