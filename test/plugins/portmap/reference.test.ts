// Side by side with the Go reference portmap (Debian's containernetworking-plugins 1.1.1 in
// /usr/lib/cni; cniVersion 1.0.0 for both; iptables only: Debian has no nftables backend). Each
// implementation gets a fake host of its own, set up identically (our bridge + host-local, the same
// network name, subnet and container ID, so the same addresses and the same chain hash), then the
// same portmap inputs. Compared: exit code, stdout, and the complete `iptables-save -t nat` and
// `ip6tables-save -t nat` of the two fake hosts (bridge rules included, counters stripped). Each
// implementation's DEL then removes what the other's ADD made. Errors: the same codes and messages,
// except the deliberate differences listed here, each asserted exactly.
import t, { type Test } from 'tap'
import {
  HAVE_REF_PORTMAP,
  type Mapping,
  type Net,
  PORTMAP,
  REF_PORTMAP,
  type World,
  attachBridge,
  dnChain,
  errorOf,
  expectOk,
  mustIn,
  natSave,
  net,
  portmapConf,
  runPortmap,
  world,
} from './fixture'
import type { PluginRun } from '../../helpers/plugin'

const ID = 'pm-ref-ctr1'
const DUAL = net('pmref', '1.0.0', '10.136.1.0/24', 'fd00:136::/64')
const V4 = net('pmref4', '1.0.0', '10.137.1.0/24')

interface Side {
  w: World
  file: string
  prev: any
  netns: string
}

interface Pair {
  ours: Side
  ref: Side
}

/** Two fake hosts set up alike, one container each, attached to the bridge with the same ID. */
function pair(t: Test, n: Net, prepare?: (w: World) => void): Pair {
  const make = (label: string, file: string): Side => {
    const w = world(t, label)
    prepare?.(w)
    const ctr = w.container('c')
    return { w, file, prev: attachBridge(w, n, ctr, ID, { ipMasq: true }), netns: ctr.path }
  }
  const p = { ours: make('pro', PORTMAP), ref: make('prr', REF_PORTMAP) }
  t.same(p.ours.prev.ips, p.ref.prev.ips, 'both containers got the same addresses')
  return p
}

function run(s: Side, command: string, n: Net, mappings: Mapping[] | undefined, extra: Record<string, unknown> = {}, opts: { prev?: boolean; file?: string } = {}): PluginRun {
  const conf = portmapConf(n, mappings, opts.prev === false ? undefined : s.prev, extra)
  return runPortmap(s.w, command, conf, { containerID: ID, netns: s.netns }, opts.file ?? s.file)
}

/** The result without an empty "dns" (Debian always prints `"dns": {}`, ours leaves it out: resultShape). */
const withoutEmptyDns = (r: any) => {
  if (!r || typeof r !== 'object') return r
  const { dns, ...rest } = r
  return dns && Object.keys(dns).length ? r : rest
}

function sameTables(t: Test, p: Pair, what: string): void {
  t.same(natSave(p.ours.w.host, 4), natSave(p.ref.w.host, 4), `${what}: iptables-save -t nat`)
  t.same(natSave(p.ours.w.host, 6), natSave(p.ref.w.host, 6), `${what}: ip6tables-save -t nat`)
}

interface Scenario {
  name: string
  n?: Net
  mappings: Mapping[]
  extra?: Record<string, unknown>
  prepare?: (w: World) => void
  /** Extra assertions on the IPv4 nat table after ADD (the same for both, as they are compared). */
  expect?: (t: Test, nat4: string[], n: Net) => void
}

const entryRules = (nat: string[]) => nat.filter((l) => l.startsWith('-A CNI-HOSTPORT-DNAT '))

