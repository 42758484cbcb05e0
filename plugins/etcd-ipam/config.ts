/**
 * etcd-ipam's configuration: host-local's range syntax (lib/ipam/range-config.ts: range sets, the
 * legacy single range, dual stack, rangeStart/rangeEnd, gateway, routes, the three sources of
 * requested IPs) plus where etcd is and how the pool is cut into blocks. Read from the WHOLE
 * network config on stdin, so a delegating plugin's stdin works as it is.
 */
import { decodeGoStruct, type GoShape } from '../../lib/json/go-struct'
import type { IP, RangeSet } from '../../lib/ipam/range'
import {
  type Attachment,
  canonicalRangeSets,
  decodeValues,
  type FoldedRangeNet,
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
import { checkConfig } from '../../lib/schemas/check-config'
import validateEtcdIpamConf from '../../lib/schemas/generated/etcd-ipam'
import { fs } from '../../lib/native/fs'
import { CniError, ErrorCode } from '../../lib/skel/errors'
import type { BaseNetConf } from '../../lib/skel/netconf'
import type { Route } from '../../lib/skel/result/types'

export type { Attachment } from '../../lib/ipam/range-config'

export const DEFAULT_PREFIX = '/tscni/ipam'
export const DEFAULT_DATA_DIR = '/var/lib/cni/etcd-ipam'
export const DEFAULT_BLOCK_V4 = 26
export const DEFAULT_BLOCK_V6 = 122

export interface EtcdIPAMConfig {
  name: string
  cniVersion: string
  rangeSets: RangeSet[]
  routes: Route[]
  requestedIPs: IP[]
  validAttachments?: Attachment[]
  endpoints: string[]
  caFile?: string
  certFile?: string
  keyFile?: string
  /** Key prefix, no trailing slash. */
  prefix: string
  nodeName: string
  blockSize: number
  blockSizeV6: number
  reuseCooldown: number
  requestTimeoutMs: number
  timeoutMs: number
  /** Where this node keeps its hint (its blocks, the last address it gave out). */
  dataDir: string
}

const NET_SHAPE: GoShape = {
  fields: {
    ipam: {
      fields: {
        type: scalar,
        ...rangeShape.fields,
        ranges: rangeSetsShape,
        routes: { items: routeShape },
        endpoints: { items: {} },
        caFile: scalar,
        certFile: scalar,
        keyFile: scalar,
        prefix: scalar,
        nodeName: scalar,
        blockSize: scalar,
        blockSizeV6: scalar,
        reuseCooldown: scalar,
        requestTimeout: scalar,
        timeout: scalar,
        dataDir: scalar,
      },
    },
    ...RUNTIME_FIELDS,
  },
}

interface FoldedNet extends FoldedRangeNet {
  ipam?: FoldedRangeNet['ipam'] & {
    endpoints?: string[]
    caFile?: string
    certFile?: string
    keyFile?: string
    prefix?: string
    nodeName?: string
    blockSize?: number
    blockSizeV6?: number
    reuseCooldown?: number
    requestTimeout?: number
    timeout?: number
    dataDir?: string
  }
}

const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

/** The host name, as the kernel has it (no node:os on the plugin path). */
export function hostName(): string {
  try {
    return (fs.readFileSync('/proc/sys/kernel/hostname', 'utf8') as string).trim()
  } catch {
    return ''
  }
}

const invalid = (msg: string): CniError => new CniError(ErrorCode.InvalidNetworkConfig, `etcd-ipam: ${msg}`)

export function loadConfig(conf: BaseNetConf, cniArgs: string): EtcdIPAMConfig {
  const folded = decodeGoStruct(conf, NET_SHAPE) as Record<string, unknown>
  folded.name = conf.name
  if (conf.cniVersion !== undefined) folded.cniVersion = conf.cniVersion
  const n = checkConfig<FoldedNet>(validateEtcdIpamConf, folded)
  const { argIPs, runtimeIPs } = decodeValues(n)
  const ipam = n.ipam
  if (!ipam) throw invalid("IPAM config missing 'ipam' key")
  if (!NETWORK_NAME_RE.test(n.name)) throw invalid(`invalid network name ${JSON.stringify(n.name)}: it is part of etcd keys and must match ${NETWORK_NAME_RE.source}`)
  if (!ipam.endpoints || ipam.endpoints.length === 0) throw invalid('"ipam.endpoints" is required: a list of etcd client URLs, e.g. ["https://10.0.0.1:2379"]')
  const cniVersion = typeof conf.cniVersion === 'string' ? conf.cniVersion : ''
  const rangeSets = canonicalRangeSets(rangeSetConfigs(n), cniVersion)
  const nodeName = ipam.nodeName || hostName()
  if (!NETWORK_NAME_RE.test(nodeName)) throw invalid(`"ipam.nodeName" is not set and the host name ${JSON.stringify(nodeName)} cannot name a node`)
  if ((ipam.certFile === undefined) !== (ipam.keyFile === undefined)) throw invalid('"ipam.certFile" and "ipam.keyFile" go together')
  const out: EtcdIPAMConfig = {
    name: n.name,
    cniVersion,
    rangeSets,
    routes: routesOf(ipam.routes),
    requestedIPs: requestedIPs(cniArgs, argIPs, runtimeIPs),
    endpoints: ipam.endpoints.map((e) => e.replace(/\/$/, '')),
    prefix: (ipam.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '') || DEFAULT_PREFIX,
    nodeName,
    blockSize: ipam.blockSize ?? DEFAULT_BLOCK_V4,
    blockSizeV6: ipam.blockSizeV6 ?? DEFAULT_BLOCK_V6,
    reuseCooldown: ipam.reuseCooldown ?? 0,
    requestTimeoutMs: Math.round((ipam.requestTimeout ?? 3) * 1000),
    timeoutMs: Math.round((ipam.timeout ?? 10) * 1000),
    dataDir: ipam.dataDir || DEFAULT_DATA_DIR,
  }
  if (ipam.caFile) out.caFile = ipam.caFile
  if (ipam.certFile) out.certFile = ipam.certFile
  if (ipam.keyFile) out.keyFile = ipam.keyFile
  if (out.endpoints.some((e) => e.startsWith('https:')) && !out.caFile) {
    // Without a CA the runtime's default roots would be trusted: say so rather than guess.
    throw invalid('"ipam.caFile" is required with https endpoints')
  }
  const valid = validAttachmentsOf(n)
  if (valid) out.validAttachments = valid
  return out
}
