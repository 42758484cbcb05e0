// loadIPAMConfig: what it reads from the whole netconf, in which order, and every error text
// (reference-plugins.md §2.1; the texts were checked against /usr/lib/cni/host-local).
import t from 'tap'
import { CniError } from '../../../lib/skel/errors'
import type { BaseNetConf } from '../../../lib/skel/netconf'
import { type IPAMConfig, loadIPAMConfig, parseRequestedIP } from '../../../plugins/host-local/config'

/** A netconf; cniVersion null leaves the key out. */
const net = (extra: object, cniVersion: string | null = '1.0.0'): BaseNetConf => {
  const c: BaseNetConf = { name: 'net1', type: 'host-local', ...extra }
  if (cniVersion !== null) c.cniVersion = cniVersion
  return c
}
const ipam = (fields: object, extra: object = {}, cniVersion?: string) => net({ ipam: { type: 'host-local', ...fields }, ...extra }, cniVersion)
const load = (conf: BaseNetConf, args = ''): IPAMConfig => loadIPAMConfig(conf, args)
const sets = (c: IPAMConfig) => c.rangeSets.map(String)

t.test('defaults and the legacy single range', async (t) => {
  const c = load(ipam({ subnet: '10.1.2.0/24' }))
  t.equal(c.name, 'net1')
  t.equal(c.dataDir, '/var/lib/cni/networks', 'default dataDir')
  t.same(sets(c), ['10.1.2.1-10.1.2.254'])
  t.same(c.routes, [])
  t.same(c.requestedIPs, [])
  t.equal(c.resolvConf, undefined)
  t.equal(c.validAttachments, undefined)
  t.equal(c.cniVersion, '1.0.0')

  const legacy = load(ipam({ subnet: '10.1.2.0/24', rangeStart: '10.1.2.10', rangeEnd: '10.1.2.20', gateway: '10.1.2.254', dataDir: '/d' }))
  t.same(sets(legacy), ['10.1.2.10-10.1.2.20'])
  t.equal(legacy.rangeSets[0].ranges[0].gateway.toString(), '10.1.2.254')
  t.equal(legacy.dataDir, '/d')
  t.equal(load(ipam({ subnet: '10.1.2.0/24', dataDir: '' })).dataDir, '/var/lib/cni/networks', 'an empty dataDir means the default')
  t.throws(() => load(ipam({ rangeStart: '10.1.2.10', gateway: '10.1.2.1' })), { message: 'no IP ranges specified' }, 'legacy keys without subnet are ignored')
})

t.test('range sets: runtimeConfig.ipRanges, then the legacy range, then ipam.ranges', async (t) => {
  const c = load(
    ipam(
      { subnet: '10.2.0.0/24', ranges: [[{ subnet: '10.3.0.0/24' }, { subnet: '10.4.0.0/24' }], [{ subnet: 'fd00::/64' }]] },
      { runtimeConfig: { ipRanges: [[{ subnet: '10.1.0.0/24' }]] } },
    ),
  )
  t.same(sets(c), ['10.1.0.1-10.1.0.254', '10.2.0.1-10.2.0.254', '10.3.0.1-10.3.0.254,10.4.0.1-10.4.0.254', 'fd00::1-fd00::ffff:ffff:ffff:ffff'])
  t.same(c.rangeSets.map((s) => s.family), [4, 4, 4, 6])
})

t.test('routes are returned verbatim, with every 1.1.0 field', async (t) => {
  const routes = [
    { dst: '0.0.0.0/0' },
    { dst: '10.1.2.3/24', gw: '10.9.0.9', mtu: 1400, advmss: 1360, priority: 5, table: 100, scope: 0 },
    { dst: '::/0', gw: '' },
  ]
  t.same(load(ipam({ subnet: '10.9.0.0/24', routes })).routes, [routes[0], routes[1], { dst: '::/0' }])
})

t.test('requested IPs: CNI_ARGS IP, then args.cni.ips, then runtimeConfig.ips; canonical and unique', async (t) => {
  const c = load(
    ipam({ subnet: '10.1.2.0/24' }, { args: { cni: { ips: ['10.1.2.7/24', '::ffff:10.1.3.8'] } }, runtimeConfig: { ips: ['fd00::5/64', '10.1.2.7'] } }),
    'IP=10.1.2.6/16',
  )
  t.same(c.requestedIPs.map(String), ['10.1.2.6', '10.1.2.7', '10.1.3.8', 'fd00::5'])
  t.same(load(ipam({ subnet: '10.1.2.0/24' }), 'IP=').requestedIPs, [], 'an empty CNI_ARGS IP is no request')
  t.same(load(ipam({ subnet: '10.1.2.0/24' }), 'IgnoreUnknown=1;MAC=aa:bb;K8S_POD_NAME=x').requestedIPs, [], 'IgnoreUnknown')
  t.same(load(ipam({ subnet: '10.1.2.0/24' }), 'IgnoreUnknown=true;IP=10.1.2.9').requestedIPs.map(String), ['10.1.2.9'])
  t.equal(parseRequestedIP(''), null)
  t.equal(parseRequestedIP('10.0.0.1/32')?.toString(), '10.0.0.1')
})

