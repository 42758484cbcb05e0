// bridge ADD in real namespaces: the result, what the kernel shows afterwards, and every option.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { ipIn, rtnlIn } from '../../helpers/netns'
import {
  VERSION,
  addrsOf,
  bridgeConf,
  ipFiles,
  linkNames,
  addrSettled,
  mustLink,
  ping,
  runBridge,
  sysctlIn,
  world,
} from './fixture'

const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/

t.test('dual-stack ADD with isDefaultGateway: result and kernel state', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: ['10.77.1.0/24', 'fd00:77:1::/64'], isDefaultGateway: true })
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, 'ADD succeeds', { stdout: add.stdout, stderr: add.stderr })
  const r = add.json
  t.equal(r.cniVersion, VERSION)
  t.equal(r.interfaces.length, 3)
  t.match(r.interfaces[0], { name: 'tbr0', mac: MAC_RE })
  t.match(r.interfaces[1], { name: /^veth[0-9a-f]{8}$/, mac: MAC_RE })
  t.same(Object.keys(r.interfaces[1]).sort(), ['mac', 'name'], 'the host veth has no sandbox')
  t.match(r.interfaces[2], { name: 'eth0', mac: MAC_RE, sandbox: ctr.path })
  t.same(r.ips, [
    { address: '10.77.1.2/24', gateway: '10.77.1.1', interface: 2 },
    { address: 'fd00:77:1::2/64', gateway: 'fd00:77:1::1', interface: 2 },
  ])
  t.same(r.routes, [
    { dst: '0.0.0.0/0', gw: '10.77.1.1' },
    { dst: '::/0', gw: 'fd00:77:1::1' },
  ])
  t.notOk('dns' in r, 'no dns: none configured, none from IPAM')
  t.same(Object.keys(r), ['cniVersion', 'interfaces', 'ips', 'routes'], 'keys sorted as the reference prints 1.x')
  t.notOk(add.stdout.endsWith('\n'), 'no trailing newline')

  // host side
  const host = w.hostRtnl
  const br = mustLink(host, 'tbr0')
  t.match(br, { kind: 'bridge', up: true, mac: r.interfaces[0].mac, vlanFiltering: false, promisc: false, mtu: 1500 })
  t.same(addrsOf(host, 'tbr0'), ['10.77.1.1/24', 'fd00:77:1::1/64'], 'gateway addresses on the bridge')
  const veth = mustLink(host, r.interfaces[1].name)
  t.match(veth, { kind: 'veth', up: true, operState: 'up', master: br.index, mac: r.interfaces[1].mac })
  t.match(veth.bridgePort, { hairpin: false, isolated: false, state: 'forwarding' })
  t.same(linkNames(host), [r.interfaces[1].name, 'tbr0'].sort(), 'nothing else on the host')
  t.equal(sysctlIn(w.host, 'net/ipv6/conf/tbr0/accept_ra'), '0')
  t.equal(sysctlIn(w.host, `net/ipv6/conf/${veth.name}/accept_ra`), '0')
  t.equal(sysctlIn(w.host, 'net/ipv4/ip_forward'), '1')
  t.equal(sysctlIn(w.host, 'net/ipv6/conf/all/forwarding'), '1')
  const v4Addr = host.listAddrs({ index: br.index, family: 4 })[0]
  t.equal(v4Addr.broadcast, '10.77.1.255', 'IPv4 broadcast set, like netlink AddrAdd')
  const assign = ipIn(w.host, ['-d', 'link', 'show', 'tbr0'])
  t.ok(assign.includes(r.interfaces[0].mac), 'iproute2 sees the same bridge MAC')

  // container side
  const c = rtnlIn(t, ctr)
  const eth0 = mustLink(c, 'eth0')
  t.match(eth0, { kind: 'veth', up: true, operState: 'up', mac: r.interfaces[2].mac, peerIndex: veth.index })
  t.same(addrsOf(c, 'eth0'), ['10.77.1.2/24', 'fd00:77:1::2/64'])
  const routes = c.listRoutes()
  t.ok(routes.find((x) => x.dst === '0.0.0.0/0' && x.gw === '10.77.1.1' && x.index === eth0.index), 'IPv4 default route')
  t.ok(routes.find((x) => x.dst === '::/0' && x.gw === 'fd00:77:1::1' && x.index === eth0.index), 'IPv6 default route')
  t.equal(sysctlIn(ctr, 'net/ipv6/conf/eth0/accept_dad'), '0')
  t.equal(sysctlIn(ctr, 'net/ipv4/conf/eth0/arp_notify'), '1')
  t.equal(sysctlIn(ctr, 'net/ipv6/conf/eth0/disable_ipv6'), '0')
  t.equal(sysctlIn(ctr, 'net/ipv6/conf/eth0/keep_addr_on_down'), '1')
  t.equal(sysctlIn(ctr, 'net/ipv6/conf/lo/disable_ipv6'), '0')
  t.same(ipFiles(w.dataDir), ['10.77.1.2', 'fd00:77:1::2'])
  t.equal(fs.readFileSync(path.join(w.dataDir, 'tnet', '10.77.1.2'), 'utf8'), 'ctr-1\r\neth0')
})

