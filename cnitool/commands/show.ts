import { type CachedAttachment, cachedResultOf } from '../../lib/runtime'
import type { CommandArgs } from '../cli'
import { cacheDir, makeRuntime } from '../setup'
import { table } from './table'

/** `cnitool show <network>`: the network's attachments as the result cache records them. */
export async function run(args: CommandArgs): Promise<void> {
  const network = String(args.network)
  const attachments = makeRuntime(args['cache-dir']).cachedAttachments().filter((a) => a.networkName === network)
  if (args.json) {
    const rows = attachments.map((a) => ({
      containerId: a.containerId,
      ifName: a.ifName,
      netns: a.netns ?? '',
      ...(a.cniArgs ? { cniArgs: a.cniArgs } : {}),
      ...(a.capabilityArgs ? { capabilityArgs: a.capabilityArgs } : {}),
      ...(a.result ? { result: a.result } : {}),
      cacheFile: a.file,
    }))
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
    return
  }
  if (attachments.length === 0) {
    process.stdout.write(`no attachments of network ${JSON.stringify(network)} in ${cacheDir(args['cache-dir'])}/results\n`)
    return
  }
  const rows = attachments.map((a) => [a.containerId, a.ifName, a.netns ?? '', addresses(a)])
  process.stdout.write(table(['CONTAINER ID', 'IFNAME', 'NETNS', 'ADDRESSES'], rows))
}

function addresses(a: CachedAttachment): string {
  try {
    const own = typeof a.result?.cniVersion === 'string' ? a.result.cniVersion : '0.1.0'
    const result = cachedResultOf(a.result ?? null, own === '' ? '0.1.0' : own)
    return (result.ips ?? []).map((ip) => ip.address).join(',') || '-'
  } catch {
    return '(unreadable result)'
  }
}
