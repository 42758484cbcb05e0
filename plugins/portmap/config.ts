/**
 * The portmap configuration, read like the reference reads it (Go's encoding/json: keys match
 * case-insensitively, so containerd's `{"HostPort":…,"ContainerPort":…,"Protocol":…,"HostIP":…}`
 * works), type-checked by the generated schema, then value-checked in the reference's order with
 * its messages.
 */
import { GO_ANY, type GoShape, decodeGoStruct } from '../../lib/json/go-struct'
import { checkConfig } from '../../lib/schemas/check-config'
import validatePortmapConf from '../../lib/schemas/generated/portmap'
import { CniError, ErrorCode, type BaseNetConf, type Result, parsePrevResult } from '../../lib/skel'

export interface PortMapping {
  hostPort: number
  containerPort: number
  /** As given ("tcp", "TCP"...): the iptables rules carry it unchanged, like the reference's. */
  protocol: string
  /** '' means every address. */
  hostIP: string
}

export type Backend = 'iptables' | 'nftables'

export interface PortMapConf {
  name: string
  cniVersion: string
  snat: boolean
  /** The mark bit (0..31) of CNI-HOSTPORT-SETMARK; unused with an external mark chain. */
  markMasqBit: number
  externalSetMarkChain?: string
  conditionsV4?: string[]
  conditionsV6?: string[]
  masqAll: boolean
  /** Undefined: chosen by what the host has (see backend.ts). */
  backend?: Backend
  mappings: PortMapping[]
  prevResult?: Result
}

export const DEFAULT_MARK_BIT = 13

/**
 * A config value the plugin refuses (a port, a protocol, the mark bit): code 999 with the
 * reference's message, as the reference answers, so a node sees the same codes whichever portmap
 * it runs. (A wrongly typed field is code 7 naming it, like every tscni plugin.)
 */
export const CONFIG_ERROR = ErrorCode.Internal

const MAPPING: GoShape = { fields: { hostPort: GO_ANY, containerPort: GO_ANY, protocol: GO_ANY, hostIP: GO_ANY } }

const SHAPE: GoShape = {
  fields: {
    cniVersion: GO_ANY, name: GO_ANY, type: GO_ANY, capabilities: GO_ANY, ipam: GO_ANY, dns: GO_ANY, args: GO_ANY,
    prevResult: GO_ANY, snat: GO_ANY, markMasqBit: GO_ANY, externalSetMarkChain: GO_ANY, conditionsV4: GO_ANY,
    conditionsV6: GO_ANY, masqAll: GO_ANY, backend: GO_ANY,
    runtimeConfig: { fields: { portMappings: { items: MAPPING } } },
  },
}

interface RawConf {
  name: string
  cniVersion?: string
  snat?: boolean
  markMasqBit?: number
  externalSetMarkChain?: string
  conditionsV4?: string[]
  conditionsV6?: string[]
  masqAll?: boolean
  backend?: string
  prevResult?: unknown
  runtimeConfig?: { portMappings?: Array<Partial<PortMapping>> }
}

const configError = (msg: string): CniError => new CniError(CONFIG_ERROR, msg)

