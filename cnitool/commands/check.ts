import type { CommandArgs } from '../cli'
import { attachmentFor, loadNetwork, makeRuntime } from '../setup'
import { requireNetns } from './netns'

/** `cnitool check <network> <netns>`: CHECK; silent on success, like the reference. */
export async function run(args: CommandArgs): Promise<void> {
  const list = loadNetwork(String(args.network))
  const rt = attachmentFor(String(args.netns), args.ifname)
  requireNetns(rt.netns)
  await makeRuntime(args['cache-dir']).check(list, rt)
}
