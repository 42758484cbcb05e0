import { convertResult, formatResult } from '../../lib/skel/result'
import type { CommandArgs } from '../cli'
import { attachmentFor, loadNetwork, makeRuntime } from '../setup'
import { requireNetns } from './netns'

/** `cnitool add <network> <netns>`: ADD, then the result on stdout (4-space JSON, in the result's own version). */
export async function run(args: CommandArgs): Promise<void> {
  const list = loadNetwork(String(args.network))
  const rt = attachmentFor(String(args.netns), args.ifname)
  requireNetns(rt.netns)
  const result = await makeRuntime(args['cache-dir']).add(list, rt)
  const text = formatResult(convertResult(result, result.cniVersion))
  // Byte for byte what the reference prints (no newline), plus a newline for a person's terminal.
  process.stdout.write(process.stdout.isTTY ? `${text}\n` : text)
}
