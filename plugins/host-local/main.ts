import { startPlugin } from '../../lib/skel/main'
import { hostLocalFuncs } from './index'
import { version } from '../../package.json'

startPlugin(hostLocalFuncs, { name: 'host-local', version })
