import Ajv, { type ValidateFunction } from 'ajv'
import common from '../schemas/common.schema.json'
import result020 from '../schemas/result-020.schema.json'
import result040 from '../schemas/result-040.schema.json'
import result100 from '../schemas/result-100.schema.json'
import versionInfo from '../schemas/version.schema.json'
import { parseAddr } from '../../lib/ip/address'

// The harness is not on a plugin's start-up path, so it compiles its schemas at run time.
let compiled: Record<'020' | '040' | '100' | 'version', ValidateFunction> | undefined

function validators() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false })
    ajv.addSchema(common)
    compiled = {
      '020': ajv.compile(result020),
      '040': ajv.compile(result040),
      '100': ajv.compile(result100),
      version: ajv.compile(versionInfo),
    }
  }
  return compiled
}

export function familyOf(version: string): '020' | '040' | '100' {
  if (version === '' || version === '0.1.0' || version === '0.2.0') return '020'
  if (version === '0.3.0' || version === '0.3.1' || version === '0.4.0') return '040'
  return '100'
}

function ajvProblems(v: ValidateFunction): string[] {
  return (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`)
}

const isCidr = (s: unknown): boolean => {
  if (typeof s !== 'string') return false
  const slash = s.indexOf('/')
  if (slash < 0 || !/^\d{1,3}$/.test(s.slice(slash + 1))) return false
  const addr = parseAddr(s.slice(0, slash))
  return !!addr && Number(s.slice(slash + 1)) <= (addr.family === 4 ? 32 : 128)
}
const isIp = (s: unknown): boolean => typeof s === 'string' && parseAddr(s) !== null

/**
 * Problems with an ADD result for `version` (empty when it is fine): the JSON Schema of that
 * version's shape, plus what a schema cannot say (CIDRs and addresses parse, interface indexes
 * point into `interfaces`, an IPAM result has no interfaces).
 */
export function resultProblems(result: unknown, version: string, opts: { ipam?: boolean } = {}): string[] {
  const family = familyOf(version)
  const validate = validators()[family]
  if (!validate(result)) return ajvProblems(validate)
  const r = result as any
  const out: string[] = []
  if (r.cniVersion !== version) out.push(`cniVersion is ${JSON.stringify(r.cniVersion)}, the config said ${JSON.stringify(version)}`)
  if (family === '020') {
    for (const k of ['ip4', 'ip6']) {
      if (!r[k]) continue
      if (!isCidr(r[k].ip)) out.push(`${k}.ip ${JSON.stringify(r[k].ip)} is not a CIDR`)
      if (r[k].gateway !== undefined && !isIp(r[k].gateway)) out.push(`${k}.gateway is not an IP`)
    }
    return out
  }
  const interfaces: unknown[] = r.interfaces ?? []
  if (opts.ipam && r.interfaces !== undefined) out.push('an IPAM result must not carry interfaces')
  ;(r.ips ?? []).forEach((ip: any, i: number) => {
    if (!isCidr(ip.address)) out.push(`ips[${i}].address ${JSON.stringify(ip.address)} is not a CIDR`)
    if (ip.gateway !== undefined && !isIp(ip.gateway)) out.push(`ips[${i}].gateway is not an IP`)
    if (opts.ipam && ip.interface !== undefined) out.push(`ips[${i}].interface must not be set by IPAM`)
    if (ip.interface !== undefined && ip.interface >= interfaces.length) {
      out.push(`ips[${i}].interface ${ip.interface} points past interfaces (${interfaces.length})`)
    }
    if (family === '040' && ip.version !== (parseAddr(String(ip.address).split('/')[0] ?? '')?.family === 4 ? '4' : '6')) {
      out.push(`ips[${i}].version ${ip.version} does not match ${ip.address}`)
    }
  })
  ;(r.routes ?? []).forEach((rt: any, i: number) => {
    if (!isCidr(rt.dst)) out.push(`routes[${i}].dst is not a CIDR`)
    if (rt.gw !== undefined && !isIp(rt.gw)) out.push(`routes[${i}].gw is not an IP`)
  })
  return out
}

export function versionInfoProblems(v: unknown): string[] {
  const validate = validators().version
  return validate(v) ? [] : ajvProblems(validate)
}
