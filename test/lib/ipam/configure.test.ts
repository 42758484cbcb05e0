// configureIface in a real namespace: addresses, link up, routes (gw-less ones via the family's first
// gateway, priority/table/scope), the IPv6 sysctls, DAD settle, and the reference's error texts.
import t from 'tap'
import { openNetns } from '../../../lib/ns'
import { configureIface, settleAddresses } from '../../../lib/ipam'
import type { Result } from '../../../lib/skel'
import { type HasTeardown, ipIn, makeNetns, rtnlIn } from '../../helpers/netns'
import { readSysctl } from '../../../lib/ip/sysctl'

/** A namespace with a veth pair eth0/peer0 (peer up, so eth0 gets carrier when it goes up). */
function setup(t: HasTeardown) {
  const ns = makeNetns(t, 'cfg')
  ipIn(ns, ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0'])
  ipIn(ns, ['link', 'set', 'peer0', 'up'])
  const netns = openNetns(ns.path)
  t.teardown(() => netns.close())
  return { ns, netns, rtnl: rtnlIn(t, ns) }
}

const ifaces = [{ name: 'br' }, { name: 'veth' }, { name: 'eth0', sandbox: '/x' }]

t.test('addresses, link up, routes with and without gw, priority, table, scope', async (t) => {
  const { ns, netns, rtnl } = setup(t)
  ipIn(ns, ['link', 'set', 'lo', 'up'])
  netns.runSync(() => {
    require('node:fs').writeFileSync('/proc/sys/net/ipv6/conf/eth0/disable_ipv6', '1')
    require('node:fs').writeFileSync('/proc/sys/net/ipv6/conf/eth0/accept_dad', '0')
  })
  const r: Result = {
    cniVersion: '1.1.0',
    interfaces: ifaces,
    ips: [
      { interface: 2, address: '10.84.1.2/24', gateway: '10.84.1.1' },
      { interface: 2, address: 'fd00:84:1::2/64', gateway: 'fd00:84:1::1' },
      { address: '10.99.0.1/32' }, // no interface: not ours to configure
    ],
    routes: [
      { dst: '0.0.0.0/0' },
      { dst: '10.85.0.0/16', gw: '10.84.1.254', priority: 50 },
      { dst: '10.86.0.0/16', table: 100 },
      { dst: '10.87.0.0/16', scope: 0 },
      { dst: '::/0' },
    ],
  }
  configureIface(netns, rtnl, 'eth0', r)
  const eth0 = rtnl.getLinkByName('eth0')!
  t.equal(eth0.up, true)
  const addrs = rtnl.listAddrs({ index: eth0.index }).filter((a) => a.scope === 'universe').map((a) => a.cidr)
  t.same(addrs.sort(), ['10.84.1.2/24', 'fd00:84:1::2/64'])
  const routes = rtnl.listRoutes({ table: 0 })
  const find = (dst: string, table = 254) => routes.find((x) => x.dst === dst && x.table === table)
  t.match(find('0.0.0.0/0'), { gw: '10.84.1.1', protocol: 'boot', scope: 'universe' })
  t.match(find('10.85.0.0/16'), { gw: '10.84.1.254', priority: 50 })
  t.match(find('10.86.0.0/16', 100), { gw: '10.84.1.1' }, 'in table 100')
  t.match(find('10.87.0.0/16'), { gw: '10.84.1.1', scope: 'universe' })
  t.match(find('::/0'), { gw: 'fd00:84:1::1' })
  netns.runSync(() => {
    t.equal(readSysctl('net/ipv6/conf/eth0/disable_ipv6'), '0', 'IPv6 re-enabled for the first IPv6 address')
    t.equal(readSysctl('net/ipv6/conf/eth0/keep_addr_on_down'), '1')
    t.equal(readSysctl('net/ipv6/conf/lo/disable_ipv6'), '0')
  })
})

t.test('errors in the reference’s words', async (t) => {
  const { netns, rtnl } = setup(t)
  t.throws(() => configureIface(netns, rtnl, 'eth0', { cniVersion: '1.1.0' }), { message: 'no interfaces to configure' })
  t.throws(() => configureIface(netns, rtnl, 'eth9', { cniVersion: '1.1.0', interfaces: ifaces }), { message: 'failed to lookup "eth9": Link not found' })
  t.throws(
    () => configureIface(netns, rtnl, 'eth0', { cniVersion: '1.1.0', interfaces: ifaces, ips: [{ interface: 1, address: '10.84.2.2/24', gateway: '10.84.2.1' }] }),
    { message: 'failed to add IP addr {Interface:1 Address:{IP:10.84.2.2 Mask:ffffff00} Gateway:10.84.2.1} to "eth0": invalid interface index' },
  )
  const r: Result = {
    cniVersion: '1.1.0',
    interfaces: ifaces,
    ips: [{ interface: 2, address: '10.84.2.2/24', gateway: '10.84.2.1' }],
    routes: [{ dst: '10.85.0.0/16' }, { dst: '10.85.0.0/16' }],
  }
  t.throws(() => configureIface(netns, rtnl, 'eth0', r), {
    // Debian's words: Go's %v of the net.IPNet (HEAD adds metric, scope and table).
    message: "failed to add route '{10.85.0.0 ffff0000} via 10.84.2.1 dev eth0': file exists",
  })
  t.throws(() => configureIface(netns, rtnl, 'eth0', r), {
    message: 'failed to add IP addr {Interface:2 Address:{IP:10.84.2.2 Mask:ffffff00} Gateway:10.84.2.1} to "eth0": file exists',
  })
})

t.test('IPv6 DAD: ADD waits until the address is no longer tentative', async (t) => {
  const { netns, rtnl } = setup(t)
  netns.runSync(() => require('node:fs').writeFileSync('/proc/sys/net/ipv6/conf/eth0/accept_dad', '1'))
  const started = Date.now()
  configureIface(netns, rtnl, 'eth0', {
    cniVersion: '1.1.0',
    interfaces: ifaces,
    ips: [{ interface: 2, address: 'fd00:84:3::2/64', gateway: 'fd00:84:3::1' }],
  })
  const eth0 = rtnl.getLinkByName('eth0')!
  const a = rtnl.listAddrs({ index: eth0.index, family: 6 }).find((x) => x.address === 'fd00:84:3::2')
  t.equal(a?.flags.tentative, false, 'settled')
  t.ok(Date.now() - started > 200, 'and that took DAD’s time')
  settleAddresses(rtnl, 'eth0', 1000)
  t.throws(() => settleAddresses(rtnl, 'nope0', 1000), { message: 'failed to retrieve link: Link not found' })
})
