// Side by side with the Go reference bridge, part 2: what comes from IPAM (host-local's ranges,
// requested addresses, routes, DNS) through the bridge into the container, compared strictly after
// every step (see reference.test.ts and scenario.ts).
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { HAVE_REF_BRIDGE, tempDir } from './fixture'
import { ipamDns } from '../../helpers/expectations'
import { type Allowance, allow } from '../../helpers/deliberate'
import { ABSENT } from '../../helpers/side-by-side'
import { type Scenario, br, lifecycle, oursSucceedsWhereReferenceFails, runScenario } from './scenario'

const resolvDir = tempDir(t)
const RESOLV = path.join(resolvDir, 'resolv.conf')
fs.writeFileSync(RESOLV, 'nameserver 10.81.0.53\nnameserver fd00:81::53\ndomain example.test\nsearch a.example.test b.example.test\noptions ndots:2 edns0\n')
const RESOLV_DNS = { domain: 'example.test', nameservers: ['10.81.0.53', 'fd00:81::53'], options: ['ndots:2', 'edns0'], search: ['a.example.test', 'b.example.test'] }

const withIpam = (extra: Record<string, unknown>, ipam: Record<string, unknown>) => (c: { dataDir: string }) => ({
  ...br(extra)(c as any),
  ipam: { type: 'host-local', dataDir: c.dataDir, ...ipam },
})

/**
 * The routes of 'IPAM routes with priority, table, mtu, advmss' as each side has them: ours in table
 * 100 and with metric 5 (and RTAX_MTU/ADVMSS), Debian's in main without a metric; and the fields
 * `stdoutFields` in ours' result only.
 */
function routeFields(stdoutFields: string[]): Allowance[] {
  const esc = (x: string) => x.replace(/[.[\]]/g, (c) => `\\${c}`)
  return [
    ...stdoutFields.map((f) => allow('headKeys', new RegExp(`^stdout\\.json\\.${esc(f)}$`), { reference: ABSENT })),
    allow('headKeys', /^ctr a\.routes\.100 unicast 10\.203\.0\.0\/16 dev eth0 via 10\.81\.10\.254$/, { reference: ABSENT }),
    allow('headKeys', /^ctr a\.routes\.main unicast 10\.202\.0\.0\/16 dev eth0 metric 5 via 10\.81\.10\.254$/, {
      ours: (r: any) => r.metric === 5 && r.metrics?.some((m: any) => m.mtu === 1300) && r.metrics?.some((m: any) => m.advmss === 1200),
      reference: ABSENT,
    }),
    allow('headKeys', /^ctr a\.routes\.main unicast 10\.20[23]\.0\.0\/16 dev eth0 via 10\.81\.10\.254$/, { ours: ABSENT }),
  ]
}