t.test('two containers on one bridge reach each other and the gateway, IPv4 and IPv6', async (t) => {
  const w = world(t)
  const a = w.container('a')
  const b = w.container('b')
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: ['10.77.2.0/24', 'fd00:77:2::/64'], isGateway: true })
  const ra = runBridge(w, 'ADD', conf, { netns: a.path, containerID: 'ctr-a' })
  const rb = runBridge(w, 'ADD', conf, { netns: b.path, containerID: 'ctr-b' })
  t.equal(ra.code, 0, ra.stdout)
  t.equal(rb.code, 0, rb.stdout)
  t.same(ra.json.ips.map((i: any) => i.address), ['10.77.2.2/24', 'fd00:77:2::2/64'])
  t.same(rb.json.ips.map((i: any) => i.address), ['10.77.2.3/24', 'fd00:77:2::3/64'])
  t.equal(ra.json.interfaces[0].mac, rb.json.interfaces[0].mac, 'the bridge MAC is stable across ADDs')
  t.ok(ping(a, '10.77.2.3'), 'a -> b (IPv4)')
  t.ok(ping(b, '10.77.2.2'), 'b -> a (IPv4)')
  t.ok(ping(a, '10.77.2.1'), 'a -> gateway (IPv4)')
  t.ok(ping(a, 'fd00:77:2::3'), 'a -> b (IPv6)')
  await addrSettled(w.hostRtnl, 'tbr0', 'fd00:77:2::1')
  t.ok(ping(b, 'fd00:77:2::1'), 'b -> gateway (IPv6, once the bridge finished DAD on it)')
  const brMac = mustLink(w.hostRtnl, 'tbr0').mac
  t.equal(brMac, ra.json.interfaces[0].mac)
  // The pinned MAC survives ports leaving (an unpinned bridge would take a port's MAC or zeroes).
  t.equal(runBridge(w, 'DEL', conf, { netns: a.path, containerID: 'ctr-a' }).code, 0)
  t.equal(runBridge(w, 'DEL', conf, { netns: b.path, containerID: 'ctr-b' }).code, 0)
  t.equal(mustLink(w.hostRtnl, 'tbr0').mac, brMac, 'bridge MAC unchanged with no ports left')
  const again = runBridge(w, 'ADD', conf, { netns: a.path, containerID: 'ctr-a2' })
  t.equal(again.code, 0, again.stdout)
  t.equal(again.json.interfaces[0].mac, brMac)
})

