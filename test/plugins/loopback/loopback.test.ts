import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { makeNetns } from '../../helpers/netns'
import { BIN_DIR, cniEnv, runPlugin } from '../../helpers/plugin'
import { openNetns } from '../../../lib/ns'
import { Rtnl } from '../../../lib/netlink'

const LOOPBACK = path.join(BIN_DIR, 'loopback')
const VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']

const conf = (cniVersion?: string, extra: object = {}) => ({
  ...(cniVersion ? { cniVersion } : {}), name: 'lonet', type: 'loopback', ...extra,
})

/** Reads `lo` inside a namespace through netlink: is it up? */
function loIsUp(nsPath: string): boolean {
  const ns = openNetns(nsPath)
  const rtnl = Rtnl.open(ns)
  ns.close()
  try {
    const lo = rtnl.getLinkByName('lo')
    if (!lo) throw new Error('no lo')
    return lo.up
  } finally {
    rtnl.close()
  }
}

const run = (command: string, netns: string | undefined, stdin: object | string, ifName = 'eth0') =>
  runPlugin(LOOPBACK, { env: cniEnv(command, { containerID: 'ctr-1', netns, ifName }), stdin })

t.test('ADD, CHECK and DEL in every spec version', async (t) => {
  for (const v of VERSIONS) {
    await t.test(v, async (t) => {
      const ns = makeNetns(t, 'lo')
      t.equal(loIsUp(ns.path), false, 'lo starts down in a new namespace')
      const add = run('ADD', ns.path, conf(v))
      t.equal(add.code, 0, 'ADD exits 0', { stdout: add.stdout, stderr: add.stderr })
      t.equal(loIsUp(ns.path), true, 'ADD sets lo up')
      const r = add.json
      t.equal(r.cniVersion, v)
      if (v === '0.1.0' || v === '0.2.0') {
        t.same(r, { cniVersion: v, ip4: { ip: '127.0.0.1/8' }, ip6: { ip: '::1/128' }, dns: {} })
      } else {
        t.same(r.interfaces, [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: ns.path }])
        const ips = r.ips.map((ip: any) => ({ ...ip }))
        if (v.startsWith('0.')) {
          t.same(ips, [
            { version: '4', interface: 0, address: '127.0.0.1/8' },
            { version: '6', interface: 0, address: '::1/128' },
          ])
          t.same(r.dns, {}, '0.3/0.4 always carry dns')
        } else {
          t.same(ips, [{ interface: 0, address: '127.0.0.1/8' }, { interface: 0, address: '::1/128' }])
          t.notOk('dns' in r, '1.x omits an empty dns')
        }
      }
      if (v >= '0.4.0') {
        const check = run('CHECK', ns.path, conf(v))
        t.equal(check.code, 0, check.stdout)
        t.equal(check.stdout, '', 'CHECK prints nothing')
      }
      const del = run('DEL', ns.path, conf(v))
      t.equal(del.code, 0, del.stdout)
      t.equal(loIsUp(ns.path), false, 'DEL sets lo down')
      t.equal(run('DEL', ns.path, conf(v)).code, 0, 'DEL twice')
      if (v >= '0.4.0') {
        const check = run('CHECK', ns.path, conf(v))
        t.equal(check.code, 1)
        t.same(check.json, { cniVersion: v, code: 999, msg: 'loopback interface is down' })
      }
    })
  }
})

t.test('ADD without cniVersion answers in 0.1.0', async (t) => {
  const ns = makeNetns(t, 'lo')
  const add = run('ADD', ns.path, conf())
  t.equal(add.code, 0)
  t.same(add.json, { cniVersion: '0.1.0', ip4: { ip: '127.0.0.1/8' }, ip6: { ip: '::1/128' }, dns: {} })
})

t.test('CNI_IFNAME is ignored: lo is configured', async (t) => {
  const ns = makeNetns(t, 'lo')
  const add = run('ADD', ns.path, conf('1.1.0'), 'foo')
  t.equal(add.code, 0)
  t.equal(add.json.interfaces[0].name, 'lo')
  t.equal(loIsUp(ns.path), true)
})