t.test('the whole bridge config is fine: bridge keys are ignored', async (t) => {
  const c = load(
    net({
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: 'not even a boolean',
      mtu: 'abc',
      dns: { nameservers: 5 },
      prevResult: { ips: 'x' },
      ipam: { type: 'host-local', subnet: '10.1.2.0/24' },
    }),
    'IgnoreUnknown=1;MAC=00:11:22:33:44:55',
  )
  t.same(sets(c), ['10.1.2.1-10.1.2.254'])
})

t.test('keys match case-insensitively and null means unset, like Go', async (t) => {
  const c = load(
    net({
      IPAM: { Type: 'host-local', SUBNET: '10.1.2.0/24', DataDir: '/x', Routes: [{ DST: '0.0.0.0/0', Gw: '10.1.2.9' }], ranges: null, resolvConf: null },
      RuntimeConfig: { IPS: ['10.1.2.5'] },
      Args: { CNI: { Ips: null } },
    }),
  )
  t.equal(c.dataDir, '/x')
  t.same(sets(c), ['10.1.2.1-10.1.2.254'])
  t.same(c.routes, [{ dst: '0.0.0.0/0', gw: '10.1.2.9' }])
  t.same(c.requestedIPs.map(String), ['10.1.2.5'])
  t.equal(c.resolvConf, undefined)
  // Later keys win; objects merge like Go decoding into the same struct.
  const merged = load(net({ ipam: { subnet: '10.1.2.0/24', dataDir: '/a' }, IPAM: { dataDir: '/b' } }))
  t.equal(merged.dataDir, '/b')
  t.same(sets(merged), ['10.1.2.1-10.1.2.254'])
  t.throws(() => load(net({ ipam: null })), { message: "IPAM config missing 'ipam' key" }, 'null ipam is no ipam')
})

