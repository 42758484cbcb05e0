/**
 * Which packet filter portmap programs (upstream HEAD's rule): the config's `backend`, else
 * iptables, unless iptables cannot be used here and nftables can.
 */
import { iptablesUsable } from '../../lib/netfilter/iptables'
import { nftUsable } from '../../lib/netfilter/nftables'
import { type Backend, type PortMapConf, checkIptablesOptions, checkNftOptions } from './config'

export async function chooseBackend(c: PortMapConf): Promise<Backend> {
  if (c.backend) return c.backend
  if (await iptablesUsable(4)) return 'iptables'
  return (await nftUsable()) ? 'nftables' : 'iptables'
}

/** The backend, with the options the other one would need refused (the reference's messages). */
export async function backendFor(c: PortMapConf): Promise<Backend> {
  const backend = await chooseBackend(c)
  if (backend === 'nftables') checkNftOptions(c)
  else checkIptablesOptions(c)
  return backend
}
