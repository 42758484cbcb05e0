import { pluginMain } from '../../lib/skel/main'
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus } from './index'
import { version } from '../../package.json'

export function main(): Promise<void> {
  return pluginMain({ add: cmdAdd, del: cmdDel, check: cmdCheck, status: cmdStatus, gc: cmdGc }, { name: 'tuning', version })
}
