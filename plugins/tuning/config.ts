/**
 * The tuning configuration, read like the reference reads it (Go's encoding/json: keys match
 * case-insensitively, the last duplicate wins), type-checked by the generated schema (a wrong type is
 * code 7 naming the field), then merged in the reference's order:
 * `mac` < CNI_ARGS `MAC=` < `runtimeConfig.mac` (the `mac` capability) < `args.cni.mac`, and every
 * other `args.cni.X` replacing `X` (`args.cni.sysctl` entries are added to `sysctl`).
 */
import { GO_ANY, type GoShape, decodeGoStruct } from '../../lib/json/go-struct'
import { checkConfig } from '../../lib/schemas/check-config'
import validateTuningConf from '../../lib/schemas/generated/tuning'
import { type BaseNetConf, CniError, ErrorCode, type Result, parseCniArgs, parsePrevResult } from '../../lib/skel'
import { normalizePath } from '../../lib/util/path'

export const DEFAULT_DATA_DIR = '/run/cni/tuning'

export interface TuningConf {
  name: string
  cniVersion: string
  /** Raw sysctl names (dotted, `IFNAME` not yet replaced) -> values, in config order. */
  sysctl: Map<string, string>
  /** As given ('' = not set); checked with `parseGoMac` where it is used. */
  mac: string
  mtu: number
  /** Only `true` acts, as in the reference (it never turns promiscuous mode off). */
  promisc: boolean
  allmulti?: boolean
  txQLen?: number
  dataDir: string
  prevResult?: Result
}

const ATTRS: Record<string, GoShape> = { sysctl: GO_ANY, mac: GO_ANY, mtu: GO_ANY, promisc: GO_ANY, allmulti: GO_ANY, txQLen: GO_ANY }

const SHAPE: GoShape = {
  fields: {
    cniVersion: GO_ANY, name: GO_ANY, type: GO_ANY, capabilities: GO_ANY, ipam: GO_ANY, dns: GO_ANY, prevResult: GO_ANY,
    ...ATTRS,
    dataDir: GO_ANY,
    runtimeConfig: { fields: { mac: GO_ANY } },
    args: { fields: { cni: { fields: ATTRS } } },
  },
}

interface Attrs {
  sysctl?: Record<string, string>
  mac?: string
  mtu?: number
  promisc?: boolean
  allmulti?: boolean
  txQLen?: number
}

interface RawConf extends Attrs {
  name: string
  dataDir?: string
  prevResult?: unknown
  runtimeConfig?: { mac?: string }
  args?: { cni?: Attrs }
}

/**
 * Reads the config and CNI_ARGS. `withPrevResult` parses prevResult too (ADD and CHECK; the
 * reference's DEL never looks at it).
 */
export function loadConf(conf: BaseNetConf, cniVersion: string, cniArgs: string, withPrevResult: boolean): TuningConf {
  const raw = checkConfig<RawConf>(validateTuningConf, decodeGoStruct(conf, SHAPE, { unknownKeys: 'keep' }))
  const dataDir = raw.dataDir === undefined || raw.dataDir === '' ? DEFAULT_DATA_DIR : raw.dataDir
  if (!dataDir.startsWith('/')) {
    // The reference would resolve it against whatever directory the runtime runs plugins in.
    throw new CniError(ErrorCode.InvalidNetworkConfig, `failed to load netconf: "dataDir" must be an absolute path, not ${JSON.stringify(dataDir)}`)
  }
  const out: TuningConf = {
    name: raw.name,
    cniVersion,
    // The reference panics on args.cni.sysctl without sysctl (a nil map); here it just starts empty.
    sysctl: new Map(Object.entries(raw.sysctl ?? {})),
    mac: raw.mac ?? '',
    mtu: raw.mtu ?? 0,
    promisc: raw.promisc ?? false,
    dataDir: normalizePath(dataDir),
  }
  if (raw.allmulti !== undefined) out.allmulti = raw.allmulti
  if (raw.txQLen !== undefined) out.txQLen = raw.txQLen

  let envMac = ''
  try {
    envMac = parseCniArgs(cniArgs, { MAC: (v: string) => v }).MAC ?? ''
  } catch (err) {
    throw new CniError(ErrorCode.Internal, (err as Error).message)
  }
  if (envMac !== '') out.mac = envMac
  if (raw.runtimeConfig?.mac) out.mac = raw.runtimeConfig.mac

  const a = raw.args?.cni
  if (a) {
    for (const [k, v] of Object.entries(a.sysctl ?? {})) out.sysctl.set(k, v)
    if (a.mac !== undefined) out.mac = a.mac
    if (a.promisc !== undefined) out.promisc = a.promisc
    if (a.mtu !== undefined) out.mtu = a.mtu
    if (a.allmulti !== undefined) out.allmulti = a.allmulti
    if (a.txQLen !== undefined) out.txQLen = a.txQLen
  }

  if (withPrevResult) {
    if (raw.prevResult === undefined) throw new Error('Required prevResult missing')
    out.prevResult = parsePrevResult(raw.prevResult, cniVersion)
  }
  return out
}

/** Whether the config asks for any link attribute (what the backup file is written for). */
export function wantsLinkChange(c: TuningConf): boolean {
  return c.mac !== '' || c.mtu !== 0 || c.promisc || c.allmulti !== undefined || c.txQLen !== undefined
}

const HEX = '[0-9a-fA-F]'

/**
 * Go's net.ParseMAC: `aa:bb:cc:dd:ee:ff`, `aa-bb-...` or `aabb.ccdd.eeff`, 6, 8 or 20 bytes.
 * Returns the bytes, or undefined when Go would refuse it.
 */
export function parseGoMac(s: string): Buffer | undefined {
  let hex: string
  if (s.length >= 14 && (s[2] === ':' || s[2] === '-')) {
    const sep = s[2] // ':' or '-', used throughout
    if (!new RegExp(`^${HEX}{2}(${sep}${HEX}{2})+$`).test(s)) return undefined
    hex = s.split(sep).join('')
  } else if (s.length >= 14 && s[4] === '.') {
    if (!new RegExp(`^${HEX}{4}(\\.${HEX}{4})+$`).test(s)) return undefined
    hex = s.split('.').join('')
  } else {
    return undefined
  }
  const n = hex.length / 2
  if (n !== 6 && n !== 8 && n !== 20) return undefined
  return Buffer.from(hex, 'hex')
}

/**
 * The configured MAC as the kernel prints it (lower case, colons), or the reference's error
 * `invalid args zz for MAC addr: address zz: invalid MAC address`. Go also accepts 8- and 20-byte
 * (InfiniBand) addresses; the netlink layer sets Ethernet ones only, so those are refused here,
 * before anything changes, rather than half-way through an ADD.
 */
export function checkMac(mac: string): string {
  const b = parseGoMac(mac)
  if (!b) throw new Error(`invalid args ${mac} for MAC addr: address ${mac}: invalid MAC address`)
  if (b.length !== 6) throw new Error(`invalid args ${mac} for MAC addr: only 6-byte (Ethernet) addresses can be set`)
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')
}
