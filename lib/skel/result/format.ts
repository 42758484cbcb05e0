import type { AnyResult, DNS, Interface, IPConfig020, IPConfig040, Result, Result020, Result040, ResultFamily, Route } from './types'
import { versionFamily } from './version'
import { escapeLikeGo } from '../../json/go-escape'

/**
 * Prints a result the way the reference (libcni v1.3, Go encoding/json) does, so our stdout is
 * byte-identical to its: 4-space indent, no trailing newline, empty strings/arrays omitted.
 * - 1.x: keys sorted at every level (the reference re-marshals through a map), empty dns omitted;
 * - 0.3.x/0.4.0: Go struct field order, `"dns": {}` always present;
 * - 0.1.0/0.2.0: {cniVersion, ip4, ip6, dns}, `"dns": {}` always present.
 *
 * The shape comes from the cniVersion label unless `shape` says otherwise. `shape` exists for a
 * reference quirk: loopback prints its 1.x-shaped result labelled "0.2.0" unconverted, i.e.
 * formatResult(result, '100') on a result whose cniVersion is "0.2.0".
 */
export function formatResult(r: AnyResult, shape: ResultFamily = versionFamily(r.cniVersion)): string {
  checkShape(r, shape)
  let body: object
  switch (shape) {
    case '100':
      body = sortKeys(body100(r as Result)) as Json
      break
    case '040':
      body = body040(r as Result040)
      break
    case '020':
      body = body020(r as Result020)
      break
  }
  return escapeLikeGo(JSON.stringify(body, null, 4))
}

/** Catches a result printed without convertResult first, which would silently lose fields. */
function checkShape(r: AnyResult, shape: ResultFamily): void {
  const o = r as { ip4?: unknown; ip6?: unknown; ips?: { version?: string }[]; interfaces?: unknown; routes?: unknown }
  const is020 = o.ip4 !== undefined || o.ip6 !== undefined
  const isList = o.ips !== undefined || o.interfaces !== undefined || o.routes !== undefined
  const missingVersion = shape === '040' && (o.ips ?? []).some((ip) => ip.version === undefined)
  if ((shape === '020' && isList) || (shape !== '020' && is020) || missingVersion) {
    throw new Error(
      `cannot print result labelled ${JSON.stringify(r.cniVersion)} in the ${shape} shape: it has the fields of another version; convert it first`,
    )
  }
}

type Json = Record<string, unknown>

/** Sets a key unless the value is what Go's omitempty drops (undefined, '' or []). */
function put(o: Json, key: string, value: unknown): void {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return
  o[key] = value
}

/** For Go int fields with omitempty: 0 is not printed. */
function putNonZero(o: Json, key: string, value: number | undefined): void {
  if (value) o[key] = value
}

function body100(r: Result): Json {
  const o: Json = {}
  put(o, 'cniVersion', r.cniVersion)
  put(o, 'interfaces', r.interfaces?.map(interface100))
  put(o, 'ips', r.ips?.map((ip) => ipConfig({}, ip)))
  put(o, 'routes', r.routes?.map(route))
  const dns = dnsObject(r.dns)
  if (Object.keys(dns).length) o.dns = dns
  return o
}

function body040(r: Result040): Json {
  const o: Json = {}
  put(o, 'cniVersion', r.cniVersion)
  put(o, 'interfaces', r.interfaces?.map((i) => interface040(i)))
  put(o, 'ips', r.ips?.map((ip: IPConfig040) => ipConfig({ version: ip.version }, ip)))
  put(o, 'routes', r.routes?.map(route))
  o.dns = dnsObject(r.dns)
  return o
}

function body020(r: Result020): Json {
  const o: Json = {}
  put(o, 'cniVersion', r.cniVersion)
  if (r.ip4) o.ip4 = ipConfig020(r.ip4)
  if (r.ip6) o.ip6 = ipConfig020(r.ip6)
  o.dns = dnsObject(r.dns)
  return o
}

function interface040(i: Interface): Json {
  // `name` has no omitempty in the reference: printed even when empty.
  const o: Json = { name: i.name }
  put(o, 'mac', i.mac)
  put(o, 'sandbox', i.sandbox)
  return o
}

function interface100(i: Interface): Json {
  const o: Json = { name: i.name }
  put(o, 'mac', i.mac)
  putNonZero(o, 'mtu', i.mtu)
  put(o, 'sandbox', i.sandbox)
  put(o, 'socketPath', i.socketPath)
  put(o, 'pciID', i.pciID)
  return o
}

/** {version?, interface?, address, gateway?}; `into` carries the leading version for 0.3/0.4. */
function ipConfig(into: Json, ip: { interface?: number; address: string; gateway?: string }): Json {
  // `interface` is a pointer in the reference: absent is omitted, 0 is printed.
  if (ip.interface !== undefined) into.interface = ip.interface
  into.address = ip.address
  put(into, 'gateway', ip.gateway)
  return into
}

function ipConfig020(ip: IPConfig020): Json {
  const o: Json = { ip: ip.ip }
  put(o, 'gateway', ip.gateway)
  put(o, 'routes', ip.routes?.map(route))
  return o
}

function route(rt: Partial<Route> & { dst: string }): Json {
  const o: Json = { dst: rt.dst }
  put(o, 'gw', rt.gw)
  putNonZero(o, 'mtu', rt.mtu)
  putNonZero(o, 'advmss', rt.advmss)
  putNonZero(o, 'priority', rt.priority)
  // table/scope are pointers in the reference: printed whenever set, 0 included.
  if (rt.table !== undefined) o.table = rt.table
  if (rt.scope !== undefined) o.scope = rt.scope
  return o
}

function dnsObject(dns: DNS | undefined): Json {
  const o: Json = {}
  if (!dns) return o
  put(o, 'nameservers', dns.nameservers)
  put(o, 'domain', dns.domain)
  put(o, 'search', dns.search)
  put(o, 'options', dns.options)
  return o
}

/** Go map keys marshal in byte order; all our keys are ASCII, where that is the default sort. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (typeof v !== 'object' || v === null) return v
  const out: Json = {}
  for (const key of Object.keys(v).sort()) out[key] = sortKeys((v as Json)[key])
  return out
}
