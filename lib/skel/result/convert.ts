import { requireCidr, requireIp } from './address'
import { parseResult } from './parse'
import type {
  AnyResult,
  DNS,
  IPConfig020,
  Interface040,
  IPConfig040,
  Result,
  Result020,
  Result040,
  ResultFamily,
  Route,
  Route020,
} from './types'
import { versionFamily } from './version'
import { goField } from '../../json/go-struct'

/**
 * Conversions between result versions, following the reference's converters
 * (pkg/types/{020,040,100}). Everything goes through the current 1.x shape: 1.x → 0.4 adds
 * `version`, 0.4 → 0.2 keeps the first IP of each family.
 */

export { parseResult }

type ToVersion100 = '1.0.0' | '1.1.0'
type ToVersion040 = '0.3.0' | '0.3.1' | '0.4.0'
type ToVersion020 = '0.1.0' | '0.2.0' | ''

/**
 * Converts `result` (any version label) to `toVersion`'s shape, labelled `toVersion`
 * ('' means 0.1.0, as in the reference). Addresses are re-printed in canonical form.
 * Throws `cannot convert: no valid IP addresses` for a 0.1/0.2 target when there is no IP.
 */
export function convertResult(result: Result, toVersion: ToVersion100): Result
export function convertResult(result: Result, toVersion: ToVersion040): Result040
export function convertResult(result: Result, toVersion: ToVersion020): Result020
export function convertResult(result: Result, toVersion: string): AnyResult
export function convertResult(result: Result, toVersion: string): AnyResult {
  const target = toVersion || '0.1.0'
  const family = versionFamily(target)
  const current = normalize(result, target)
  if (family === '100') return current
  const result040 = to040(current)
  return family === '040' ? result040 : to020(result040)
}

/** The versions each family's Go result type accepts, as its "result type supports" error lists them. */
const FAMILY_VERSIONS: Record<ResultFamily, readonly string[]> = {
  '020': ['', '0.1.0', '0.2.0'],
  '040': ['0.3.0', '0.3.1', '0.4.0'],
  '100': ['1.0.0', '1.1.0'],
}

/**
 * Reads a config's prevResult as libcni's version.ParsePrevResult does: a prevResult without
 * cniVersion takes the config's; one from another result family than the config's version is
 * refused (the runtime must convert cached results first). Errors carry libcni's
 * "could not parse prevResult: " prefix; callers add their own wrapping (loopback adds
 * "failed to parse prevResult: ", bridge CHECK adds none).
 */
export function parsePrevResult(prev: unknown, confVersion: string): Result {
  try {
    const family = versionFamily(confVersion)
    if (typeof prev !== 'object' || prev === null || Array.isArray(prev)) throw new Error('prevResult must be an object')
    const version = ownVersion(prev as Record<string, unknown>) ?? confVersion
    const accepted = FAMILY_VERSIONS[family]
    if (!accepted.includes(version)) {
      throw new Error(`result type supports [${accepted.join(' ')}] but unmarshalled CNIVersion is ${JSON.stringify(version)}`)
    }
    return parseResult(prev, version)
  } catch (err) {
    throw new Error(`could not parse prevResult: ${(err as Error).message}`)
  }
}

/**
 * The prevResult's cniVersion, found the way Go's decoder finds it (case-insensitive, last wins);
 * undefined when absent. A present "" stays "": the reference then refuses it unless the config
 * is 0.1/0.2 (whose result type reads "" as 0.1.0).
 */
function ownVersion(prev: Record<string, unknown>): string | undefined {
  const version = goField(prev, 'cniVersion')
  if (version === undefined) return undefined
  if (typeof version !== 'string') throw new Error('cniVersion must be a string')
  return version
}

/** A fresh copy labelled `version`, with addresses in canonical text (what Go would print). */
function normalize(r: Result, version: string): Result {
  const out: Result = { cniVersion: version }
  if (r.interfaces?.length) out.interfaces = r.interfaces.map((i) => ({ ...i }))
  if (r.ips?.length) {
    out.ips = r.ips.map((ip, i) => {
      const copy = { ...ip, address: requireCidr(ip.address, `ips[${i}].address`).text }
      if (ip.gateway) copy.gateway = requireIp(ip.gateway, `ips[${i}].gateway`).text
      else delete copy.gateway
      return copy
    })
  }
  if (r.routes?.length) out.routes = r.routes.map((rt, i) => normalizeRoute(rt, `routes[${i}]`))
  const dns = copyDns(r.dns)
  if (dns) out.dns = dns
  return out
}

function normalizeRoute(rt: Route, path: string): Route {
  const copy = { ...rt, dst: requireCidr(rt.dst, `${path}.dst`).text }
  if (rt.gw) copy.gw = requireIp(rt.gw, `${path}.gw`).text
  else delete copy.gw
  return copy
}

function copyDns(dns: DNS | undefined): DNS | undefined {
  if (!dns) return undefined
  const out: DNS = {}
  if (dns.nameservers?.length) out.nameservers = [...dns.nameservers]
  if (dns.domain) out.domain = dns.domain
  if (dns.search?.length) out.search = [...dns.search]
  if (dns.options?.length) out.options = [...dns.options]
  return Object.keys(out).length ? out : undefined
}

/** 1.x → 0.3/0.4: add `version` (IPv4-mapped counts as 4), drop the 1.x-only interface fields. */
function to040(r: Result): Result040 {
  const out: Result040 = { cniVersion: r.cniVersion }
  if (r.interfaces) {
    out.interfaces = r.interfaces.map(({ name, mac, sandbox }) => {
      const intf: Interface040 = { name }
      if (mac !== undefined) intf.mac = mac
      if (sandbox !== undefined) intf.sandbox = sandbox
      return intf
    })
  }
  if (r.ips) {
    out.ips = r.ips.map((ip): IPConfig040 => ({
      ...ip,
      version: requireCidr(ip.address, 'address').family === 4 ? '4' : '6',
    }))
  }
  // Routes go across verbatim: the reference keeps mtu/advmss/priority/table/scope here too.
  if (r.routes) out.routes = r.routes
  if (r.dns) out.dns = r.dns
  return out
}

/**
 * 0.3/0.4 → 0.1/0.2: the first IP of each version becomes ip4/ip6, every other IP and all
 * interfaces are lost. A route follows its dst's family into ip4/ip6 if that exists, keeping
 * only dst/gw; otherwise it is dropped.
 */
function to020(r: Result040): Result020 {
  let ip4: IPConfig020 | undefined
  let ip6: IPConfig020 | undefined
  for (const ip of r.ips ?? []) {
    const entry: IPConfig020 = { ip: ip.address }
    if (ip.gateway !== undefined) entry.gateway = ip.gateway
    if (ip.version === '4') ip4 ??= entry
    else ip6 ??= entry
  }
  if (!ip4 && !ip6) throw new Error('cannot convert: no valid IP addresses')
  for (const route of r.routes ?? []) {
    const target = requireCidr(route.dst, 'dst').family === 4 ? ip4 : ip6
    if (!target) continue
    const entry: Route020 = { dst: route.dst }
    if (route.gw !== undefined) entry.gw = route.gw
    ;(target.routes ??= []).push(entry)
  }
  const out: Result020 = { cniVersion: r.cniVersion }
  if (ip4) out.ip4 = ip4
  if (ip6) out.ip6 = ip6
  if (r.dns) out.dns = r.dns
  return out
}
