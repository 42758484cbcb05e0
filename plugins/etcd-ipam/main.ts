import { pluginMain } from '../../lib/skel/main'
import { etcdIpamFuncs } from './index'
import { version } from '../../package.json'

export function main(): Promise<void> {
  return pluginMain(etcdIpamFuncs, { name: 'etcd-ipam', version })
}