t.test('prevResult is passed through', async (t) => {
  const ns = makeNetns(t, 'lo')
  const prev = {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'eth0', mac: '0a:58:0a:01:00:02', sandbox: ns.path }],
    ips: [{ interface: 0, address: '10.1.0.2/24', gateway: '10.1.0.1' }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
    dns: { nameservers: ['10.1.0.1'] },
  }
  const same = run('ADD', ns.path, conf('1.1.0', { prevResult: prev }))
  t.equal(same.code, 0)
  t.same(same.json, prev, 'the output equals the prevResult')
  t.equal(loIsUp(ns.path), true, 'and lo is still set up')

  const { cniVersion: _, ...unversioned } = prev
  const noVersion = run('ADD', ns.path, conf('1.1.0', { prevResult: unversioned }))
  t.equal(noVersion.code, 0)
  t.equal(noVersion.json.cniVersion, '1.1.0', 'a prevResult without cniVersion takes the config version')

  const older = run('ADD', ns.path, conf('1.1.0', { prevResult: { ...prev, cniVersion: '0.4.0' } }))
  t.equal(older.code, 1)
  t.match(older.json, { code: 999, msg: /^failed to parse prevResult/ }, 'another version family is refused, like the reference')
})

t.test('bad namespaces', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'regular-file')
  fs.writeFileSync(file, '')
  const regular = run('ADD', file, conf('1.1.0'))
  t.equal(regular.code, 1)
  t.match(regular.json, { code: 999, msg: /unknown FS magic/ })
  const missing = run('ADD', '/run/netns/tscni-t-does-not-exist', conf('1.1.0'))
  t.equal(missing.code, 1)
  t.match(missing.json, { code: 999, msg: /no such file or directory/ })
  t.equal(run('DEL', '/run/netns/tscni-t-does-not-exist', conf('1.1.0')).code, 0, 'DEL of a vanished namespace succeeds')
  t.equal(run('DEL', undefined, conf('1.1.0')).code, 0, 'DEL without CNI_NETNS succeeds')
  t.equal(run('DEL', file, conf('1.1.0')).code, 1, 'DEL on something that is not a namespace fails')
})

t.test('STATUS and GC', async (t) => {
  const path_ = { path: BIN_DIR }
  const status = runPlugin(LOOPBACK, { env: cniEnv('STATUS', path_), stdin: conf('1.1.0') })
  t.same([status.code, status.stdout], [0, ''])
  const gc = runPlugin(LOOPBACK, { env: cniEnv('GC', path_), stdin: conf('1.1.0', { 'cni.dev/valid-attachments': [] }) })
  t.same([gc.code, gc.stdout], [0, ''])
  const old = runPlugin(LOOPBACK, { env: cniEnv('GC', path_), stdin: conf('1.0.0') })
  t.equal(old.json.code, 1)
})

t.test('no CNI_COMMAND prints the about text', async (t) => {
  const r = runPlugin(LOOPBACK, { env: {}, stdin: conf('1.1.0') })
  t.equal(r.code, 0)
  t.equal(r.stdout, '')
  t.match(r.stderr, /CNI protocol versions supported: 0\.1\.0, 0\.2\.0, 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0, 1\.1\.0/)
})

t.test('VERSION with only CNI_COMMAND, and with stdin left open', async (t) => {
  const r = runPlugin(LOOPBACK, { env: { CNI_COMMAND: 'VERSION' }, stdin: { cniVersion: '1.1.0' } })
  t.equal(r.code, 0)
  t.same(r.json, { cniVersion: '1.1.0', supportedVersions: VERSIONS })
  const { spawn } = await import('node:child_process')
  const started = Date.now()
  const child = spawn(LOOPBACK, [], { env: { CNI_COMMAND: 'VERSION' }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c) => (out += c))
  const code = await new Promise((resolve) => child.on('close', resolve))
  child.stdin.destroy()
  t.equal(code, 0)
  t.equal(JSON.parse(out).cniVersion, '1.1.0')
  t.ok(Date.now() - started < 5000, 'does not wait for stdin to close')
})

t.test('VERSION reads the version from a pipe (Go runtimes) and from a socket (Node parents)', async (t) => {
  const { execFileSync, spawn } = await import('node:child_process')
  // A shell pipeline gives the plugin a real pipe on stdin.
  const viaPipe = execFileSync('sh', ['-c', `printf '%s' '{"cniVersion":"0.4.0"}' | ${LOOPBACK}`], { env: { CNI_COMMAND: 'VERSION' }, encoding: 'utf8' })
  t.equal(JSON.parse(viaPipe).cniVersion, '0.4.0', 'pipe')
  const child = spawn(LOOPBACK, [], { env: { CNI_COMMAND: 'VERSION' }, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c) => (out += c))
  child.stdin.end('{"cniVersion":"0.3.1"}')
  await new Promise((resolve) => child.on('close', resolve))
  t.equal(JSON.parse(out).cniVersion, '0.3.1', 'socket')
})
