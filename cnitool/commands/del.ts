import type { CommandArgs } from '../cli'
import { attachmentFor, loadNetwork, makeRuntime } from '../setup'

/** `cnitool del <network> <netns>`: DEL; the namespace may be gone already (DEL must still clean up). */
export async function run(args: CommandArgs): Promise<void> {
  const list = loadNetwork(String(args.network))
  const rt = attachmentFor(String(args.netns), args.ifname)
  await makeRuntime(args['cache-dir']).del(list, rt)
}
