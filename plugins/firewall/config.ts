/**
 * The firewall configuration, read like the reference reads it (Go's encoding/json: keys match
 * case-insensitively, the last of a repeated key wins), type-checked by the generated schema
 * (a wrong type is code 7 naming the field), then value-checked with the reference's texts.
 */
import { GO_ANY, type GoShape, decodeGoStruct } from '../../lib/json/go-struct'
import { checkConfig } from '../../lib/schemas/check-config'
import validateFirewallConf from '../../lib/schemas/generated/firewall'
import { type BaseNetConf, type Result, parsePrevResult } from '../../lib/skel'

/** `open` (the default; `""` means it too) or `same-bridge`. */
export type IngressPolicy = 'open' | 'same-bridge'

/**
 * `iptables`, `firewalld`, or undefined: chosen at run time (firewalld when it owns its name on the
 * system bus, else iptables). Any other value, podman's `""` included, means "choose", as in the
 * reference.
 */
export type Backend = 'iptables' | 'firewalld'

export interface FirewallConf {
  name: string
  cniVersion: string
  backend?: Backend
  /** The administrator's chain, jumped to first from CNI-FORWARD; created, never flushed. */
  adminChain: string
  firewalldZone: string
  /** As written; checked by checkIngressPolicy (ADD before any rule, DEL after its rules went). */
  ingressPolicy: string
  /** Where ADD records which addresses an attachment got (for GC and a DEL without prevResult). */
  dataDir: string
  prevResult?: Result
}

export const DEFAULT_ADMIN_CHAIN = 'CNI-ADMIN'
export const DEFAULT_ZONE = 'trusted'
export const DEFAULT_DATA_DIR = '/var/lib/cni/firewall'

const SHAPE: GoShape = {
  fields: {
    cniVersion: GO_ANY, name: GO_ANY, type: GO_ANY, capabilities: GO_ANY, ipam: GO_ANY, dns: GO_ANY, args: GO_ANY,
    prevResult: GO_ANY, runtimeConfig: GO_ANY, backend: GO_ANY, iptablesAdminChainName: GO_ANY,
    firewalldZone: GO_ANY, ingressPolicy: GO_ANY, dataDir: GO_ANY,
  },
}

interface RawConf {
  name: string
  backend?: string
  iptablesAdminChainName?: string
  firewalldZone?: string
  ingressPolicy?: string
  dataDir?: string
  prevResult?: unknown
}

/** Reads the config; `cniVersion` is the negotiated one (prevResult is read in it). */
export function loadConf(conf: BaseNetConf, cniVersion: string): FirewallConf {
  const raw = checkConfig<RawConf>(validateFirewallConf, decodeGoStruct(conf, SHAPE, { unknownKeys: 'keep' }))
  const out: FirewallConf = {
    name: raw.name,
    cniVersion,
    adminChain: raw.iptablesAdminChainName || DEFAULT_ADMIN_CHAIN,
    firewalldZone: raw.firewalldZone || DEFAULT_ZONE,
    ingressPolicy: raw.ingressPolicy ?? '',
    dataDir: raw.dataDir || DEFAULT_DATA_DIR,
  }
  if (raw.backend === 'iptables' || raw.backend === 'firewalld') out.backend = raw.backend
  if (raw.prevResult !== undefined) {
    try {
      out.prevResult = parsePrevResult(raw.prevResult, cniVersion)
    } catch (err) {
      // The reference wraps libcni's "could not parse prevResult: …" once more.
      throw new Error(`could not parse prevResult: ${(err as Error).message}`)
    }
  }
  return out
}

/** The policy, or the reference's error for an unknown one. */
export function checkIngressPolicy(c: FirewallConf): IngressPolicy {
  if (c.ingressPolicy === '' || c.ingressPolicy === 'open') return 'open'
  if (c.ingressPolicy === 'same-bridge') return 'same-bridge'
  throw new Error(`unknown ingress policy: ${JSON.stringify(c.ingressPolicy)}`)
}

/**
 * The bridge that `same-bridge` isolates: the first interface of prevResult (the bridge plugin puts
 * its bridge first), with the reference's errors.
 */
export function isolatedBridge(c: FirewallConf, result: Result): string {
  const first = result.interfaces?.[0]
  if (!first) {
    throw new Error(`interface needs to be set for ingress policy ${JSON.stringify(c.ingressPolicy)}, make sure to chain "firewall" plugin with "bridge"`)
  }
  if (!first.name) throw new Error('got empty bridge name')
  return first.name
}
