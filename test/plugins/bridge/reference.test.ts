// Side by side with the Go reference bridge (Debian's containernetworking-plugins 1.1.1, spec
// <= 1.0.0), part 1: every bridge key through ADD, CHECK, DEL and a repeated DEL, each
// implementation in a world of its own, compared strictly after every step (scenario.ts): exit code,
// stdout byte for byte (key order aside), `ip -d -j` link/addr/route of every namespace, bridge and
// port attributes, sysctls, iptables, nftables and the IPAM store. Deliberate differences come from
// test/helpers/deliberate.ts, each claimed where it shows. Part 2 (reference-ipam) covers what comes
// from IPAM, part 3 (reference-versions) the spec versions, then errors, examples and swaps.
import t from 'tap'
import { allow } from '../../helpers/deliberate'
import { ABSENT } from '../../helpers/side-by-side'
import { HAVE_REF_BRIDGE, kernelHasVlanFiltering } from './fixture'
import { type Scenario, br, inNs, lifecycle, runScenario, setHostPorts } from './scenario'

const DUAL = ['10.81.1.0/24', 'fd00:81:1::/64']
const conflictingBridge = (host: Parameters<NonNullable<Scenario['prepare']>>[0]) => {
  inNs(host, ['ip', 'link', 'add', 'tbr0', 'type', 'bridge'])
  inNs(host, ['ip', 'addr', 'add', '10.81.9.1/24', 'dev', 'tbr0'])
}
const l2 = (extra: Record<string, unknown> = {}) => () => ({ cniVersion: '1.0.0', name: 'l2', type: 'bridge', bridge: 'tbr0', ...extra })

/** HEAD's nftables masquerade of ctr-a's 10.81.0.2 in network tnet, as `nft list ruleset` shows it. */
const HEAD_MASQ_TABLE = (withRule: boolean) => [
  'table inet cni_plugins_masquerade {',
  '\tcomment "Masquerading for plugins from github.com/containernetworking/plugins"',
  '\tchain masq_checks {',
  '\t\tcomment "Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet"',
  ...(withRule ? ['\t\tip saddr 10.81.0.2 ip daddr != 10.81.0.0/24 masquerade comment "4dfa0667e74383ec-376ebbf2634c3ec2, net: tnet, if: eth0, id: ctr-a"'] : []),
  '\tchain postrouting {',
  '\t\tip daddr 224.0.0.0/4 return',
  '\t\tip6 daddr ff00::/8 return',
  '\t\tgoto masq_checks',
]
/** Ours: no iptables at all, HEAD's nft table; the reference: its iptables chain (and their nft view). */
const headMasq = (withRule: boolean) => [
  allow('headKeys', /^host\.iptables\[lines\]$/, { ours: [] }),
  allow('headKeys', /^host\.nft\[lines\]$/, {
    // The lines only ours has are HEAD's table (those it shares with the reference's nat table, like
    // a base chain's hook line, and closing braces may pair up differently); its rule iff withRule.
    ours: (v: string[]) =>
      v.every((l) => HEAD_MASQ_TABLE(withRule).includes(l) || /^\t*\}$/.test(l)) &&
      v.includes(HEAD_MASQ_TABLE(withRule)[0]) &&
      v.some((l) => l.includes(' masquerade comment ')) === withRule,
    reference: (v: string[]) => v.every((l) => !l.includes('cni_plugins_masquerade')),
  }),
]