t.test('GC attachments: valid-attachments, else attachments; null is empty; absent is undefined', async (t) => {
  const a = [{ containerID: 'c1', ifname: 'eth0' }]
  const b = [{ containerID: 'c2', ifname: 'eth1' }]
  const base = { subnet: '10.1.2.0/24' }
  t.same(load(ipam(base, { 'cni.dev/valid-attachments': a, 'cni.dev/attachments': b })).validAttachments, a)
  t.same(load(ipam(base, { 'cni.dev/attachments': b })).validAttachments, b)
  t.same(load(ipam(base, { 'cni.dev/valid-attachments': null })).validAttachments, [])
  t.same(load(ipam(base, { 'cni.dev/valid-attachments': [] })).validAttachments, [])
  t.equal(load(ipam(base)).validAttachments, undefined)
  t.same(load(ipam(base, { 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0', extra: 1 }] })).validAttachments, a)
})

/** [name, conf, CNI_ARGS, expected message] — every text as the reference prints it. */
const ERRORS: Array<[string, BaseNetConf, string, string]> = [
  ['no ipam', net({}), '', "IPAM config missing 'ipam' key"],
  ['no ranges at all', ipam({}), '', 'no IP ranges specified'],
  ['ranges: []', ipam({ ranges: [] }), '', 'no IP ranges specified'],
  ['empty range set', ipam({ ranges: [[]] }), '', 'invalid range set 0: empty range set'],
  ['null range set', ipam({ ranges: [null] }), '', 'invalid range set 0: empty range set'],
  ['range without subnet', ipam({ ranges: [[{}]] }), '', 'invalid range set 0: IP <nil> not v4 nor v6'],
  ['null range', ipam({ ranges: [[null]] }), '', 'invalid range set 0: IP <nil> not v4 nor v6'],
  ['mixed families', ipam({ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/64' }]] }), '', 'invalid range set 0: mixed address families'],
  ['/31', ipam({ subnet: '192.0.2.0/31' }), '', 'invalid range set 0: Network 192.0.2.0/31 too small to allocate from'],
  ['/128', ipam({ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: 'fd00::1/128' }]] }), '', 'invalid range set 1: Network fd00::1/128 too small to allocate from'],
  ['host bits', ipam({ subnet: '192.0.2.5/24' }), '', 'invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 192.0.2.0'],
  ['IPv4-mapped subnet', ipam({ subnet: '::ffff:10.0.0.0/120' }), '', 'invalid range set 0: IPNet IP and Mask version mismatch'],
  ['rangeStart outside', ipam({ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }), '', 'invalid range set 0: RangeStart 10.0.1.5 not in network 10.0.0.0/24'],
  ['rangeEnd outside', ipam({ subnet: '10.0.0.0/24', rangeEnd: '10.0.1.5' }), '', 'invalid range set 0: RangeEnd 10.0.1.5 not in network 10.0.0.0/24'],
  ['start after end', ipam({ subnet: '10.0.0.0/24', rangeStart: '10.0.0.9', rangeEnd: '10.0.0.5' }), '', 'invalid range set 0: RangeStart 10.0.0.9 not in network 10.0.0.0/24'],
  ['ranges overlap within a set', ipam({ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/25' }]] }), '', 'invalid range set 0: subnets 10.0.0.1-10.0.0.254 and 10.0.0.1-10.0.0.126 overlap'],
  ['sets overlap', ipam({ ranges: [[{ subnet: '10.9.0.0/24' }], [{ subnet: '10.8.0.0/24' }], [{ subnet: '10.9.0.0/25' }]] }), '', 'range set 0 overlaps with 2'],
  ['runtime ipRanges overlap the legacy range', ipam({ subnet: '10.9.0.0/24' }, { runtimeConfig: { ipRanges: [[{ subnet: '10.9.0.0/16' }]] } }), '', 'range set 0 overlaps with 1'],
  ['two v4 sets at 0.2.0', ipam({ ranges: [[{ subnet: '10.9.0.0/24' }], [{ subnet: '10.10.0.0/24' }]] }, {}, '0.2.0'), '', 'CNI version 0.2.0 does not support more than 1 address per family'],
  ['two v6 sets at 0.1.0', ipam({ ranges: [[{ subnet: 'fd00::/64' }], [{ subnet: 'fd01::/64' }]] }, {}, '0.1.0'), '', 'CNI version 0.1.0 does not support more than 1 address per family'],
  ['two v4 sets without cniVersion', net({ ipam: { ranges: [[{ subnet: '10.9.0.0/24' }], [{ subnet: '10.10.0.0/24' }]] } }, null), '', 'CNI version  does not support more than 1 address per family'],
  ['bad subnet', ipam({ subnet: '10.0.0.0' }), '', 'invalid CIDR address: 10.0.0.0'],
  ['empty subnet', ipam({ subnet: '' }), '', 'invalid CIDR address: '],
  ['bad subnet in ranges (no set prefix: a decoding error)', ipam({ ranges: [[{ subnet: 'x/8' }]] }), '', 'invalid CIDR address: x/8'],
  ['bad subnet in ipRanges', ipam({}, { runtimeConfig: { ipRanges: [[{ subnet: '300.0.0.0/8' }]] } }), '', 'invalid CIDR address: 300.0.0.0/8'],
  ['bad rangeStart', ipam({ subnet: '10.0.0.0/24', rangeStart: 'x' }), '', 'invalid IP address: x'],
  ['bad rangeEnd without subnet', ipam({ rangeEnd: '10.0.0.01' }), '', 'invalid IP address: 10.0.0.01'],
  ['bad gateway', ipam({ ranges: [[{ subnet: '10.0.0.0/24', gateway: '10.0.0.256' }]] }), '', 'invalid IP address: 10.0.0.256'],
  ['bad route dst', ipam({ subnet: '10.0.0.0/24', routes: [{ dst: 'x' }] }), '', 'invalid CIDR address: x'],
  ['bad route gw', ipam({ subnet: '10.0.0.0/24', routes: [{ dst: '0.0.0.0/0', gw: 'x' }] }), '', 'invalid IP address: x'],
  ['decoding errors come before a missing ipam', net({ args: { cni: { ips: ['garb'] } } }), '', 'invalid IP address garb'],
  ['bad runtimeConfig.ips', ipam({ subnet: '10.0.0.0/24' }, { runtimeConfig: { ips: ['10.0.0.5/40'] } }), '', 'invalid IP address 10.0.0.5/40'],
  ['empty args.cni.ips entry', ipam({ subnet: '10.0.0.0/24' }, { args: { cni: { ips: [''] } } }), '', 'cannot understand ip: IP <nil> not v4 nor v6'],
  ['null runtimeConfig.ips entry', ipam({ subnet: '10.0.0.0/24' }, { runtimeConfig: { ips: [null] } }), '', 'cannot understand ip: IP <nil> not v4 nor v6'],
  ['CNI_ARGS bad IP', ipam({ subnet: '10.0.0.0/24' }), 'IP=garbage', 'ARGS: error parsing value of pair "IP=garbage": invalid IP address garbage'],
  ['CNI_ARGS unknown key (bridge MAC)', ipam({ subnet: '10.0.0.0/24' }), 'MAC=00:11:22:33:44:55', 'ARGS: unknown args ["MAC=00:11:22:33:44:55"]'],
  ['CNI_ARGS lower-case ip is unknown', ipam({ subnet: '10.0.0.0/24' }), 'ip=10.0.0.5;FOO=bar', 'ARGS: unknown args ["ip=10.0.0.5" "FOO=bar"]'],
  ['CNI_ARGS pair without =', ipam({ subnet: '10.0.0.0/24' }), 'FOO', 'ARGS: invalid pair "FOO"'],
  ['CNI_ARGS value with =', ipam({ subnet: '10.0.0.0/24' }), 'IP=a=b', 'ARGS: invalid pair "IP=a=b"'],
  ['CNI_ARGS bad IgnoreUnknown', ipam({ subnet: '10.0.0.0/24' }), 'IgnoreUnknown=yes', 'ARGS: error parsing value of pair "IgnoreUnknown=yes": boolean unmarshal error: invalid input yes'],
  ['CNI_ARGS come before ranges', ipam({}), 'FOO=1', 'ARGS: unknown args ["FOO=1"]'],
]

t.test('every error text of the reference, as a plain error (code 999)', async (t) => {
  for (const [name, conf, args, msg] of ERRORS) {
    let err: unknown
    try {
      load(conf, args)
    } catch (e) {
      err = e
    }
    t.ok(err instanceof Error && !(err instanceof CniError), `${name}: a plain Error`)
    t.equal((err as Error | undefined)?.message, msg, name)
  }
})

t.test('a field of the wrong type is code 7 naming the field', async (t) => {
  const cases: Array<[BaseNetConf, string]> = [
    [ipam({ subnet: 5 }), '"ipam.subnet" must be string'],
    [ipam({ subnet: '10.0.0.0/24', dataDir: 5 }), '"ipam.dataDir" must be string'],
    [ipam({ ranges: [[{ subnet: 5 }]] }), '"ipam.ranges[0][0].subnet" must be string'],
    [ipam({ ranges: [{ subnet: '10.0.0.0/24' }] }), '"ipam.ranges[0]" must be array'],
    [ipam({ subnet: '10.0.0.0/24', routes: [{ dst: '0.0.0.0/0', mtu: 1400.5 }] }), '"ipam.routes[0].mtu" must be integer'],
    [ipam({ subnet: '10.0.0.0/24', routes: [{ gw: '10.0.0.1' }] }), `"ipam.routes[0]" must have required property 'dst'`],
    [ipam({ subnet: '10.0.0.0/24', routes: [null] }), '"ipam.routes[0]" must be object'],
    [ipam({ subnet: '10.0.0.0/24', resolvConf: true }), '"ipam.resolvConf" must be string'],
    [ipam({ subnet: '10.0.0.0/24' }, { runtimeConfig: { ips: '10.0.0.5' } }), '"runtimeConfig.ips" must be array'],
    [ipam({ subnet: '10.0.0.0/24' }, { args: { cni: { ips: [5] } } }), '"args.cni.ips[0]" must be string'],
    [ipam({ subnet: '10.0.0.0/24' }, { runtimeConfig: { ipRanges: [[{ gateway: 1 }]] } }), '"runtimeConfig.ipRanges[0][0].gateway" must be string'],
    [net({ ipam: 'host-local' }), '"ipam" must be object'],
    [ipam({ subnet: '10.0.0.0/24' }, { 'cni.dev/valid-attachments': [{ containerID: 'c1' }] }), `"cni.dev/valid-attachments[0]" must have required property 'ifname'`],
    [ipam({ subnet: '10.0.0.0/24' }, { 'cni.dev/attachments': {} }), '"cni.dev/attachments" must be array'],
  ]
  for (const [conf, msg] of cases) {
    t.throws(() => load(conf), { code: 7, msg: `failed to load netconf: ${msg}` }, msg)
  }
})
