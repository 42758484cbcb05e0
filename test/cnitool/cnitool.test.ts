import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { containerIdFor, parseCniArgsPairs } from '../../cnitool/setup'
import { type HasTeardown, makeNetns } from '../helpers/netns'
import { makeStubWorld, type StubWorld } from '../helpers/stubs'

const CNITOOL = path.join(__dirname, '..', '..', 'dist', 'cnitool')
const FIX = path.join(__dirname, '..', 'fixtures', 'runtime')

interface Run {
  code: number
  stdout: string
  stderr: string
}

function cnitool(w: StubWorld | undefined, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Run {
  const r = spawnSync(CNITOOL, args, { env: { ...(w?.env ?? process.env), ...env }, encoding: 'utf8', cwd, timeout: 60_000 })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

const chain = { cniVersion: '1.0.0', name: 'mynet', plugins: [{ type: 'p1' }, { type: 'p2', capabilities: { mac: true } }] }

function world(t: HasTeardown): StubWorld {
  const w = makeStubWorld(t, 'cnitool')
  w.plugins('p1', 'p2')
  w.conf('10-mynet.conflist', chain)
  return w
}

t.test('container ID: cnitool- + hex(sha512(absolute netns))[:20], as the reference', async (t) => {
  t.equal(containerIdFor('/var/run/netns/testing'), 'cnitool-77383ca0a0715733ca6f')
  const w = world(t)
  const r = cnitool(w, ['del', 'mynet', '/var/run/netns/testing'])
  t.equal(r.code, 0, r.stderr)
  t.ok(w.calls().every((c) => c.env.CNI_CONTAINERID === 'cnitool-77383ca0a0715733ca6f' && c.env.CNI_NETNS === '/var/run/netns/testing'))
  w.clearCalls()
  t.equal(cnitool(w, ['del', 'mynet', 'netns/../netns/testing//'], { PWD: '/var/run' }, '/var/run').code, 0)
  t.equal(w.calls()[0]?.env.CNI_NETNS, '/var/run/netns/testing', 'a relative path is made absolute ($PWD, as Go) and cleaned')
  t.equal(w.calls()[0]?.env.CNI_CONTAINERID, 'cnitool-77383ca0a0715733ca6f')
})

t.test('add prints the result as the Go cnitool does and writes the cache (cases 83, 85)', async (t) => {
  const w = makeStubWorld(t, 'cnitool')
  w.plugins('first', 'last')
  w.conf('10-fixnet.conflist', fs.readFileSync(path.join(FIX, 'fixnet.conflist'), 'utf8'))
  w.answer('last', 'ADD', { stdout: fs.readFileSync(path.join(FIX, 'fixnet-result.json'), 'utf8') })
  const ns = makeNetns(t, 'cnitool')
  const env = {
    CNI_ARGS: 'K8S_POD_NAME=web<1>;IgnoreUnknown=1',
    CAP_ARGS: '{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}],"mac":"c2:11:22:33:44:55","bandwidth":{"ingressRate":1000}}',
  }
  const r = cnitool(w, ['add', 'fixnet', ns.path], env)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  t.equal(r.stdout, fs.readFileSync(path.join(FIX, 'go-add-stdout.json'), 'utf8'), 'stdout byte-identical to the Go cnitool')
  const id = containerIdFor(ns.path)
  const file = path.join(w.cacheDir, 'results', `fixnet-${id}-eth0`)
  t.equal(fs.statSync(file).mode & 0o777, 0o600)
  t.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700)
  const ours = JSON.parse(fs.readFileSync(file, 'utf8'))
  const go = JSON.parse(fs.readFileSync(path.join(FIX, 'go-cache-fixnet-cnitool-77383ca0a0715733ca6f-eth0'), 'utf8'))
  t.same({ ...ours, containerId: 'X', netns: 'X' }, { ...go, containerId: 'X', netns: 'X' }, 'same cache content as Go (but the netns path)')
  t.same(Object.keys(ours), Object.keys(go), 'same field order')
  t.equal(ours.containerId, id)
  t.equal(ours.netns, ns.path)
  t.same(w.calls().map((c) => `${c.command} ${c.type}`), ['ADD first', 'ADD last'])
})

t.test('interface name: -i, then CNI_IFNAME, then eth0', async (t) => {
  const w = world(t)
  const ns = makeNetns(t, 'cnitool')
  const ifnameOf = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    w.clearCalls()
    const r = cnitool(w, ['add', 'mynet', ns.path, ...args], env)
    t.equal(r.code, 0, r.stderr)
    return w.calls()[0]?.env.CNI_IFNAME
  }
  t.equal(ifnameOf([]), 'eth0')
  t.equal(ifnameOf([], { CNI_IFNAME: 'net1' }), 'net1')
  t.equal(ifnameOf([], { CNI_IFNAME: '' }), 'eth0', 'an empty CNI_IFNAME counts as unset')
  t.equal(ifnameOf(['-i', 'net2'], { CNI_IFNAME: 'net1' }), 'net2')
  t.equal(ifnameOf(['--ifname', 'net3']), 'net3')
  t.same(fs.readdirSync(path.join(w.cacheDir, 'results')).sort().map((f) => f.replace(/cnitool-[0-9a-f]+/, 'ID')),
    ['mynet-ID-eth0', 'mynet-ID-net1', 'mynet-ID-net2', 'mynet-ID-net3'])
})

