import * as fs from 'node:fs'
import * as path from 'node:path'
import { type Case, CaseFailure, type CaseResult, CaseSkip, type PluginName } from './case'
import { CaseContext } from './context'
import { execPlugin } from './exec'

const PLUGINS: readonly PluginName[] = ['loopback', 'host-local', 'bridge']
const ALL_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']

export interface PluginInfo {
  name: PluginName
  /** What VERSION answered, in spec order; empty when it did not answer. */
  supportedVersions: string[]
  /** The newest of them: the version cases speak. */
  version: string
}

function compare(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  return 0
}

/** Finds the plugins a directory holds and asks each which versions it speaks. */
export async function discoverPlugins(dir: string): Promise<PluginInfo[]> {
  const out: PluginInfo[] = []
  for (const name of PLUGINS) {
    const file = path.join(dir, name)
    if (!fs.existsSync(file)) continue
    const v = await execPlugin(file, { env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"1.1.0"}' })
    const listed: string[] = Array.isArray(v.json?.supportedVersions) ? v.json.supportedVersions : []
    const supportedVersions = ALL_VERSIONS.filter((x) => listed.includes(x))
    const version = supportedVersions.at(-1) ?? '0.1.0'
    out.push({ name, supportedVersions, version })
  }
  return out
}

export interface RunOptions {
  /** Only cases whose id contains this text. */
  filter?: string
  /** Cases run at once (each in its own namespaces). */
  concurrency?: number
  onResult?: (r: CaseResult) => void
}

/** Runs every applicable case against the plugins in `dir`. */
export async function runCases(dir: string, cases: readonly Case[], opts: RunOptions = {}): Promise<CaseResult[]> {
  const plugins = await discoverPlugins(dir)
  const jobs: Array<{ c: Case; p: PluginInfo }> = []
  for (const c of cases) {
    if (opts.filter && !c.id.includes(opts.filter)) continue
    for (const p of plugins) if (c.plugins.includes(p.name)) jobs.push({ c, p })
  }
  const results: CaseResult[] = new Array(jobs.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++
      const { c, p } = jobs[i]!
      results[i] = await runOne(dir, c, p)
      opts.onResult?.(results[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker))
  return results
}

/** What a failing case saw, as one short line (plugin output is often indented JSON). */
function oneLine(seen: unknown): string {
  const text = typeof seen === 'string' ? seen : JSON.stringify(seen)
  const flat = (text ?? String(seen)).replace(/\s+/g, ' ').trim()
  return flat.length > 240 ? `${flat.slice(0, 240)}...` : flat
}

async function runOne(dir: string, c: Case, p: PluginInfo): Promise<CaseResult> {
  const base = { id: c.id, plugin: p.name, title: c.title, level: c.level, section: c.section, ...(c.note ? { note: c.note } : {}) }
  const started = Date.now()
  if (c.minVersion && compare(p.version, c.minVersion) < 0) {
    return { ...base, verdict: 'skip', reason: `needs spec ${c.minVersion}; the plugin speaks up to ${p.version}`, ms: 0 }
  }
  const ctx = new CaseContext(p.name, dir, p.version, p.supportedVersions)
  try {
    await c.run(ctx)
    return { ...base, verdict: 'pass', ms: Date.now() - started }
  } catch (err) {
    if (err instanceof CaseSkip) return { ...base, verdict: 'skip', reason: err.message, ms: Date.now() - started }
    const reason = err instanceof CaseFailure
      ? err.message + (err.seen === undefined ? '' : ` [seen: ${oneLine(err.seen)}]`)
      : `harness error: ${(err as Error).stack ?? err}`
    return { ...base, verdict: 'fail', reason, ms: Date.now() - started }
  } finally {
    ctx.cleanup()
  }
}
