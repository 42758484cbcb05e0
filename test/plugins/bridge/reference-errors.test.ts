// Side by side with the Go reference bridge, part 4: failures. The same bad inputs must give the
// same exit code and stdout byte for byte (key order aside), and leave the same kernel state and
// store behind (scenario.ts). Where ours deliberately differs, the entry of deliberate.ts says so.
import t from 'tap'
import { allow } from '../../helpers/deliberate'
import { VERSION_LIST_DETAILS, typeError } from '../../helpers/expectations'
import { ABSENT } from '../../helpers/side-by-side'
import { inNs, type Scenario, type Step, br, runScenario, undoFailedAdd } from './scenario'
import { HAVE_REF_BRIDGE } from './fixture'

const one = (name: string, step: Partial<Step> & Pick<Step, 'conf'>, extra: Partial<Scenario> = {}): Scenario => ({
  name,
  steps: [{ command: 'ADD', ...step }],
  ...extra,
})

/** A DEL of nothing: the reference's host-local creates <dataDir>/<network>/ and its lock; ours does not. */
const NO_STORE = [allow('delCreatesNoStore', /^store\.tnet\/(lock)?$/, { ours: ABSENT })]

const SCENARIOS: Scenario[] = [
  one('truncated JSON', { conf: () => '{"cniVersion":"1.0.0","name":' }),
  one('not an object', { conf: () => '[]' }),
  one('no name', { conf: () => ({ cniVersion: '1.0.0', type: 'bridge' }) }),
  one('cniVersion 9.9.9', { conf: br({}, '10.83.0.0/24', '9.9.9'), allow: [VERSION_LIST_DETAILS] }),
  one('vlan out of range', { conf: br({ vlan: 4095 }) }),
  one('negative vlan', { conf: br({ vlan: -100 }) }),
  one('mtu of the wrong type', { conf: br({ mtu: '1500' }), allow: typeError('mtu', 'integer') }),
  one('isGateway of the wrong type', { conf: br({ isGateway: 'yes' }), allow: typeError('isGateway', 'boolean') }),
  one('hairpinMode with promiscMode', { conf: br({ hairpinMode: true, promiscMode: true }) }),
  one('IPAM plugin not found', { conf: (c) => ({ ...br()(c), ipam: { type: 'nope' } }) }),
  one('IPAM config invalid (no ranges)', { conf: (c) => ({ ...br()(c), ipam: { type: 'host-local', dataDir: c.dataDir } }) }),
  one('unknown CNI_ARGS', { conf: br(), args: 'FOO=bar' }),
  one('CNI_ARGS pair without =', { conf: br(), args: 'MAC' }),
  one('bad MAC', { conf: br({ args: { cni: { mac: 'nope' } } }) }),
  one('netns path that does not exist', { conf: br(), netns: 'gone' }),
  one('netns path that is a regular file', { conf: br(), netns: 'file' }),
  one('a device of another kind named like the bridge', { conf: br() }, {
    prepare: (host) => inNs(host, ['ip', 'link', 'add', 'tbr0', 'type', 'veth', 'peer', 'name', 'tbr0p']),
  }),
  one('IPAM exhausted (a /30 holds one address): the failed ADD', { conf: br({ isGateway: true }, '10.83.1.0/30') }, {
    containers: ['a', 'b'],
    steps: [
      { command: 'ADD', ctr: 'a', conf: br({ isGateway: true }, '10.83.1.0/30'), allow: [allow('resultShape', /^stdout\.json\.dns$/)] },
      { command: 'ADD', ctr: 'b', conf: br({ isGateway: true }, '10.83.1.0/30'), refFixup: undoFailedAdd('b') },
      { command: 'DEL', ctr: 'b', conf: br({ isGateway: true }, '10.83.1.0/30') },
      { command: 'DEL', ctr: 'a', conf: br({ isGateway: true }, '10.83.1.0/30') },
    ],
  }),
  one('the same container twice', { conf: br() }, {
    steps: [
      { command: 'ADD', conf: br({ isGateway: true }), allow: [allow('resultShape', /^stdout\.json\.dns$/)] },
      { name: 'ADD again', command: 'ADD', conf: br({ isGateway: true }) },
      { command: 'DEL', conf: br({ isGateway: true }) },
    ],
  }),
  one('CHECK without prevResult', { command: 'CHECK', conf: br() }, {
    steps: [
      { command: 'ADD', conf: br({ isGateway: true }), allow: [allow('resultShape', /^stdout\.json\.dns$/)] },
      { command: 'CHECK', conf: br({ isGateway: true }) },
      { command: 'DEL', conf: br({ isGateway: true }) },
    ],
  }),
  one('CHECK at 0.3.1', { command: 'CHECK', conf: br({}, '10.83.0.0/24', '0.3.1') }),
  one('CHECK after the container address was removed', { conf: br() }, {
    steps: [
      { command: 'ADD', conf: br({ isGateway: true }), allow: [allow('resultShape', /^stdout\.json\.dns$/)] },
      {
        name: 'CHECK with the address gone',
        command: 'CHECK',
        conf: (c) => {
          inNs(c.side.ctrs.a, ['ip', 'addr', 'flush', 'dev', 'eth0', 'scope', 'global'])
          return { ...br({ isGateway: true })(c), prevResult: c.prev }
        },
      },
      { command: 'DEL', conf: br({ isGateway: true }) },
    ],
  }),
  one('DEL without ADD', { command: 'DEL', conf: br(), allow: NO_STORE }),
  one('DEL without CNI_NETNS, without ADD', { command: 'DEL', conf: br(), netns: 'none', allow: NO_STORE }),
  one('DEL of a vanished namespace, without ADD', { command: 'DEL', conf: br(), netns: 'gone', allow: NO_STORE }),
  one('DEL with a bad vlan', { command: 'DEL', conf: br({ vlan: 5000 }) }),
  one('DEL with unknown CNI_ARGS', { command: 'DEL', conf: br(), args: 'FOO=bar' }),
  {
    name: 'DEL without CNI_NETNS after ADD with ipMasq and macspoofchk, then with it',
    steps: [
      { command: 'ADD', conf: br({ isGateway: true, ipMasq: true, macspoofchk: true }, ['10.83.2.0/24', 'fd00:83:2::/64']), allow: [allow('resultShape', /^stdout\.json\.dns$/)] },
      {
        name: 'DEL without CNI_NETNS',
        command: 'DEL',
        netns: 'none',
        conf: br({ isGateway: true, ipMasq: true, macspoofchk: true }, ['10.83.2.0/24', 'fd00:83:2::/64']),
        allow: [
          allow('delWithoutNetnsCleansHost', /^host\.(iptables|ip6tables)\[lines\]$/, { ours: [] }),
          allow('delWithoutNetnsCleansHost', /^host\.nft\[lines\]$/, { ours: [] }),
        ],
      },
      { command: 'DEL', conf: br({ isGateway: true, ipMasq: true, macspoofchk: true }, ['10.83.2.0/24', 'fd00:83:2::/64']) },
    ],
  },
]

if (!HAVE_REF_BRIDGE) t.pass('side by side', { skip: 'no reference bridge in /usr/lib/cni' })
else {
  t.setTimeout(60_000 + SCENARIOS.length * 10_000)
  for (const sc of SCENARIOS) t.test(sc.name, { skip: sc.skip }, async (t) => runScenario(t, sc))
}