t.test('argument errors stop before any plugin runs, exit 1 (cases 97, 98)', async (t) => {
  const w = world(t)
  const ns = makeNetns(t, 'cnitool')
  const fails = (args: string[], env: NodeJS.ProcessEnv, stderr: string | RegExp) => {
    const r = cnitool(w, args, env)
    t.equal(r.code, 1, `${args.join(' ')} exits 1`)
    t.equal(r.stdout, '')
    t.match(r.stderr, stderr)
    t.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line')
    t.same(w.calls(), [], 'no plugin ran')
  }
  fails(['add', 'mynet', ns.path, '-i', 'bad/if'], {}, 'plugin type="p1" failed (add): interface name contains / or : or whitespace characters\n')
  fails(['add', 'mynet', ns.path], { CNI_IFNAME: 'much-too-long-name0' }, 'plugin type="p1" failed (add): interface name is too long; interface name should be less than 16 characters\n')
  fails(['add', 'mynet', ns.path], { CNI_ARGS: 'A=1;B' }, 'invalid CNI_ARGS pair "B"\n')
  fails(['add', 'mynet', ns.path], { CNI_ARGS: 'A=1;=2' }, 'invalid CNI_ARGS pair "=2"\n')
  fails(['add', 'mynet', ns.path], { CAP_ARGS: '{bad' }, "CAP_ARGS is not valid JSON: invalid character 'b' looking for beginning of object key string\n")
  fails(['add', 'mynet', ns.path], { CAP_ARGS: '[1]' }, 'CAP_ARGS must be a JSON object, got an array\n')
  w.conf('20-dash.conflist', { ...chain, name: '-x' })
  fails(['add', '--', '-x', ns.path], {}, 'plugin type="p1" failed (add): invalid characters found in network name; -x\n')
  const ok = cnitool(w, ['add', 'mynet', ns.path], { CNI_ARGS: 'A=1;B=2' })
  t.equal(ok.code, 0, ok.stderr)
  t.ok(w.calls().every((c) => c.env.CNI_ARGS === 'A=1;B=2'), 'plugins see CNI_ARGS as given')
  t.same(parseCniArgsPairs('K8S_POD_NAME=a;X=y'), [['K8S_POD_NAME', 'a'], ['X', 'y']])
})

