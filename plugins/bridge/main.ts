// The bridge executable: the composition root. It alone decides which delegates may run in-process:
// host-local, when CNI_PATH resolves it to the host-local of this very install (lib/ipam checks
// that); any other IPAM plugin, or another host-local, is executed as usual.
// Every bridge verb but STATUS/GC talks rtnetlink: load the transport now, so the startup snapshot
// carries it (lib/netlink loads it on first use, ~1.5 ms at run time; the native binding itself is
// still opened only when the first socket is made).
import 'netlink/dist/netlink'
import { startPlugin } from '../../lib/skel/main'
import { registerInProcessDelegate } from '../../lib/ipam/delegate'
import { hostLocalFuncs } from '../host-local/index'
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus } from './index'
import { version } from '../../package.json'

registerInProcessDelegate('host-local', { funcs: hostLocalFuncs, info: { name: 'host-local', version } })
startPlugin({ add: cmdAdd, del: cmdDel, check: cmdCheck, status: cmdStatus, gc: cmdGc }, { name: 'bridge', version })
