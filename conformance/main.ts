// `conformance --plugins DIR [--ref DIR] [--json] [--only TEXT] [--jobs N] [--list]`: judges the
// CNI plugins (loopback, host-local, bridge) in DIR against the spec and the reference behaviour.
// Needs root (it makes network namespaces). Exit code 1 only when a MUST case fails.
import { parseArgs } from 'node:util'
import { ALL_CASES } from './cases'
import { formatDiff, formatReport, summarize } from './harness/report'
import { runCases } from './harness/runner'

const USAGE = `usage: conformance --plugins DIR [--ref DIR] [--json] [--only TEXT] [--jobs N] [--list]

  --plugins DIR   the plugin directory to judge (it holds loopback, host-local and/or bridge)
  --ref DIR       also judge DIR (e.g. /usr/lib/cni) and list the cases whose verdicts differ
  --json          print the results as JSON instead of the report
  --only TEXT     run only the cases whose id contains TEXT
  --jobs N        cases run at once (default 4); each has its own namespaces
  --list          list the cases and exit`

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      plugins: { type: 'string' }, ref: { type: 'string' }, json: { type: 'boolean' },
      only: { type: 'string' }, jobs: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return console.log(USAGE), 0
  if (values.list) {
    for (const c of ALL_CASES) console.log(`${c.level.padEnd(6)} ${c.id.padEnd(34)} ${c.plugins.join(',').padEnd(26)} ${c.title}`)
    return 0
  }
  if (!values.plugins) return console.error(USAGE), 2
  const opts = { ...(values.only ? { filter: values.only } : {}), concurrency: Number(values.jobs ?? 4) }
  const ours = await runCases(values.plugins, ALL_CASES, opts)
  const ref = values.ref ? await runCases(values.ref, ALL_CASES, opts) : undefined
  if (values.json) {
    console.log(JSON.stringify({ plugins: values.plugins, results: ours, summary: summarize(ours), ...(ref ? { ref: values.ref, refResults: ref, refSummary: summarize(ref) } : {}) }, null, 2))
  } else {
    console.log(formatReport(values.plugins, ours))
    if (ref && values.ref) console.log(`\n${formatReport(values.ref, ref)}\n\n${formatDiff(values.plugins, values.ref, ours, ref)}`)
  }
  return summarize(ours).mustFailures > 0 ? 1 : 0
}

export function main(args: string[]): Promise<void> {
  return run(args).then((code) => process.exit(code), (err) => {
    console.error(err instanceof Error ? err.stack : err)
    process.exit(2)
  })
}
