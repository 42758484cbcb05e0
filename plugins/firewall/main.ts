import { pluginMain } from '../../lib/skel/main'
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus } from './index'
import { version } from '../../package.json'

/** The reference supports 0.4.0 and 1.0.0 (CHECK came with 0.4.0); 1.1.0 adds GC and STATUS. */
const SUPPORTED = ['0.4.0', '1.0.0', '1.1.0']

export function main(): Promise<void> {
  return pluginMain({ add: cmdAdd, del: cmdDel, check: cmdCheck, status: cmdStatus, gc: cmdGc }, { name: 'firewall', version, supportedVersions: SUPPORTED })
}