export const SCENARIOS = (vlanKernel: boolean): Scenario[] => [
  lifecycle('defaults: no gateway on the bridge', br()),
  lifecycle('no "bridge" key: cni0', (c) => ({ ...br()(c), bridge: undefined })),
  lifecycle('isGateway, IPv4', br({ isGateway: true })),
  lifecycle('isGateway, IPv6 only', br({ isGateway: true }, 'fd00:81:2::/64')),
  lifecycle('isDefaultGateway, dual stack', br({ isDefaultGateway: true }, DUAL)),
  lifecycle('ipMasq, dual stack (iptables)', br({ isDefaultGateway: true, ipMasq: true }, DUAL)),
  lifecycle('ipMasq with ipMasqBackend iptables', br({ isGateway: true, ipMasq: true, ipMasqBackend: 'iptables' })),
  lifecycle('ipMasq with ipMasqBackend nftables', br({ isGateway: true, ipMasq: true, ipMasqBackend: 'nftables' }), {
    // Debian ignores the key and uses iptables; ours puts HEAD's rules (reference-plugins.md §1.3)
    // into nftables instead, and leaves iptables alone.
    add: { allow: headMasq(true) },
    check: { allow: headMasq(true) },
    del: { allow: headMasq(false) },
  }),
  lifecycle('mtu and hairpinMode', br({ isGateway: true, mtu: 1400, hairpinMode: true })),
  lifecycle('promiscMode', br({ isGateway: true, promiscMode: true })),
  lifecycle('macspoofchk', br({ isGateway: true, macspoofchk: true })),
  lifecycle('enabledad, IPv6', br({ isGateway: true, enabledad: true }, 'fd00:81:3::/64')),
  lifecycle('forceAddress replaces a conflicting address', br({ isGateway: true, forceAddress: true }), { prepare: conflictingBridge }),
  lifecycle('a conflicting address without forceAddress', br({ isGateway: true }), { prepare: conflictingBridge, addFails: true }),
  lifecycle('an existing bridge keeps its MTU and MAC', br({ isGateway: true, mtu: 1400 }), {
    prepare: (host) => inNs(host, ['ip', 'link', 'add', 'tbr0', 'mtu', '1300', 'address', '02:81:00:00:00:01', 'type', 'bridge']),
    keepMacs: ['02:81:00:00:00:01'],
  }),
  lifecycle('two IPv4 range sets with isGateway (one IPv4 gateway per bridge)', br({ isGateway: true }, ['10.81.4.0/24', '10.81.5.0/24']), { addFails: true }),
  lifecycle('two IPv4 range sets with isGateway and forceAddress', br({ isGateway: true, forceAddress: true }, ['10.81.4.0/24', '10.81.5.0/24'])),
  lifecycle('L2: no IPAM', l2(), { l2: true }),
  lifecycle('L2 with mtu and promiscMode', l2({ mtu: 1450, promiscMode: true }), { l2: true }),
  lifecycle('L2 with isGateway (nothing to put on the bridge)', l2({ isGateway: true, isDefaultGateway: true, ipMasq: true }), { l2: true }),
  lifecycle('disableContainerInterface (L2)', l2({ disableContainerInterface: true }), {
    l2: true,
    // Debian ignores the key: its container end goes up. Once down again (the fixup), what stays of
    // having been up: the qdisc, and the host end's IPv6 link-local address and routes.
    add: { refFixup: { id: 'headKeys', run: (s) => void inNs(s.ctrs.a, ['ip', 'link', 'set', 'eth0', 'down']) } },
    allow: [
      allow('headKeys', /^ctr a\.links\.eth0\.qdisc$/, { ours: 'noop', reference: 'noqueue', optional: true }),
      allow('headKeys', /^host\.links\.veth<1>\.addr_info\.inet6 fe80::/, { ours: ABSENT, optional: true }),
      allow('headKeys', /^host\.routes\.(local local fe80::.+?|local multicast ff00::\/8|main unicast fe80::\/64) dev veth<1>/, { ours: ABSENT, optional: true }),
    ],
  }),
  lifecycle('portIsolation', br({ isGateway: true, portIsolation: true }), {
    add: { refFixup: { id: 'headKeys', run: (s) => setHostPorts(s, ['isolated', 'on']) } },
  }),
  lifecycle('container MAC from runtimeConfig.mac', br({ runtimeConfig: { mac: 'c2:81:00:00:00:01' } }), { keepMacs: ['c2:81:00:00:00:01'] }),
  lifecycle('container MAC from args.cni.mac', br({ args: { cni: { mac: 'c2:81:00:00:00:02' } } }), { keepMacs: ['c2:81:00:00:00:02'] }),
  lifecycle('container MAC from CNI_ARGS', br(), { args: 'IgnoreUnknown=1;MAC=c2:81:00:00:00:03', keepMacs: ['c2:81:00:00:00:03'] }),
  lifecycle('MAC precedence: runtimeConfig > args > CNI_ARGS', br({ runtimeConfig: { mac: 'c2:81:00:00:00:01' }, args: { cni: { mac: 'c2:81:00:00:00:02' } } }), {
    args: 'IgnoreUnknown=1;MAC=c2:81:00:00:00:03',
    keepMacs: ['c2:81:00:00:00:01', 'c2:81:00:00:00:02', 'c2:81:00:00:00:03'],
  }),
  // VLANs. Without bridge VLAN filtering in the kernel (this test machine) every VLAN ADD fails the
  // same way at the bridge; with it, Debian cannot be compared for the keys it lacks.
  lifecycle('vlan 100 with isGateway', br({ isGateway: true, vlan: 100 }), vlanKernel ? {} : { addFails: true }),
  lifecycle('vlan with preserveDefaultVlan', br({ vlan: 100, preserveDefaultVlan: true }), vlanKernel ? { skip: 'Debian keeps VID 1 whatever preserveDefaultVlan says' } : { addFails: true }),
  lifecycle('vlanTrunk', br({ vlanTrunk: [{ id: 5 }, { minID: 10, maxID: 12 }] }), {
    // Debian does not know vlanTrunk; `vlan` makes the same kernel request (a VLAN-filtering bridge).
    add: { refConf: { id: 'headKeys', conf: (c) => ({ ...c, vlanTrunk: undefined, vlan: 5 }) } },
    ...(vlanKernel ? { skip: 'Debian has no vlanTrunk key to compare trunk VIDs with' } : { addFails: true }),
  }),
]

if (!HAVE_REF_BRIDGE) t.pass('side by side', { skip: 'no reference bridge in /usr/lib/cni (apt-get install containernetworking-plugins)' })
else {
  const list = SCENARIOS(kernelHasVlanFiltering(t))
  t.setTimeout(60_000 + list.length * 15_000)
  for (const sc of list) t.test(sc.name, { skip: sc.skip }, async (t) => runScenario(t, sc))
}
