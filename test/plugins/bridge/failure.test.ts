// A failed ADD undoes everything it did (the reference leaves the veth behind), so the same ADD
// retried succeeds. Failures: real ones (IPAM exhausted, a VLAN the kernel refuses) and injected ones
// after every step (TSCNI_TEST_BRIDGE_FAIL_AT, a test-only hook in plugins/bridge/index.ts).
import t, { type Test } from 'tap'
import { ipIn, rtnlIn } from '../../helpers/netns'
import { type World, bridgeConf, ipFiles, kernelHasVlanFiltering, linkNames, natRules, nftRuleset, runBridge, world } from './fixture'
import type { TestNetns } from '../../helpers/netns'

/** Asserts that no trace of an attachment is left: only the bridge on the host, nothing in the container. */
function nothingLeft(t: Test, w: World, ctr: TestNetns, keepFiles: string[] = []): void {
  t.same(linkNames(w.hostRtnl), ['tbr0'], 'host: only the bridge')
  t.same(linkNames(rtnlIn(t, ctr)), [], 'container: no interface')
  t.same(ipFiles(w.dataDir), keepFiles, 'IPAM: nothing allocated')
  t.same(natRules(w.host).filter((l) => l.includes('CNI-')), [], 'no IPv4 masquerade chain or rule')
  t.same(natRules(w.host, 6).filter((l) => l.includes('CNI-')), [], 'no IPv6 masquerade chain or rule')
  const nft = nftRuleset(w.host)
  t.notMatch(nft, /macspoofchk|cni-br-iface/, 'no spoof-check chain or rule')
  t.notMatch(nft, /masquerade comment/, 'no nftables masquerade rule')
}

const STEPS = ['veth', 'spoofcheck', 'ipam', 'configure', 'gateway', 'ipmasq', 'end']

for (const backend of ['iptables', 'nftables']) {
  t.test(`an injected failure after each step leaves nothing behind (ipMasq with ${backend})`, async (t) => {
    for (const step of STEPS) {
      await t.test(`after ${step}`, async (t) => {
        const w = world(t, 'fail')
        const ctr = w.container()
        const conf = bridgeConf({
          dataDir: w.dataDir,
          subnet: ['10.79.1.0/24', 'fd00:79:1::/64'],
          isDefaultGateway: true,
          ipMasq: true,
          ipMasqBackend: backend,
          macspoofchk: true,
        })
        const failed = runBridge(w, 'ADD', conf, { netns: ctr.path, env: { TSCNI_TEST_BRIDGE_FAIL_AT: step } })
        t.equal(failed.code, 1, 'ADD fails')
        t.match(failed.json, { code: 999, msg: `test failure injected after ${step}` })
        nothingLeft(t, w, ctr)
        const retry = runBridge(w, 'ADD', conf, { netns: ctr.path })
        t.equal(retry.code, 0, `the retried ADD succeeds: ${retry.stdout}`)
        // host-local's round robin moves on (last_reserved_ip is never rolled back): one per family.
        t.equal(ipFiles(w.dataDir).length, 2, 'one address per family, the failed ones were released')
      })
    }
  })
}

t.test('IPAM exhausted (/30 already taken): the error passes through, nothing is left, the holder is intact', async (t) => {
  const w = world(t, 'exh')
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: '10.79.2.0/30', isGateway: true })
  const first = w.container('a')
  const a = runBridge(w, 'ADD', conf, { netns: first.path, containerID: 'ctr-0' })
  t.equal(a.code, 0, a.stdout)
  const second = w.container('b')
  const b = runBridge(w, 'ADD', conf, { netns: second.path, containerID: 'ctr-1' })
  t.equal(b.code, 1)
  t.match(b.json.msg, /no IP addresses available in range set/, 'host-local’s own message')
  t.same(linkNames(rtnlIn(t, second)), [], 'no eth0 left in the second container')
  t.same(linkNames(w.hostRtnl).length, 2, 'host: the bridge and the first container’s veth')
  t.same(ipFiles(w.dataDir), ['10.79.2.2'], 'the first container keeps its address')
  t.same(linkNames(rtnlIn(t, first)), ['eth0'])

  t.equal(runBridge(w, 'DEL', conf, { netns: second.path, containerID: 'ctr-1' }).code, 0, 'the runtime’s DEL after a failed ADD')
  t.same(ipFiles(w.dataDir), ['10.79.2.2'], 'and it does not release the other container’s address')
  t.equal(runBridge(w, 'DEL', conf, { netns: first.path, containerID: 'ctr-0' }).code, 0)
  const retry = runBridge(w, 'ADD', conf, { netns: second.path, containerID: 'ctr-1' })
  t.equal(retry.code, 0, retry.stdout)
})

const HAS_VLANS = kernelHasVlanFiltering(t) ? 'this kernel supports bridge VLANs: a VLAN ADD succeeds (see vlan.test.ts)' : false

t.test('a VLAN the kernel refuses: the veth made before it is removed again', { skip: HAS_VLANS }, async (t) => {
  const w = world(t, 'vlan')
  // An existing bridge (no VLAN filtering needed to create it): the failure comes at the port VLAN.
  ipIn(w.host, ['link', 'add', 'tbr0', 'type', 'bridge'])
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, vlan: 100, isGateway: true })
  const r = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(r.code, 1)
  t.match(r.json.msg, /^failed to setup vlan tag on interface "veth[0-9a-f]{8}": operation not supported$/)
  nothingLeft(t, w, ctr)

  // A new bridge with VLAN filtering: refused before anything else is made.
  const w2 = world(t, 'vlan2')
  const ctr2 = w2.container()
  const r2 = runBridge(w2, 'ADD', bridgeConf({ dataDir: w2.dataDir, vlanTrunk: [{ id: 5 }] }), { netns: ctr2.path })
  t.match(r2.json, { code: 999, msg: 'failed to create bridge "tbr0": could not add "tbr0": operation not supported' })
  t.same(linkNames(w2.hostRtnl), [], 'no bridge')
  t.same(linkNames(rtnlIn(t, ctr2)), [])
})