t.test('clear errors for a missing network, netns, plugin or CNI_PATH', async (t) => {
  const w = world(t)
  const ns = makeNetns(t, 'cnitool')
  let r = cnitool(w, ['add', 'nope', ns.path])
  t.equal(r.code, 1)
  t.equal(r.stderr, `no net configuration with name "nope" in ${w.confDir} (networks there: mynet; see: cnitool list)\n`)
  r = cnitool(w, ['add', 'mynet', '/var/run/netns/tscni-no-such-ns'])
  t.equal(r.code, 1)
  t.equal(r.stderr, 'netns "/var/run/netns/tscni-no-such-ns" does not exist (create it first, e.g. ip netns add NAME)\n')
  w.conf('20-missing.conflist', { cniVersion: '1.0.0', name: 'missing', plugins: [{ type: 'p1' }, { type: 'notthere' }] })
  r = cnitool(w, ['add', 'missing', ns.path])
  t.equal(r.code, 1)
  t.equal(r.stderr, `plugin type="notthere" failed (add): failed to find plugin "notthere" in path [${w.binDir}]\n`, 'case 94')
  t.same(w.calls().map((c) => c.type), ['p1'], 'plugin 1 ran')
  t.notOk(fs.existsSync(path.join(w.cacheDir, 'results', `missing-${containerIdFor(ns.path)}-eth0`)), 'nothing cached')
  r = cnitool(w, ['add', 'mynet', ns.path], { CNI_PATH: '' })
  t.equal(r.stderr, 'plugin type="p1" failed (add): no paths provided\n')
  r = cnitool(w, ['add', 'mynet', ns.path], { NETCONFPATH: path.join(w.dir, 'empty') })
  t.equal(r.stderr, `no net configurations found in ${w.dir}/empty\n`)
})

t.test('check, del, gc, status: silent on success, libcni errors on failure', async (t) => {
  const w = world(t)
  w.conf('10-mynet.conflist', { ...chain, cniVersion: '1.1.0' })
  const ns = makeNetns(t, 'cnitool')
  t.equal(cnitool(w, ['add', 'mynet', ns.path]).code, 0)
  for (const args of [['check', 'mynet', ns.path], ['status', 'mynet'], ['status', 'mynet', ns.path]]) {
    const r = cnitool(w, args)
    t.same(r, { code: 0, stdout: '', stderr: '' }, args.join(' '))
  }
  w.answer('p2', 'STATUS', { exit: 1, stdout: '{"code":50,"msg":"plugin not available"}' })
  t.same(cnitool(w, ['status', 'mynet']), { code: 1, stdout: '', stderr: 'plugin not available\n' })
  w.answer('p1', 'GC', { exit: 1, stdout: '{"code":999,"msg":"gc failed"}' })
  w.clearCalls()
  const gc = cnitool(w, ['gc', 'mynet', ns.path])
  t.equal(gc.code, 1)
  t.equal(gc.stderr, 'failed to GC plugin p1: gc failed\n')
  t.same(w.calls().map((c) => `${c.command} ${c.type}`), ['DEL p2', 'DEL p1', 'GC p1', 'GC p2'], 'gc: DEL of the cached attachment, then GC on every plugin')
  t.ok(w.calls().filter((c) => c.command === 'GC').every((c) => !('cni.dev/valid-attachments' in c.conf)), 'cnitool gc declares no valid attachment')
  t.equal(cnitool(w, ['add', 'mynet', ns.path]).code, 0)
  t.same(cnitool(w, ['del', 'mynet', ns.path]), { code: 0, stdout: '', stderr: '' })
  t.same(fs.readdirSync(path.join(w.cacheDir, 'results')), [], 'del removed the cache entry')
  w.conf('10-mynet.conflist', { ...chain, cniVersion: '0.3.1' })
  t.same(cnitool(w, ['check', 'mynet', ns.path]), { code: 1, stdout: '', stderr: 'configuration version "0.3.1" does not support the CHECK command\n' }, 'case 89')
})

