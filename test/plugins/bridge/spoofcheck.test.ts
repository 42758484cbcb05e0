// bridge's MAC spoof check (plugins/bridge/spoofcheck.ts) under Node against the netfilter of a
// throwaway namespace (steps in fixtures/netfilter-steps.ts). netfilter.test.ts checks it through the
// executable, with traffic.
import * as path from 'node:path'
import t from 'tap'
import { spoofCheckRef } from '../../../plugins/bridge/spoofcheck'
import { makeNetns } from '../../helpers/netns'
import { runSteps } from '../../lib/netfilter/fixtures/in-netns'

t.test('the reference’s attachment reference', async (t) => {
  t.equal(spoofCheckRef('ctr-1', 'eth0'), 'ctr-1-eth0')
})

t.test('spoof check setup and teardown', async (t) => {
  const ns = makeNetns(t, 'nf-spoof')
  const [sc, withSc, scTd, scGone, scAgain] = runSteps(ns, path.join(__dirname, 'fixtures', 'netfilter-steps.ts'), [
    ['setupSpoof', 'vethabcd0123', '0a:58:0a:5d:00:02', 'c1-eth0'],
    ['nft'],
    ['teardownSpoof', 'c1-eth0'],
    ['nft'],
    ['teardownSpoof', 'c1-eth0'],
  ])
  t.equal(sc, null)
  t.match(withSc, 'iifname "vethabcd0123" jump cni-br-iface-c1-eth0 comment "macspoofchk-c1-eth0"')
  t.match(withSc, 'ether saddr 0a:58:0a:5d:00:02 return comment "macspoofchk-c1-eth0"')
  t.equal(scTd, null)
  t.notMatch(scGone, 'macspoofchk')
  t.notMatch(scGone, 'cni-br-iface')
  t.equal(scAgain, null, 'nothing to remove is fine')
})
