import { requireCidr, requireIp } from './address'
import type { DNS, IPConfig, Interface, Result, Route } from './types'
import { versionFamily } from './version'
import { goField } from '../../json/go-struct'

/**
 * Reads a result of any supported version (a plugin's or IPAM plugin's output, a prevResult)
 * into the current 1.x shape, checking it field by field. Runs on every plugin start-up that
 * sees a result, so it is hand-written rather than schema-driven.
 *
 * Go-isms kept on purpose, because the reference decodes results with encoding/json:
 * - keys match case-insensitively ("IPs" is read as "ips"); the last matching key wins;
 * - null means absent; unknown keys are ignored; an empty string or array means absent;
 * - fields a version does not define are ignored (an "mtu" on a 0.4.0 interface is dropped).
 * Addresses come back in the reference's canonical text (see address.ts).
 */

type JsonObject = Record<string, unknown>

/**
 * The missing or empty `cniVersion` of `value` is taken from `defaultVersion`; an empty
 * version there too means 0.1.0. The returned object keeps the result's own version label.
 */
export function parseResult(value: unknown, defaultVersion: string): Result {
  const obj = asObject(value, 'result')
  const version = optText(obj, 'cniVersion', '') ?? (defaultVersion || '0.1.0')
  switch (versionFamily(version)) {
    case '020':
      return fromShape020(obj, version)
    case '040':
      return fromShape040(obj, version)
    case '100':
      return fromShape100(obj, version)
  }
}

function fromShape100(obj: JsonObject, version: string): Result {
  return compact({
    cniVersion: version,
    interfaces: optArray(obj, 'interfaces', '', (v, path) => {
      const o = asObject(v, path)
      return compact<Interface>({
        name: requireString(o, 'name', path),
        mac: optText(o, 'mac', path),
        mtu: optInt(o, 'mtu', path),
        sandbox: optText(o, 'sandbox', path),
        socketPath: optText(o, 'socketPath', path),
        pciID: optText(o, 'pciID', path),
      })
    }),
    ips: optArray(obj, 'ips', '', (v, path) => parseIpConfig(asObject(v, path), path)),
    routes: optArray(obj, 'routes', '', parseRoute),
    dns: parseDns(obj),
  })
}

function fromShape040(obj: JsonObject, version: string): Result {
  return compact({
    cniVersion: version,
    interfaces: optArray(obj, 'interfaces', '', (v, path) => {
      const o = asObject(v, path)
      return compact<Interface>({
        name: requireString(o, 'name', path),
        mac: optText(o, 'mac', path),
        sandbox: optText(o, 'sandbox', path),
      })
    }),
    ips: optArray(obj, 'ips', '', (v, path) => {
      const o = asObject(v, path)
      const ip = parseIpConfig(o, path)
      checkIpVersion(o, path, ip.address)
      return ip
    }),
    routes: optArray(obj, 'routes', '', parseRoute),
    dns: parseDns(obj),
  })
}

/** 0.1/0.2 → current, as the reference goes 0.2 → 0.4 → 1.x: ip4 then ip6, their routes concatenated. */
function fromShape020(obj: JsonObject, version: string): Result {
  const ips: IPConfig[] = []
  const routes: Route[] = []
  for (const [key, family] of [['ip4', 4], ['ip6', 6]] as const) {
    const raw = field(obj, key)
    if (raw === undefined) continue
    const o = asObject(raw, key)
    const address = requireCidr(requireString(o, 'ip', key), `${key}.ip`)
    if (address.family !== family) {
      throw new Error(`${key}.ip must be an IPv${family} CIDR string, got ${JSON.stringify(address.text)}`)
    }
    ips.push(compact<IPConfig>({ address: address.text, gateway: optIp(o, 'gateway', key) }))
    routes.push(...(optArray(o, 'routes', key, parseRoute) ?? []))
  }
  return compact({
    cniVersion: version,
    ips: ips.length ? ips : undefined,
    routes: routes.length ? routes : undefined,
    dns: parseDns(obj),
  })
}

