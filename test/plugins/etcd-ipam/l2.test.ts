// One flat L2 network across two simulated nodes: two fake host namespaces whose bridges are
// joined by a veth pair, our bridge + etcd-ipam on both, five containers on each. All ten get
// distinct addresses from one pool and every one pings every other across the nodes.
//
// Where etcd runs: bridge runs with its fake host namespace as its current one and execs
// etcd-ipam there, so the plugin talks to etcd from that namespace; 127.0.0.1 there is the fake
// host's own loopback, not the real host's. Rather than open anything in the real host
// namespace, etcd runs in a third namespace of the test (the "control plane"), joined to each
// fake host by its own veth on a /30 of 10.64.254.0/24, and listens on those two addresses. Every
// address, link and process lives in the test's namespaces and goes with them.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import t from 'tap'
import { HAVE_ETCD, hintDir, startCluster } from '../../helpers/etcd'
import { makeNetns, type TestNetns } from '../../helpers/netns'
import { BIN_DIR, cniEnv, runPlugin } from '../../helpers/plugin'

const BRIDGE = `${BIN_DIR}/bridge`
const ipn = (ns: TestNetns, ...args: string[]) => execFileSync('ip', ['-n', ns.name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
/** One ping from a namespace, not blocking the others (the 90 pairs run ten at a time). */
const ping = (from: TestNetns, to: string): Promise<boolean> =>
  new Promise((resolve) => {
    const p = spawn('/usr/bin/nsenter', [`--net=${from.path}`, '--', 'ping', '-c1', '-W2', to], { stdio: 'ignore', timeout: 10_000 })
    p.on('close', (code) => resolve(code === 0))
    p.on('error', () => resolve(false))
  })

t.test('two nodes, one L2 network, one pool', { skip: !HAVE_ETCD && 'etcd is not installed', timeout: 120_000 }, async (t) => {
  const ctl = makeNetns(t, 'etcd-ctl')
  const hosts = [makeNetns(t, 'etcd-hosta'), makeNetns(t, 'etcd-hostb')]
  ipn(ctl, 'link', 'set', 'lo', 'up')
  // Control plane links: ctl 10.64.254.1 <-> host A 10.64.254.2, ctl 10.64.254.5 <-> host B 10.64.254.6.
  hosts.forEach((h, i) => {
    ipn(ctl, 'link', 'add', `ctl${i}`, 'type', 'veth', 'peer', 'name', 'ctl', 'netns', h.name)
    ipn(ctl, 'addr', 'add', `10.64.254.${4 * i + 1}/30`, 'dev', `ctl${i}`)
    ipn(ctl, 'link', 'set', `ctl${i}`, 'up')
    ipn(h, 'addr', 'add', `10.64.254.${4 * i + 2}/30`, 'dev', 'ctl')
    ipn(h, 'link', 'set', 'ctl', 'up')
    ipn(h, 'link', 'set', 'lo', 'up')
    // The node's bridge exists before the first ADD, so the inter-node link can join it.
    ipn(h, 'link', 'add', 'tbr-l2', 'type', 'bridge')
  })
  ipn(hosts[0], 'link', 'add', 'l2', 'type', 'veth', 'peer', 'name', 'l2', 'netns', hosts[1].name)
  for (const h of hosts) {
    ipn(h, 'link', 'set', 'l2', 'master', 'tbr-l2')
    ipn(h, 'link', 'set', 'l2', 'up')
  }
  await startCluster(t, { base: 23830, netns: ctl.path, clientHosts: ['10.64.254.1', '10.64.254.5'] })
  const hints = hintDir(t, 'l2')

  const confOf = (node: number) => ({
    cniVersion: '1.1.0',
    name: 'l2net',
    type: 'bridge',
    bridge: 'tbr-l2',
    // No gateway address on either bridge: one L2 segment must not have two 10.64.0.1s.
    isGateway: false,
    ipMasq: false,
    ipam: {
      type: 'etcd-ipam',
      endpoints: [`http://10.64.254.${4 * node + 1}:23830`],
      nodeName: `node-${'ab'[node]}`,
      dataDir: `${hints}/${node}`,
      ranges: [[{ subnet: '10.64.0.0/16' }]],
    },
  })
  const ctrs: Array<{ ns: TestNetns; node: number; id: string; ip?: string }> = []
  for (let node = 0; node < 2; node++) {
    for (let i = 0; i < 5; i++) ctrs.push({ ns: makeNetns(t, `etcd-c${node}${i}`), node, id: `l2-${node}-${i}` })
  }
  for (const c of ctrs) {
    const r = runPlugin(BRIDGE, { env: cniEnv('ADD', { containerID: c.id, netns: c.ns.path, ifName: 'eth0' }), stdin: confOf(c.node), hostNetns: hosts[c.node].path })
    t.equal(r.code, 0, `ADD ${c.id} on node ${c.node}: ${r.stdout}`)
    c.ip = r.json?.ips?.[0]?.address?.split('/')[0]
  }
  const ips = ctrs.map((c) => c.ip)
  t.equal(new Set(ips).size, 10, `ten distinct addresses: ${ips.join(' ')}`)
  t.ok(ips.every((ip) => ip?.startsWith('10.64.')), 'all from the pool')
  for (const a of ctrs) {
    const others = ctrs.filter((b) => b !== a)
    const ok = await Promise.all(others.map((b) => ping(a.ns, b.ip!)))
    others.forEach((b, i) => t.ok(ok[i], `${a.id} (node ${a.node}) -> ${b.id} (node ${b.node})`))
  }
  for (const c of ctrs) {
    const r = runPlugin(BRIDGE, { env: cniEnv('DEL', { containerID: c.id, netns: c.ns.path, ifName: 'eth0' }), stdin: confOf(c.node), hostNetns: hosts[c.node].path })
    t.equal(r.code, 0, `DEL ${c.id}: ${r.stdout}`)
  }
  const left = spawnSync('/usr/bin/nsenter', [`--net=${ctl.path}`, '--', '/usr/bin/etcdctl', '--endpoints', 'http://10.64.254.1:23830', 'get', '--prefix', '--keys-only', '/tscni/ipam/l2net/ips/'], { encoding: 'utf8', env: { ETCDCTL_API: '3' } })
  t.equal(left.status, 0)
  t.equal(left.stdout.trim(), '', 'no address left in etcd')
})
