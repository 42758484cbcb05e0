/**
 * The one executable's entry. It is installed once as `tscni` with a symlink per plugin beside it
 * (bridge, host-local, loopback, ...), and dispatches on the name it was run by, like busybox:
 * a runtime that executes /opt/cni/bin/bridge gets the bridge plugin.
 *
 * Nothing is evaluated here but this table: each entry loads its own module when chosen, so a
 * plugin's start never pays for cnitool's argument parser or the conformance harness.
 */
import * as path from 'node:path'

import { PLUGINS, TOOLS } from './entries'

function run(name: string, args: string[]): unknown {
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

run(path.basename(process.argv0), process.argv.slice(2))