t.test('usage: help, missing arguments, unknown commands', async (t) => {
  let r = cnitool(undefined, [])
  t.equal(r.code, 1)
  t.match(r.stderr, /cnitool <command> \[options\]/)
  r = cnitool(undefined, ['--help'])
  t.equal(r.code, 0)
  t.match(r.stdout, /cnitool add <network> <netns>/)
  for (const command of ['add', 'check', 'del', 'gc', 'status', 'list', 'show', 'version']) {
    r = cnitool(undefined, [command, '--help'])
    t.equal(r.code, 0, `${command} --help`)
    t.match(r.stdout, new RegExp(`cnitool ${command}`))
  }
  t.match(cnitool(undefined, ['add', '--help']).stdout, /NETCONFPATH/)
  t.same(cnitool(undefined, ['add', 'x']), { code: 1, stdout: '', stderr: 'missing arguments: cnitool add <network> <netns> (see: cnitool add --help)\n' })
  t.same(cnitool(undefined, ['frob']), { code: 1, stdout: '', stderr: 'unknown command "frob" (commands: add, check, del, gc, status, list, show, ipam, version) (see: cnitool --help)\n' })
  t.same(cnitool(undefined, ['add', 'a', 'b', '--bogus']), { code: 1, stdout: '', stderr: 'Unknown argument: bogus (see: cnitool add --help)\n' })
})

t.test('version, list and show', async (t) => {
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'))
  for (const args of [['--version'], ['version']]) {
    const r = cnitool(undefined, args)
    t.equal(r.code, 0)
    t.equal(r.stdout.split('\n')[0], `cnitool ${version} (tscni)`)
  }
  t.same(JSON.parse(cnitool(undefined, ['version', '--json']).stdout).cniVersion, '1.1.0')

  const w = world(t)
  w.conf('20-broken.conflist', '{"name":')
  w.conf('30-single.conf', { cniVersion: '0.4.0', name: 'single', type: 'p1' })
  let r = cnitool(w, ['list'])
  t.equal(r.code, 0)
  t.match(r.stdout, /^NETWORK +VERSION +PLUGINS +FILE\nmynet +1\.0\.0 +p1,p2 +\S+10-mynet\.conflist\n\? .*20-broken\.conflist +ERROR: error parsing configuration list: unexpected end of JSON input\nsingle +0\.4\.0 +p1 +\S+30-single\.conf\nnote: /)
  t.same(JSON.parse(cnitool(w, ['list', '--json']).stdout).map((e: { name?: string }) => e.name), ['mynet', undefined, 'single'])
  t.match(cnitool(w, ['version', 'single']).stderr, /^error parsing configuration list: /, 'a broken conflist breaks every lookup')
  fs.rmSync(path.join(w.confDir, '20-broken.conflist'))
  r = cnitool(w, ['version', 'single'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /network single runs at cniVersion 0\.4\.0\n {2}p1: supports 0\.1\.0, .*1\.1\.0\n/)
  const ns = makeNetns(t, 'cnitool')
  t.match(cnitool(w, ['show', 'mynet']).stdout, /^no attachments of network "mynet" in /)
  t.equal(cnitool(w, ['add', 'mynet', ns.path, '-i', 'net9']).code, 0)
  r = cnitool(w, ['show', 'mynet'])
  t.equal(r.code, 0)
  t.match(r.stdout, new RegExp(`^CONTAINER ID +IFNAME +NETNS +ADDRESSES\n${containerIdFor(ns.path)} +net9 +${ns.path} +10\\.99\\.0\\.2/24\n$`))
  const json = JSON.parse(cnitool(w, ['show', 'mynet', '--json']).stdout)
  t.match(json, [{ containerId: containerIdFor(ns.path), ifName: 'net9', netns: ns.path, result: { cniVersion: '1.0.0' } }])
  r = cnitool(w, ['show', 'mynet', '--cache-dir', path.join(w.dir, 'elsewhere')])
  t.match(r.stdout, /^no attachments/, '--cache-dir wins over CNI_CACHE_DIR')
})
