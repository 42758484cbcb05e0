/**
 * Which mappings apply to an address family, and how their ports group into entry rules: the
 * reference's rules, quirks it needs for interop included (see chained-plugins.md §1.1, §1.3).
 */
import { parseIP } from '../../lib/ip/address'
import type { PortMapping } from './config'

type Family = 4 | 6

/**
 * The mappings of one family. A hostIP of the other family skips the mapping; an unparsable one
 * counts as IPv6 (the reference's reading); an unspecified address (0.0.0.0, ::) means every
 * address and comes back as ''.
 */
export function mappingsFor(mappings: readonly PortMapping[], family: Family): PortMapping[] {
  const out: PortMapping[] = []
  for (const m of mappings) {
    if (m.hostIP === '') {
      out.push(m)
      continue
    }
    const ip = parseIP(m.hostIP)
    const f: Family = ip ? ip.family : 6
    if (f !== family) continue
    out.push(ip && ip.value === 0n ? { ...m, hostIP: '' } : m)
  }
  return out
}

/** Go's sort of strings: by byte value. */
const byBytes = (a: string, b: string): number => (Buffer.compare(Buffer.from(a), Buffer.from(b)))

/**
 * The entry rules' groups: per protocol (sorted by byte value, case kept, so "TCP" and "tcp" are two
 * groups), the host ports in input order, at most 15 per rule (multiport's limit). Every mapping
 * counts, even one its hostIP skips for this family, as in the reference.
 */
export function portGroups(mappings: readonly PortMapping[]): { protocol: string; ports: number[] }[] {
  const byProto = new Map<string, number[]>()
  for (const m of mappings) {
    const list = byProto.get(m.protocol) ?? []
    list.push(m.hostPort)
    byProto.set(m.protocol, list)
  }
  const out: { protocol: string; ports: number[] }[] = []
  for (const protocol of [...byProto.keys()].sort(byBytes)) {
    const ports = byProto.get(protocol)!
    for (let i = 0; i < ports.length; i += 15) out.push({ protocol, ports: ports.slice(i, i + 15) })
  }
  return out
}
