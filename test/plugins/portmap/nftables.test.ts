// The nftables backend's objects, as upstream HEAD's portmap makes them (chained-plugins.md §1.8;
// Debian 1.1.1 has no nftables backend to compare with): table cni_hostport per family, its shared
// chains, one DNAT rule per mapping and the masquerade rules, each commented with the container ID;
// options of the other backend refused with HEAD's messages.
import t from 'tap'
import { addrOf, attachBridge, errorOf, expectOk, mustIn, net, nftOf, portmapConf, runPortmap, world } from './fixture'

const N = net('pmnft', '1.1.0', '10.139.1.0/24', 'fd00:139::/64')
const ID = 'pm-nft-1'

/** `nft list table <family> cni_hostport`, trimmed lines (no handles, no counters). */
function table(ns: Parameters<typeof mustIn>[0], family: 'ip' | 'ip6'): string[] {
  return mustIn(ns, ['nft', 'list', 'table', family, 'cni_hostport']).split('\n').map((l) => l.trim()).filter((l) => l !== '')
}

const shared = (family: 'ip' | 'ip6', rulesOf: { hostports: string[]; masquerading?: string[] }, cond = '') => [
  `table ${family} cni_hostport {`,
  'comment "CNI portmap plugin"',
  'chain hostports {',
  ...rulesOf.hostports,
  '}',
  'chain hostip_hostports {',
  '}',
  'chain hostports_all {',
  'jump hostip_hostports',
  'jump hostports',
  '}',
  'chain prerouting {',
  'type nat hook prerouting priority dstnat; policy accept;',
  `${cond}fib daddr type local jump hostports_all`,
  '}',
  'chain output {',
  'type nat hook output priority -100; policy accept;',
  `${cond}fib daddr type local jump hostports_all`,
  '}',
  ...(rulesOf.masquerading ? ['chain masquerading {', 'type nat hook postrouting priority srcnat; policy accept;', ...rulesOf.masquerading, '}'] : []),
  '}',
]

t.test('the tables, chains and rules of HEAD', async (t) => {
  const w = world(t, 'pnft')
  const c = w.container('c')
  const r = attachBridge(w, N, c, ID)
  const [ip4, ip6] = [addrOf(r, 4), addrOf(r, 6)]
  const mappings = [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: N.gw4 },
    { hostPort: 8443, containerPort: 443, protocol: 'TCP', hostIP: N.gw6 },
    { hostPort: 9999, containerPort: 99, protocol: 'sctp', hostIP: '0.0.0.0' },
  ]
  expectOk(t, runPortmap(w, 'ADD', portmapConf(N, mappings, r, { backend: 'nftables' }), { containerID: ID, netns: c.path }), 'ADD')
  const cm = `comment "${ID}"`
  t.same(table(w.host, 'ip'), shared('ip', {
    hostports: [
      `tcp dport 8080 dnat to ${ip4}:80 ${cm}`,
      `ip daddr ${N.gw4} udp dport 5353 dnat to ${ip4}:53 ${cm}`,
      `sctp dport 9999 dnat to ${ip4}:99 ${cm}`,
    ],
    masquerading: [`ip saddr ${ip4} ip daddr ${ip4} masquerade ${cm}`, `ip saddr 127.0.0.1 ip daddr ${ip4} masquerade ${cm}`],
  }))
  t.same(table(w.host, 'ip6'), shared('ip6', {
    hostports: [
      `tcp dport 8080 dnat to [${ip6}]:80 ${cm}`,
      `ip6 daddr ${N.gw6} tcp dport 8443 dnat to [${ip6}]:443 ${cm}`,
    ],
    masquerading: [`ip6 saddr ${ip6} ip6 daddr ${ip6} masquerade ${cm}`],
  }))
  expectOk(t, runPortmap(w, 'CHECK', portmapConf(N, mappings, r, { backend: 'nftables' }), { containerID: ID, netns: c.path }), 'CHECK')

  t.test('a repeated ADD replaces the container\'s rules (no duplicates)', async (t) => {
    const fewer = [{ hostPort: 7070, containerPort: 70, protocol: 'tcp' }]
    expectOk(t, runPortmap(w, 'ADD', portmapConf(N, fewer, r, { backend: 'nftables' }), { containerID: ID, netns: c.path }), 'ADD')
    t.same(nftOf(w.host, ID), [
      `tcp dport 7070 dnat to ${ip4}:70 ${cm}`,
      `ip saddr ${ip4} ip daddr ${ip4} masquerade ${cm}`,
      `ip saddr 127.0.0.1 ip daddr ${ip4} masquerade ${cm}`,
      `tcp dport 7070 dnat to [${ip6}]:70 ${cm}`,
      `ip6 saddr ${ip6} ip6 daddr ${ip6} masquerade ${cm}`,
    ])
  })
})

