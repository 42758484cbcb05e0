import { CniError, ErrorCode } from '../skel/errors'

/** The shape of an ajv standalone validator (generated at build time by scripts/gen-validators.mjs). */
export interface GeneratedValidator {
  (data: unknown): boolean
  errors?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> | null
}

/** `/ipam/ranges/0/1/subnet` -> `ipam.ranges[0][1].subnet`: the way people write the field. */
export function fieldName(instancePath: string): string {
  let out = ''
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~')
    out += /^\d+$/.test(key) ? `[${key}]` : out === '' ? key : `.${key}`
  }
  return out
}

/**
 * Validates a config against its generated schema. A failure is code 7 and names the field and
 * what was expected, e.g. `"mtu" must be integer`.
 */
export function checkConfig<T>(validate: GeneratedValidator, conf: unknown): T {
  if (validate(conf)) return conf as T
  const first = validate.errors?.[0]
  const field = first ? fieldName(first.instancePath) : ''
  const what = first?.message ?? 'is invalid'
  const msg = field ? `"${field}" ${what}` : `network config ${what}`
  throw new CniError(ErrorCode.InvalidNetworkConfig, `failed to load netconf: ${msg}`)
}
