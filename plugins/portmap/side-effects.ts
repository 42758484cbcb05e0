/**
 * What portmap does beside its rules: dropping stale UDP conntrack flows of the mapped ports (so a
 * flow created before the mapping, or towards a container that is gone, stops blackholing the
 * port), and route_localnet on the interface that reaches the container (so 127.0.0.1:<hostPort>
 * can be DNATed to it).
 */
import type { Prefix } from '../../lib/ip/prefix'
import { writeSysctl } from '../../lib/ip/sysctl'
import { Conntrack, IPPROTO, Rtnl } from '../../lib/netlink'
import { writeAllSync } from '../../lib/skel/stdio'
import type { PortMapping } from './config'

/** Deletes the UDP flows to each mapped UDP host port, in the given families. Failures are only logged. */
export function dropStaleUdpFlows(mappings: readonly PortMapping[], families: readonly (4 | 6)[], label: string): void {
  const ports = [...new Set(mappings.filter((m) => m.protocol.toLowerCase() === 'udp').map((m) => m.hostPort))]
  if (ports.length === 0 || families.length === 0) return
  let ct: Conntrack | undefined
  try {
    ct = Conntrack.open()
    for (const f of families) for (const port of ports) ct.deleteByDestinationPort(f, IPPROTO.UDP, port)
  } catch (err) {
    writeAllSync(2, `failed to delete stale UDP conntrack entries for ${label}: ${(err as Error).message}\n`)
  } finally {
    ct?.close()
  }
}

/**
 * route_localnet=1 on the interface the host routes the container's address through (the bridge),
 * like the reference: never reverted, as other containers behind it may rely on it. No route: skipped.
 */
export function enableRouteLocalnet(cip: Prefix): void {
  const rtnl = Rtnl.open()
  let name: string | undefined
  try {
    const route = rtnl.routeTo(cip.ip.toString())
    if (route?.index) name = rtnl.getLinkByIndex(route.index)?.name
  } catch {
    name = undefined
  } finally {
    rtnl.close()
  }
  if (!name) return
  try {
    writeSysctl(`net/ipv4/conf/${name}/route_localnet`, '1')
  } catch (err) {
    throw new Error(`unable to enable route_localnet: ${(err as Error).message}`)
  }
}
