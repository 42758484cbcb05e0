// Every example in examples/netconf works as it is: its first plugin's config (with the list's name
// and cniVersion, as a runtime passes them) goes through our bridge for two containers in test
// namespaces; only the IPAM dataDir is redirected to a temp dir.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t, { type Test } from 'tap'
import { rtnlIn } from '../../helpers/netns'
import {
  OWN_HOST_LOCAL,
  type World,
  addrSettled,
  addrsOf,
  ipFiles,
  kernelHasVlanFiltering,
  linkNames,
  mustLink,
  natRules,
  nftRuleset,
  ping,
  runBridge,
  world,
} from './fixture'
import type { TestNetns } from '../../helpers/netns'

const DIR = path.join(__dirname, '..', '..', '..', 'examples', 'netconf')
/**
 * The bridge-only examples: run here plugin by plugin. Conflists that chain more plugins (portmap...)
 * are run whole through cnitool by the tests of the last plugin in them.
 */
const FILES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.conflist'))
  .filter((f) => (JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as { plugins: unknown[] }).plugins.length === 1)
  // etcd-ipam's example needs an etcd: test/plugins/etcd-ipam/example.test.ts runs it.
  .filter((f) => (JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as { plugins: Array<{ ipam?: { type?: string } }> }).plugins[0].ipam?.type !== 'etcd-ipam')
  .sort()

/** The plugin config a runtime builds from a conflist's first plugin. */
function pluginConf(file: string, dataDir: string): Record<string, any> {
  const list = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))
  const plugin = list.plugins[0]
  // Spec 1.1.0 needs our host-local; the reference's (the stand-in until then) stops at 1.0.0.
  const cniVersion = OWN_HOST_LOCAL ? list.cniVersion : '1.0.0'
  return { ...plugin, name: list.name, cniVersion, ipam: { ...plugin.ipam, dataDir } }
}

interface Pair {
  w: World
  conf: Record<string, any>
  a: TestNetns
  b: TestNetns
  ra: any
  rb: any
}

function twoContainers(t: Test, file: string): Pair {
  const w = world(t, 'ex')
  const conf = pluginConf(file, w.dataDir)
  const a = w.container('a')
  const b = w.container('b')
  const ra = runBridge(w, 'ADD', conf, { netns: a.path, containerID: 'ctr-a' })
  const rb = runBridge(w, 'ADD', conf, { netns: b.path, containerID: 'ctr-b' })
  t.equal(ra.code, 0, `ADD a: ${ra.stdout}`)
  t.equal(rb.code, 0, `ADD b: ${rb.stdout}`)
  return { w, conf, a, b, ra: ra.json, rb: rb.json }
}

function delBoth(t: Test, p: Pair): void {
  t.equal(runBridge(p.w, 'DEL', p.conf, { netns: p.a.path, containerID: 'ctr-a' }).code, 0)
  t.equal(runBridge(p.w, 'DEL', p.conf, { netns: p.b.path, containerID: 'ctr-b' }).code, 0)
  t.same(linkNames(p.w.hostRtnl), [p.conf.bridge], 'only the bridge stays')
  t.same(ipFiles(p.w.dataDir, p.conf.name), [])
  t.same(natRules(p.w.host).filter((l) => l.includes('CNI-')), [])
  t.notMatch(nftRuleset(p.w.host), /masquerade comment|macspoofchk/)
}

const ip = (r: any, i = 0): string => r.ips[i].address.split('/')[0]

const CHECKS: Record<string, (t: Test, p: Pair) => Promise<void>> = {
  '10-bridge-basic.conflist': async (t, p) => {
    t.same(addrsOf(p.w.hostRtnl, 'cni-basic0'), ['10.88.0.1/24'])
    t.ok(ping(p.a, ip(p.rb)), 'a -> b')
    t.ok(ping(p.b, '10.88.0.1'), 'b -> gateway')
  },
  '20-bridge-masquerade.conflist': async (t, p) => {
    t.equal(ip(p.ra), '10.88.1.10', 'rangeStart honoured')
    t.match(nftRuleset(p.w.host), 'ip saddr 10.88.1.10 ip daddr != 10.88.1.0/24 masquerade comment')
    t.match(mustLink(p.w.hostRtnl, p.ra.interfaces[1].name).bridgePort, { hairpin: true })
    const routes = rtnlIn(t, p.a).listRoutes({ family: 4 })
    t.ok(routes.find((r) => r.dst === '10.89.0.0/16' && r.gw === '10.88.1.1'), 'IPAM route via the gateway')
    t.ok(routes.find((r) => r.dst === '0.0.0.0/0' && r.gw === '10.88.1.1'), 'default route')
    t.ok(ping(p.a, ip(p.rb)), 'a -> b')
  },
  '30-bridge-dual-stack.conflist': async (t, p) => {
    t.same(addrsOf(p.w.hostRtnl, 'cni-ds0'), ['10.88.2.1/24', 'fd00:88:2::1/64'])
    t.equal(natRules(p.w.host).filter((l) => l.startsWith('-N CNI-')).length, 2)
    t.equal(natRules(p.w.host, 6).filter((l) => l.startsWith('-N CNI-')).length, 2)
    t.ok(ping(p.a, ip(p.rb, 0)), 'a -> b (IPv4)')
    t.ok(ping(p.a, ip(p.rb, 1)), 'a -> b (IPv6)')
    await addrSettled(p.w.hostRtnl, 'cni-ds0', 'fd00:88:2::1')
    t.ok(ping(p.b, 'fd00:88:2::1'), 'b -> gateway (IPv6)')
  },
  '40-bridge-vlan.conflist': async (t, p) => {
    t.same(addrsOf(p.w.hostRtnl, 'cni-vlan0.100'), ['10.88.100.1/24'])
    t.ok(ping(p.a, ip(p.rb)), 'a -> b on VLAN 100')
  },
  '50-bridge-mtu.conflist': async (t, p) => {
    t.equal(mustLink(p.w.hostRtnl, 'cni-mtu0').mtu, 9000)
    t.equal(mustLink(rtnlIn(t, p.a), 'eth0').mtu, 9000)
    t.equal(mustLink(p.w.hostRtnl, p.ra.interfaces[1].name).mtu, 9000)
    t.ok(ping(p.a, ip(p.rb)))
  },
  '60-bridge-isolated.conflist': async (t, p) => {
    t.match(mustLink(p.w.hostRtnl, p.ra.interfaces[1].name).bridgePort, { isolated: true })
    t.match(nftRuleset(p.w.host), 'macspoofchk-ctr-a-eth0')
    t.notOk(ping(p.a, ip(p.rb)), 'isolated ports do not reach each other')
    t.ok(ping(p.a, '10.88.4.1'), 'but they reach the gateway')
  },
}

const VLAN_SKIP = kernelHasVlanFiltering(t) ? false : 'this kernel has no bridge VLAN filtering (EOPNOTSUPP)'

t.test('every example is covered here', async (t) => {
  t.same(FILES, Object.keys(CHECKS).sort())
})

for (const file of FILES) {
  const skip = file.includes('vlan') ? VLAN_SKIP : false
  t.test(file, { skip }, async (t) => {
    const p = twoContainers(t, file)
    if (p.ra && p.rb) await CHECKS[file](t, p)
    delBoth(t, p)
  })
}