t.test('L2 mode (no IPAM): three interfaces, the container end up, no addresses', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = { cniVersion: VERSION, name: 'l2net', type: 'bridge', bridge: 'tbr2' }
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  t.equal(add.json.interfaces.length, 3)
  t.notOk('ips' in add.json)
  t.notOk('routes' in add.json)
  const c = rtnlIn(t, ctr)
  t.match(mustLink(c, 'eth0'), { up: true, operState: 'up' })
  t.same(addrsOf(c, 'eth0'), [])
  t.same(addrsOf(w.hostRtnl, 'tbr2'), [])
  // With an unpinned MAC the bridge reports its (lowest) port MAC, as the reference does.
  t.equal(add.json.interfaces[0].mac, mustLink(w.hostRtnl, 'tbr2').mac)

  const ctr2 = w.container('old')
  const old = runBridge(w, 'ADD', { ...conf, cniVersion: '0.2.0' }, { netns: ctr2.path, containerID: 'ctr-2' })
  t.equal(old.code, 1, 'an L2 attachment has no 0.2.0 result')
  t.match(old.json, { msg: 'cannot convert: no valid IP addresses' })
  t.same(linkNames(rtnlIn(t, ctr2)), [], 'the failed ADD left no veth in the container')
})

t.test('disableContainerInterface: the container end stays down; IPAM is refused', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const conf = { cniVersion: VERSION, name: 'l2net', type: 'bridge', bridge: 'tbr3', disableContainerInterface: true }
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  t.match(mustLink(rtnlIn(t, ctr), 'eth0'), { up: false })

  const ctr2 = w.container('ipam')
  const bad = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, disableContainerInterface: true }), { netns: ctr2.path })
  t.equal(bad.code, 1)
  t.match(bad.json, { code: 999, msg: 'cannot use IPAM when DisableContainerInterface flag is set' })
  t.same(linkNames(rtnlIn(t, ctr2)), [])
})

t.test('mtu: a new bridge and both veth ends get it; an existing bridge keeps its own', async (t) => {
  const w = world(t)
  const a = w.container('a')
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, mtu: 1400 }), { netns: a.path })
  t.equal(add.code, 0, add.stdout)
  t.equal(mustLink(w.hostRtnl, 'tbr0').mtu, 1400)
  t.equal(mustLink(w.hostRtnl, add.json.interfaces[1].name).mtu, 1400)
  t.equal(mustLink(rtnlIn(t, a), 'eth0').mtu, 1400)
  const b = w.container('b')
  const add2 = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, mtu: 1300 }), { netns: b.path, containerID: 'ctr-2' })
  t.equal(add2.code, 0, add2.stdout)
  t.equal(mustLink(w.hostRtnl, 'tbr0').mtu, 1300, 'the bridge follows its smallest port (kernel rule)')
  t.equal(mustLink(rtnlIn(t, b), 'eth0').mtu, 1300)
})

t.test('hairpinMode, portIsolation, promiscMode show on the port and the bridge', async (t) => {
  const w = world(t)
  const a = w.container('a')
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, hairpinMode: true, portIsolation: true }), { netns: a.path })
  t.equal(add.code, 0, add.stdout)
  t.match(mustLink(w.hostRtnl, add.json.interfaces[1].name).bridgePort, { hairpin: true, isolated: true })
  t.equal(mustLink(w.hostRtnl, 'tbr0').promisc, false)

  const b = w.container('b')
  const add2 = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, promiscMode: true }), { netns: b.path, containerID: 'ctr-2' })
  t.equal(add2.code, 0, add2.stdout)
  t.equal(mustLink(w.hostRtnl, 'tbr0').promisc, true)
  t.match(mustLink(w.hostRtnl, add2.json.interfaces[1].name).bridgePort, { hairpin: false, isolated: false })

  const c = w.container('c')
  const bad = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, hairpinMode: true, promiscMode: true }), { netns: c.path, containerID: 'ctr-3' })
  t.equal(bad.code, 1)
  t.match(bad.json, { code: 999, msg: 'cannot set hairpin mode and promiscuous mode at the same time.' })
  t.same(linkNames(rtnlIn(t, c)), [])
})

