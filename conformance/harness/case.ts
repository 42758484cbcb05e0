import type { CaseContext } from './context'

/** How binding a case is: the spec's MUST/SHOULD, or the reference plugins' behaviour (REF). */
export type Level = 'MUST' | 'SHOULD' | 'REF'

export type PluginName = 'loopback' | 'host-local' | 'bridge'

/** One conformance case. `run` throws a CaseFailure (via ctx.expect) when the plugin fails it. */
export interface Case {
  /** Stable id, e.g. `env.missing-containerid`. */
  id: string
  title: string
  level: Level
  /** Where the rule comes from, e.g. `SPEC §2 Parameters` or `REF skel`. */
  section: string
  /** The plugins the case applies to; it runs once per plugin present in the directory. */
  plugins: readonly PluginName[]
  /** The oldest spec version the case needs (GC/STATUS: 1.1.0, CHECK: 0.4.0). */
  minVersion?: string
  /**
   * When the plugin fails a SPEC rule because the reference plugins do the same (a known
   * divergence), say so: the report shows it, and the rule is still checked.
   */
  note?: string
  run(ctx: CaseContext): Promise<void>
}

/** A failed expectation: the case's verdict, with what was seen. */
export class CaseFailure extends Error {
  override readonly name = 'CaseFailure'
  constructor(
    message: string,
    readonly seen?: unknown,
  ) {
    super(message)
  }
}

/** The case cannot run here (a missing kernel feature, a plugin that lacks a version). */
export class CaseSkip extends Error {
  override readonly name = 'CaseSkip'
}

export type Verdict = 'pass' | 'fail' | 'skip'

export interface CaseResult {
  id: string
  plugin: PluginName
  title: string
  level: Level
  section: string
  verdict: Verdict
  /** Why it failed or was skipped. */
  reason?: string
  note?: string
  ms: number
}
