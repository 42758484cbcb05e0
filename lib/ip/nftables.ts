/**
 * nft, spawned: a transaction is one argument (`nft '<commands>'`, applied as one atomic batch, the
 * same as `nft -f`); listings come back as JSON (`nft -j list ...`). Not `nft -f -`: nft opens
 * /dev/stdin by path, which fails on the socketpair Node gives a child as its stdin.
 */
import { ToolError, ToolMissingError, runToolOk } from './exec'

/** One object of a `nft -j list` answer: {table: {...}}, {chain: {...}}, {rule: {...}}, ... */
export type NftObject = Record<string, Record<string, unknown>>

/** A rule as listed: where it is, its handle, its comment. */
export interface NftRule {
  family: string
  table: string
  chain: string
  handle: number
  comment?: string
}

export interface NftChain {
  family: string
  table: string
  name: string
  handle: number
}

/** Applies a batch written in nft's language, or in its JSON schema with `json`. */
export async function nftApply(script: string, opts: { json?: boolean; check?: boolean } = {}): Promise<void> {
  await runToolOk('nft', [...(opts.check ? ['--check'] : []), ...(opts.json ? ['-j'] : []), script])
}

/** True when nft says the listed object does not exist (the table or chain has not been made yet). */
export function isNftNotFound(err: unknown): boolean {
  return err instanceof ToolError && /No such file or directory/.test(err.result.stderr)
}

/**
 * `nft -j list <what...>` as its objects (metainfo dropped); null when the table or chain does not
 * exist.
 */
export async function nftList(what: readonly string[]): Promise<NftObject[] | null> {
  let out: string
  try {
    out = (await runToolOk('nft', ['-j', 'list', ...what])).stdout
  } catch (err) {
    if (isNftNotFound(err)) return null
    throw err
  }
  const parsed = JSON.parse(out) as { nftables?: NftObject[] }
  return (parsed.nftables ?? []).filter((o) => !('metainfo' in o))
}

export function rulesOf(objects: readonly NftObject[]): NftRule[] {
  return objects
    .filter((o) => 'rule' in o)
    .map((o) => o.rule as unknown as NftRule)
}

export function chainsOf(objects: readonly NftObject[]): NftChain[] {
  return objects
    .filter((o) => 'chain' in o)
    .map((o) => o.chain as unknown as NftChain)
}

/**
 * Whether nft can be used here: it runs and may change the ruleset (a dry run of adding a table),
 * like knftables.New's check.
 */
export async function nftUsable(): Promise<boolean> {
  try {
    await nftApply('add table ip supports_nftables_test\n', { check: true })
    return true
  } catch (err) {
    if (err instanceof ToolMissingError || err instanceof ToolError) return false
    throw err
  }
}

/** Go's %q for the ASCII texts we put in nft comments. */
export function nftQuote(s: string): string {
  return JSON.stringify(s)
}