t.test('container MAC: runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC; a bad one fails cleanly', async (t) => {
  const w = world(t)
  const cases = [
    { label: 'env', args: 'MAC=c2:11:22:33:44:01;IgnoreUnknown=1', extra: {}, want: 'c2:11:22:33:44:01' },
    { label: 'args', args: 'MAC=c2:11:22:33:44:01;IgnoreUnknown=1', extra: { args: { cni: { mac: 'c2:11:22:33:44:02' } } }, want: 'c2:11:22:33:44:02' },
    {
      label: 'rt',
      args: 'MAC=c2:11:22:33:44:01;IgnoreUnknown=1',
      extra: { args: { cni: { mac: 'c2:11:22:33:44:02' } }, runtimeConfig: { mac: 'c2:11:22:33:44:03' } },
      want: 'c2:11:22:33:44:03',
    },
  ]
  for (const [i, c] of cases.entries()) {
    const ns = w.container(c.label)
    const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, ...c.extra }), { netns: ns.path, args: c.args, containerID: `ctr-${i}` })
    t.equal(add.code, 0, add.stdout)
    t.equal(add.json.interfaces[2].mac, c.want, c.label)
    t.equal(mustLink(rtnlIn(t, ns), 'eth0').mac, c.want)
  }
  const ns = w.container('bad')
  const bad = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, runtimeConfig: { mac: 'zz:11' } }), { netns: ns.path, containerID: 'ctr-bad' })
  t.equal(bad.code, 1)
  t.match(bad.json, { code: 999, msg: 'failed to make veth pair: address zz:11: invalid MAC address' })
  t.same(linkNames(rtnlIn(t, ns)), [])
  t.same(ipFiles(w.dataDir).length, 3, 'only the three good containers hold addresses')

  const unknown = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir }), { netns: ns.path, args: 'FOO=bar', containerID: 'ctr-x' })
  t.match(unknown.json, { code: 999, msg: 'ARGS: unknown args ["FOO=bar"]' })
})

t.test('enabledad: enhanced DAD on, and ADD waits until the IPv6 address is no longer tentative', async (t) => {
  const w = world(t)
  const ctr = w.container()
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, subnet: 'fd00:77:3::/64', isGateway: true, enabledad: true }), { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  t.equal(sysctlIn(ctr, 'net/ipv6/conf/eth0/accept_dad'), '1')
  t.equal(sysctlIn(ctr, 'net/ipv6/conf/eth0/enhanced_dad'), '1')
  const c = rtnlIn(t, ctr)
  const eth0 = mustLink(c, 'eth0')
  const addr = c.listAddrs({ index: eth0.index, family: 6 }).find((a) => a.address === 'fd00:77:3::2')
  t.ok(addr, 'the address is there')
  t.equal(addr?.flags.tentative, false, 'and settled')
})

t.test('gateway addresses: one IPv4 address per bridge unless forceAddress; IPv6 prefixes may coexist', async (t) => {
  const w = world(t)
  const first = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, subnet: ['10.77.4.0/24', 'fd00:77:4::/64'], isGateway: true }), {
    netns: w.container('a').path,
  })
  t.equal(first.code, 0, first.stdout)
  const ns2 = w.container('b')
  const other = bridgeConf({ dataDir: w.dataDir, name: 'tnet2', subnet: ['10.77.5.0/24', 'fd00:77:5::/64'], isGateway: true })
  const conflict = runBridge(w, 'ADD', other, { netns: ns2.path, containerID: 'ctr-2' })
  t.equal(conflict.code, 1)
  t.match(conflict.json, { code: 999, msg: 'failed to set bridge addr: "tbr0" already has an IP address different from 10.77.5.1/24' })
  t.same(linkNames(rtnlIn(t, ns2)), [], 'the failed ADD took its veth back')
  t.same(ipFiles(w.dataDir, 'tnet2'), [], 'and released its addresses')

  const forced = runBridge(w, 'ADD', { ...other, forceAddress: true }, { netns: ns2.path, containerID: 'ctr-2' })
  t.equal(forced.code, 0, forced.stdout)
  t.same(addrsOf(w.hostRtnl, 'tbr0'), ['10.77.5.1/24', 'fd00:77:4::1/64', 'fd00:77:5::1/64'], 'v4 replaced, v6 added alongside')
})

