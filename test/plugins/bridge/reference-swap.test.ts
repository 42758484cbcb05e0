// Side by side with the Go reference bridge, part 6: a node that switches plugins with containers
// running. One implementation ADDs (the same on both sides), then ours and the reference CHECK and
// DEL that attachment; both must see the same and leave the same (scenario.ts).
import t from 'tap'
import { allow } from '../../helpers/deliberate'
import { HAVE_REF_BRIDGE } from './fixture'
import { type Ctx, type Scenario, br, runScenario } from './scenario'

const conf = br({ isDefaultGateway: true, ipMasq: true, macspoofchk: true, hairpinMode: true }, ['10.84.1.0/24', 'fd00:84:1::/64'])
const withPrev = (c: Ctx) => ({ ...conf(c), prevResult: c.prev })

const SCENARIOS: Scenario[] = [
  {
    name: 'ADD by the reference; CHECK, DEL by each',
    steps: [
      { command: 'ADD', conf, by: 'ref' },
      { command: 'CHECK', conf: withPrev },
      { command: 'DEL', conf: withPrev },
      { name: 'DEL again', command: 'DEL', conf: withPrev },
    ],
  },
  {
    name: 'ADD by ours; CHECK, DEL by each (switching back)',
    steps: [
      { command: 'ADD', conf, by: 'ours' },
      { command: 'CHECK', conf: withPrev },
      { command: 'DEL', conf: withPrev },
    ],
  },
  {
    name: 'two containers: one added by the reference, one by each; DEL by each',
    containers: ['a', 'b'],
    steps: [
      { command: 'ADD', ctr: 'a', conf, by: 'ref' },
      { command: 'ADD', ctr: 'b', conf, allow: [allow('resultShape', /^stdout\.json\.dns$/)] },
      { command: 'CHECK', ctr: 'a', conf: withPrev },
      { command: 'CHECK', ctr: 'b', conf: withPrev },
      { command: 'DEL', ctr: 'a', conf: withPrev },
      { command: 'DEL', ctr: 'b', conf: withPrev },
    ],
  },
]

if (!HAVE_REF_BRIDGE) t.pass('side by side', { skip: 'no reference bridge in /usr/lib/cni' })
else {
  t.setTimeout(60_000 + SCENARIOS.length * 20_000)
  for (const sc of SCENARIOS) t.test(sc.name, async (t) => runScenario(t, sc))
}
