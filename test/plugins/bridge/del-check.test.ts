// bridge DEL (idempotent), CHECK (against prevResult), STATUS and GC, in real namespaces.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { deleteNetns, ipIn, rtnlIn } from '../../helpers/netns'
import { OWN_HOST_LOCAL, bridgeConf, ipFiles, linkNames, natRules, nftRuleset, runBridge, world, withPrev } from './fixture'

t.test('DEL removes the veth pair and the allocation; a second DEL succeeds', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: ['10.78.1.0/24', 'fd00:78:1::/64'], isGateway: true, ipMasq: true })
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  t.equal(natRules(w.host).filter((l) => l.includes('CNI-')).length, 4)
  for (const round of ['first', 'second']) {
    const del = runBridge(w, 'DEL', withPrev(conf, add.json), { netns: ctr.path })
    t.equal(del.code, 0, `${round} DEL: ${del.stdout}`)
    t.equal(del.stdout, '', 'DEL prints nothing')
    t.same(linkNames(rtnlIn(t, ctr)), [], 'no eth0')
    t.same(linkNames(w.hostRtnl), ['tbr0'], 'only the bridge stays on the host')
    t.same(ipFiles(w.dataDir), [], 'addresses released')
    t.same(natRules(w.host).filter((l) => l.includes('CNI-')), [], 'IPv4 masquerade rules gone')
    t.same(natRules(w.host, 6).filter((l) => l.includes('CNI-')), [], 'IPv6 masquerade rules gone')
  }
})

t.test('DEL without a prior ADD, without prevResult, and without an IPAM allocation', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, ipMasq: true, macspoofchk: true })
  const del = runBridge(w, 'DEL', conf, { netns: ctr.path })
  t.equal(del.code, 0, del.stdout)
  t.same(linkNames(w.hostRtnl), [], 'DEL creates nothing (not even the bridge)')
})

t.test('DEL with CNI_NETNS empty or gone still releases the address and removes host rules', async (t) => {
  const w = world(t)
  const conf = bridgeConf({ dataDir: w.dataDir, ipMasq: true, macspoofchk: true })
  for (const how of ['empty', 'gone']) {
    const ctr = w.container(how)
    const add = runBridge(w, 'ADD', conf, { netns: ctr.path, containerID: `ctr-${how}` })
    t.equal(add.code, 0, add.stdout)
    t.equal(ipFiles(w.dataDir).length, 1)
    if (how === 'gone') deleteNetns(ctr.name)
    const del = runBridge(w, 'DEL', conf, { netns: how === 'empty' ? '' : ctr.path, containerID: `ctr-${how}` })
    t.equal(del.code, 0, `${how}: ${del.stdout}`)
    t.same(ipFiles(w.dataDir), [], `${how}: address released`)
    t.same(natRules(w.host).filter((l) => l.includes('CNI-')), [], `${how}: masquerade rules gone (the reference leaves them)`)
    t.notMatch(nftRuleset(w.host), /macspoofchk/, `${how}: spoof check gone`)
    if (how === 'empty') {
      // the namespace still exists: the runtime removes it, and the veth pair with it
      deleteNetns(ctr.name)
    }
  }
})

t.test('DEL with a path that is not a namespace fails (as the reference)', async (t) => {
  const w = world(t)
  const file = path.join(w.dataDir, 'not-a-netns')
  fs.writeFileSync(file, '')
  const del = runBridge(w, 'DEL', bridgeConf({ dataDir: w.dataDir }), { netns: file })
  t.equal(del.code, 1)
  t.match(del.json.msg, /^unknown FS magic on /)
})

t.test('CHECK after ADD passes; it catches a removed address, route, interface, a wrong sandbox', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: ['10.78.2.0/24', 'fd00:78:2::/64'], isDefaultGateway: true })
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  const check = (prev: unknown = add.json, c: object = conf) => runBridge(w, 'CHECK', withPrev(c, prev), { netns: ctr.path })

  const ok = check()
  t.equal(ok.code, 0, ok.stdout)
  t.equal(ok.stdout, '', 'CHECK prints nothing')

  const noPrev = runBridge(w, 'CHECK', conf, { netns: ctr.path })
  t.match(noPrev.json, { code: 999, msg: 'Required prevResult missing' })

  const wrongSandbox = structuredClone(add.json)
  wrongSandbox.interfaces[2].sandbox = '/run/netns/elsewhere'
  t.match(check(wrongSandbox).json, { msg: 'Sandbox in prevResult  doesn\'t match configured netns: ' + ctr.path })

  const wrongMac = structuredClone(add.json)
  wrongMac.interfaces[0].mac = '02:00:00:00:00:01'
  t.match(check(wrongMac).json, { msg: 'Bridge interface tbr0 Mac doesn\'t match: 02:00:00:00:00:01' })

  t.match(check(add.json, { ...conf, promiscMode: true }).json, {
    msg: 'Bridge interface tbr0 configured Promisc Mode true doesn\'t match current state: false ',
  })

  ipIn(ctr, ['route', 'del', 'default', 'via', '10.78.2.1'])
  t.match(check().json, {
    msg: 'Expected Route {Dst:{IP:0.0.0.0 Mask:00000000} GW:10.78.2.1 MTU:0 AdvMSS:0 Priority:0 Table:<nil> Scope:<nil>} not found in routing table',
  })
  ipIn(ctr, ['route', 'add', 'default', 'via', '10.78.2.1'])
  t.equal(check().code, 0, 'route back: CHECK passes again')

  ipIn(ctr, ['addr', 'del', 'fd00:78:2::2/64', 'dev', 'eth0'])
  t.match(check().json, { code: 999, msg: 'Failed to match addr fd00:78:2::2/64 on interface eth0' })

  ipIn(ctr, ['link', 'del', 'eth0'])
  t.match(check().json, { msg: 'Interface name eth0 not found' })

  const del = runBridge(w, 'DEL', withPrev(conf, add.json), { netns: ctr.path })
  t.equal(del.code, 0)
  const afterDel = check()
  t.equal(afterDel.code, 1, 'CHECK after DEL fails in IPAM')
  t.match(afterDel.json.msg, /Failed to find address added by container ctr-1/)
})

