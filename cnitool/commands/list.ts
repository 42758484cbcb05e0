import { listNetworkConfigFiles } from '../../lib/runtime'
import type { CommandArgs } from '../cli'
import { netconfDir } from '../setup'
import { table } from './table'

/** `cnitool list`: every config file under NETCONFPATH in lookup order, with the network it defines. */
export async function run(args: CommandArgs): Promise<void> {
  const dir = netconfDir()
  const entries = listNetworkConfigFiles(dir)
  if (args.json) {
    const rows = entries.map((e) => ({
      file: e.file,
      ...(e.list
        ? { name: e.list.name, cniVersion: e.list.cniVersion, plugins: e.list.plugins.map((p) => p.type), ...(e.shadowed ? { shadowed: true } : {}) }
        : { error: e.error }),
    }))
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
    return
  }
  if (entries.length === 0) {
    process.stdout.write(`no network configs in ${dir}\n`)
    return
  }
  const rows = entries.map((e) =>
    e.list
      ? [e.list.name, e.list.cniVersion || '(0.1.0)', e.list.plugins.map((p) => p.type).join(','), e.file + (e.shadowed ? '  (shadowed by an earlier file)' : '')]
      : ['?', '', '', `${e.file}  ERROR: ${e.error}`],
  )
  process.stdout.write(table(['NETWORK', 'VERSION', 'PLUGINS', 'FILE'], rows))
  if (entries.some((e) => e.error && e.kind === 'conflist')) {
    process.stdout.write('note: while a .conflist here cannot be parsed, looking up any network in this directory fails\n')
  }
}
