import { CniError, ErrorCode } from './errors'
import { validateNetworkName } from './validate-names'
import { goJsonKind, goSyntaxError } from '../json/go-syntax'

/** How Go names the struct the reference's skel decodes into first (it prints it in its error). */
const GO_NAME_STRUCT = 'struct { Name string "json:\\"name\\"" }'

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
  const decodeError = (msg: string): CniError => new CniError(ErrorCode.DecodingFailure, `error unmarshall network config: ${msg}`)
  let conf: unknown
  try {
    conf = JSON.parse(stdin.toString('utf8'))
  } catch (err) {
    // Go's words for the syntax error, whatever the JavaScript engine would have said.
    throw decodeError(goSyntaxError(stdin) ?? (err as Error).message)
  }
  if (conf === null) conf = {}
  if (typeof conf !== 'object' || Array.isArray(conf)) {
    throw decodeError(`json: cannot unmarshal ${goJsonKind(conf)} into Go value of type ${GO_NAME_STRUCT}`)
  }
  const obj = conf as Record<string, unknown>
  if (obj.name !== undefined && obj.name !== null && typeof obj.name !== 'string') {
    throw decodeError(`json: cannot unmarshal ${goJsonKind(obj.name)} into Go struct field .name of type string`)
  }
  validateNetworkName((obj.name as string | undefined) ?? '')
  return obj as BaseNetConf
}

/** The config's spec version: absent or "" means 0.1.0 (the reference's reading); a non-string is code 6. */
export function decodeConfVersion(conf: BaseNetConf): string {
  const v = conf.cniVersion
  if (v === undefined || v === null || v === '') return '0.1.0'
  if (typeof v !== 'string') {
    throw new CniError(ErrorCode.DecodingFailure, `decoding version from network config: json: cannot unmarshal ${goJsonKind(v)} into Go struct field .cniVersion of type string`)
  }
  return v
}