function parseIpConfig(o: JsonObject, path: string): IPConfig {
  return compact<IPConfig>({
    interface: optInt(o, 'interface', path),
    address: requireCidr(requireString(o, 'address', path), `${path}.address`).text,
    gateway: optIp(o, 'gateway', path),
  })
}

/**
 * 0.3/0.4 `version` must agree with the address, since the current shape derives it from the
 * address again. The reference trusts the field instead; only a result that breaks the spec's
 * "addresses must be valid for the given version" can tell the difference. Absent: derived.
 */
function checkIpVersion(o: JsonObject, path: string, address: string): void {
  const version = optText(o, 'version', path)
  if (version === undefined) return
  if (version !== '4' && version !== '6') {
    throw new Error(`${path}.version must be "4" or "6", got ${JSON.stringify(version)}`)
  }
  const family = requireCidr(address, `${path}.address`).family
  if (Number(version) !== family) {
    throw new Error(`${path}.version is "${version}" but address ${JSON.stringify(address)} is IPv${family}`)
  }
}

function parseRoute(v: unknown, path: string): Route {
  const o = asObject(v, path)
  return compact<Route>({
    dst: requireCidr(requireString(o, 'dst', path), `${path}.dst`).text,
    gw: optIp(o, 'gw', path),
    mtu: optInt(o, 'mtu', path),
    advmss: optInt(o, 'advmss', path),
    priority: optInt(o, 'priority', path),
    table: optInt(o, 'table', path),
    scope: optInt(o, 'scope', path),
  })
}

function parseDns(obj: JsonObject): DNS | undefined {
  const raw = field(obj, 'dns')
  if (raw === undefined) return undefined
  const o = asObject(raw, 'dns')
  const dns = compact<DNS>({
    nameservers: optStrings(o, 'nameservers', 'dns'),
    domain: optText(o, 'domain', 'dns'),
    search: optStrings(o, 'search', 'dns'),
    options: optStrings(o, 'options', 'dns'),
  })
  return Object.keys(dns).length ? dns : undefined
}

// ---- field access ----

/** Go encoding/json key matching: case-insensitive, last match wins; null reads as absent. */
function field(obj: JsonObject, name: string): unknown {
  return goField(obj, name)
}

function join(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name
}

function asObject(v: unknown, path: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${path} must be an object`)
  return v as JsonObject
}

function requireString(o: JsonObject, name: string, parent: string): string {
  const v = field(o, name)
  if (typeof v !== 'string') throw new Error(`${join(parent, name)} must be a string`)
  return v
}

/** An optional string; '' counts as absent (Go omitempty). */
function optText(o: JsonObject, name: string, parent: string): string | undefined {
  const v = field(o, name)
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new Error(`${join(parent, name)} must be a string`)
  return v === '' ? undefined : v
}

function optIp(o: JsonObject, name: string, parent: string): string | undefined {
  const v = optText(o, name, parent)
  return v === undefined ? undefined : requireIp(v, join(parent, name)).text
}

function optInt(o: JsonObject, name: string, parent: string): number | undefined {
  const v = field(o, name)
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`${join(parent, name)} must be an integer`)
  return v
}

/** An optional array, each element read by `item`; an empty array counts as absent. */
function optArray<T>(o: JsonObject, name: string, parent: string, item: (v: unknown, path: string) => T): T[] | undefined {
  const v = field(o, name)
  if (v === undefined) return undefined
  const path = join(parent, name)
  if (!Array.isArray(v)) throw new Error(`${path} must be an array`)
  return v.length ? v.map((el, i) => item(el, `${path}[${i}]`)) : undefined
}

function optStrings(o: JsonObject, name: string, parent: string): string[] | undefined {
  return optArray(o, name, parent, (v, path) => {
    if (typeof v !== 'string') throw new Error(`${path} must be a string`)
    return v
  })
}

/** Drops undefined properties so results compare and print cleanly. */
function compact<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) {
    if (o[key] === undefined) delete o[key]
  }
  return o
}
