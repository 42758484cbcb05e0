/**
 * Everything the kernel shows about a set of test namespaces, for side-by-side comparisons:
 * `ip -d -j link`, `ip -d -j addr`, `ip -d -j route show table all`, `bridge -d -j vlan`, every
 * sysctl under /proc/sys/net, `iptables-save`, `ip6tables-save` and `nft list ruleset`.
 *
 * Normalised, and nothing else:
 * - random MACs (every link address that is not all-zero/all-one and not one a test chose): named
 *   after the first link (namespace order, then name) that has it, `<mac ctr/eth0>`, everywhere they
 *   appear (bridge ids, nft rules, stdout); IPv6 link-local addresses made from them, `fe80::<eui64
 *   ctr/eth0>`, and other link-local addresses in order of appearance, `fe80::<other 1>`;
 * - interface indexes: `ifindex` dropped, a veth's `link_index` replaced by its peer's name;
 * - host veth names (`veth` + 8 random hex digits): `veth<1>`, `veth<2>`... in ifindex order;
 * - kernel timers: bridge and port `*_timer`, address lifetimes that are not forever, route `expires`;
 * - packet counters of iptables and nft (traffic the kernel sends by itself, e.g. IPv6 DAD).
 * Paths a test passes (namespace paths, data directories) are replaced by labels too.
 */
import { spawnSync } from 'node:child_process'
import type { TestNetns } from './netns'

const SECTIONS = ['link', 'addr', 'route', 'vlan', 'sysctl', 'iptables', 'ip6tables', 'nft'] as const
type Section = (typeof SECTIONS)[number]

const SCRIPT = [
  'printf "\\n@@link\\n"; ip -d -j link show',
  'printf "\\n@@addr\\n"; ip -d -j addr show',
  'printf "\\n@@route\\n"; ip -d -j route show table all',
  'printf "\\n@@vlan\\n"; bridge -d -j vlan show 2>&1',
  'printf "\\n@@sysctl\\n"; cd /proc/sys/net && grep -r . . 2>/dev/null; cd /',
  'printf "\\n@@iptables\\n"; iptables-save 2>&1',
  'printf "\\n@@ip6tables\\n"; ip6tables-save 2>&1',
  'printf "\\n@@nft\\n"; nft list ruleset 2>&1',
].join('\n')

/** Sysctls whose values the kernel changes by itself (conntrack counters appear with masquerade). */
const VOLATILE_SYSCTLS = [/^netfilter\/nf_conntrack_count$/]

export type RawState = Record<Section, string>

/** One nsenter into `ns` reading every section. */
export function readRaw(ns: TestNetns): RawState {
  const r = spawnSync('/usr/bin/nsenter', [`--net=${ns.path}`, '--', '/bin/sh', '-c', SCRIPT], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    maxBuffer: 64 << 20,
    timeout: 30_000,
  })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`reading ${ns.name}: ${r.stderr}`)
  const out = {} as RawState
  let cur: Section | undefined
  for (const line of r.stdout.split('\n')) {
    const m = /^@@(\w+)$/.exec(line)
    if (m && (SECTIONS as readonly string[]).includes(m[1])) {
      cur = m[1] as Section
      out[cur] = ''
    } else if (cur) out[cur] += line + '\n'
  }
  return out
}

function ipAddrs(ns: TestNetns): any[] {
  const r = spawnSync('/usr/bin/nsenter', [`--net=${ns.path}`, '--', '/usr/sbin/ip', '-j', 'addr', 'show'], { encoding: 'utf8' })
  return r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : []
}

/**
 * True while the kernel has work pending that a snapshot would catch half done: an address in
 * IPv6 DAD (tentative, not failed), or a link whose operstate does not follow its carrier yet
 * (linkwatch applies carrier changes to operstate, IFF_RUNNING and the routes' linkdown flag up to
 * a second later).
 */
function busy(links: any[]): boolean {
  return links.some((l: any) => {
    if ((l.addr_info ?? []).some((a: any) => a.tentative && !a.dadfailed)) return true
    const flags: string[] = l.flags ?? []
    if (!flags.includes('UP') || l.operstate === 'UNKNOWN') return false
    const carrier = flags.includes('LOWER_UP')
    return carrier ? l.operstate === 'DOWN' || l.operstate === 'LOWERLAYERDOWN' : l.operstate === 'UP'
  })
}