const SCENARIOS: Scenario[] = [
  {
    name: 'several mappings: tcp, udp, sctp, hostIP, hostIP 0.0.0.0, an IPv6 hostIP',
    mappings: [
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 8443, containerPort: 443, protocol: 'tcp', hostIP: DUAL.gw4 },
      { hostPort: 5353, containerPort: 53, protocol: 'udp' },
      { hostPort: 9999, containerPort: 99, protocol: 'sctp', hostIP: '0.0.0.0' },
      { hostPort: 8444, containerPort: 443, protocol: 'tcp', hostIP: DUAL.gw6 },
      { hostPort: 8445, containerPort: 443, protocol: 'tcp', hostIP: '::' },
    ],
    expect: (t, nat) => {
      t.equal(nat.find((l) => l.startsWith('-A POSTROUTING ')), '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ', 'the MASQ jump is first in POSTROUTING')
      t.equal(entryRules(nat).length, 3, 'one entry rule per protocol')
      t.ok(nat.some((l) => l.includes('--dports 8080,8443,8444,8445')), 'skipped-family ports stay in the multiport rule')
    },
  },
  {
    name: '17 tcp ports and one TCP: chunks of 15, case-sensitive groups',
    mappings: [
      ...Array.from({ length: 17 }, (_, i) => ({ hostPort: 7001 + i, containerPort: 1001 + i, protocol: 'tcp' })),
      { hostPort: 7000, containerPort: 1000, protocol: 'TCP' },
    ],
    expect: (t, nat) => {
      const entries = entryRules(nat)
      t.equal(entries.length, 3)
      t.match(entries[0], /--dports 7000 /, 'the TCP group sorts first')
      t.match(entries[1], /--dports 7001,7002,.*,7015 /)
      t.match(entries[2], /--dports 7016,7017 /)
    },
  },
  {
    name: 'snat: false',
    mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 53, protocol: 'udp' }],
    extra: { snat: false },
    expect: (t, nat, n) => {
      t.same(nat.filter((l) => l.startsWith(`-A ${dnChain(n.name, ID)} `)).map((l) => /-j (\S+)/.exec(l)?.[1]), ['DNAT', 'DNAT'], 'only DNAT rules')
      t.notOk(nat.some((l) => l.includes('CNI-HOSTPORT-SETMARK')), 'no mark chain')
    },
  },
  {
    name: 'markMasqBit 5',
    mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    extra: { markMasqBit: 5 },
    expect: (t, nat) => t.ok(nat.includes('-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x20/0x20')),
  },
  {
    name: 'markMasqBit 31',
    mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    extra: { markMasqBit: 31 },
    expect: (t, nat) => t.ok(nat.includes('-A CNI-HOSTPORT-MASQ -m mark --mark 0x80000000/0x80000000 -j MASQUERADE')),
  },
  {
    name: 'externalSetMarkChain',
    mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    extra: { externalSetMarkChain: 'PM-EXT-MARK' },
    prepare: (w) => {
      mustIn(w.host, ['iptables', '-t', 'nat', '-N', 'PM-EXT-MARK'])
      mustIn(w.host, ['ip6tables', '-t', 'nat', '-N', 'PM-EXT-MARK'])
    },
    expect: (t, nat) => {
      t.ok(nat.some((l) => l.endsWith('-j PM-EXT-MARK')), 'marks jump to the external chain')
      t.notOk(nat.some((l) => l.includes('CNI-HOSTPORT-SETMARK')), 'no SETMARK chain')
    },
  },
  {
    name: 'conditionsV4 and conditionsV6',
    mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 53, protocol: 'udp' }],
    extra: { conditionsV4: ['!', '-s', '10.136.9.0/24', '-i', 'pmbr0'], conditionsV6: ['!', '-s', 'fd00:136:9::/64'] },
    expect: (t, nat) => t.ok(entryRules(nat).every((l) => l.startsWith('-A CNI-HOSTPORT-DNAT ! -s 10.136.9.0/24 -i pmbr0 -p '))),
  },
  {
    name: "containerd's capitalised keys",
    mappings: [
      { HostPort: 8080, ContainerPort: 80, Protocol: 'tcp', HostIP: '' },
      { HostPort: 5300, ContainerPort: 53, Protocol: 'udp', HostIP: DUAL.gw4 },
    ],
    expect: (t, nat, n) => t.ok(nat.includes(`-A ${dnChain(n.name, ID)} -d ${DUAL.gw4}/32 -p udp -m udp --dport 5300 -j DNAT --to-destination 10.136.1.2:53`)),
  },
  {
    name: 'the same host port twice, an unparsable hostIP',
    mappings: [
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 8080, containerPort: 81, protocol: 'tcp' },
      { hostPort: 8082, containerPort: 82, protocol: 'tcp', hostIP: 'abc' },
    ],
    n: V4,
  },
  ...(['0.4.0', '0.3.1', '0.2.0'] as const).map((v) => ({
    name: `cniVersion ${v}: prevResult read and printed in that version`,
    n: net('pmref', v, '10.136.1.0/24', 'fd00:136::/64'),
    mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 53, protocol: 'udp' }],
  })),
  {
    name: 'IPv4 only, a long network name (the comment cut at 255 bytes)',
    n: net(`pm${'x'.repeat(228)}`, '1.0.0', '10.137.1.0/24'),
    mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    expect: (t, nat) => {
      const m = /--comment "((?:[^"\\]|\\.)*)"/.exec(entryRules(nat)[0] ?? '')
      const comment = (m?.[1] ?? '').replace(/\\(.)/g, '$1')
      t.equal(Buffer.byteLength(comment), 255, 'iptables keeps 255 bytes of the 256 the reference passes')
      t.equal(comment, `dnat name: "pm${'x'.repeat(228)}" id: "pm-r..`, 'the first 253 bytes, then the dots iptables keeps')
    },
  },
]

