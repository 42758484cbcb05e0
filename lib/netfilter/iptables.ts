/**
 * iptables and ip6tables, one family and one table at a time: the operations go-iptables gives the
 * reference plugins, and the idempotent helpers their pkg/utils builds on them (ensure a chain,
 * insert-unique, delete what jumps to a chain).
 *
 * Every run is `<iptables|ip6tables> --wait -t <table> <op> <chain> [rule...]` (`--wait`: queue
 * behind any other holder of the xtables lock instead of failing). The binaries are the ones on
 * PATH, the same the reference runs, so both implementations see and remove each other's rules
 * (iptables-nft or iptables-legacy, whichever the host's alternatives pick).
 *
 * Errors are exec.ts' ToolError, shown as `running [iptables -t <table> <op> ...]: exit status N:
 * <stderr>` (without `--wait`; go-iptables shows the resolved path and a trailing `--wait`). A plugin
 * adds the context its reference prints (`unable to setup DNAT: ...`).
 */
import { ToolError, ToolMissingError, type ToolResult, runTool } from './exec'

export type Family = 4 | 6
export type Table = 'filter' | 'nat' | 'mangle' | 'raw' | 'security'
/** A rule as iptables takes it after the chain name: `['-s', '10.1.2.3', '-j', 'ACCEPT']`. */
export type RuleSpec = readonly string[]

export const IPTABLES_TOOL: Record<Family, string> = { 4: 'iptables', 6: 'ip6tables' }
export const RESTORE_TOOL: Record<Family, string> = { 4: 'iptables-restore', 6: 'ip6tables-restore' }

/** One line of an iptables-restore batch: an operation and its arguments, e.g. `['-A', 'X', '-j', 'ACCEPT']`. */
export type RestoreLine = readonly string[]

