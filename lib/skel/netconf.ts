import { CniError, ErrorCode } from './errors'
import { validateNetworkName } from './validate-names'

/** The part of every network config that skel itself checks before a plugin sees it. */
export interface BaseNetConf {
  cniVersion?: string
  name: string
  type?: string
  [key: string]: unknown
}

/**
 * Parses stdin and checks `name` the way the reference skel does for every verb but VERSION:
 * bad JSON or wrong types are code 6, a missing or invalid name is code 7.
 */
export function parseNetConf(stdin: Buffer): BaseNetConf {
  let conf: unknown
  try {
    conf = JSON.parse(stdin.toString('utf8'))
  } catch (err) {
    throw new CniError(ErrorCode.DecodingFailure, `error unmarshall network config: ${(err as Error).message}`)
  }
  if (conf === null) conf = {}
  if (typeof conf !== 'object' || Array.isArray(conf)) {
    const what = Array.isArray(conf) ? 'an array' : typeof conf
    throw new CniError(ErrorCode.DecodingFailure, `error unmarshall network config: expected a JSON object, got ${what}`)
  }
  const obj = conf as Record<string, unknown>
  if (obj.name !== undefined && obj.name !== null && typeof obj.name !== 'string') {
    throw new CniError(ErrorCode.DecodingFailure, 'error unmarshall network config: "name" must be a string')
  }
  validateNetworkName((obj.name as string | undefined) ?? '')
  return obj as BaseNetConf
}

/** The config's spec version: absent or "" means 0.1.0 (the reference's reading); a non-string is code 6. */
export function decodeConfVersion(conf: BaseNetConf): string {
  const v = conf.cniVersion
  if (v === undefined || v === null || v === '') return '0.1.0'
  if (typeof v !== 'string') {
    throw new CniError(ErrorCode.DecodingFailure, '"cniVersion" must be a string')
  }
  return v
}
