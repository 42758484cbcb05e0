// The firewalld backend against a real firewalld (Debian's 1.3.3), confined to this test: a private
// dbus-daemon (its own config and socket in a temp dir) stands in for the system bus, and firewalld
// runs inside the test's fake host namespace (`ip netns exec`, so its nftables ruleset lives there)
// with its own copy of /etc/firewalld. Plugins find the bus through DBUS_SYSTEM_BUS_ADDRESS, as on a
// node they find /run/dbus/system_bus_socket. Skipped when firewalld or dbus-daemon is missing.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t, { type Test } from 'tap'
import type { HasTeardown } from '../../helpers/netns'
import { FIREWALL, HAVE_REF, REF_FIREWALL, type World, errorOf, expectOk, fwConf, prevResult, runFw, save, tempDir, world } from './fixture'

const FIREWALLD = '/usr/sbin/firewalld'
const DBUS_DAEMON = '/usr/bin/dbus-daemon'
const MISSING = !fs.existsSync(FIREWALLD) ? 'firewalld not installed' : !fs.existsSync(DBUS_DAEMON) ? 'dbus-daemon not installed' : false
const FW_RUN_DIR = '/run/firewalld'

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}

function busCall(bus: string, args: string[]): { code: number; out: string } {
  const r = spawnSync('dbus-send', ['--system', '--print-reply', ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', DBUS_SYSTEM_BUS_ADDRESS: bus } })
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}

/** The zone's sources, asked over the private bus. */
function sources(bus: string, zone = 'trusted'): string[] {
  const r = busCall(bus, ['--dest=org.fedoraproject.FirewallD1', '/org/fedoraproject/FirewallD1', 'org.fedoraproject.FirewallD1.zone.getSources', `string:${zone}`])
  if (r.code !== 0) throw new Error(r.out)
  return [...r.out.matchAll(/string "([^"]+)"/g)].map((m) => m[1]).sort()
}

/** A private bus (a dbus-daemon with its own config and socket in a temp dir); gone at teardown. */
async function privateBus(t: HasTeardown): Promise<{ bus: string; socket: string; dir: string }> {
  const dir = tempDir(t)
  const socket = path.join(dir, 'bus')
  const bus = `unix:path=${socket}`
  fs.writeFileSync(path.join(dir, 'bus.conf'), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>${bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`)
  const daemon = spawn(DBUS_DAEMON, [`--config-file=${path.join(dir, 'bus.conf')}`, '--nofork', '--nopidfile'], { stdio: 'ignore' })
  t.teardown(() => stop(daemon))
  const deadline = Date.now() + 10_000
  while (!fs.existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('dbus-daemon did not come up')
    await new Promise((r) => setTimeout(r, 20))
  }
  return { bus, socket, dir }
}

/** A private bus and a firewalld on it, inside the world's host namespace; both gone at teardown. */
async function privateFirewalld(t: HasTeardown, w: World): Promise<string> {
  const { bus, socket, dir } = await privateBus(t)
  const hadRunDir = fs.existsSync(FW_RUN_DIR)
  fs.cpSync('/etc/firewalld', path.join(dir, 'etc'), { recursive: true })
  const fw = spawn('ip', ['netns', 'exec', w.host.name, FIREWALLD, '--nofork', '--nopid', '--system-config', path.join(dir, 'etc'), '--log-target', 'file', '--log-file', path.join(dir, 'firewalld.log')], {
    stdio: 'ignore',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DBUS_SYSTEM_BUS_ADDRESS: bus },
  })
  t.teardown(async () => {
    await stop(fw)
    // firewalld makes /run/firewalld (empty when it runs without a pid file): ours to remove when it was not there.
    if (!hadRunDir) fs.rmSync(FW_RUN_DIR, { recursive: true, force: true })
  })
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (fs.existsSync(socket)) {
      try {
        sources(bus)
        return bus
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`firewalld did not come up: ${fs.existsSync(path.join(dir, 'firewalld.log')) ? fs.readFileSync(path.join(dir, 'firewalld.log'), 'utf8') : ''}`)
}

t.test('a system bus without firewalld: auto-detection picks iptables', { skip: !fs.existsSync(DBUS_DAEMON) && 'dbus-daemon not installed' }, async (t) => {
  const w = world(t, 'fwd-nofw')
  const { bus } = await privateBus(t)
  const conf = fwConf('fwd', '1.0.0', prevResult('1.0.0', 'fwbr42', ['10.62.42.2/24']), { dataDir: tempDir(t), backend: '' })
  expectOk(t, runFw(w, 'ADD', conf, { containerID: 'fwd-4' }, FIREWALL, bus), 'ADD')
  t.ok(save(w.host, 4).includes('-A CNI-FORWARD -s 10.62.42.2/32 -j ACCEPT'), 'the rules are in iptables')
  const explicit = runFw(w, 'ADD', { ...conf, backend: 'firewalld' }, { containerID: 'fwd-4' }, FIREWALL, bus)
  t.match(errorOf(explicit), { exit: 1, code: 999, msg: /^failed to add the address 10\.62\.42\.2\/32 to trusted zone: / }, `backend firewalld without firewalld: ${explicit.json?.msg}`)
  expectOk(t, runFw(w, 'DEL', { ...conf, backend: 'firewalld' }, { containerID: 'fwd-4' }, FIREWALL, bus), 'DEL on firewalld ignores the errors (as the reference)')
})

t.test('firewalld (one private bus and firewalld for all cases)', { skip: MISSING }, async (t) => {
  const w = world(t, 'fwd')
  const bus = await privateFirewalld(t, w)
  await t.test('auto-detected; ADD, CHECK, DEL like the reference, across implementations', (t) => usual(t, w, bus))
  await t.test('a failed ADD removes only what it added, with the reference’s error', (t) => failing(t, w, bus))
})

async function usual(t: Test, w: World, bus: string): Promise<void> {
  const dataDir = tempDir(t)
  const ADDRS = ['10.62.40.2/24', 'fd00:62::28:2/64']
  const HOSTS = ['10.62.40.2/32', 'fd00:62::28:2/128']
  const conf = fwConf('fwd', '0.4.0', prevResult('0.4.0', 'fwbr40', ADDRS), { dataDir, backend: '' })
  const a = { containerID: 'fwd-1' }
  const fw = (cmd: string, c: object, file = FIREWALL) => runFw(w, cmd, c, a, file, bus)

  const add = fw('ADD', conf)
  expectOk(t, add, 'ADD (backend "" with firewalld on the bus: firewalld)')
  t.same(sources(bus), HOSTS, 'the addresses are sources of the trusted zone')
  t.same(save(w.host, 4).filter((l) => l.includes('CNI-')), [], 'nothing in iptables')
  expectOk(t, fw('CHECK', conf), 'CHECK')
  if (HAVE_REF) {
    const ref = fw('ADD', conf, REF_FIREWALL)
    expectOk(t, ref, 'the reference ADD on top (already set)')
    t.equal(add.stdout, ref.stdout, 'the same stdout as the reference')
  }
  expectOk(t, fw('ADD', conf), 'ADD again')
  expectOk(t, fw('DEL', conf), 'DEL')
  t.same(sources(bus), [], 'the sources are gone')
  expectOk(t, fw('DEL', conf), 'DEL again')
  t.match(errorOf(fw('CHECK', conf)), { exit: 1, code: 999, msg: 'failed to find the address 10.62.40.2/32 in trusted zone' }, 'CHECK finds the missing source (the reference passes it)')

  if (HAVE_REF) {
    expectOk(t, fw('ADD', conf, REF_FIREWALL), 'reference ADD')
    expectOk(t, fw('CHECK', conf), 'our CHECK of it')
    expectOk(t, fw('DEL', conf), 'our DEL of it')
    t.same(sources(bus), [], 'our DEL removed the reference’s sources')
    expectOk(t, fw('ADD', conf), 'our ADD')
    expectOk(t, fw('DEL', conf, REF_FIREWALL), 'reference DEL')
    t.same(sources(bus), [], 'the reference’s DEL removed ours')
  }

  // same-bridge goes to iptables whatever the backend (as the reference).
  const iso = fwConf('fwd', '1.0.0', prevResult('1.0.0', 'fwbr40', ADDRS), { dataDir, backend: 'firewalld', ingressPolicy: 'same-bridge', firewalldZone: 'internal' })
  expectOk(t, fw('ADD', iso), 'ADD same-bridge into zone internal')
  t.same(sources(bus, 'internal'), HOSTS, 'sources of the internal zone')
  t.ok(save(w.host, 4).some((l) => l.includes('-i fwbr40 ! -o fwbr40')), 'the isolation rules are in iptables')
  expectOk(t, fw('DEL', iso), 'DEL')
  t.same(sources(bus, 'internal'), [], 'gone')

  // GC takes a stale attachment's sources out of the zone it was put in.
  expectOk(t, fw('ADD', { ...conf, cniVersion: '1.1.0', prevResult: prevResult('1.1.0', 'fwbr40', ADDRS) }), 'ADD (1.1.0)')
  t.same(sources(bus), HOSTS)
  expectOk(t, fw('GC', { cniVersion: '1.1.0', name: 'fwd', type: 'firewall', dataDir, 'cni.dev/valid-attachments': [] }), 'GC')
  t.same(sources(bus), [], 'GC removed the sources')
  expectOk(t, fw('STATUS', { cniVersion: '1.1.0', name: 'fwd', type: 'firewall', backend: 'firewalld' }), 'STATUS with firewalld running')
}

async function failing(t: Test, w: World, bus: string): Promise<void> {
  const dataDir = tempDir(t)
  // 10.62.41.3 already belongs to another zone: ZONE_CONFLICT.
  t.equal(busCall(bus, ['--dest=org.fedoraproject.FirewallD1', '/org/fedoraproject/FirewallD1', 'org.fedoraproject.FirewallD1.zone.addSource', 'string:public', 'string:10.62.41.3/32']).code, 0)
  const conf = fwConf('fwd', '1.0.0', prevResult('1.0.0', 'fwbr41', ['10.62.41.2/24', '10.62.41.3/24']), { dataDir, backend: 'firewalld' })
  const r = runFw(w, 'ADD', conf, { containerID: 'fwd-2' }, FIREWALL, bus)
  t.match(errorOf(r), { exit: 1, code: 999, msg: /^failed to add the address 10\.62\.41\.3\/32 to trusted zone: ZONE_CONFLICT: / })
  t.same(sources(bus), [], '10.62.41.2 was taken out again')
  t.same(sources(bus, 'public'), ['10.62.41.3/32'], 'the other zone is untouched')
  const bad = runFw(w, 'ADD', { ...conf, firewalldZone: 'nosuchzone' }, { containerID: 'fwd-2' }, FIREWALL, bus)
  t.match(errorOf(bad), { code: 999, msg: 'failed to add the address 10.62.41.2/32 to nosuchzone zone: INVALID_ZONE: nosuchzone' })

  // The isolation rules fail (a bridge name iptables refuses) after the sources went in: the source
  // this ADD added goes again, the one that was there before stays.
  t.equal(busCall(bus, ['--dest=org.fedoraproject.FirewallD1', '/org/fedoraproject/FirewallD1', 'org.fedoraproject.FirewallD1.zone.addSource', 'string:trusted', 'string:10.62.41.5/32']).code, 0)
  const late = fwConf('fwd', '1.0.0', prevResult('1.0.0', 'fw-bridge-name-too-long', ['10.62.41.5/24', '10.62.41.6/24']), { dataDir, backend: 'firewalld', ingressPolicy: 'same-bridge' })
  t.match(errorOf(runFw(w, 'ADD', late, { containerID: 'fwd-3' }, FIREWALL, bus)), { exit: 1, code: 999, msg: /IFNAMSIZ/ }, 'the isolation rules fail')
  t.same(sources(bus), ['10.62.41.5/32'], 'only the source that was there before stays')
}