/** An argument as iptables-restore reads it: quoted when it holds spaces or quotes (`\"` inside). */
export function restoreQuote(arg: string): string {
  return /^[^\s"'\\]+$/.test(arg) ? arg : `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** What iptables prints when a chain or rule is not there (go-iptables' IsNotExist texts). */
const NOT_EXIST = [
  'Bad rule (does a matching rule exist in that chain?)',
  'No chain/target/match by that name',
  'No such file or directory',
  'does not exist',
]

/** Whether a failed run says the chain or rule is not there (go-iptables' Error.IsNotExist). */
export function isNotExist(r: ToolResult): boolean {
  return NOT_EXIST.some((s) => r.stderr.includes(s))
}

/** One table of one family: `new Iptables(4, 'nat')`. Holds no state; cheap to make. */
export class Iptables {
  readonly tool: string

  constructor(
    readonly family: Family,
    readonly table: Table,
  ) {
    this.tool = IPTABLES_TOOL[family]
  }

  /** `<tool> --wait -t <table> args...`, whatever its exit status. Rejects only when it cannot start. */
  run(args: readonly string[]): Promise<ToolResult> {
    return runTool(this.tool, ['--wait', '-t', this.table, ...args])
  }

  /** run, throwing ToolError on a non-zero exit. */
  async runOk(args: readonly string[]): Promise<ToolResult> {
    const r = await this.run(args)
    if (r.code !== 0) throw this.error(args, r)
    return r
  }

  /** The ToolError of a failed `run(args)`. */
  error(args: readonly string[], r: ToolResult): ToolError {
    return new ToolError(this.tool, ['-t', this.table, ...args], r)
  }

  /** Whether `chain` exists (`-S <chain> 1`, go-iptables' ChainExists: cheap even for long chains). */
  async chainExists(chain: string): Promise<boolean> {
    const args = ['-S', chain, '1']
    const r = await this.run(args)
    if (r.code === 0) return true
    if (r.code === 1) return false
    throw this.error(args, r)
  }

  /** Makes `chain` unless it exists (`-N`). True when this call made it (then it is empty). */
  async ensureChain(chain: string): Promise<boolean> {
    const args = ['-N', chain]
    const r = await this.run(args)
    if (r.code === 0) return true
    if (r.stderr.includes('Chain already exists')) return false
    throw this.error(args, r)
  }

  /** Removes every rule of `chain` (`-F`). False when there is no such chain. */
  async flushChain(chain: string): Promise<boolean> {
    return this.unlessNotExist(['-F', chain])
  }

  /** Deletes `chain` (`-X`; it must be empty and unreferenced). False when there is no such chain. */
  async deleteChain(chain: string): Promise<boolean> {
    return this.unlessNotExist(['-X', chain])
  }

  /**
   * `-S [chain]` as arguments, one array per line: `['-N', 'X']`, `['-A', 'X', '-s', ...]`
   * (quoted comments unquoted, see splitRuleLine). The whole table without `chain`.
   */
  async listRules(chain?: string): Promise<string[][]> {
    const r = await this.runOk(chain === undefined ? ['-S'] : ['-S', chain])
    return r.stdout
      .split('\n')
      .map(splitRuleLine)
      .filter((rule) => rule.length > 0)
  }

  /** Whether `chain` holds `rule` (`-C`; exit status 1 means no). */
  async ruleExists(chain: string, rule: RuleSpec): Promise<boolean> {
    const args = ['-C', chain, ...rule]
    const r = await this.run(args)
    if (r.code === 0) return true
    if (r.code === 1) return false
    throw this.error(args, r)
  }

  /** Appends `rule` to `chain` (`-A`), even when it is there already. */
  async append(chain: string, rule: RuleSpec): Promise<void> {
    await this.runOk(['-A', chain, ...rule])
  }

  /** Inserts `rule` at `position` (1 = first) of `chain` (`-I`), even when it is there already. */
  async insert(chain: string, rule: RuleSpec, position = 1): Promise<void> {
    await this.runOk(['-I', chain, String(position), ...rule])
  }

  /** `-C`, then `-A` when the rule is missing. True when it appended. */
  async appendUnique(chain: string, rule: RuleSpec): Promise<boolean> {
    if (await this.ruleExists(chain, rule)) return false
    await this.append(chain, rule)
    return true
  }

  /** `-C`, then `-I <chain> <position>` when the rule is missing (anywhere). True when it inserted. */
  async insertUnique(chain: string, rule: RuleSpec, position = 1): Promise<boolean> {
    if (await this.ruleExists(chain, rule)) return false
    await this.insert(chain, rule, position)
    return true
  }

  /** Deletes `rule` from `chain` (`-D`). False when the rule or the chain is not there. */
  async deleteRule(chain: string, rule: RuleSpec): Promise<boolean> {
    return this.unlessNotExist(['-D', chain, ...rule])
  }

  /**
   * Deletes every rule of `chain` whose target is `-j <target>`, whatever else it matches: how the
   * reference tears down references to a chain it is about to delete, so rules made by either
   * implementation (or an older rule shape) go too. `listed` is a listing of `chain` already at
   * hand (from listRules). Returns how many rules went.
   */
  async deleteRulesJumpingTo(chain: string, target: string, listed?: readonly (readonly string[])[]): Promise<number> {
    let deleted = 0
    for (const rule of listed ?? (await this.listRules(chain))) {
      if (rule[0] !== '-A' || rule[1] !== chain) continue
      if (rule[rule.length - 2] !== '-j' || rule[rule.length - 1] !== target) continue
      if (await this.deleteRule(chain, rule.slice(2))) deleted++
    }
    return deleted
  }

  /**
   * Applies several operations in one process and one transaction: `iptables-restore --noflush`
   * with `*<table>`, the lines, `COMMIT`. Either every line takes effect or none does. One process
   * instead of one per rule: each iptables run costs several milliseconds, which is most of a
   * bridge ADD with masquerade.
   */
  async restore(lines: readonly RestoreLine[]): Promise<void> {
    if (lines.length === 0) return
    const input = `*${this.table}\n${lines.map((l) => l.map(restoreQuote).join(' ')).join('\n')}\nCOMMIT\n`
    const tool = RESTORE_TOOL[this.family]
    const args = ['--wait', '--noflush']
    const r = await runTool(tool, args, input)
    if (r.code !== 0) throw new ToolError(tool, [...args, `<<< ${lines.map((l) => l.join(' ')).join('; ')}`], r)
  }

  private async unlessNotExist(args: readonly string[]): Promise<boolean> {
    const r = await this.run(args)
    if (r.code === 0) return true
    if (isNotExist(r)) return false
    throw this.error(args, r)
  }
}

/**
 * Whether iptables (or ip6tables) can be used here: it runs and can list the filter table's INPUT
 * chain, the check the reference makes before it prefers iptables.
 */
export async function iptablesUsable(family: Family = 4): Promise<boolean> {
  try {
    return (await new Iptables(family, 'filter').run(['-n', '-L', 'INPUT'])).code === 0
  } catch (err) {
    if (err instanceof ToolMissingError) return false
    throw err
  }
}

/**
 * Runs `fn` for each family, IPv4 first, one after the other: with iptables-nft the first use of a
 * family creates its nft table, and the reference's order (ip before ip6) keeps `nft list ruleset`
 * the same on a node whichever implementation set it up. Every family runs even when one fails;
 * the first failure is thrown at the end.
 */
export async function eachFamily(families: Iterable<Family>, fn: (family: Family) => Promise<void>): Promise<void> {
  let failure: { err: unknown } | undefined
  for (const family of [...new Set(families)].sort()) {
    try {
      await fn(family)
    } catch (err) {
      failure ??= { err }
    }
  }
  if (failure) throw failure.err
}

/**
 * Splits one line of `iptables -S` into arguments: words separated by spaces, and double-quoted
 * strings with `\"` and `\\` escapes (how iptables prints comments).
 */
export function splitRuleLine(line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    if (line[i] === ' ') {
      i++
      continue
    }
    let word = ''
    if (line[i] === '"') {
      i++
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++
        word += line[i++]
      }
      i++
    } else {
      while (i < line.length && line[i] !== ' ') word += line[i++]
    }
    out.push(word)
  }
  return out
}
