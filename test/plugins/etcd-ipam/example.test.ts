// examples/netconf/95-bridge-etcd-ipam.conflist as it is, through dist/cnitool inside a fake host
// (nsenter), with CNI_PATH=dist/bin: two containers attach, ping each other and the gateway,
// CHECK passes, `cnitool ipam shared` shows the pool, DEL leaves no address in etcd.
// Redirected: the etcd endpoint (the example says 127.0.0.1:2379; here etcd runs inside the fake
// host namespace on 127.0.0.1:23840, which is the fake host's own loopback, so nothing is opened in
// the real host namespace), the node hint's dataDir and the result cache.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { HAVE_ETCD, hintDir, startCluster } from '../../helpers/etcd'
import { makeNetns, type TestNetns } from '../../helpers/netns'
import { BIN_DIR, NSENTER, RUNTIME_PATH } from '../../helpers/plugin'

const ROOT = path.join(__dirname, '..', '..', '..')
const CNITOOL = path.join(ROOT, 'dist', 'cnitool')
const FILE = path.join(ROOT, 'examples', 'netconf', '95-bridge-etcd-ipam.conflist')

function inNs(ns: TestNetns, cmd: string[], env: Record<string, string> = {}) {
  const r = spawnSync(NSENTER, [`--net=${ns.path}`, '--', ...cmd], { env: { PATH: RUNTIME_PATH, ...env }, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

t.test('95-bridge-etcd-ipam.conflist through cnitool', { skip: !HAVE_ETCD && 'etcd is not installed' }, async (t) => {
  const host = makeNetns(t, 'etcd-exhost')
  execIp(host, ['link', 'set', 'lo', 'up'])
  await startCluster(t, { base: 23840, netns: host.path })
  const work = hintDir(t, 'example')
  const list = JSON.parse(fs.readFileSync(FILE, 'utf8'))
  t.same(list.plugins[0].ipam.endpoints, ['http://127.0.0.1:2379'], 'the example as shipped')
  list.plugins[0].ipam.endpoints = ['http://127.0.0.1:23840']
  list.plugins[0].ipam.dataDir = path.join(work, 'hints')
  list.plugins[0].ipam.nodeName = 'example-node'
  const netconf = path.join(work, 'net.d')
  fs.mkdirSync(netconf)
  fs.writeFileSync(path.join(netconf, path.basename(FILE)), JSON.stringify(list))
  const env = { NETCONFPATH: netconf, CNI_PATH: BIN_DIR, CNI_CACHE_DIR: path.join(work, 'cache') }
  const a = makeNetns(t, 'etcd-exa')
  const b = makeNetns(t, 'etcd-exb')
  const ra = inNs(host, [CNITOOL, 'add', 'shared', a.path], env)
  const rb = inNs(host, [CNITOOL, 'add', 'shared', b.path], env)
  t.equal(ra.code, 0, ra.stdout + ra.stderr)
  t.equal(rb.code, 0, rb.stdout + rb.stderr)
  const ipA = JSON.parse(ra.stdout).ips[0].address.split('/')[0]
  const ipB = JSON.parse(rb.stdout).ips[0].address.split('/')[0]
  t.not(ipA, ipB)
  t.equal(inNs(a, ['/usr/bin/ping', '-c1', '-W2', ipB]).code, 0, 'a -> b')
  t.equal(inNs(b, ['/usr/bin/ping', '-c1', '-W2', '10.64.0.1']).code, 0, 'b -> gateway')
  t.equal(inNs(host, [CNITOOL, 'check', 'shared', a.path], env).code, 0, 'CHECK')

  const text = inNs(host, [CNITOOL, 'ipam', 'shared'], env)
  t.equal(text.code, 0, text.stderr)
  t.match(text.stdout, /network shared: etcd-ipam, http:\/\/127\.0\.0\.1:23840 \/tscni\/ipam\/shared\//)
  t.match(text.stdout, /10\.64\.0\.1-10\.64\.255\.254\s+10\.64\.0\.0\/16\s+2\s+65533/)
  t.match(text.stdout, /example-node\s+1\s+2/)
  const json = JSON.parse(inNs(host, [CNITOOL, 'ipam', 'shared', '--json'], env).stdout)
  t.match(json, { ipam: 'etcd-ipam', ranges: [{ used: 2, size: 65533 }], blocks: [{ node: 'example-node', used: 2 }], nodes: [{ node: 'example-node', blocks: 1, addresses: 2 }] })
  // The node claims one of the first free blocks at random; the first /26 holds the network
  // address and the gateway, so it has 62 addresses to give, every other one 64.
  const block = json.blocks[0]
  t.equal(block.size, block.block === '10.64.0.0/26' ? 62 : 64, `the size of block ${block.block}`)

  t.equal(inNs(host, [CNITOOL, 'del', 'shared', a.path], env).code, 0)
  t.equal(inNs(host, [CNITOOL, 'del', 'shared', b.path], env).code, 0)
  const after = JSON.parse(inNs(host, [CNITOOL, 'ipam', 'shared', '--json'], env).stdout)
  t.equal(after.ranges[0].used, 0, 'DEL left no address')
})

t.test('cnitool ipam on a host-local network', async (t) => {
  const work = hintDir(t, 'exhl')
  const netconf = path.join(work, 'net.d')
  fs.mkdirSync(netconf)
  const dataDir = path.join(work, 'hl')
  fs.writeFileSync(path.join(netconf, 'hl.conflist'), JSON.stringify({
    cniVersion: '1.1.0', name: 'hlpool',
    plugins: [{ type: 'bridge', bridge: 'x', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.64.9.0/24' }]] } }],
  }))
  fs.mkdirSync(path.join(dataDir, 'hlpool'), { recursive: true })
  for (const ip of ['10.64.9.2', '10.64.9.3']) fs.writeFileSync(path.join(dataDir, 'hlpool', ip), 'c\r\neth0')
  const r = spawnSync(CNITOOL, ['ipam', 'hlpool', '--json'], { env: { PATH: RUNTIME_PATH, NETCONFPATH: netconf }, encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { ipam: 'host-local', ranges: [{ used: 2, size: 253 }] })
})

function execIp(ns: TestNetns, args: string[]): void {
  const r = spawnSync('ip', ['-n', ns.name, ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
}
