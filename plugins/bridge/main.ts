// The bridge plugin's entry: the composition root. It alone decides which delegates may run
// in-process: host-local, when CNI_PATH resolves it to this very executable (lib/ipam checks that);
// any other IPAM plugin, or another host-local, is executed as usual.
import { pluginMain } from '../../lib/skel/main'
import { registerInProcessDelegate } from '../../lib/ipam/delegate'
import { hostLocalFuncs } from '../host-local/index'
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus } from './index'
import { version } from '../../package.json'

export function main(): Promise<void> {
  registerInProcessDelegate('host-local', { funcs: hostLocalFuncs, info: { name: 'host-local', version } })
  return pluginMain({ add: cmdAdd, del: cmdDel, check: cmdCheck, status: cmdStatus, gc: cmdGc }, { name: 'bridge', version })
}
