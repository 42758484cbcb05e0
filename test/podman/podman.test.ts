// Real podman (4.3.1, CNI backend) on our plugins alone: `podman network create` writes its conflist
// (bridge + portmap + firewall + tuning) into a private config dir, podman is given dist/bin as its
// only plugin directory, and three busybox containers (a private rootfs, no image) get distinct
// addresses, reach each other and the gateway, and answer on published ports from the fake host.
// Removing them and the network leaves no rule, address or veth behind.
//
// Everything is private (see fixture.ts): podman's configuration, storage and locks in
// /run/tscni-test-podman-<pid>-<hex>, podman itself run inside a fake host namespace (nsenter
// --net), addresses in 10.63.0.0/24 only; nothing in /etc/containers or /etc/cni is touched, and
// teardown removes everything, also on failure.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t, { type Test } from 'tap'
import type { Link } from '../../lib/netlink'
import { type TestNetns, ipIn, makeNetns, rtnlIn } from '../helpers/netns'
import { BUILTIN, BUSYBOX, PODMAN_PLUGINS, type Podman, SHARED, cleanup, inNs, makePodman, missingPlugins, missingTools, nftLinesWith10_63, rules } from './fixture'

const SUBNET = '10.63.0.0/24'
const GATEWAY = '10.63.0.1'

interface Ctr {
  name: string
  id: string
  ip: string
  mac: string
  sandbox: string
}

/** Waits until `fn` returns a truthy value (or the time is up), returning its last value. */
async function until<T>(fn: () => T, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  let v = fn()
  while (!v && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100))
    v = fn()
  }
  return v
}

