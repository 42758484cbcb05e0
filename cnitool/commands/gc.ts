import type { CommandArgs } from '../cli'
import { loadNetwork, makeRuntime } from '../setup'

/** `cnitool gc <network>`: no attachment is declared valid, so every cached one of the network is deleted. */
export async function run(args: CommandArgs): Promise<void> {
  const list = loadNetwork(String(args.network))
  await makeRuntime(args['cache-dir']).gc(list)
}