/** Waits (up to `ms`) until nothing is pending in these namespaces (see `busy`). */
export async function settle(namespaces: TestNetns[], ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (namespaces.some((ns) => busy(ipAddrs(ns))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
}

const MAC_RE = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g
const FIXED_MACS = new Set(['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff'])
const HOST_VETH_RE = /^veth[0-9a-f]{8}$/

/** The 8 groups of an IPv6 address, or undefined. */
function v6Groups(text: string): number[] | undefined {
  if (!/^[0-9a-f:]+$/.test(text)) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const part = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const head = part(halves[0])
  const tail = halves.length === 2 ? part(halves[1]) : []
  const fill = 8 - head.length - tail.length
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined
  const groups = [...head, ...Array(halves.length === 2 ? fill : 0).fill(0), ...tail]
  return groups.some((g) => !(g >= 0 && g <= 0xffff)) ? undefined : groups
}

function eui64(mac: string): number[] {
  const b = mac.split(':').map((x) => parseInt(x, 16))
  return [0xfe80, 0, 0, 0, ((b[0] ^ 2) << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]]
}

export interface Snapshot {
  /** Per namespace label: the normalised state. */
  state: Record<string, NsState>
  /** Applies the same names to any other text of this side (stdout, stderr). */
  norm(text: string): string
}

export interface NsState {
  links: Record<string, any>
  routes: Record<string, any>
  vlan: unknown
  sysctl: Record<string, any>
  iptables: string[]
  ip6tables: string[]
  nft: string[]
}

export interface SnapshotOptions {
  /** Strings to replace before anything else (paths, names), e.g. { [ctr.path]: '<netns ctr>' }. */
  subst?: Record<string, string>
  /** MACs a test chose: kept as they are. */
  keepMacs?: string[]
}

/**
 * Snapshots the namespaces (in the order given: it decides which link names a shared MAC) and
 * normalises them. Call `settle` first when IPv6 addresses were just added.
 */
export function snapshot(namespaces: Record<string, TestNetns>, o: SnapshotOptions = {}): Snapshot {
  const labels = Object.keys(namespaces)
  const raw: Record<string, RawState> = {}
  for (const l of labels) raw[l] = readRaw(namespaces[l])
  const keep = new Set([...FIXED_MACS, ...(o.keepMacs ?? []).map((m) => m.toLowerCase())])

  // Host veth names by ifindex order, over all namespaces.
  const links: Record<string, any[]> = {}
  for (const l of labels) links[l] = JSON.parse(raw[l].link.trim() || '[]')
  const vethNames = new Map<string, string>()
  for (const l of labels) {
    for (const link of [...links[l]].sort((a, b) => a.ifindex - b.ifindex)) {
      if (HOST_VETH_RE.test(link.ifname) && !vethNames.has(link.ifname)) vethNames.set(link.ifname, `veth<${vethNames.size + 1}>`)
    }
  }
  const substs: [string, string][] = Object.entries(o.subst ?? {})
    .filter(([k]) => k !== '')
    .sort(([a], [b]) => b.length - a.length)
  const vethRe = /\bveth[0-9a-f]{8}\b/g
  const rename = (text: string) => {
    for (const [from, to] of substs) text = text.split(from).join(to)
    return text.replace(vethRe, (v) => vethNames.get(v) ?? v)
  }

  // MACs named after the first link (namespace order, then normalised name) that has them.
  const macNames = new Map<string, string>()
  for (const l of labels) {
    const sorted = [...links[l]].map((x) => ({ name: rename(x.ifname), mac: String(x.address ?? '').toLowerCase() })).sort((a, b) => (a.name < b.name ? -1 : 1))
    for (const { name, mac } of sorted) {
      if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) && !keep.has(mac) && !macNames.has(mac)) macNames.set(mac, `<mac ${l}/${name}>`)
    }
  }
  const euiNames = new Map<string, string>()
  for (const [mac, name] of macNames) euiNames.set(eui64(mac).join(':'), `fe80::<eui64 ${name.slice(5, -1)}>`)
  for (const mac of keep) if (mac.length === 17 && !FIXED_MACS.has(mac)) euiNames.set(eui64(mac).join(':'), `fe80::<eui64 ${mac}>`)
  const otherLL = new Map<string, string>()
  const llRe = /\bfe80:[0-9a-f:]*[0-9a-f]\b/g
  const norm = (text: string) =>
    rename(text)
      .replace(MAC_RE, (m) => macNames.get(m.toLowerCase()) ?? m)
      .replace(llRe, (a) => {
        const g = v6Groups(a)
        if (!g || g[0] !== 0xfe80 || g[1] || g[2] || g[3]) return a
        const key = g.join(':')
        const known = euiNames.get(key)
        if (known) return known
        if (!otherLL.has(key)) otherLL.set(key, `fe80::<other ${otherLL.size + 1}>`)
        return otherLL.get(key)!
      })

  // ifindex -> "<ns>/<name>" for veth peers.
  const byIndex = new Map<string, any>()
  for (const l of labels) for (const x of links[l]) byIndex.set(`${l}#${x.ifindex}`, { ns: l, link: x })
  const peerOf = (l: string, x: any): string | undefined => {
    if (x.link_index === undefined) return undefined
    const candidates = labels
      .filter((m) => (x.link_netnsid === undefined ? m === l : m !== l))
      .map((m) => byIndex.get(`${m}#${x.link_index}`))
      .filter((c) => c && (c.link.link_index === x.ifindex || c.link.link_index === undefined))
    return candidates.length === 1 ? `${candidates[0].ns}/${rename(candidates[0].link.ifname)}` : `<ifindex ${x.link_index}, ${candidates.length} candidates>`
  }

  const state: Record<string, NsState> = {}
  for (const l of labels) {
    const addrs: any[] = JSON.parse(raw[l].addr.trim() || '[]')
    const addrOf = new Map(addrs.map((a) => [a.ifname, a.addr_info ?? []]))
    const linkState: Record<string, any> = {}
    for (const x of links[l]) {
      const { ifindex, link_index, ...rest } = x
      void ifindex
      if (link_index !== undefined) rest.peer = peerOf(l, x)
      const info = rest.linkinfo
      for (const data of [info?.info_data, info?.info_slave_data]) {
        if (!data) continue
        for (const k of Object.keys(data)) {
          if (/_timer$/.test(k)) data[k] = '<timer>'
          // Bridge ids print the MAC without leading zeros ("8000.a2:36:97:6e:3:d4").
          if (/(^|_)(bridge_id|root_id|designated_root)$/.test(k) && typeof data[k] === 'string') {
            data[k] = data[k].replace(/^([0-9a-f]+)\.([0-9a-f:]+)$/, (_: string, prio: string, mac: string) => `${prio}.${mac.split(':').map((b) => b.padStart(2, '0')).join(':')}`)
          }
        }
      }
      const ai = (addrOf.get(x.ifname) ?? []).map((a: any, i: number) => {
        const out = { order: i, ...a }
        for (const k of ['valid_life_time', 'preferred_life_time']) if (out[k] !== undefined && out[k] !== 4294967295) out[k] = '<timer>'
        return out
      })
      const addrMap: Record<string, any> = {}
      for (const a of ai) addrMap[`${a.family} ${a.local}/${a.prefixlen}`] = a
      rest.addr_info = addrMap
      linkState[rename(x.ifname)] = rest
    }
    const routes: Record<string, any> = {}
    for (const r of JSON.parse(raw[l].route.trim() || '[]')) {
      const key = `${r.table ?? 'main'} ${r.type ?? 'unicast'} ${r.dst} dev ${r.dev ?? '-'}${r.metric !== undefined ? ` metric ${r.metric}` : ''}${r.gateway ? ` via ${r.gateway}` : ''}`
      const out = { ...r }
      if (out.expires !== undefined) out.expires = '<timer>'
      routes[key in routes ? `${key} (2)` : key] = out
    }
    // Nested by path segment, so a whole interface directory that differs is one difference.
    const sysctl: Record<string, any> = {}
    for (const line of raw[l].sysctl.split('\n')) {
      const m = /^\.\/([^:]+):(.*)$/.exec(line)
      if (!m || VOLATILE_SYSCTLS.some((re) => re.test(m[1]))) continue
      const parts = rename(m[1]).split('/')
      let node = sysctl
      for (const p of parts.slice(0, -1)) node = node[p] ??= {}
      const leaf = parts[parts.length - 1]
      node[leaf] = leaf in node ? `${node[leaf]}\n${m[2]}` : m[2]
    }
    const lines = (s: string) => s.split('\n').filter((x) => x !== '')
    const vlanText = raw[l].vlan.trim()
    let vlan: unknown = vlanText
    try {
      vlan = JSON.parse(vlanText)
    } catch {
      /* an error text: compared as it is */
    }
    state[l] = {
      links: linkState,
      routes,
      vlan,
      sysctl,
      iptables: lines(raw[l].iptables).filter((x) => !x.startsWith('#')).map((x) => x.replace(/\[\d+:\d+\]/g, '[0:0]')),
      ip6tables: lines(raw[l].ip6tables).filter((x) => !x.startsWith('#')).map((x) => x.replace(/\[\d+:\d+\]/g, '[0:0]')),
      nft: lines(raw[l].nft).map((x) => x.replace(/counter packets \d+ bytes \d+/g, 'counter packets 0 bytes 0').replace(/ # handle \d+/g, '')),
    }
  }
  return { state: JSON.parse(norm(JSON.stringify(state))), norm }
}
