// The bridge cases of the spec checklist (cni-spec-checklist.md §7.7-7.10) not covered elsewhere.
import t from 'tap'
import { rtnlIn } from '../../helpers/netns'
import { bridgeConf, ipFiles, linkNames, runBridge, withPrev, world } from './fixture'

t.test('57: a second ADD of the same attachment fails and the first one survives', async (t) => {
  const w = world(t, 'spec57')
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, isGateway: true })
  const first = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(first.code, 0, first.stdout)
  const second = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(second.code, 1)
  t.match(second.json.msg, /already exists/)
  t.same(ipFiles(w.dataDir), ['10.77.0.2'], 'the first allocation is kept')
  const check = runBridge(w, 'CHECK', withPrev(conf, first.json), { netns: ctr.path })
  t.equal(check.code, 0, `CHECK with the first result: ${check.stdout}`)
})

t.test('58: an IPAM plugin that cannot be found; the runtime’s DEL then fails the same way', async (t) => {
  const w = world(t, 'spec58')
  const ctr = w.container()
  const conf = { ...bridgeConf({ dataDir: w.dataDir }), ipam: { type: 'nope' } }
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 1)
  t.match(add.json.msg, /^failed to find plugin "nope" in path \[/)
  t.same(linkNames(rtnlIn(t, ctr)), [], 'eth0 already taken back by the failed ADD (the reference leaves it)')
  const del = runBridge(w, 'DEL', conf, { netns: ctr.path })
  t.equal(del.code, 1, 'delegate errors propagate on DEL, as with the reference')
  t.match(del.json.msg, /^failed to find plugin "nope"/)
})

t.test('60: CNI_ARGS reach the IPAM plugin; unknown keys need IgnoreUnknown', async (t) => {
  const w = world(t, 'spec60')
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: '10.99.0.0/24' })
  const refused = runBridge(w, 'ADD', conf, { netns: w.container('a').path, args: 'IP=10.99.0.70' })
  t.equal(refused.code, 1)
  t.match(refused.json.msg, 'ARGS: unknown args ["IP=10.99.0.70"]')
  const ok = runBridge(w, 'ADD', conf, { netns: w.container('b').path, args: 'IgnoreUnknown=1;IP=10.99.0.70' })
  t.equal(ok.code, 0, ok.stdout)
  t.equal(ok.json.ips[0].address, '10.99.0.70/24', 'host-local saw IP= in the same environment')
})