const SCENARIOS: Scenario[] = [
  lifecycle('dns from the config', br({ isGateway: true, dns: { nameservers: ['10.81.0.53'], domain: 'example.test', search: ['example.test'], options: ['ndots:1'] } })),
  lifecycle('dns from IPAM (resolvConf), none in the config', withIpam({ isGateway: true }, { subnet: '10.81.6.0/24', resolvConf: RESOLV }), {
    add: { expect: [ipamDns(RESOLV_DNS)] },
  }),
  lifecycle('dns from the config wins over IPAM', withIpam({ isGateway: true, dns: { nameservers: ['10.81.0.54'] } }, { subnet: '10.81.6.0/24', resolvConf: RESOLV })),
  lifecycle('IPAM routes with and without gw', withIpam({ isGateway: true }, { subnet: '10.81.7.0/24', routes: [{ dst: '10.200.0.0/16' }, { dst: '10.201.0.0/16', gw: '10.81.7.254' }, { dst: '0.0.0.0/0' }] }), {
    check: { allow: oursSucceedsWhereReferenceFails('checkGatewayLessRoute', { code: 999, msg: /^Expected Route \{Dst:\{IP:10\.200\.0\.0 Mask:ffff0000\} GW:<nil>\} not found in routing table$/ }) },
  }),
  lifecycle('isDefaultGateway with an IPAM default route that has a gw', withIpam({ isDefaultGateway: true }, { subnet: '10.81.8.0/24', routes: [{ dst: '0.0.0.0/0', gw: '10.81.8.254' }] })),
  lifecycle('isDefaultGateway with an IPAM default route without gw (both fail: file exists)', withIpam({ isDefaultGateway: true }, { subnet: '10.81.8.0/24', routes: [{ dst: '0.0.0.0/0' }] }), { addFails: true }),
  // HEAD's route fields: ours applies them (a metric, a table, metrics), Debian's build drops them.
  lifecycle('IPAM routes with priority, table, mtu, advmss', withIpam({ isGateway: true }, {
    subnet: '10.81.10.0/24',
    routes: [{ dst: '10.202.0.0/16', gw: '10.81.10.254', priority: 5, mtu: 1300, advmss: 1200 }, { dst: '10.203.0.0/16', gw: '10.81.10.254', table: 100 }],
  }), {
    add: { allow: routeFields(['routes[0].advmss', 'routes[0].mtu', 'routes[0].priority', 'routes[1].table']) },
    check: { allow: routeFields([]) },
  }),
  // An explicit scope (universe, the only one that works with the gateway Go fills in).
  lifecycle('an IPAM route with scope 0', withIpam({ isGateway: true }, { subnet: '10.81.17.0/24', routes: [{ dst: '10.205.0.0/16', scope: 0 }] }), {
    add: { allow: [allow('headKeys', /^stdout\.json\.routes\[0\]\.scope$/, { ours: 0, reference: ABSENT })] },
    check: { allow: oursSucceedsWhereReferenceFails('checkGatewayLessRoute', { code: 999, msg: /^Expected Route \{Dst:\{IP:10\.205\.0\.0 Mask:ffff0000\} GW:<nil>\} not found in routing table$/ }) },
  }),
  lifecycle('ranges with rangeStart, rangeEnd, gateway, dual stack', withIpam({ isGateway: true }, {
    ranges: [[{ subnet: '10.81.11.0/24', rangeStart: '10.81.11.100', rangeEnd: '10.81.11.110', gateway: '10.81.11.254' }], [{ subnet: 'fd00:81:11::/64', rangeStart: 'fd00:81:11::10', gateway: 'fd00:81:11::ff' }]],
  })),
  lifecycle('two ranges in one set', withIpam({ isGateway: true }, { ranges: [[{ subnet: '10.81.13.0/30' }, { subnet: '10.81.14.0/24' }]] })),
  lifecycle('legacy subnet keys, args.cni.ips, runtimeConfig.ips and runtimeConfig.ipRanges', withIpam(
    { isGateway: true, args: { cni: { ips: ['10.81.12.40'] } }, runtimeConfig: { ips: ['fd00:81:12::40'], ipRanges: [[{ subnet: 'fd00:81:12::/64' }]] } },
    { subnet: '10.81.12.0/24', rangeStart: '10.81.12.20', rangeEnd: '10.81.12.50', gateway: '10.81.12.1' },
  )),
  lifecycle('IP from CNI_ARGS', br({ isGateway: true }), { args: 'IgnoreUnknown=1;IP=10.81.0.77' }),
  lifecycle('IP from CNI_ARGS that is taken by nobody but outside the range', br({ isGateway: true }), { args: 'IgnoreUnknown=1;IP=10.99.0.77', addFails: true }),
  lifecycle('an IPv6 range that ends at the last address', withIpam({ isGateway: true }, { ranges: [[{ subnet: 'fd00:81:15::/126' }]] })),
  lifecycle('IPAM dataDir default is not used when set (a nested path is created)', (c) => ({ ...br({ isGateway: true })(c), ipam: { type: 'host-local', subnet: '10.81.16.0/24', dataDir: `${c.dataDir}/a/b` } })),
]

if (!HAVE_REF_BRIDGE) t.pass('side by side', { skip: 'no reference bridge in /usr/lib/cni' })
else {
  t.setTimeout(60_000 + SCENARIOS.length * 15_000)
  for (const sc of SCENARIOS) t.test(sc.name, { skip: sc.skip }, async (t) => runScenario(t, sc))
}
