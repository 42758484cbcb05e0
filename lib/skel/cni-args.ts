/**
 * CNI_ARGS: `K=V;K2=V2`. Deprecated by the spec in favour of `args`, still sent by runtimes (K8S_POD_*)
 * and by people (IP=, MAC=). Parsed like the reference: keys are case-sensitive, a pair must have
 * exactly one '=', unknown keys are an error unless IgnoreUnknown is true.
 */

/** Turns one value into what the plugin wants, throwing an Error with the reason when it can't. */
export type ArgParser<T> = (value: string) => T

export type ArgParsers = Record<string, ArgParser<unknown>>

export type ParsedArgs<P extends ArgParsers> = { [K in keyof P]?: ReturnType<P[K]> }

/** Go's UnmarshallableBool: 1/true/0/false in any case. */
export function parseArgBool(value: string): boolean {
  const v = value.toLowerCase()
  if (v === '1' || v === 'true') return true
  if (v === '0' || v === 'false') return false
  throw new Error(`boolean unmarshal error: invalid input ${value}`)
}

export function parseCniArgs<P extends ArgParsers>(raw: string, parsers: P): ParsedArgs<P> {
  const out: Record<string, unknown> = {}
  if (raw === '') return out as ParsedArgs<P>
  const unknown: string[] = []
  let ignoreUnknown = false
  for (const pair of raw.split(';')) {
    const kv = pair.split('=')
    if (kv.length !== 2) throw new Error(`ARGS: invalid pair ${JSON.stringify(pair)}`)
    const [key, value] = kv as [string, string]
    const parse = key === 'IgnoreUnknown' ? parseArgBool : Object.hasOwn(parsers, key) ? parsers[key] : undefined
    if (!parse) {
      unknown.push(pair)
      continue
    }
    let parsed: unknown
    try {
      parsed = parse(value)
    } catch (err) {
      throw new Error(`ARGS: error parsing value of pair ${JSON.stringify(pair)}: ${(err as Error).message}`)
    }
    if (key === 'IgnoreUnknown') ignoreUnknown = parsed as boolean
    else out[key] = parsed
  }
  if (unknown.length > 0 && !ignoreUnknown) {
    throw new Error(`ARGS: unknown args [${unknown.map((u) => JSON.stringify(u)).join(' ')}]`)
  }
  return out as ParsedArgs<P>
}
