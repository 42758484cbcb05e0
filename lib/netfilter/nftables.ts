/**
 * nft, spawned: a batch is one argument (`nft '<commands>'`, applied as one atomic transaction, the
 * same as `nft -f`), in nft's language or, with `-j`, its JSON schema; listings come back as JSON
 * (`nft -j list ...`). Not `nft -f -`: nft opens /dev/stdin by path, which fails on the socketpair
 * Node gives a child as its stdin. No temporary file either.
 *
 * Rules are found again by their comment and removed by their handle, in one batch.
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

/**
 * Applies a batch (one `nft` run, all or nothing) written in nft's language, or in its JSON schema
 * with `json`; `check` only asks whether nft would accept it.
 */
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

/**
 * The rules of what `nft -j list <what...>` lists (`['chain', 'inet', 'tbl', 'chn']`,
 * `['table', 'bridge', 'nat']`); none when the table or chain does not exist.
 */
export async function nftListRules(what: readonly string[]): Promise<NftRule[]> {
  const objects = await nftList(what)
  return objects ? rulesOf(objects) : []
}

/** The batch line that deletes one listed rule: `delete rule <family> <table> <chain> handle <n>`. */
export function nftDeleteRuleLine(r: NftRule): string {
  return `delete rule ${r.family} ${r.table} ${r.chain} handle ${r.handle}\n`
}

/** Deletes the listed rules in one batch; nothing is run for none. */
export async function nftDeleteRules(rules: readonly NftRule[]): Promise<void> {
  if (rules.length) await nftApply(rules.map(nftDeleteRuleLine).join(''))
}

/** The rules among listed objects. */
export function rulesOf(objects: readonly NftObject[]): NftRule[] {
  return objects
    .filter((o) => 'rule' in o)
    .map((o) => o.rule as unknown as NftRule)
}

/** The chains among listed objects. */
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