t.test('isGateway off: nothing on the bridge, the IPAM gateway still in the result', async (t) => {
  const w = world(t)
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir }), { netns: w.container().path })
  t.equal(add.code, 0, add.stdout)
  t.same(add.json.ips, [{ address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 2 }])
  t.same(addrsOf(w.hostRtnl, 'tbr0'), [])
  t.notOk('routes' in add.json)
})

t.test('dns: the config replaces what IPAM found in resolvConf; otherwise IPAM dns passes through', async (t) => {
  const w = world(t)
  const resolv = path.join(w.dataDir, 'resolv.conf')
  fs.writeFileSync(resolv, 'nameserver 10.77.0.53\nsearch ipam.example\n')
  const base = bridgeConf({ dataDir: w.dataDir })
  const ipam = { ...(base.ipam as object), resolvConf: resolv }
  const fromIpam = runBridge(w, 'ADD', { ...base, ipam }, { netns: w.container('a').path })
  t.equal(fromIpam.code, 0, fromIpam.stdout)
  t.same(fromIpam.json.dns, { nameservers: ['10.77.0.53'], search: ['ipam.example'] })
  const fromConf = runBridge(w, 'ADD', { ...base, ipam, dns: { nameservers: ['10.77.0.54'], domain: 'conf.example' } }, {
    netns: w.container('b').path,
    containerID: 'ctr-2',
  })
  t.equal(fromConf.code, 0, fromConf.stdout)
  t.same(fromConf.json.dns, { domain: 'conf.example', nameservers: ['10.77.0.54'] })
})

t.test('keys match case-insensitively and null means absent, like Go encoding/json', async (t) => {
  const w = world(t)
  const conf = { cniVersion: VERSION, name: 'tnet', type: 'bridge', BRIDGE: 'tbrx', ISGATEWAY: true, mtu: null, IPAM: { TYPE: 'host-local', subnet: '10.77.6.0/24', dataDir: w.dataDir } }
  const add = runBridge(w, 'ADD', conf, { netns: w.container().path })
  t.equal(add.code, 0, add.stdout)
  t.equal(add.json.interfaces[0].name, 'tbrx')
  t.same(addrsOf(w.hostRtnl, 'tbrx'), ['10.77.6.1/24'])
  const wrong = runBridge(w, 'ADD', { ...conf, MTU: 'big' }, { netns: w.container('b').path, containerID: 'ctr-2' })
  t.match(wrong.json, { code: 7, msg: 'failed to load netconf: "mtu" must be integer' })
})

t.test('an interface of the same name in the container: error, nothing allocated, the original untouched', async (t) => {
  const w = world(t)
  const ctr = w.container()
  ipIn(ctr, ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0'])
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir }), { netns: ctr.path })
  t.equal(add.code, 1)
  t.equal(add.json.msg, "container veth name provided (eth0) already exists")
  t.same(ipFiles(w.dataDir), [])
  t.same(linkNames(rtnlIn(t, ctr)), ['eth0', 'other0'], 'the pre-existing pair is untouched')
  t.same(linkNames(w.hostRtnl), ['tbr0'], 'no host veth left')
})

t.test('a device of another kind named like the bridge: error, and it is left alone', async (t) => {
  const w = world(t)
  ipIn(w.host, ['link', 'add', 'tbr0', 'type', 'veth', 'peer', 'name', 'tbr0p'])
  const ctr = w.container()
  const add = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, promiscMode: true }), { netns: ctr.path })
  t.equal(add.code, 1)
  t.match(add.json, { code: 999, msg: 'failed to create bridge "tbr0": "tbr0" already exists but is not a bridge' })
  t.match(mustLink(w.hostRtnl, 'tbr0'), { kind: 'veth', promisc: false, up: false })
  t.same(linkNames(rtnlIn(t, ctr)), [])
  t.same(ipFiles(w.dataDir), [])
})
