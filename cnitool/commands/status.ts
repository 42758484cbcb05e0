import type { CommandArgs } from '../cli'
import { loadNetwork, makeRuntime } from '../setup'

/** `cnitool status <network>`: STATUS on every plugin; the first error (e.g. code 50) is the answer. */
export async function run(args: CommandArgs): Promise<void> {
  const list = loadNetwork(String(args.network))
  await makeRuntime(args['cache-dir']).status(list)
}
