/**
 * Which of prevResult's addresses the mappings point at (the reference's selection): walking `ips`
 * in order, the first IPv4 and the first IPv6 that belong to the container interface. An address
 * whose `interface` index names another interface (or one outside the container) is skipped; one
 * without an index, or with an index out of range, counts.
 */
import { type Prefix, parsePrefix } from '../../lib/ip/prefix'
import type { Result } from '../../lib/skel'

export interface ContainerIPs {
  /** The address with its prefix (the hairpin rule matches the container's whole subnet). */
  v4?: Prefix
  v6?: Prefix
}

export function containerIPs(result: Result, ifName: string): ContainerIPs {
  const out: ContainerIPs = {}
  const interfaces = result.interfaces ?? []
  for (const ipc of result.ips ?? []) {
    const idx = ipc.interface
    if (idx !== undefined && idx >= 0 && idx < interfaces.length) {
      const intf = interfaces[idx]
      if (intf.name !== ifName || !intf.sandbox) continue
    }
    const p = parsePrefix(ipc.address)
    if (p.ip.family === 4) out.v4 ??= p
    else out.v6 ??= p
  }
  return out
}
