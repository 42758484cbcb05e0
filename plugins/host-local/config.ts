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
import { decodeGoStruct, type GoShape } from '../../lib/json/go-struct'
import type { BaseNetConf } from '../../lib/skel/netconf'
import type { Route } from '../../lib/skel/result/types'
import type { IP, RangeSet } from '../../lib/ipam/range'
import {
  type Attachment,
  canonicalRangeSets,
  type FoldedRangeNet,
  decodeValues,
  RUNTIME_FIELDS,
  rangeSetConfigs,
  rangeSetsShape,
  rangeShape,
  requestedIPs,
  routeShape,
  routesOf,
  scalar,
  validAttachmentsOf,
} from '../../lib/ipam/range-config'
import { DEFAULT_DATA_DIR } from './store/format'

export { type Attachment, parseRequestedIP } from '../../lib/ipam/range-config'

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
    ...RUNTIME_FIELDS,
  },
}

/** The folded, type-checked config (what the schema guarantees). */
interface FoldedNet extends FoldedRangeNet {
  ipam?: FoldedRangeNet['ipam'] & { type?: string; dataDir?: string; resolvConf?: string }
}

function foldNet(conf: BaseNetConf): FoldedNet {
  const folded = decodeGoStruct(conf, NET_SHAPE) as Record<string, unknown>
  // skel has read these (case-sensitively); keep them for the netconf part of the schema.
  folded.name = conf.name
  if (conf.cniVersion !== undefined) folded.cniVersion = conf.cniVersion
  return checkConfig<FoldedNet>(validateHostLocalConf, folded)
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
  const valid = validAttachmentsOf(n)
  if (valid) out.validAttachments = valid
  return out
}