t.test('CHECK: the host veth must be the container’s peer and a port of the bridge', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, isGateway: true })
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  ipIn(w.host, ['link', 'set', add.json.interfaces[1].name, 'nomaster'])
  const r = runBridge(w, 'CHECK', withPrev(conf, add.json), { netns: ctr.path })
  t.match(r.json, { msg: 'CNI veth created for bridge tbr0 was not found' })
})

t.test('CHECK of an L2 attachment works (the reference always fails it: no IPAM type to ask)', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = { cniVersion: '1.0.0', name: 'l2', type: 'bridge', bridge: 'tbr9' }
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  const r = runBridge(w, 'CHECK', withPrev(conf, add.json), { netns: ctr.path })
  t.equal(r.code, 0, r.stdout)
})

t.test('CHECK and STATUS run the IPAM plugin', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir })
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  const nope = { ...conf, ipam: { type: 'nope' } }
  const r = runBridge(w, 'CHECK', withPrev(nope, add.json), { netns: ctr.path })
  t.match(r.json, { code: 999, msg: /^failed to find plugin "nope" in path \[/ })
  const s = runBridge(w, 'STATUS', { ...nope, cniVersion: '1.1.0' }, { containerID: '', ifName: '' })
  t.equal(s.code, 1)
  t.match(s.json, { msg: /^failed to find plugin "nope"/ })
  const l2 = runBridge(w, 'STATUS', { cniVersion: '1.1.0', name: 'l2', type: 'bridge' }, { containerID: '', ifName: '' })
  t.equal(l2.code, 0, 'an L2 bridge is always ready')
  if (!OWN_HOST_LOCAL) {
    t.pass('STATUS through host-local', { skip: 'needs our host-local (spec 1.1.0) in dist/bin' })
    return
  }
  const ok = runBridge(w, 'STATUS', { ...conf, cniVersion: '1.1.0' }, { containerID: '', ifName: '' })
  t.equal(ok.code, 0, ok.stdout)
  t.equal(ok.stdout, '')
})

const NEED_OWN_HOST_LOCAL = OWN_HOST_LOCAL ? false : 'needs our host-local (spec 1.1.0) in dist/bin'

t.test('GC: forwarded to IPAM, and masquerade rules of attachments no longer valid are removed', { skip: NEED_OWN_HOST_LOCAL }, async (t) => {
  const w = world(t)
  const conf = bridgeConf({ cniVersion: '1.1.0', dataDir: w.dataDir, ipMasq: true })
  const nftConf = { ...conf, ipMasqBackend: 'nftables' }
  for (const id of ['ctr-1', 'ctr-2', 'ctr-3']) {
    const add = runBridge(w, 'ADD', id === 'ctr-3' ? nftConf : conf, { netns: w.container(id).path, containerID: id })
    t.equal(add.code, 0, add.stdout)
  }
  t.equal(natRules(w.host).filter((l) => l.startsWith('-N CNI-')).length, 2)
  const gc = runBridge(w, 'GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr-2', ifname: 'eth0' }] }, { containerID: '', ifName: '' })
  t.equal(gc.code, 0, gc.stdout)
  t.equal(gc.stdout, '')
  const chains = natRules(w.host).filter((l) => l.startsWith('-N CNI-'))
  t.equal(chains.length, 1, 'one chain left')
  t.ok(natRules(w.host).some((l) => l.includes('id: \\"ctr-2\\"')), 'the valid one')
  t.same(ipFiles(w.dataDir), ['10.77.0.3'], 'host-local kept only ctr-2')
  t.notMatch(nftRuleset(w.host), /id: ctr-3/, 'ctr-3 nft rule gone')
})
