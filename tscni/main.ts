/**
 * The one executable's entry. It is installed once as `tscni` with a symlink per plugin beside it
 * (bridge, host-local, loopback, ...), and dispatches on the name it was run by, like busybox:
 * a runtime that executes /opt/cni/bin/bridge gets the bridge plugin.
 *
 * Nothing is evaluated here but the lookup: each entry loads its own chunk when chosen (entries.ts).
 */
import { PLUGINS, TOOLS } from './entries'

function run(name: string, args: string[]): Promise<unknown> {
  const entry = PLUGINS[name] ?? TOOLS[name]
  if (entry) return entry(args)
  const [sub, ...rest] = args
  if (sub === undefined || sub === '-h' || sub === '--help') return TOOLS.help([])
  if (sub === '--version' || sub === '-v') return TOOLS.version([])
  const chosen = PLUGINS[sub] ?? TOOLS[sub]
  if (!chosen) {
    process.stderr.write(`tscni: unknown command ${JSON.stringify(sub)} (try \`tscni help\`)\n`)
    process.exit(2)
  }
  return chosen(rest)
}

/** A tool that failed outside its own error handling (plugins print CNI errors themselves). */
function fail(err: unknown): void {
  process.stderr.write(`tscni: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}

// The invoked name's last component (node:path would cost a millisecond to load under Bun).
run(process.argv0.slice(process.argv0.lastIndexOf('/') + 1), process.argv.slice(2)).catch(fail)
