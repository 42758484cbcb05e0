// VLANs: the config rules through the executable everywhere; the kernel side only where the kernel
// has bridge VLAN filtering (it answers EOPNOTSUPP otherwise, and those tests skip saying so).
import t from 'tap'
import { rtnlIn } from '../../helpers/netns'
import { addrsOf, bridgeConf, kernelHasVlanFiltering, linkNames, mustLink, runBridge, world } from './fixture'

t.test('VLAN config errors: code 7, the reference’s messages, nothing created', async (t) => {
  const w = world(t, 'vcfg')
  const ctr = w.container()
  const cases: [object, string][] = [
    [{ vlan: 4095 }, 'invalid VLAN ID 4095 (must be between 0 and 4094)'],
    [{ vlan: -100 }, 'invalid VLAN ID -100 (must be between 0 and 4094)'],
    [{ vlanTrunk: [{ minID: 0, maxID: 5 }] }, 'incorrect trunk minID parameter'],
    [{ vlanTrunk: [{ minID: 5, maxID: 5000 }] }, 'incorrect trunk maxID parameter'],
    [{ vlanTrunk: [{ minID: 9, maxID: 5 }] }, 'minID is greater than maxID in trunk parameter'],
    [{ vlanTrunk: [{ maxID: 5 }] }, 'minID and maxID should be configured simultaneously, minID is missing'],
    [{ vlanTrunk: [{ minID: 5 }] }, 'minID and maxID should be configured simultaneously, maxID is missing'],
    [{ vlanTrunk: [{ id: 4095 }] }, 'incorrect trunk id parameter'],
  ]
  for (const [extra, msg] of cases) {
    const r = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, ...extra }), { netns: ctr.path })
    t.equal(r.code, 1)
    t.same(r.json, { cniVersion: r.json?.cniVersion, code: 999, msg }, JSON.stringify(extra))
    const del = runBridge(w, 'DEL', bridgeConf({ dataDir: w.dataDir, ...extra }), { netns: ctr.path })
    t.match(del.json, { code: 999, msg }, 'DEL refuses the config too, as the reference')
  }
  t.same(linkNames(w.hostRtnl), [], 'no bridge was made')
})

const NO_VLANS = kernelHasVlanFiltering(t)
  ? false
  : 'this kernel has no bridge VLAN filtering (creating a bridge with vlan_filtering=1 answers EOPNOTSUPP)'

t.test('vlan: access VLAN on the port, gateway on <bridge>.<vlan>', { skip: NO_VLANS }, async (t) => {
  const w = world(t, 'vlan')
  const ctr = w.container()
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, vlan: 100, isGateway: true }), { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  t.equal(add.json.interfaces.length, 4)
  t.equal(add.json.interfaces[3].name, 'tbr0.100')
  t.equal(mustLink(w.hostRtnl, 'tbr0').vlanFiltering, true)
  const port = mustLink(w.hostRtnl, add.json.interfaces[1].name)
  t.same(w.hostRtnl.getBridgeVlans(port.index), [{ vid: 100, pvid: true, untagged: true }])
  t.same(addrsOf(w.hostRtnl, 'tbr0.100'), ['10.77.0.1/24'])
  t.same(addrsOf(w.hostRtnl, 'tbr0'), [])
  t.equal(mustLink(rtnlIn(t, ctr), 'eth0').up, true)
})

t.test('vlanTrunk: tagged VIDs and native VLAN 1; preserveDefaultVlan keeps VID 1', { skip: NO_VLANS }, async (t) => {
  const w = world(t, 'trunk')
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, vlanTrunk: [{ minID: 10, maxID: 12 }, { id: 20 }] }), {
    netns: w.container().path,
  })
  t.equal(add.code, 0, add.stdout)
  const port = mustLink(w.hostRtnl, add.json.interfaces[1].name)
  t.same(
    w.hostRtnl.getBridgeVlans(port.index).sort((a, b) => a.vid - b.vid),
    [
      { vid: 1, pvid: true, untagged: true },
      { vid: 10, pvid: false, untagged: false },
      { vid: 11, pvid: false, untagged: false },
      { vid: 12, pvid: false, untagged: false },
      { vid: 20, pvid: false, untagged: false },
    ],
  )
  const keep = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, vlan: 30, preserveDefaultVlan: true }), {
    netns: w.container('b').path,
    containerID: 'ctr-2',
  })
  t.equal(keep.code, 0, keep.stdout)
  const port2 = mustLink(w.hostRtnl, keep.json.interfaces[1].name)
  const vids = w.hostRtnl.getBridgeVlans(port2.index).map((v) => v.vid).sort((a, b) => a - b)
  t.same(vids, [1, 30])
})
