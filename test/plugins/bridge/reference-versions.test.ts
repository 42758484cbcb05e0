// Side by side with the Go reference bridge, part 3: the spec versions. Every version the
// reference speaks (0.1.0 ... 1.0.0) through ADD, CHECK, DEL; 1.1.0 (ours) against 1.0.0 (the
// reference's newest); VERSION, STATUS and GC. Strict comparison after every step (scenario.ts).
import t from 'tap'
import { allow } from '../../helpers/deliberate'
import { MISSING_CONTAINER_ID, refusesSpec110, verbBelow110, versionAnswer } from '../../helpers/expectations'
import { HAVE_REF_BRIDGE } from './fixture'
import { type Scenario, at110, br, lifecycle, runScenario } from './scenario'

const DUAL = ['10.82.1.0/24', 'fd00:82:1::/64']

// Runtimes call GC and STATUS without an attachment; Debian's skel asks for a container ID first.
const statusOrGcBelow110 = (verb: string) => verbBelow110(verb, 'missing containerID')

const SCENARIOS: Scenario[] = [
  ...['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'].map((v) => lifecycle(`dual stack at ${v}`, br({ isDefaultGateway: true }, DUAL, v))),
  ...['0.1.0', '0.2.0', '0.3.1'].map((v) => lifecycle(`IPv4 with ipMasq and macspoofchk at ${v}`, br({ isGateway: true, ipMasq: true, macspoofchk: true }, '10.82.2.0/24', v))),
  lifecycle('no cniVersion (0.1.0)', (c) => ({ ...br({ isGateway: true }, '10.82.3.0/24')(c), cniVersion: undefined })),
  lifecycle('L2 at 0.2.0 (a result without IPs cannot be printed)', () => ({ cniVersion: '0.2.0', name: 'l2', type: 'bridge', bridge: 'tbr0' })),
  lifecycle('L2 at 0.4.0', () => ({ cniVersion: '0.4.0', name: 'l2', type: 'bridge', bridge: 'tbr0' }), { l2: true }),
  (() => {
    const s = lifecycle('dual stack with ipMasq at 1.1.0 (the reference gets 1.0.0)', br({ isDefaultGateway: true, ipMasq: true }, DUAL, '1.1.0'))
    return { ...s, steps: s.steps.map(at110) }
  })(),
  {
    name: 'VERSION',
    steps: [
      ...['0.1.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0', '9.9.9'].map((v) => ({ name: `VERSION, stdin at ${v}`, command: 'VERSION', conf: () => ({ cniVersion: v }), expect: versionAnswer(v) })),
      { name: 'VERSION, stdin {}', command: 'VERSION', conf: () => ({}), expect: versionAnswer(undefined) },
      { name: 'VERSION, empty stdin', command: 'VERSION', conf: () => '', expect: versionAnswer(undefined) },
    ],
  },
  {
    name: 'STATUS and GC beside a running attachment',
    steps: [
      { command: 'ADD', conf: br({ isGateway: true, ipMasq: true }, '10.82.4.0/24'), allow: [allow('resultShape', /^stdout\.json\.dns$/, { optional: true })] },
      { name: 'STATUS at 1.0.0', command: 'STATUS', conf: br({ isGateway: true, ipMasq: true }, '10.82.4.0/24'), allow: statusOrGcBelow110('STATUS') },
      { name: 'GC at 1.0.0', command: 'GC', conf: br({ isGateway: true, ipMasq: true }, '10.82.4.0/24'), allow: statusOrGcBelow110('GC') },
      { name: 'STATUS at 1.1.0', command: 'STATUS', conf: br({ isGateway: true, ipMasq: true }, '10.82.4.0/24', '1.1.0'), allow: refusesSpec110('empty', MISSING_CONTAINER_ID) },
      {
        name: 'GC at 1.1.0, the attachment valid',
        command: 'GC',
        conf: (c) => ({ ...br({ isGateway: true, ipMasq: true }, '10.82.4.0/24', '1.1.0')(c), 'cni.dev/valid-attachments': [{ containerID: 'ctr-a', ifname: 'eth0' }] }),
        allow: refusesSpec110('empty', MISSING_CONTAINER_ID),
      },
      { command: 'DEL', conf: br({ isGateway: true, ipMasq: true }, '10.82.4.0/24') },
    ],
  },
]

if (!HAVE_REF_BRIDGE) t.pass('side by side', { skip: 'no reference bridge in /usr/lib/cni' })
else {
  t.setTimeout(60_000 + SCENARIOS.length * 15_000)
  for (const sc of SCENARIOS) t.test(sc.name, { skip: sc.skip }, async (t) => runScenario(t, sc))
}