t.test('podman network create, three containers on our plugins, rm leaves nothing', async (t: Test) => {
  const started = Date.now()
  const lackingTools = missingTools()
  if (lackingTools.length) return t.fail(`missing ${lackingTools.join(', ')}: run scripts/install-deps.sh`)

  // One teardown, in this order: podman's own cleanup first (its DELs run in the fake host), then
  // the fake host namespace.
  const undo: (() => unknown)[] = []
  t.teardown(() => {
    for (const fn of undo.reverse()) fn()
  })
  const host = makeNetns({ teardown: (fn) => undo.push(fn) }, 'pod-host')
  ipIn(host, ['link', 'set', 'lo', 'up'])
  const p: Podman = makePodman(host)
  undo.push(() => {
    const problems = cleanup(p.state, host)
    if (problems.length) t.fail(`teardown: ${problems.join('; ')}`)
  })
  t.comment(`plugin dir: ${p.pluginDir}`)
  for (const name of PODMAN_PLUGINS) {
    const file = path.join(p.pluginDir, name)
    if (fs.existsSync(file)) t.comment(`  ${name} -> ${fs.realpathSync(file)}`)
  }
  const lacking = missingPlugins(p.pluginDir)
  if (lacking.length) {
    return t.fail(`${p.pluginDir} has no ${lacking.join(', ')}: podman's conflist chains them (developers: TSCNI_PODMAN_EXTRA_PLUGIN_DIR, see fixture.ts)`)
  }

  const rtnl = rtnlIn(t, host)
  const linksBefore = rtnl.listLinks().map((l) => l.name).sort()
  const rulesBefore = rules(host)

  // --- the network, written by podman --------------------------------------------------------
  const net = p.state.network
  p.must(['network', 'create', '--subnet', SUBNET, net])
  const conflist = JSON.parse(fs.readFileSync(path.join(p.dir, 'net.d', `${net}.conflist`), 'utf8'))
  t.same(
    conflist.plugins.map((x: any) => x.type),
    ['bridge', 'portmap', 'firewall', 'tuning'],
    'podman wrote its usual chain: bridge, portmap, firewall, tuning',
  )
  t.equal(conflist.plugins[0].ipam.ranges[0][0].subnet, SUBNET)
  const bridgeName = conflist.plugins[0].bridge as string

  // --- three containers ----------------------------------------------------------------------
  // Each serves its own /etc (podman's per-container hostname, hosts) with busybox httpd on :80.
  // c1 publishes 127.0.0.1:18080, c2 the gateway address's 18081.
  const publish: Record<string, string[]> = { c1: ['-p', '127.0.0.1:18080:80'], c2: ['-p', `${GATEWAY}:18081:80`], c3: [] }
  const ctrs: Ctr[] = []
  for (const name of ['c1', 'c2', 'c3']) {
    const full = `${net}-${name}`
    const id = p
      .must([
        'run', '--detach', '--name', full, '--hostname', name, '--network', net,
        '--cgroup-parent', p.state.cgroupParent, '--cap-add', 'NET_RAW',
        ...publish[name],
        '--rootfs', path.join(p.dir, 'rootfs'),
        '/bin/httpd', '-f', '-p', '80', '-h', '/etc',
      ])
      .trim()
    p.track(id)
    const info = JSON.parse(p.must(['inspect', id]))[0]
    const n = info.NetworkSettings.Networks[net]
    ctrs.push({ name, id, ip: n.IPAddress, mac: n.MacAddress, sandbox: info.NetworkSettings.SandboxKey })
    t.equal(info.State.Status, 'running', `${name} is running`)
    t.equal(n.Gateway, GATEWAY, `${name}: inspect shows the gateway`)
    t.equal(n.IPPrefixLen, 24)
  }
  const ips = ctrs.map((c) => c.ip)
  t.equal(new Set(ips).size, 3, `distinct addresses: ${ips.join(', ')}`)
  t.ok(ips.every((ip) => /^10\.63\.0\.([2-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/.test(ip)), 'all in 10.63.0.0/24, past the gateway')
  t.match(p.must(['port', `${net}-c1`]), /80\/tcp -> 127\.0\.0\.1:18080/, 'podman port shows the mapping')

  // --- what the fake host and the containers' namespaces hold --------------------------------
  const links = rtnl.listLinks()
  const bridge = links.find((l) => l.name === bridgeName)
  t.equal(bridge?.kind, 'bridge', `bridge ${bridgeName} in the fake host`)
  t.same(
    rtnl.listAddrs({ index: bridge?.index, family: 4 }).map((a) => a.cidr),
    [`${GATEWAY}/24`],
    'the bridge holds the gateway address',
  )
  const ports = links.filter((l: Link) => l.kind === 'veth' && l.master === bridge?.index)
  t.equal(ports.length, 3, 'three veths on the bridge')
  for (const c of ctrs) {
    const r = inNs({ name: '', path: c.sandbox }, ['/usr/sbin/ip', '-j', 'addr', 'show', 'eth0'])
    const eth0 = JSON.parse(r.stdout || '[{}]')[0]
    const v4 = (eth0.addr_info ?? []).filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`)
    t.same(v4, [`${c.ip}/24`], `${c.name}: eth0 in its netns holds the address podman reports`)
    t.equal(eth0.address, c.mac, `${c.name}: eth0's MAC is the one podman reports`)
    t.match(p.must(['exec', `${net}-${c.name}`, '/bin/ip', 'route']), new RegExp(`default via ${GATEWAY.replace(/\./g, '\\.')} dev eth0`), `${c.name}: default route via the gateway`)
  }
  const during = rules(host)
  t.ok(during.some((l) => l.includes('CNI-FORWARD') && l.includes(ctrs[0].ip)), 'firewall rules for the containers')
  t.ok(during.some((l) => l.includes('DNAT') && l.includes(`${ctrs[0].ip}:80`)), 'portmap DNAT to c1')

  // --- traffic -------------------------------------------------------------------------------
  const ex = (c: Ctr, cmd: string[]) => p.run(['exec', `${net}-${c.name}`, ...cmd], 20_000)
  for (const c of ctrs) {
    const r = ex(c, ['/bin/ping', '-c', '1', '-W', '3', GATEWAY])
    t.equal(r.code, 0, `${c.name} pings the gateway ${r.stderr}`)
  }
  for (const [a, b] of [[0, 1], [1, 2], [2, 0]]) {
    const r = ex(ctrs[a], ['/bin/timeout', '5', '/bin/wget', '-qO-', `http://${ctrs[b].ip}/hostname`])
    t.equal(r.stdout.trim(), ctrs[b].name, `${ctrs[a].name} -> ${ctrs[b].name} over the bridge (http) ${r.stderr}`)
    const ping = ex(ctrs[a], ['/bin/ping', '-c', '1', '-W', '3', ctrs[b].ip])
    t.equal(ping.code, 0, `${ctrs[a].name} pings ${ctrs[b].name}`)
  }
  // (busybox 1.35's wget crashes with -T: `timeout` bounds it instead.)
  const get = (ns: TestNetns, url: string) => inNs(ns, [BUSYBOX, 'timeout', '5', BUSYBOX, 'wget', '-qO-', url]).stdout.trim()
  t.equal(await until(() => get(host, 'http://127.0.0.1:18080/hostname')), 'c1', 'published 127.0.0.1:18080 answers from the fake host (c1)')
  t.equal(get(host, `http://${GATEWAY}:18081/hostname`), 'c2', `published ${GATEWAY}:18081 answers from the fake host (c2)`)
  const via = ex(ctrs[2], ['/bin/timeout', '5', '/bin/wget', '-qO-', `http://${GATEWAY}:18081/hostname`])
  t.equal(via.stdout.trim(), 'c2', `c3 reaches c2 through its published port on the gateway address ${via.stderr}`)
  // hairpinMode (podman sets it): c2's own request to its published port comes back to it.
  const hairpin = ex(ctrs[1], ['/bin/timeout', '5', '/bin/wget', '-qO-', `http://${GATEWAY}:18081/hostname`])
  t.equal(hairpin.stdout.trim(), 'c2', `c2 reaches itself through its published port (hairpin) ${hairpin.stderr}`)

  // --- removal -------------------------------------------------------------------------------
  p.must(['rm', '--force', '--time', '0', ...ctrs.map((c) => c.id)], 60_000)
  t.equal(p.must(['ps', '--all', '--quiet']).trim(), '', 'no container left')
  t.not(get(host, 'http://127.0.0.1:18080/hostname'), 'c1', 'the published port is closed again')
  const after = rules(host)
  const before = new Set(rulesBefore)
  t.same(
    after.filter((l) => !before.has(l) && !SHARED.has(l) && !BUILTIN.test(l)),
    [],
    'iptables: only the shared portmap and firewall chains are new',
  )
  t.same(after.filter((l) => /10\.63\.|CNI-DN-|name: /.test(l)), [], 'no rule names a container, its address or the network')
  t.same(nftLinesWith10_63(host), [], 'nor does any nftables rule')
  t.same(
    rtnl.listLinks().map((l) => l.name).filter((n) => n !== bridgeName).sort(),
    linksBefore,
    'no veth left (only the bridge, until the network goes)',
  )
  for (const c of ctrs) t.notOk(fs.existsSync(c.sandbox), `${c.name}'s netns file is gone`)
  const store = path.join('/var/lib/cni/networks', net)
  const reserved = fs.existsSync(store) ? fs.readdirSync(store).filter((f) => f.startsWith('10.')) : []
  t.same(reserved, [], 'host-local holds no address')
  const cache = '/var/lib/cni/results'
  t.same(fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => f.startsWith(`${net}-`)) : [], [], 'no result cached')
  t.notOk(fs.existsSync(path.join('/var/lib/cni/firewall', net)), "the firewall's records of the network are gone")

  p.must(['network', 'rm', net])
  t.notOk(fs.existsSync(path.join(p.dir, 'net.d', `${net}.conflist`)), 'the conflist is gone')
  t.same(rtnl.listLinks().map((l) => l.name).sort(), linksBefore, 'the bridge is gone too: the fake host has its links of before')
  t.same(
    rtnl.listAddrs({ family: 4 }).map((a) => a.cidr).filter((c) => c.startsWith('10.63.')),
    [],
    'no 10.63 address in the fake host',
  )
  const conmons = await until(() => {
    const left = fs
      .readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          return fs.readFileSync(`/proc/${e}/cmdline`, 'latin1').includes(p.dir)
        } catch {
          return false
        }
      })
    return left.length === 0 ? [] : undefined
  })
  t.same(conmons ?? ['some'], [], 'no conmon or podman process of this run is left')
  t.comment(`podman test body: ${((Date.now() - started) / 1000).toFixed(1)} s`)
})
