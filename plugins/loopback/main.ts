import { startPlugin } from '../../lib/skel/main'
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus } from './index'
import { version } from '../../package.json'

startPlugin({ add: cmdAdd, del: cmdDel, check: cmdCheck, status: cmdStatus, gc: cmdGc }, { name: 'loopback', version })
