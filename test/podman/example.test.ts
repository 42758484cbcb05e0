// examples/netconf/90-podman-generated.conflist is what `podman network create --subnet
// 10.63.1.0/24 podman-generated` wrote here (podman 4.3.1, CNI backend), byte for byte: bridge +
// portmap + firewall + tuning. It runs through dist/cnitool with the plugin dir the podman test
// uses (dist/bin; see fixture.ts for the developer-only override), inside a fake host, with what
// podman passes (CNI_ARGS, lower-case portMappings): two containers attach, reach each other and
// the gateway, a mapped port answers, CHECK passes, and DEL leaves only the shared chains.
// Only the plugins' data directories (host-local's, the firewall's, tuning's) and the result cache
// are redirected, into a private dir in /run.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t, { type Test } from 'tap'
import { type TestNetns, ipIn, ipJson, makeNetns } from '../helpers/netns'
import { NSENTER, RUNTIME_PATH } from '../helpers/plugin'
import { request, startServers } from '../plugins/portmap/fixture'
import { BUILTIN, SHARED, missingPlugins, nftLinesWith10_63, pluginDirFor, rules } from './fixture'

const ROOT = path.join(__dirname, '..', '..')
const CNITOOL = path.join(ROOT, 'dist', 'cnitool')
const FILE = path.join(ROOT, 'examples', 'netconf', '90-podman-generated.conflist')

function cnitool(host: TestNetns, args: string[], env: Record<string, string>) {
  const r = spawnSync(NSENTER, [`--net=${host.path}`, '--', CNITOOL, ...args], { env: { PATH: RUNTIME_PATH, ...env }, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

function ping(from: TestNetns, to: string): number {
  return spawnSync('ip', ['netns', 'exec', from.name, 'ping', '-c', '1', '-W', '3', to], { timeout: 10_000 }).status ?? -1
}

/** Removes the private dirs of earlier runs killed before their teardown (their pid is gone). */
function sweepStaleDirs(): void {
  for (const name of fs.readdirSync('/run')) {
    const m = /^tscni-test-podex-(\d+)-/.exec(name)
    if (!m) continue
    try {
      process.kill(Number(m[1]), 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(path.join('/run', name), { recursive: true, force: true })
    }
  }
}

t.test('90-podman-generated.conflist: ADD, traffic, CHECK, DEL through dist/cnitool', async (t: Test) => {
  const text = fs.readFileSync(FILE, 'utf8')
  const list = JSON.parse(text)
  t.same(list.plugins.map((p: any) => p.type), ['bridge', 'portmap', 'firewall', 'tuning'], "podman's chain")
  t.ok(text.startsWith('{\n   "cniVersion": "0.4.0",\n   "name": "podman-generated",') && !text.endsWith('\n'), "podman's layout: 3-space indent, no final newline")

  sweepStaleDirs()
  const dir = fs.mkdtempSync(`/run/tscni-test-podex-${process.pid}-`)
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const pluginDir = pluginDirFor(dir)
  t.comment(`plugin dir: ${pluginDir}`)
  const lacking = missingPlugins(pluginDir)
  if (lacking.length) return t.fail(`${pluginDir} has no ${lacking.join(', ')}: the conflist chains them`)

  const dataDir = path.join(dir, 'ipam')
  const netconfDir = path.join(dir, 'net.d')
  fs.mkdirSync(netconfDir)
  for (const p of list.plugins) {
    if (p.ipam) p.ipam.dataDir = dataDir
    // The firewall's records and tuning's saved originals too: nothing under /var/lib/cni or /run/cni.
    if (p.type === 'firewall' || p.type === 'tuning') p.dataDir = path.join(dir, p.type)
  }
  fs.writeFileSync(path.join(netconfDir, path.basename(FILE)), JSON.stringify(list, null, 3))

  const host = makeNetns(t, 'podex-host')
  ipIn(host, ['link', 'set', 'lo', 'up'])
  const a = makeNetns(t, 'podex-a')
  const b = makeNetns(t, 'podex-b')
  const env = { NETCONFPATH: netconfDir, CNI_PATH: pluginDir, CNI_CACHE_DIR: path.join(dir, 'cache') }
  // What podman passes: IgnoreUnknown and the container name; portMappings only when there are some.
  const envA = { ...env, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=a', CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 18090, containerPort: 80, protocol: 'tcp' }] }) }
  const envB = { ...env, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=b', CAP_ARGS: '{}' }
  const linksBefore = ipJson(host, ['link', 'show']).map((l: any) => l.ifname).sort()
  const rulesBefore = new Set(rules(host))

  const addA = cnitool(host, ['add', list.name, a.path], envA)
  t.equal(addA.code, 0, `cnitool add a ${addA.stderr}`)
  const addB = cnitool(host, ['add', list.name, b.path], envB)
  t.equal(addB.code, 0, `cnitool add b ${addB.stderr}`)
  const ra = JSON.parse(addA.stdout)
  const rb = JSON.parse(addB.stdout)
  t.equal(ra.cniVersion, '0.4.0', 'a 0.4.0 result')
  const ipA = ra.ips[0].address.split('/')[0] as string
  const ipB = rb.ips[0].address.split('/')[0] as string
  const gw = ra.ips[0].gateway as string
  t.equal(gw, '10.63.1.1')
  t.not(ipA, ipB, `distinct addresses ${ipA}, ${ipB}`)
  t.match(ipA, /^10\.63\.1\.\d+$/)
  t.ok(rules(host).some((l) => l.includes('CNI-FORWARD') && l.includes(`${ipA}/32`)), 'firewall lets a forward')

  t.equal(ping(a, ipB), 0, 'a pings b over the bridge')
  t.equal(ping(b, ipA), 0, 'b pings a')
  t.equal(ping(a, gw), 0, 'a pings the gateway')
  await startServers(t, a, { tcp: [80] })
  t.match(request(b, 'tcp', ipA, 80), /^tcp:80:/, 'b reaches a server in a')
  t.match(request(host, 'tcp', '127.0.0.1', 18090), /^tcp:80:/, 'the mapped port answers on 127.0.0.1 in the fake host')
  t.match(request(b, 'tcp', gw, 18090), /^tcp:80:/, 'and on the gateway address from b')
  t.match(request(a, 'tcp', gw, 18090), /^tcp:80:/, 'and from a itself (hairpin)')

  for (const [ns, e] of [[a, envA], [b, envB]] as const) {
    const check = cnitool(host, ['check', list.name, ns.path], e)
    t.equal(check.code, 0, `cnitool check ${check.stderr}`)
  }
  for (const [ns, e] of [[a, envA], [b, envB]] as const) {
    const del = cnitool(host, ['del', list.name, ns.path], e)
    t.equal(del.code, 0, `cnitool del ${del.stderr}`)
  }
  t.match(request(host, 'tcp', '127.0.0.1', 18090), /^(error|timeout)/, 'the port is closed again')
  t.same(
    rules(host).filter((l) => !rulesBefore.has(l) && !SHARED.has(l) && !BUILTIN.test(l)),
    [],
    'only the shared portmap and firewall chains stay',
  )
  t.same(nftLinesWith10_63(host), [], 'no nftables rule names a 10.63 address')
  t.same(
    ipJson(host, ['link', 'show']).map((l: any) => l.ifname).filter((n: string) => n !== list.plugins[0].bridge).sort(),
    linksBefore,
    'no veth left (the bridge stays, as with the reference)',
  )
  t.same(fs.readdirSync(path.join(dataDir, list.name)).filter((f) => f.startsWith('10.')), [], 'no address reserved')
})
