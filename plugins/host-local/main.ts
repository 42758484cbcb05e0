import { pluginMain } from '../../lib/skel/main'
import { hostLocalFuncs } from './index'
import { version } from '../../package.json'

export function main(): Promise<void> {
  return pluginMain(hostLocalFuncs, { name: 'host-local', version })
}