t.test('snat false, masqAll, nft conditions', async (t) => {
  const w = world(t, 'pnft2')
  const c = w.container('c')
  const r = attachBridge(w, N, c, ID)
  const ip4 = addrOf(r, 4)
  const m = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
  expectOk(t, runPortmap(w, 'ADD', portmapConf(N, m, r, { backend: 'nftables', snat: false, conditionsV4: ['iifname', '!=', '"pmx0"'] }), { containerID: ID, netns: c.path }), 'ADD, snat false')
  t.same(table(w.host, 'ip'), shared('ip', { hostports: [`tcp dport 8080 dnat to ${ip4}:80 comment "${ID}"`] }, 'iifname != "pmx0" '), 'no masquerading chain; conditions before the jumps')
  expectOk(t, runPortmap(w, 'DEL', portmapConf(N, m, r, { backend: 'nftables' }), { containerID: ID, netns: c.path }), 'DEL')
  expectOk(t, runPortmap(w, 'ADD', portmapConf(N, m, r, { backend: 'nftables', masqAll: true }), { containerID: ID, netns: c.path }), 'ADD, masqAll')
  t.same(nftOf(w.host, ID).filter((l) => l.includes('masquerade')), [
    `ip saddr 0.0.0.0/0 ip daddr ${ip4} masquerade comment "${ID}"`,
    `ip6 saddr ::/0 ip6 daddr ${addrOf(r, 6)} masquerade comment "${ID}"`,
  ], 'masqAll: one rule per family, from anywhere')
  t.same(table(w.host, 'ip').slice(13, 15), ['fib daddr type local jump hostports_all', '}'], 'the conditions of the last ADD win (the base chains are refilled)')
})

t.test("options of the other backend are refused with HEAD's messages", async (t) => {
  const w = world(t, 'pnft3')
  const c = w.container('c')
  const r = attachBridge(w, N, c, ID)
  const m = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
  const add = (extra: Record<string, unknown>) => errorOf(runPortmap(w, 'ADD', portmapConf(N, m, r, extra), { containerID: ID, netns: c.path }))
  t.same(add({ backend: 'nftables', externalSetMarkChain: 'X', conditionsV4: ['-a', 'b'], conditionsV6: ['!', 'd'] }), {
    exit: 1, code: 999, msg: 'failed to parse config: nftables backend was requested but configuration contains iptables-specific options [externalSetMarkChain conditionsV4 conditionsV6]',
  })
  t.same(add({ backend: 'iptables', conditionsV4: ['aaa', 'bbbb'], conditionsV6: ['ccc'] }), {
    exit: 1, code: 999, msg: 'failed to parse config: iptables backend was requested but configuration contains nftables-specific options [conditionsV4 conditionsV6]',
  })
  t.same(add({ conditionsV4: ['aaa'] }), {
    exit: 1, code: 999, msg: 'failed to parse config: iptables backend was requested but configuration contains nftables-specific options [conditionsV4]',
  }, 'also when iptables is chosen because it is there')
  t.same(errorOf(runPortmap(w, 'DEL', portmapConf(N, m, r, { backend: 'iptables', conditionsV4: ['aaa'] }), { containerID: ID, netns: c.path })), {
    exit: 1, code: 999, msg: 'failed to parse config: iptables backend was requested but configuration contains nftables-specific options [conditionsV4]',
  }, 'DEL refuses it too')
  t.same(errorOf(runPortmap(w, 'CHECK', portmapConf(N, m, r, { backend: 'iptables', conditionsV4: ['aaa'] }), { containerID: ID, netns: c.path })), {
    exit: 1, code: 999, msg: 'iptables backend was requested but configuration contains nftables-specific options [conditionsV4]',
  }, 'CHECK without the prefix')
  t.same(add({ backend: 'foo' }), { exit: 1, code: 999, msg: 'failed to parse config: unrecognized backend "foo"' })
  t.same(nftOf(w.host, ID), [], 'nothing made')
})
