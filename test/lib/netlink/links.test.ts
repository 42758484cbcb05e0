import t from 'tap'
import { NetlinkError, Rtnl } from '../../../lib/netlink'
import { type HasTeardown, ipJson, makeNetns, netnsFd, rtnlIn } from '../../helpers/netns'

/** A fake host and a container namespace with an rtnetlink connection to each. */
function world(t: HasTeardown) {
  const hostNs = makeNetns(t, 'nl-host')
  const ctrNs = makeNetns(t, 'nl-ctr')
  return { hostNs, ctrNs, host: rtnlIn(t, hostNs), ctr: rtnlIn(t, ctrNs), ctrFd: netnsFd(t, ctrNs) }
}

async function mustGet(rtnl: Rtnl, name: string) {
  const link = await rtnl.getLinkByName(name)
  if (!link) throw new Error(`link ${name} not found`)
  return link
}

/** Polls a link's operState until it is `want` (or 2 s pass); returns the last state seen. */
async function operStateSettles(rtnl: Rtnl, name: string, want: string): Promise<string> {
  const deadline = Date.now() + 2000
  for (;;) {
    const state = (await mustGet(rtnl, name)).operState
    if (state === want || Date.now() > deadline) return state
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('a fresh namespace: lo only, and lookups of missing links give undefined', async (t) => {
  const { host } = world(t)
  const links = await host.listLinks()
  t.equal(links.length, 1)
  t.match(links[0], { index: 1, name: 'lo', up: false, operState: 'down', mtu: 65536, mac: '00:00:00:00:00:00' })
  t.equal(links[0].kind, undefined, 'lo has no kind')
  t.same(await host.getLinkByIndex(1), links[0], 'by index = by dump')
  t.equal(await host.getLinkByName('nope0'), undefined)
  t.equal(await host.getLinkByIndex(4242), undefined)
})

t.test('bridge: create, read back, EEXIST on a duplicate, up/down, mtu, mac, promisc', async (t) => {
  const { host, hostNs } = world(t)
  await host.createBridge('tbr0', { mtu: 1400 })
  const br = await mustGet(host, 'tbr0')
  t.match(br, { name: 'tbr0', kind: 'bridge', mtu: 1400, up: false, promisc: false, vlanFiltering: false })
  t.match(br.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/)
  t.equal(br.master, undefined)

  const dup = await host.createBridge('tbr0').then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(dup, NetlinkError)
  t.match(dup, { code: 'EEXIST', errno: -17, op: 'RTM_NEWLINK', object: '"tbr0"', reason: 'file exists' })
  t.equal((dup as Error).message, 'RTM_NEWLINK "tbr0": file exists (EEXIST)')
  t.ok(NetlinkError.is(dup, 'EEXIST'))
  t.notOk(NetlinkError.is(dup, 'ENODEV'))

  await host.setLinkUp(br.index)
  t.equal((await mustGet(host, 'tbr0')).up, true)
  await host.setMtu(br.index, 1300)
  await host.setMac(br.index, '0A:58:0A:F1:00:01')
  await host.setPromisc(br.index, true)
  let now = await mustGet(host, 'tbr0')
  t.match(now, { mtu: 1300, mac: '0a:58:0a:f1:00:01', promisc: true, up: true })
  const viaIp = ipJson(hostNs, ['link', 'show', 'tbr0'])[0]
  t.match(viaIp, { mtu: 1300, address: '0a:58:0a:f1:00:01' }, 'iproute2 sees the same')
  t.ok(viaIp.flags.includes('PROMISC') && viaIp.flags.includes('UP'))

  await host.setPromisc(br.index, false)
  await host.setLinkDown(br.index)
  now = await mustGet(host, 'tbr0')
  t.match(now, { promisc: false, up: false, operState: 'down' })

  await host.setTxQLen(br.index, 500)
  t.equal((await mustGet(host, 'tbr0')).txQLen, 500)

  await host.deleteLink(br.index)
  t.equal(await host.getLinkByName('tbr0'), undefined)
  const gone = await host.deleteLink(br.index).catch((e: unknown) => e)
  t.match(gone, { name: 'NetlinkError', code: 'ENODEV', errno: -19, op: 'RTM_DELLINK', object: `link ${br.index}` })
  t.equal((gone as Error).message, `RTM_DELLINK link ${br.index}: no such device (ENODEV)`)
  const setGone = await host.setLinkUp(br.index).catch((e: unknown) => e)
  t.match(setGone, { code: 'ENODEV', op: 'RTM_SETLINK' })
})

t.test('veth pair with the peer created directly in the container namespace', async (t) => {
  const { host, ctr, hostNs, ctrFd } = world(t)
  await host.createVethPair({
    name: 'tveth0',
    peerName: 'eth0',
    peerNetnsFd: ctrFd,
    mtu: 1450,
    mac: '0a:58:0a:f1:00:10',
    peerMac: '0a:58:0a:f1:00:11',
  })
  const hostEnd = await mustGet(host, 'tveth0')
  t.equal(await host.getLinkByName('eth0'), undefined, 'the peer is not in the host namespace')
  const ctrEnd = await mustGet(ctr, 'eth0')
  t.equal(await ctr.getLinkByName('tveth0'), undefined, 'the host end is not in the container')

  t.match(hostEnd, { kind: 'veth', mtu: 1450, mac: '0a:58:0a:f1:00:10', peerIndex: ctrEnd.index })
  t.match(ctrEnd, { kind: 'veth', mtu: 1450, mac: '0a:58:0a:f1:00:11', peerIndex: hostEnd.index })
  t.type(hostEnd.linkNetnsId, 'number', 'the host end knows its peer is in another namespace')
  t.type(ctrEnd.linkNetnsId, 'number')
  const ipView = ipJson(hostNs, ['link', 'show', 'tveth0'])[0]
  t.equal(ipView.link_index, ctrEnd.index, 'iproute2: link_index is the peer')

  // operState (set asynchronously by the kernel's linkwatch) follows both ends being up
  await host.setLinkUp(hostEnd.index)
  // 'down' or 'lowerlayerdown' (the kernel says lowerlayerdown only when the peer's ifindex differs from ours)
  t.match(await operStateSettles(host, 'tveth0', 'lowerlayerdown'), /^(lowerlayerdown|down)$/, 'peer down: no carrier')
  await ctr.setLinkUp(ctrEnd.index)
  t.equal(await operStateSettles(ctr, 'eth0', 'up'), 'up')
  t.equal(await operStateSettles(host, 'tveth0', 'up'), 'up')

  // deleting one end removes both
  await ctr.deleteLink(ctrEnd.index)
  t.equal(await ctr.getLinkByName('eth0'), undefined)
  t.equal(await host.getLinkByName('tveth0'), undefined, 'the host end went with it')
})

t.test('veth pair inside one namespace; EEXIST when the name is taken; moving a link', async (t) => {
  const { host, ctr, ctrFd } = world(t)
  await host.createVethPair({ name: 'va', peerName: 'vb' })
  const a = await mustGet(host, 'va')
  const b = await mustGet(host, 'vb')
  t.equal(a.peerIndex, b.index)
  t.equal(b.peerIndex, a.index)
  t.equal(a.linkNetnsId, undefined, 'same namespace: no link netns id')
  t.equal(a.mtu, 1500, 'kernel default MTU')
  const dup = await host.createVethPair({ name: 'va', peerName: 'vc' }).catch((e: unknown) => e)
  t.match(dup, { code: 'EEXIST', op: 'RTM_NEWLINK', object: '"va" (peer "vc")' })
  t.equal(await host.getLinkByName('vc'), undefined, 'nothing half-made')

  // move one end into the container afterwards
  await host.setLinkNetns(b.index, ctrFd)
  t.equal(await host.getLinkByName('vb'), undefined, 'vb left the host')
  const moved = await mustGet(ctr, 'vb')
  t.equal(moved.peerIndex, a.index)
  t.type((await mustGet(host, 'va')).linkNetnsId, 'number', 'now the peer is elsewhere')

  const tooLong = await host.getLinkByName('x'.repeat(16)).catch((e: unknown) => e)
  t.match(tooLong, { name: 'NetlinkError', op: 'RTM_GETLINK' }, 'a name longer than IFNAMSIZ-1 is an error, not undefined')
})

t.test('bad MAC addresses fail before anything is sent, with Go’s message', async (t) => {
  const { host } = world(t)
  await t.rejects(
    host.createVethPair({ name: 'vx', peerName: 'vy', peerMac: 'not-a-mac' }),
    { message: 'address not-a-mac: invalid MAC address' },
  )
  t.equal(await host.getLinkByName('vx'), undefined)
  await t.rejects(host.setMac(1, '00:11:22:33:44'), { message: 'address 00:11:22:33:44: invalid MAC address' })
})

t.test('master / nomaster, and bridge port options (hairpin, isolated)', async (t) => {
  const { host, hostNs, ctrFd } = world(t)
  await host.createBridge('tbr1')
  await host.createVethPair({ name: 'tveth1', peerName: 'eth0', peerNetnsFd: ctrFd })
  const br = await mustGet(host, 'tbr1')
  const veth = await mustGet(host, 'tveth1')
  t.equal(veth.bridgePort, undefined, 'not a port yet')

  const notPort = await host.setBridgePortOptions(veth.index, { hairpin: true }).catch((e: unknown) => e)
  t.match(notPort, { code: 'EOPNOTSUPP', op: 'RTM_SETLINK' }, 'port options need a bridge port')

  await host.setMaster(veth.index, br.index)
  let port = await mustGet(host, 'tveth1')
  t.equal(port.master, br.index)
  t.same(port.bridgePort, { hairpin: false, isolated: false, state: 'disabled' })

  await host.setBridgePortOptions(port.index, { hairpin: true, isolated: true })
  port = await mustGet(host, 'tveth1')
  t.match(port.bridgePort, { hairpin: true, isolated: true })
  const slave = ipJson(hostNs, ['-d', 'link', 'show', 'tveth1'])[0].linkinfo.info_slave_data
  t.match(slave, { hairpin: true, isolated: true }, 'iproute2 agrees')

  await host.setBridgePortOptions(port.index, { hairpin: false })
  port = await mustGet(host, 'tveth1')
  t.match(port.bridgePort, { hairpin: false, isolated: true }, 'only what was given changes')
  await host.setBridgePortOptions(port.index, { isolated: false })
  t.match((await mustGet(host, 'tveth1')).bridgePort, { hairpin: false, isolated: false })

  // Port state follows link state: both ends up, bridge up -> forwarding (STP off).
  await host.setLinkUp(br.index)
  await host.setLinkUp(port.index)
  t.not((await mustGet(host, 'tveth1')).bridgePort?.state, undefined)

  t.equal(br.promisc, false)
  t.equal((await mustGet(host, 'tveth1')).promisc, false, 'a bridge making its port promiscuous does not count')

  await host.setNoMaster(port.index)
  port = await mustGet(host, 'tveth1')
  t.equal(port.master, undefined)
  t.equal(port.bridgePort, undefined)
})

t.test('bridge VLAN filtering and port VLANs (when the kernel has them)', async (t) => {
  const { host, ctrFd } = world(t)
  const err = await host.createBridge('tbr2', { vlanFiltering: true }).catch((e: unknown) => e)
  if (err) {
    t.match(err, { code: 'EOPNOTSUPP', op: 'RTM_NEWLINK', object: '"tbr2"' }, 'no CONFIG_BRIDGE_VLAN_FILTERING')
    t.equal((err as Error).message, 'RTM_NEWLINK "tbr2": operation not supported (EOPNOTSUPP)')
    await host.createBridge('tbr2')
    await host.createVethPair({ name: 'tveth2', peerName: 'eth0', peerNetnsFd: ctrFd })
    const veth = await mustGet(host, 'tveth2')
    await host.setMaster(veth.index, (await mustGet(host, 'tbr2')).index)
    await t.rejects(host.addBridgeVlan(veth.index, 10, { pvid: true, untagged: true }), { code: 'EOPNOTSUPP' })
    t.same(await host.getBridgeVlans(veth.index), [], 'no VLANs reported')
    t.comment('this kernel has no bridge VLAN filtering: VLAN programming not exercised')
    return
  }
  const br = await mustGet(host, 'tbr2')
  t.equal(br.vlanFiltering, true)
  await host.createVethPair({ name: 'tveth2', peerName: 'eth0', peerNetnsFd: ctrFd })
  const veth = await mustGet(host, 'tveth2')
  await host.setMaster(veth.index, br.index)
  t.same(await host.getBridgeVlans(veth.index), [{ vid: 1, pvid: true, untagged: true }], 'default VLAN 1')
  await host.deleteBridgeVlan(veth.index, 1)
  await host.addBridgeVlan(veth.index, 10, { pvid: true, untagged: true })
  await host.addBridgeVlan(veth.index, 20)
  t.same(await host.getBridgeVlans(veth.index), [
    { vid: 10, pvid: true, untagged: true },
    { vid: 20, pvid: false, untagged: false },
  ])
})

t.test('a socket stays in its namespace; one socket serves concurrent requests', async (t) => {
  const { host, ctr } = world(t)
  await host.createBridge('only-host')
  t.equal(await ctr.getLinkByName('only-host'), undefined)
  // Dumps and requests fired together are serialised on the socket (no EBUSY, no mixed replies).
  const names = Array.from({ length: 8 }, (_, i) => `tdum${i}`)
  const results = await Promise.all([
    ...names.map((n) => host.createBridge(n)),
    host.listLinks(),
    host.listAddrs(),
    host.listRoutes(),
    host.listLinks(),
  ])
  t.equal(results.length, names.length + 4)
  const all = await host.listLinks()
  for (const n of names) t.ok(all.find((l) => l.name === n), `${n} exists`)
})

t.test('a closed socket rejects requests', async (t) => {
  const ns = makeNetns(t, 'nl-closed')
  const r = rtnlIn(t, ns)
  t.ok(await r.getLinkByIndex(1))
  r.close()
  r.close()
  await t.rejects(r.listLinks(), /closed/)
})