/** Reads and checks the config; `cniVersion` is the negotiated one (prevResult is read in it). */
export function loadConf(conf: BaseNetConf, cniVersion: string): PortMapConf {
  const raw = checkConfig<RawConf>(validatePortmapConf, decodeGoStruct(conf, SHAPE, { unknownKeys: 'keep' }))
  let prevResult: Result | undefined
  if (raw.prevResult !== undefined) {
    try {
      prevResult = parsePrevResult(raw.prevResult, cniVersion)
    } catch (err) {
      // The reference wraps libcni's "could not parse prevResult: …" once more.
      throw configError(`could not parse prevResult: ${(err as Error).message}`)
    }
  }
  if (raw.externalSetMarkChain !== undefined && raw.markMasqBit !== undefined) {
    throw configError('Cannot specify externalSetMarkChain and markMasqBit')
  }
  const markMasqBit = raw.markMasqBit ?? DEFAULT_MARK_BIT
  if (markMasqBit < 0 || markMasqBit > 31) throw configError('MasqMarkBit must be between 0 and 31')
  const backend = raw.backend === undefined || raw.backend === '' ? undefined : raw.backend
  if (backend !== undefined && backend !== 'iptables' && backend !== 'nftables') {
    throw configError(`unrecognized backend ${JSON.stringify(backend)}`)
  }
  const mappings = (raw.runtimeConfig?.portMappings ?? []).map(checkMapping)
  const out: PortMapConf = {
    name: raw.name,
    cniVersion,
    snat: raw.snat ?? true,
    markMasqBit,
    masqAll: raw.masqAll ?? false,
    mappings,
  }
  if (raw.externalSetMarkChain !== undefined) out.externalSetMarkChain = raw.externalSetMarkChain
  if (raw.conditionsV4 !== undefined) out.conditionsV4 = raw.conditionsV4
  if (raw.conditionsV6 !== undefined) out.conditionsV6 = raw.conditionsV6
  if (backend) out.backend = backend
  if (prevResult) out.prevResult = prevResult
  if (out.backend === 'nftables') checkNftOptions(out)
  return out
}

const PROTOCOLS = ['tcp', 'udp', 'sctp']

/**
 * One mapping, checked before anything is touched. The reference checks only `> 0` and leaves
 * the rest to iptables (a port of 70000 or protocol "icmp" fails half-way through an ADD); we name
 * the field instead.
 */
function checkMapping(m: Partial<PortMapping>, i: number): PortMapping {
  const field = (name: string): string => `runtimeConfig.portMappings[${i}].${name}`
  const containerPort = m.containerPort ?? 0
  const hostPort = m.hostPort ?? 0
  if (containerPort <= 0) throw configError(`Invalid container port number: ${containerPort}`)
  if (hostPort <= 0) throw configError(`Invalid host port number: ${hostPort}`)
  if (containerPort > 65535) throw configError(`Invalid container port number: ${containerPort} (${field('containerPort')} must be at most 65535)`)
  if (hostPort > 65535) throw configError(`Invalid host port number: ${hostPort} (${field('hostPort')} must be at most 65535)`)
  const protocol = m.protocol ?? ''
  if (!PROTOCOLS.includes(protocol.toLowerCase())) {
    throw configError(`unknown protocol ${JSON.stringify(protocol)} specified in ${field('protocol')} (tcp, udp or sctp)`)
  }
  return { hostPort, containerPort, protocol, hostIP: m.hostIP ?? '' }
}

/** Conditions written for iptables (they start with "-" or "!") cannot go to nft. */
export function isIptablesConditions(c: readonly string[] | undefined): boolean {
  return !!c && c.length > 0 && (c[0].startsWith('-') || c[0].startsWith('!'))
}

/** The reference's refusal of iptables-only options with `backend: nftables`. */
export function checkNftOptions(c: PortMapConf): void {
  const bad: string[] = []
  if (c.externalSetMarkChain !== undefined) bad.push('externalSetMarkChain')
  if (isIptablesConditions(c.conditionsV4)) bad.push('conditionsV4')
  if (isIptablesConditions(c.conditionsV6)) bad.push('conditionsV6')
  if (bad.length) throw configError(`nftables backend was requested but configuration contains iptables-specific options [${bad.join(' ')}]`)
}

/** The reference's refusal of nft-only conditions with `backend: iptables`. */
export function checkIptablesOptions(c: PortMapConf): void {
  const bad: string[] = []
  if (c.conditionsV4?.length && !isIptablesConditions(c.conditionsV4)) bad.push('conditionsV4')
  if (c.conditionsV6?.length && !isIptablesConditions(c.conditionsV6)) bad.push('conditionsV6')
  if (bad.length) throw configError(`iptables backend was requested but configuration contains nftables-specific options [${bad.join(' ')}]`)
}