if (!HAVE_REF_PORTMAP) t.pass('side by side', { skip: 'no reference portmap in /usr/lib/cni (apt-get install containernetworking-plugins)' })
else {
  t.setTimeout(600_000)

  for (const sc of SCENARIOS) {
    t.test(sc.name, async (t) => {
      const n = sc.n ?? DUAL
      const p = pair(t, n, sc.prepare)
      const ours = run(p.ours, 'ADD', n, sc.mappings, sc.extra)
      const ref = run(p.ref, 'ADD', n, sc.mappings, sc.extra)
      expectOk(t, ours, 'ADD (ours)')
      expectOk(t, ref, 'ADD (reference)')
      t.same(withoutEmptyDns(ours.json), withoutEmptyDns(p.ours.prev), 'ours prints prevResult unchanged')
      t.same(withoutEmptyDns(ref.json), withoutEmptyDns(p.ref.prev), 'so does the reference')
      sameTables(t, p, 'after ADD')
      sc.expect?.(t, natSave(p.ours.w.host, 4), n)
      if (!['0.1.0', '0.2.0', '0.3.0', '0.3.1'].includes(n.cniVersion)) {
        expectOk(t, run(p.ours, 'CHECK', n, sc.mappings, sc.extra), 'our CHECK passes')
        expectOk(t, run(p.ref, 'CHECK', n, sc.mappings, sc.extra, { file: PORTMAP }), "our CHECK passes on the reference's rules")
      }
      // Each DEL on the other's rules.
      expectOk(t, run(p.ours, 'DEL', n, sc.mappings, sc.extra, { file: REF_PORTMAP }), "the reference's DEL on our rules")
      expectOk(t, run(p.ref, 'DEL', n, sc.mappings, sc.extra, { file: PORTMAP }), 'our DEL on the reference rules')
      for (const s of [p.ours, p.ref]) {
        for (const f of [4, 6] as const) {
          t.same(natSave(s.w.host, f).filter((l) => l.includes(dnChain(n.name, ID)) || l.includes('dnat name:')), [], `nothing of the container left (IPv${f})`)
        }
      }
      sameTables(t, p, 'after the crossed DELs')
      // And the other way round: each ADD again, each DEL on its own side is already covered elsewhere.
      expectOk(t, run(p.ours, 'ADD', n, sc.mappings, sc.extra, { file: REF_PORTMAP }), 'the reference ADD again in our host')
      expectOk(t, run(p.ref, 'ADD', n, sc.mappings, sc.extra, { file: PORTMAP }), 'our ADD again in the reference host')
      sameTables(t, p, 'after ADD on the other side')
    })
  }

  t.test('CHECK after a removed rule: the same message', async (t) => {
    const mappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 53, protocol: 'udp' }]
    const p = pair(t, DUAL)
    expectOk(t, run(p.ours, 'ADD', DUAL, mappings), 'ADD (ours)')
    expectOk(t, run(p.ref, 'ADD', DUAL, mappings), 'ADD (reference)')
    const chain = dnChain(DUAL.name, ID)
    for (const s of [p.ours, p.ref]) mustIn(s.w.host, ['iptables', '-t', 'nat', '-D', chain, '-p', 'udp', '--dport', '5353', '-j', 'DNAT', '--to-destination', '10.136.1.2:53'])
    const ours = errorOf(run(p.ours, 'CHECK', DUAL, mappings))
    t.same(ours, errorOf(run(p.ref, 'CHECK', DUAL, mappings)))
    t.match(ours.msg, /^could not check ipv4 dnat: rule \[\[-p tcp --dport 8080 -s 10\.136\.1\.2\/24 -j CNI-HOSTPORT-SETMARK\] .*\] in chain CNI-DN-\w{21} not found in table nat$/)
    for (const s of [p.ours, p.ref]) mustIn(s.w.host, ['iptables', '-t', 'nat', '-F', chain])
    t.same(errorOf(run(p.ours, 'CHECK', DUAL, mappings)), errorOf(run(p.ref, 'CHECK', DUAL, mappings)), 'an emptied chain')
  })

  t.test("CHECK with an IPv4-only container (Debian's ip6tables bug)", async (t) => {
    const mappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
    const p = pair(t, V4)
    expectOk(t, run(p.ours, 'ADD', V4, mappings), 'ADD (ours)')
    expectOk(t, run(p.ref, 'ADD', V4, mappings), 'ADD (reference)')
    sameTables(t, p, 'after ADD')
    expectOk(t, run(p.ours, 'CHECK', V4, mappings), 'ours checks IPv4 only and passes')
    t.same(errorOf(run(p.ref, 'CHECK', V4, mappings)), {
      exit: 1, code: 999, msg: `could not check ipv6 dnat: chain ${dnChain(V4.name, ID)} not found in iptables table nat`,
    }, 'Debian runs the IPv4 rules against ip6tables too and fails')
  })

  t.test('a repeated ADD with other ports replaces the rules (the reference appends); two containers on one host port', async (t) => {
    const p = pair(t, DUAL)
    const first = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
    const second = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 8081, containerPort: 81, protocol: 'tcp' }]
    for (const s of [p.ours, p.ref]) {
      expectOk(t, run(s, 'ADD', DUAL, first), 'ADD')
      expectOk(t, run(s, 'ADD', DUAL, second), 'ADD again, one port more')
      const other = { ...s, prev: { ...s.prev, ips: s.prev.ips.map((i: any) => ({ ...i, address: i.address.replace(/\.2\//, '.9/').replace(/::2\//, '::9/') })) } }
      const r = runPortmap(s.w, 'ADD', portmapConf(DUAL, first, other.prev), { containerID: 'pm-ref-ctr2', netns: s.netns }, s.file)
      expectOk(t, r, 'a second container on the same host port')
    }
    const entries = (side: typeof p.ours) =>
      entryRules(natSave(side.w.host, 4)).map((l) => `${/id: \\"([^\\]+)\\"/.exec(l)?.[1]} ${/--dports (\S+)/.exec(l)?.[1]}`)
    t.same(entries(p.ref), [`${ID} 8080`, `${ID} 8080,8081`, 'pm-ref-ctr2 8080'], 'reference: the old entry rule stays, the first container comes first on 8080')
    t.same(entries(p.ours), [`${ID} 8080,8081`, 'pm-ref-ctr2 8080'], 'ours: the repeated ADD replaced its rules; the first container still comes first on 8080')
    const dnatOf = (side: typeof p.ours) => natSave(side.w.host, 4).filter((l) => l.startsWith(`-A ${dnChain(DUAL.name, ID)} `))
    t.same(dnatOf(p.ours), [...new Set(dnatOf(p.ref))], 'the container chain holds the same rules, once each')
  })

  t.test('which prevResult addresses are mapped: the same choice', async (t) => {
    const p = pair(t, V4)
    const m = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
    const prev = (netns: string, ifName: string) => ({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'pmbr0' }, { name: ifName, sandbox: netns }, { name: 'net1', sandbox: netns }],
      ips: [
        { address: '10.137.1.77/24', interface: 0 },
        { address: '10.137.1.76/24', interface: 2 },
        { address: '10.137.1.78/24' },
        { address: '10.137.1.2/24', interface: 1 },
        { address: 'fd00:137::5/64', interface: 7 },
      ],
    })
    for (const [id, ifName] of [['sel-1', 'eth0'], ['sel-2', 'net1'], ['sel-3', 'eth9']]) {
      for (const s of [p.ours, p.ref]) {
        expectOk(t, runPortmap(s.w, 'ADD', portmapConf(V4, m, prev(s.netns, 'eth0')), { containerID: id!, netns: s.netns, ifName }, s.file), `ADD as ${ifName}`)
      }
    }
    sameTables(t, p, 'after ADD')
    const dnat = natSave(p.ours.w.host, 4).filter((l) => l.includes('-j DNAT'))
    t.same(dnat.map((l) => /--to-destination (\S+)/.exec(l)?.[1]), ['10.137.1.78:80', '10.137.1.76:80', '10.137.1.78:80'], 'eth0 and eth9: the first address without interface (eth0 has one later); net1: its own')
    t.same(natSave(p.ours.w.host, 6).filter((l) => l.includes('-j DNAT')).map((l) => /--to-destination (\S+)/.exec(l)?.[1]), Array(3).fill('[fd00:137::5]:80'), 'an out-of-range interface index counts')
  })

  t.test('prevResult errors and a failing iptables run', async (t) => {
    const p = pair(t, V4)
    const m = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]
    const old = { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.137.1.2/24' }] }
    const ours = errorOf(runPortmap(p.ours.w, 'ADD', portmapConf(V4, m, old), { containerID: ID, netns: p.ours.netns }))
    const ref = errorOf(runPortmap(p.ref.w, 'ADD', portmapConf(V4, m, old), { containerID: ID, netns: p.ref.netns }, REF_PORTMAP))
    const mismatch = (versions: string) =>
      `failed to parse config: could not parse prevResult: could not parse prevResult: result type supports [${versions}] but unmarshalled CNIVersion is "0.4.0"`
    t.same(ref, { exit: 1, code: 999, msg: mismatch('1.0.0') }, 'a 0.4.0 prevResult in a 1.0.0 config (reference)')
    t.same(ours, { exit: 1, code: 999, msg: mismatch('1.0.0 1.1.0') }, 'ours: the same, listing 1.1.0 too (deliberate: spec 1.1.0)')
    for (const command of ['ADD', 'DEL']) {
      const bad = { cniVersion: '1.0.0', ips: [{ address: 'bad' }] }
      t.same(errorOf(runPortmap(p.ours.w, command, portmapConf(V4, m, bad), { containerID: ID, netns: p.ours.netns })), {
        exit: 1, code: 999, msg: 'failed to parse config: could not parse prevResult: could not parse prevResult: ips[0].address must be a CIDR string, got "bad"',
      }, `${command} with a malformed prevResult fails (ours)`)
      t.same(errorOf(runPortmap(p.ref.w, command, portmapConf(V4, m, bad), { containerID: ID, netns: p.ref.netns }, REF_PORTMAP)), {
        exit: 1, code: 999, msg: 'failed to parse config: could not parse prevResult: could not parse prevResult: invalid CIDR address: bad',
      }, `${command} with a malformed prevResult fails (reference)`)
    }

    // An iptables run that fails: the same failure, told in go-iptables' words by the reference.
    const ext = { externalSetMarkChain: 'PM-NOPE' }
    const o = errorOf(run(p.ours, 'ADD', V4, m, ext))
    const r = errorOf(run(p.ref, 'ADD', V4, m, ext))
    const chain = dnChain(V4.name, ID)
    const argv = `-t nat -C ${chain} -p tcp --dport 8080 -s 10.137.1.2/24 -j PM-NOPE`
    const stderr = "exit status 2: iptables v1.8.9 (nf_tables): Chain 'PM-NOPE' does not exist\nTry `iptables -h' or 'iptables --help' for more information."
    t.same(r, { exit: 1, code: 999, msg: `unable to setup DNAT: running [/usr/sbin/iptables ${argv} --wait]: ${stderr}\n` }, 'reference: the resolved path, --wait, stderr as it is')
    t.match(o, { exit: 1, code: 999, msg: /^unable to setup DNAT: running \[iptables-restore --wait --noflush <<< -A CNI-DN-\S+ -p tcp --dport 8080 -s 10\.137\.1\.2\/24 -j PM-NOPE; .*\]: exit status 2: iptables-restore v1\.8\.9 \(nf_tables\): Chain 'PM-NOPE' does not exist/s }, 'ours: one iptables-restore of all the rules, and what it said')
    t.same(natSave(p.ours.w.host, 4).filter((l) => l.includes(chain)), [], 'ours undid the failed ADD')
    t.same(natSave(p.ref.w.host, 4).filter((l) => l.includes(chain)), [`:${chain} -`], 'the reference left its empty chain behind')
  })

  /** A config error: both fail the same (exit, code, message), on ADD, and on DEL when `del`. */
  const SAME_ERRORS: { name: string; mappings?: Mapping[]; extra?: Record<string, unknown>; prev?: boolean; msg: string; del?: boolean }[] = [
    { name: 'hostPort 0', mappings: [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }], msg: 'failed to parse config: Invalid host port number: 0', del: true },
    { name: 'containerPort -1', mappings: [{ hostPort: 8080, containerPort: -1, protocol: 'tcp' }], msg: 'failed to parse config: Invalid container port number: -1', del: true },
    { name: 'containerPort missing', mappings: [{ hostPort: 8080, protocol: 'tcp' }], msg: 'failed to parse config: Invalid container port number: 0' },
    { name: 'no prevResult', mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], prev: false, msg: 'must be called as chained plugin' },
    { name: 'no prevResult, no mappings', prev: false, msg: 'must be called as chained plugin' },
    { name: 'markMasqBit 40', mappings: [], extra: { markMasqBit: 40 }, msg: 'failed to parse config: MasqMarkBit must be between 0 and 31', del: true },
    { name: 'markMasqBit -1', mappings: [], extra: { markMasqBit: -1 }, msg: 'failed to parse config: MasqMarkBit must be between 0 and 31' },
    {
      name: 'externalSetMarkChain and markMasqBit', mappings: [], extra: { externalSetMarkChain: 'X', markMasqBit: 40 },
      msg: 'failed to parse config: Cannot specify externalSetMarkChain and markMasqBit', del: true,
    },
  ]

  t.test('errors: the same exit code, CNI code and message', async (t) => {
    const p = pair(t, V4)
    for (const e of SAME_ERRORS) {
      const ours = errorOf(run(p.ours, 'ADD', V4, e.mappings, e.extra, { prev: e.prev }))
      const ref = errorOf(run(p.ref, 'ADD', V4, e.mappings, e.extra, { prev: e.prev }))
      t.same(ours, ref, `${e.name}: ADD like the reference`)
      t.same(ours, { exit: 1, code: 999, msg: e.msg }, `${e.name}: ADD`)
      if (e.del) {
        const oursDel = errorOf(run(p.ours, 'DEL', V4, e.mappings, e.extra))
        t.same(oursDel, errorOf(run(p.ref, 'DEL', V4, e.mappings, e.extra)), `${e.name}: DEL like the reference`)
        t.same(oursDel, { exit: 1, code: 999, msg: e.msg }, `${e.name}: DEL fails too`)
      }
    }
    const bad = [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }]
    const oursCheck = errorOf(run(p.ours, 'CHECK', V4, bad))
    t.same(oursCheck, errorOf(run(p.ref, 'CHECK', V4, bad)), 'CHECK like the reference')
    t.same(oursCheck, { exit: 1, code: 999, msg: 'Invalid host port number: 0' }, 'CHECK: no "failed to parse config:" prefix')
    t.same(natSave(p.ours.w.host, 4), natSave(p.ref.w.host, 4), 'nothing made by either')
  })

  t.test('errors we answer differently on purpose', async (t) => {
    const p = pair(t, V4)
    const chain = dnChain(V4.name, ID)
    const dnChains = (w: World) => natSave(w.host, 4).filter((l) => l.includes(chain))

    t.test('hostPort above 65535: refused up front, naming the field', async (t) => {
      const m = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 70000, containerPort: 80, protocol: 'tcp' }]
      t.same(errorOf(run(p.ours, 'ADD', V4, m)), {
        exit: 1, code: 999, msg: 'failed to parse config: Invalid host port number: 70000 (runtimeConfig.portMappings[1].hostPort must be at most 65535)',
      })
      t.same(dnChains(p.ours.w), [], 'ours touched nothing')
      const ref = errorOf(run(p.ref, 'ADD', V4, m))
      t.match(ref, { exit: 1, code: 999, msg: /^unable to setup DNAT: running \[\/usr\/sbin\/iptables -t nat -C CNI-DN-\w+ .*--dport 70000 .*--wait\]: exit status 2: .*invalid port\/service `70000' specified/ })
      t.ok(dnChains(p.ref.w).length > 0, 'the reference stopped half-way, its chain and first rules stay')
      expectOk(t, run(p.ref, 'DEL', V4, [m[0]]), 'cleaned up by a DEL')
    })

    t.test('containerPort above 65535', async (t) => {
      const m = [{ hostPort: 8080, containerPort: 65536, protocol: 'tcp' }]
      t.same(errorOf(run(p.ours, 'ADD', V4, m)), {
        exit: 1, code: 999, msg: 'failed to parse config: Invalid container port number: 65536 (runtimeConfig.portMappings[0].containerPort must be at most 65535)',
      })
      const ref = errorOf(run(p.ref, 'ADD', V4, m))
      t.match(ref, { exit: 1, code: 999, msg: /^unable to setup DNAT: running \[.*--to-destination 10\.137\.1\.2:65536 --wait\]: exit status 2: / })
      expectOk(t, run(p.ref, 'DEL', V4, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]), 'cleaned up by a DEL')
    })

    t.test('a protocol other than tcp, udp, sctp', async (t) => {
      for (const [protocol, refMsg] of [['icmp', /unknown option "--dport"/], ['', /unknown protocol "" specified/]] as const) {
        const m = [{ hostPort: 8080, containerPort: 80, protocol }]
        t.same(errorOf(run(p.ours, 'ADD', V4, m)), {
          exit: 1, code: 999, msg: `failed to parse config: unknown protocol ${JSON.stringify(protocol)} specified in runtimeConfig.portMappings[0].protocol (tcp, udp or sctp)`,
        }, `protocol ${JSON.stringify(protocol)}`)
        t.match(errorOf(run(p.ref, 'ADD', V4, m)), { exit: 1, code: 999, msg: refMsg })
        expectOk(t, run(p.ref, 'DEL', V4, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]), 'cleaned up by a DEL')
      }
      t.same(dnChains(p.ours.w), [], 'ours touched nothing')
    })

    t.test('a wrongly typed field: code 7 naming it (the reference: 999 with Go’s decoder text)', async (t) => {
      const cases = [
        {
          mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], extra: { markMasqBit: '5' },
          ours: 'failed to load netconf: "markMasqBit" must be integer',
          ref: 'failed to parse config: failed to parse network configuration: json: cannot unmarshal string into Go struct field PortMapConf.markMasqBit of type int',
        },
        {
          mappings: [{ hostPort: '8080', containerPort: 80, protocol: 'tcp' }], extra: {},
          ours: 'failed to load netconf: "runtimeConfig.portMappings[0].hostPort" must be integer',
          ref: /^failed to parse config: failed to parse network configuration: json: cannot unmarshal string into Go struct field .*hostPort of type int$/,
        },
        {
          mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], extra: { snat: 'yes' },
          ours: 'failed to load netconf: "snat" must be boolean',
          ref: /^failed to parse config: failed to parse network configuration: json: cannot unmarshal string into Go struct field PortMapConf.snat of type bool$/,
        },
      ]
      for (const c of cases) {
        t.same(errorOf(run(p.ours, 'ADD', V4, c.mappings, c.extra)), { exit: 1, code: 7, msg: c.ours })
        t.match(errorOf(run(p.ref, 'ADD', V4, c.mappings, c.extra)), { exit: 1, code: 999, msg: c.ref })
      }
    })
  })
}
