import t from 'tap'
import { NetlinkError, Rtnl } from '../../../lib/netlink'
import { type HasTeardown, ipJson, makeNetns, netnsFd, rtnlIn } from '../../helpers/netns'

/** A fake host and a container namespace with an rtnetlink connection to each. */
function world(t: HasTeardown) {
  const hostNs = makeNetns(t, 'nl-host')
  const ctrNs = makeNetns(t, 'nl-ctr')
  return { hostNs, ctrNs, host: rtnlIn(t, hostNs), ctr: rtnlIn(t, ctrNs), ctrFd: netnsFd(t, ctrNs) }
}

function mustGet(rtnl: Rtnl, name: string) {
  const link = rtnl.getLinkByName(name)
  if (!link) throw new Error(`link ${name} not found`)
  return link
}

/** What `fn` throws, or undefined when it returns. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

/** Polls a link's operState until it is `want` (or 2 s pass); returns the last state seen. */
async function operStateSettles(rtnl: Rtnl, name: string, want: string): Promise<string> {
  const deadline = Date.now() + 2000
  for (;;) {
    const state = mustGet(rtnl, name).operState
    if (state === want || Date.now() > deadline) return state
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('a fresh namespace: lo only, and lookups of missing links give undefined', async (t) => {
  const { host } = world(t)
  const links = host.listLinks()
  t.equal(links.length, 1)
  t.match(links[0], { index: 1, name: 'lo', up: false, operState: 'down', mtu: 65536, mac: '00:00:00:00:00:00' })
  t.equal(links[0].kind, undefined, 'lo has no kind')
  t.same(host.getLinkByIndex(1), links[0], 'by index = by dump')
  t.equal(host.getLinkByName('nope0'), undefined)
  t.equal(host.getLinkByIndex(4242), undefined)
})

t.test('bridge: create, read back, EEXIST on a duplicate, up/down, mtu, mac, promisc', async (t) => {
  const { host, hostNs } = world(t)
  host.createBridge('tbr0', { mtu: 1400 })
  const br = mustGet(host, 'tbr0')
  t.match(br, { name: 'tbr0', kind: 'bridge', mtu: 1400, up: false, promisc: false, vlanFiltering: false })
  t.match(br.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/)
  t.equal(br.master, undefined)

  const dup = t.throws(() => host.createBridge('tbr0'), NetlinkError)
  t.match(dup, { code: 'EEXIST', errno: -17, op: 'RTM_NEWLINK', object: '"tbr0"', reason: 'file exists' })
  t.equal((dup as Error).message, 'RTM_NEWLINK "tbr0": file exists (EEXIST)')
  t.ok(NetlinkError.is(dup, 'EEXIST'))
  t.notOk(NetlinkError.is(dup, 'ENODEV'))

  host.setLinkUp(br.index)
  t.equal(mustGet(host, 'tbr0').up, true)
  host.setMtu(br.index, 1300)
  host.setMac(br.index, '0A:58:0A:F1:00:01')
  host.setPromisc(br.index, true)
  let now = mustGet(host, 'tbr0')
  t.match(now, { mtu: 1300, mac: '0a:58:0a:f1:00:01', promisc: true, up: true })
  const viaIp = ipJson(hostNs, ['link', 'show', 'tbr0'])[0]
  t.match(viaIp, { mtu: 1300, address: '0a:58:0a:f1:00:01' }, 'iproute2 sees the same')
  t.ok(viaIp.flags.includes('PROMISC') && viaIp.flags.includes('UP'))

  t.equal(now.allmulti, false)
  host.setAllmulti(br.index, true)
  t.equal(mustGet(host, 'tbr0').allmulti, true, 'allmulti on')
  t.ok(ipJson(hostNs, ['link', 'show', 'tbr0'])[0].flags.includes('ALLMULTI'), 'iproute2 sees ALLMULTI')
  host.setAllmulti(br.index, false)
  t.equal(mustGet(host, 'tbr0').allmulti, false, 'allmulti off')

  host.setPromisc(br.index, false)
  host.setLinkDown(br.index)
  now = mustGet(host, 'tbr0')
  t.match(now, { promisc: false, up: false, operState: 'down' })

  host.setTxQLen(br.index, 500)
  t.equal(mustGet(host, 'tbr0').txQLen, 500)

  host.deleteLink(br.index)
  t.equal(host.getLinkByName('tbr0'), undefined)
  const gone = t.throws(() => host.deleteLink(br.index), {
    name: 'NetlinkError',
    code: 'ENODEV',
    errno: -19,
    op: 'RTM_DELLINK',
    object: `link ${br.index}`,
  })
  t.equal((gone as Error).message, `RTM_DELLINK link ${br.index}: no such device (ENODEV)`)
  t.throws(() => host.setLinkUp(br.index), { code: 'ENODEV', op: 'RTM_SETLINK' })
})

t.test('veth pair with the peer created directly in the container namespace', async (t) => {
  const { host, ctr, hostNs, ctrFd } = world(t)
  host.createVethPair({
    name: 'tveth0',
    peerName: 'eth0',
    peerNetnsFd: ctrFd,
    mtu: 1450,
    mac: '0a:58:0a:f1:00:10',
    peerMac: '0a:58:0a:f1:00:11',
  })
  const hostEnd = mustGet(host, 'tveth0')
  t.equal(host.getLinkByName('eth0'), undefined, 'the peer is not in the host namespace')
  const ctrEnd = mustGet(ctr, 'eth0')
  t.equal(ctr.getLinkByName('tveth0'), undefined, 'the host end is not in the container')

  t.match(hostEnd, { kind: 'veth', mtu: 1450, mac: '0a:58:0a:f1:00:10', peerIndex: ctrEnd.index })
  t.match(ctrEnd, { kind: 'veth', mtu: 1450, mac: '0a:58:0a:f1:00:11', peerIndex: hostEnd.index })
  t.type(hostEnd.linkNetnsId, 'number', 'the host end knows its peer is in another namespace')
  t.type(ctrEnd.linkNetnsId, 'number')
  const ipView = ipJson(hostNs, ['link', 'show', 'tveth0'])[0]
  t.equal(ipView.link_index, ctrEnd.index, 'iproute2: link_index is the peer')

  // operState (set asynchronously by the kernel's linkwatch) follows both ends being up
  host.setLinkUp(hostEnd.index)
  // 'down' or 'lowerlayerdown' (the kernel says lowerlayerdown only when the peer's ifindex differs from ours)
  t.match(await operStateSettles(host, 'tveth0', 'lowerlayerdown'), /^(lowerlayerdown|down)$/, 'peer down: no carrier')
  ctr.setLinkUp(ctrEnd.index)
  t.equal(await operStateSettles(ctr, 'eth0', 'up'), 'up')
  t.equal(await operStateSettles(host, 'tveth0', 'up'), 'up')

  // deleting one end removes both
  ctr.deleteLink(ctrEnd.index)
  t.equal(ctr.getLinkByName('eth0'), undefined)
  t.equal(host.getLinkByName('tveth0'), undefined, 'the host end went with it')
})

t.test('veth pair inside one namespace; EEXIST when the name is taken; moving a link', async (t) => {
  const { host, ctr, ctrFd } = world(t)
  host.createVethPair({ name: 'va', peerName: 'vb' })
  const a = mustGet(host, 'va')
  const b = mustGet(host, 'vb')
  t.equal(a.peerIndex, b.index)
  t.equal(b.peerIndex, a.index)
  t.equal(a.linkNetnsId, undefined, 'same namespace: no link netns id')
  t.equal(a.mtu, 1500, 'kernel default MTU')
  t.throws(() => host.createVethPair({ name: 'va', peerName: 'vc' }), { code: 'EEXIST', op: 'RTM_NEWLINK', object: '"va" (peer "vc")' })
  t.equal(host.getLinkByName('vc'), undefined, 'nothing half-made')

  // move one end into the container afterwards
  host.setLinkNetns(b.index, ctrFd)
  t.equal(host.getLinkByName('vb'), undefined, 'vb left the host')
  const moved = mustGet(ctr, 'vb')
  t.equal(moved.peerIndex, a.index)
  t.type(mustGet(host, 'va').linkNetnsId, 'number', 'now the peer is elsewhere')

  t.throws(
    () => host.getLinkByName('x'.repeat(16)),
    { name: 'NetlinkError', op: 'RTM_GETLINK' },
    'a name longer than IFNAMSIZ-1 is an error, not undefined',
  )
})

t.test('bad MAC addresses fail before anything is sent, with Go’s message', async (t) => {
  const { host } = world(t)
  t.throws(
    () => host.createVethPair({ name: 'vx', peerName: 'vy', peerMac: 'not-a-mac' }),
    { message: 'address not-a-mac: invalid MAC address' },
  )
  t.equal(host.getLinkByName('vx'), undefined)
  t.throws(() => host.setMac(1, '00:11:22:33:44'), { message: 'address 00:11:22:33:44: invalid MAC address' })
})

t.test('master / nomaster, and bridge port options (hairpin, isolated)', async (t) => {
  const { host, hostNs, ctrFd } = world(t)
  host.createBridge('tbr1')
  host.createVethPair({ name: 'tveth1', peerName: 'eth0', peerNetnsFd: ctrFd })
  const br = mustGet(host, 'tbr1')
  const veth = mustGet(host, 'tveth1')
  t.equal(veth.bridgePort, undefined, 'not a port yet')

  t.throws(
    () => host.setBridgePortOptions(veth.index, { hairpin: true }),
    { code: 'EOPNOTSUPP', op: 'RTM_SETLINK' },
    'port options need a bridge port',
  )

  host.setMaster(veth.index, br.index)
  let port = mustGet(host, 'tveth1')
  t.equal(port.master, br.index)
  t.same(port.bridgePort, { hairpin: false, isolated: false, state: 'disabled' })

  host.setBridgePortOptions(port.index, { hairpin: true, isolated: true })
  port = mustGet(host, 'tveth1')
  t.match(port.bridgePort, { hairpin: true, isolated: true })
  const slave = ipJson(hostNs, ['-d', 'link', 'show', 'tveth1'])[0].linkinfo.info_slave_data
  t.match(slave, { hairpin: true, isolated: true }, 'iproute2 agrees')

  host.setBridgePortOptions(port.index, { hairpin: false })
  port = mustGet(host, 'tveth1')
  t.match(port.bridgePort, { hairpin: false, isolated: true }, 'only what was given changes')
  host.setBridgePortOptions(port.index, { isolated: false })
  t.match(mustGet(host, 'tveth1').bridgePort, { hairpin: false, isolated: false })

  // Port state follows link state: both ends up, bridge up -> forwarding (STP off).
  host.setLinkUp(br.index)
  host.setLinkUp(port.index)
  t.not(mustGet(host, 'tveth1').bridgePort?.state, undefined)

  t.equal(br.promisc, false)
  t.equal(mustGet(host, 'tveth1').promisc, false, 'a bridge making its port promiscuous does not count')

  host.setNoMaster(port.index)
  port = mustGet(host, 'tveth1')
  t.equal(port.master, undefined)
  t.equal(port.bridgePort, undefined)
})

t.test('bridge VLAN filtering and port VLANs (when the kernel has them)', async (t) => {
  const { host, ctrFd } = world(t)
  const err = thrownBy(() => host.createBridge('tbr2', { vlanFiltering: true }))
  if (err) {
    t.match(err, { code: 'EOPNOTSUPP', op: 'RTM_NEWLINK', object: '"tbr2"' }, 'no CONFIG_BRIDGE_VLAN_FILTERING')
    t.equal((err as Error).message, 'RTM_NEWLINK "tbr2": operation not supported (EOPNOTSUPP)')
    host.createBridge('tbr2')
    host.createVethPair({ name: 'tveth2', peerName: 'eth0', peerNetnsFd: ctrFd })
    const veth = mustGet(host, 'tveth2')
    host.setMaster(veth.index, mustGet(host, 'tbr2').index)
    t.throws(() => host.addBridgeVlan(veth.index, 10, { pvid: true, untagged: true }), { code: 'EOPNOTSUPP' })
    t.same(host.getBridgeVlans(veth.index), [], 'no VLANs reported')
    t.comment('this kernel has no bridge VLAN filtering: VLAN programming not exercised')
    return
  }
  const br = mustGet(host, 'tbr2')
  t.equal(br.vlanFiltering, true)
  host.createVethPair({ name: 'tveth2', peerName: 'eth0', peerNetnsFd: ctrFd })
  const veth = mustGet(host, 'tveth2')
  host.setMaster(veth.index, br.index)
  t.same(host.getBridgeVlans(veth.index), [{ vid: 1, pvid: true, untagged: true }], 'default VLAN 1')
  host.deleteBridgeVlan(veth.index, 1)
  host.addBridgeVlan(veth.index, 10, { pvid: true, untagged: true })
  host.addBridgeVlan(veth.index, 20)
  t.same(host.getBridgeVlans(veth.index), [
    { vid: 10, pvid: true, untagged: true },
    { vid: 20, pvid: false, untagged: false },
  ])
})

t.test('a socket stays in its namespace; one socket serves requests, dumps and errors in turn', async (t) => {
  const { host, ctr } = world(t)
  host.createBridge('only-host')
  t.equal(ctr.getLinkByName('only-host'), undefined)
  // Requests, failed requests and dumps one after another on one socket: each answer belongs to
  // its own request (no reply of an earlier one is read as the next one's).
  const names = Array.from({ length: 8 }, (_, i) => `tdum${i}`)
  for (const [i, n] of names.entries()) {
    host.createBridge(n)
    t.throws(() => host.createBridge(n), { code: 'EEXIST', object: `"${n}"` })
    const seen = host.listLinks().map((l) => l.name)
    t.same(
      names.filter((x) => seen.includes(x)),
      names.slice(0, i + 1),
      `the dump after creating ${n} shows exactly the bridges made so far`,
    )
    host.listAddrs()
    host.listRoutes()
    t.equal(host.getLinkByName(n)?.name, n)
  }
})

t.test('a closed socket throws on requests', async (t) => {
  const ns = makeNetns(t, 'nl-closed')
  const r = rtnlIn(t, ns)
  t.ok(r.getLinkByIndex(1))
  r.close()
  r.close()
  t.throws(() => r.listLinks(), /closed/)
})
