// Kernel tests of our tuning, run as the executable (dist/bin/tuning) the way a runtime runs it:
// every key, the backup file, CHECK, DEL, a second ADD, a failed ADD, bad names, the dataDir rules,
// the allowlist (at the end: one file, so tap starts one process fewer).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t, { type Test } from 'tap'
import { ALLOWLIST_FILE } from '../../../plugins/tuning/sysctl'
import { HAVE_REF_TUNING, ID, REF_TUNING, TUNING, backupText, container, dataRoot, errorOf, ipLink, linkState, prevResult, readSysctlIn, runTuning, tuningConf } from '../../helpers/tuning'
import { ipIn, ipJson, makeNetns, rtnlIn } from '../../helpers/netns'
import { BIN_DIR, NSENTER, RUNTIME_PATH } from '../../helpers/plugin'

const V = '1.0.0'
const ALL = {
  sysctl: { 'net.ipv4.conf.IFNAME.arp_notify': '1', 'net.core.somaxconn': '999' },
  mac: '02:61:00:00:01:01',
  mtu: 1400,
  promisc: true,
  allmulti: true,
  txQLen: 500,
}

t.test('ADD sets every key, saves the originals, prints prevResult with the new MAC; CHECK passes; DEL restores', async (t) => {
  const c = container(t, 'all')
  const dir = `${dataRoot(t)}/sub/tuning`
  const before = linkState(c)
  t.same(before, { mac: '02:61:00:00:00:aa', mtu: 1500, promisc: false, allmulti: false, txQLen: 1000 })
  const conf = tuningConf(V, c.ns, dir, ALL)

  const add = runTuning('ADD', conf, c.ns)
  t.equal(add.code, 0, add.stdout)
  t.equal(add.stderr, '')
  const { dns: _dns, ...want } = prevResult(V, c.ns)
  ;(want.interfaces as any)[0].mac = '02:61:00:00:01:01'
  t.same(add.json, want, 'prevResult, the interface carrying its new MAC (1.x: an empty dns is not printed)')
  t.same(linkState(c), { mac: '02:61:00:00:01:01', mtu: 1400, promisc: true, allmulti: true, txQLen: 500 })
  t.match(ipLink(c), { address: '02:61:00:00:01:01', mtu: 1400, promiscuity: 1, allmulti: 1, txqlen: 500 }, 'iproute2 agrees')
  t.ok(['ALLMULTI', 'PROMISC', 'UP'].every((f) => (ipLink(c).flags as string[]).includes(f)), 'flags ALLMULTI, PROMISC, UP')
  t.equal(readSysctlIn(c.ns, 'net/ipv4/conf/eth0/arp_notify'), '1')
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), '999')
  t.equal(backupText(dir), '{\n "mac": "02:61:00:00:00:aa",\n "promisc": false,\n "mtu": 1500,\n "allmulti": false,\n "txQLen": 1000\n}')
  t.equal(fs.statSync(dir).mode & 0o7777, 0o600, 'the backup directory is 0600, as the reference makes it')
  t.equal(fs.statSync(`${dir}/${ID}_eth0.json`).mode & 0o7777, 0o600, 'the backup file is 0600')
  t.same(fs.readdirSync(dir), [`${ID}_eth0.json`], 'no temporary file left')

  const check = runTuning('CHECK', conf, c.ns)
  t.equal(check.code, 0, check.stdout)

  const del = runTuning('DEL', { ...conf, prevResult: undefined }, c.ns)
  t.equal(del.code, 0, del.stdout)
  t.equal(del.stdout, '')
  t.same(linkState(c), before, 'DEL restored every attribute')
  t.equal(backupText(dir), undefined, 'and removed the file')
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), '999', 'sysctls are not restored (like the reference)')
  const again = runTuning('DEL', conf, c.ns)
  t.equal(again.code, 0, 'DEL again: nothing to do')
})

t.test('every spec version: ADD prints prevResult in its own shape; CHECK from 0.4.0; STATUS and GC on 1.1.0', async (t) => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    const c = container(t, `v${v.replace(/\./g, '')}`)
    const dir = dataRoot(t)
    const conf = tuningConf(v, c.ns, dir, { mac: '02:61:00:00:02:01', mtu: 1450 })
    const add = runTuning('ADD', conf, c.ns)
    t.equal(add.code, 0, `${v} ADD ${add.stdout}`)
    t.equal(add.json.cniVersion, v)
    t.equal(add.json.interfaces[0].mac, '02:61:00:00:02:01', `${v}: the new MAC in the result`)
    if (v.startsWith('0.')) t.same(add.json.dns, {}, `${v}: "dns": {} as the reference prints it`)
    const check = runTuning('CHECK', conf, c.ns)
    t.equal(check.code, v === '0.3.0' || v === '0.3.1' ? 1 : 0, `${v} CHECK ${check.stdout}`)
    if (v.startsWith('0.3')) t.match(errorOf(check), { code: 1, msg: 'config version does not allow CHECK' })
    t.equal(runTuning('DEL', conf, c.ns).code, 0)
    t.equal(linkState(c).mtu, 1500)
  }
  const c = container(t, 'v11')
  const status = runTuning('STATUS', { cniVersion: '1.1.0', name: 'tunnet', type: 'tuning' }, undefined)
  t.equal(status.code, 0, status.stdout)
  const gc = runTuning('GC', { cniVersion: '1.1.0', name: 'tunnet', type: 'tuning', 'cni.dev/valid-attachments': [] }, undefined)
  t.equal(gc.code, 0, gc.stdout)
  t.match(errorOf(runTuning('GC', { cniVersion: '1.0.0', name: 'tunnet', type: 'tuning' }, undefined)), { code: 1 })
  const ver = runTuning('VERSION', {}, c.ns)
  t.same(ver.json?.supportedVersions, ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])
  const noPrev = runTuning('ADD', tuningConf('0.1.0', c.ns, dataRoot(t), { mtu: 1400 }, false), c.ns)
  t.match(errorOf(noPrev), { code: 999, msg: 'Required prevResult missing' })
})

t.test('MAC from the capability, CNI_ARGS and args.cni, in the reference precedence; promisc only turns on', async (t) => {
  const c = container(t, 'mac')
  const dir = dataRoot(t)
  const conf = tuningConf(V, c.ns, dir, { mac: '02:61:00:00:03:01', runtimeConfig: { mac: '02:61:00:00:03:03' } })
  let r = runTuning('ADD', conf, c.ns, { args: 'IgnoreUnknown=1;MAC=02:61:00:00:03:02' })
  t.equal(r.code, 0, r.stdout)
  t.equal(linkState(c).mac, '02:61:00:00:03:03', 'runtimeConfig.mac beats CNI_ARGS and mac')
  t.equal(runTuning('DEL', conf, c.ns).code, 0)
  r = runTuning('ADD', { ...conf, runtimeConfig: undefined }, c.ns, { args: 'MAC=02:61:00:00:03:02' })
  t.equal(linkState(c).mac, '02:61:00:00:03:02', 'CNI_ARGS MAC beats mac')
  t.equal(runTuning('DEL', conf, c.ns).code, 0)
  r = runTuning('ADD', { ...conf, args: { cni: { mac: '02:61:00:00:03:04' } } }, c.ns, { args: 'MAC=02:61:00:00:03:02' })
  t.equal(linkState(c).mac, '02:61:00:00:03:04', 'args.cni.mac beats everything')
  t.equal(runTuning('DEL', conf, c.ns).code, 0)
  t.equal(linkState(c).mac, '02:61:00:00:00:aa')
  t.match(errorOf(runTuning('ADD', conf, c.ns, { args: 'mac=02:61:00:00:03:02' })), { code: 999, msg: 'ARGS: unknown args ["mac=02:61:00:00:03:02"]' })

  ipIn(c.ns, ['link', 'set', 'eth0', 'promisc', 'on'])
  r = runTuning('ADD', tuningConf(V, c.ns, dir, { promisc: false }), c.ns)
  t.equal(r.code, 0)
  t.equal(linkState(c).promisc, true, 'promisc: false never turns it off (the reference)')
  t.equal(backupText(dir), undefined, 'and saves nothing')
})

t.test('CHECK finds each changed attribute and sysctl, with the reference texts', async (t) => {
  const c = container(t, 'chk')
  const dir = dataRoot(t)
  const conf = tuningConf(V, c.ns, dir, ALL)
  t.equal(runTuning('ADD', conf, c.ns).code, 0)
  const cases: Array<[string[], string]> = [
    [['link', 'set', 'eth0', 'mtu', '1300'], 'Error: Tuning configured MTU of eth0 is 1400, current value is 1300'],
    [['link', 'set', 'eth0', 'address', '02:61:00:00:04:09'], 'Error: Tuning configured Ethernet of eth0 is 02:61:00:00:01:01, current value is 02:61:00:00:04:09'],
    [['link', 'set', 'eth0', 'promisc', 'off'], 'Error: Tuning link eth0 configured promisc is true, current value is 0'],
    [['link', 'set', 'eth0', 'allmulticast', 'off'], 'Error: Tuning configured all-multicast mode of eth0 is true, current value is false'],
    [['link', 'set', 'eth0', 'txqueuelen', '77'], 'Error: Tuning configured Transmit Queue Length of eth0 is 500, current value is 77'],
  ]
  const undo: Record<string, string[]> = {
    mtu: ['link', 'set', 'eth0', 'mtu', '1400'], address: ['link', 'set', 'eth0', 'address', '02:61:00:00:01:01'],
    promisc: ['link', 'set', 'eth0', 'promisc', 'on'], allmulticast: ['link', 'set', 'eth0', 'allmulticast', 'on'],
    txqueuelen: ['link', 'set', 'eth0', 'txqueuelen', '500'],
  }
  for (const [cmd, msg] of cases) {
    ipIn(c.ns, cmd)
    t.match(errorOf(runTuning('CHECK', conf, c.ns)), { code: 999, msg }, cmd.join(' '))
    ipIn(c.ns, undo[cmd[3]])
  }
  t.equal(runTuning('CHECK', conf, c.ns).code, 0, 'all back: CHECK passes')
  t.equal(runTuning('CHECK', { ...conf, mac: '02:61:00:00:01:01'.toUpperCase() }, c.ns).code, 0, 'an upper-case MAC is the same address (the reference fails)')
  t.match(errorOf(runTuning('CHECK', { ...conf, sysctl: { 'net.core.somaxconn': '1000' } }, c.ns)), {
    msg: 'Error: Tuning configured value of /proc/sys/net/core/somaxconn is 1000, current value is 999',
  })
  t.equal(runTuning('CHECK', { ...conf, sysctl: { 'net.ipv4.conf.IFNAME.arp_notify': '1' } }, c.ns).code, 0, 'IFNAME replaced in CHECK too')
  t.match(errorOf(runTuning('CHECK', conf, c.ns, { ifName: 'eth9' })), { msg: 'open /proc/sys/net/ipv4/conf/eth9/arp_notify: no such file or directory' })
  t.match(errorOf(runTuning('CHECK', { ...conf, sysctl: {} }, c.ns, { ifName: 'eth9' })), { msg: 'Cannot find container link eth9' })
  t.match(errorOf(runTuning('CHECK', { ...conf, prevResult: undefined }, c.ns)), { msg: 'Required prevResult missing' })
  t.equal(runTuning('DEL', conf, c.ns).code, 0)
})

t.test('a second ADD keeps the originals saved by the first, adding only new attributes', async (t) => {
  const c = container(t, 'twice')
  const dir = dataRoot(t)
  t.equal(runTuning('ADD', tuningConf(V, c.ns, dir, { mtu: 1400 }), c.ns).code, 0)
  t.equal(backupText(dir), '{\n "mtu": 1500\n}')
  t.equal(runTuning('ADD', tuningConf(V, c.ns, dir, { mtu: 1300, allmulti: true }), c.ns).code, 0)
  t.equal(backupText(dir), '{\n "mtu": 1500,\n "allmulti": false\n}', 'mtu 1500 kept (the reference would save 1400), allmulti added')
  t.equal(linkState(c).mtu, 1300)
  t.equal(runTuning('DEL', tuningConf(V, c.ns, dir), c.ns).code, 0)
  t.match(linkState(c), { mtu: 1500, allmulti: false })
})

t.test('a failed ADD puts back what it changed: sysctls, attributes, the backup file', async (t) => {
  const c = container(t, 'fail')
  const dir = dataRoot(t)
  const somax = readSysctlIn(c.ns, 'net/core/somaxconn')
  const conf = tuningConf(V, c.ns, dir, { sysctl: { 'net.core.somaxconn': '777' }, mac: '02:61:00:00:05:01', promisc: true, mtu: 100000 })
  const r = runTuning('ADD', conf, c.ns)
  t.match(errorOf(r), { code: 999, msg: 'invalid argument' }, 'the kernel refuses the MTU, in the reference words')
  t.notMatch(r.stderr, /at .*\.ts|Error:.*\n\s+at /, 'no stack trace')
  t.same(linkState(c), { mac: '02:61:00:00:00:aa', mtu: 1500, promisc: false, allmulti: false, txQLen: 1000 }, 'MAC and promisc put back')
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), somax, 'sysctl put back')
  t.equal(backupText(dir), undefined, 'no backup file left')

  // With an earlier backup: the file comes back as it was.
  t.equal(runTuning('ADD', tuningConf(V, c.ns, dir, { mtu: 1400 }), c.ns).code, 0)
  const saved = backupText(dir)
  t.equal(runTuning('ADD', conf, c.ns).code, 1)
  t.equal(backupText(dir), saved, 'the earlier backup is untouched')
  t.equal(linkState(c).mtu, 1400)

  const bad = runTuning('ADD', tuningConf(V, c.ns, dir, { sysctl: { 'net.core.somaxconn': '778', 'net.ipv4.nonexist': '1' } }), c.ns)
  t.match(errorOf(bad), { msg: 'open /proc/sys/net/ipv4/nonexist: no such file or directory' })
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), somax, 'the sysctl written before the failing one is put back')
  t.match(errorOf(runTuning('ADD', tuningConf(V, c.ns, dir, { mac: 'zz' }), c.ns)), { code: 999, msg: 'invalid args zz for MAC addr: address zz: invalid MAC address' })
  t.match(errorOf(runTuning('ADD', tuningConf(V, c.ns, dir, { mtu: 1300 }), c.ns, { ifName: 'eth9' })), { msg: 'failed to get "eth9": Link not found' })
  t.equal(linkState(c).mtu, 1400)
})

t.test('sysctl names that would leave /proc/sys/net are refused before anything changes', async (t) => {
  const c = container(t, 'names')
  const dir = dataRoot(t)
  for (const key of ['kernel.hostname', 'net/../kernel/hostname', '/proc/sys/net/core/somaxconn', '/net/core/somaxconn', 'net/core/../../kernel/hostname']) {
    const conf = tuningConf(V, c.ns, dir, { sysctl: { 'net.core.somaxconn': '4242', [key]: 'x' }, mtu: 1400 })
    t.match(errorOf(runTuning('ADD', conf, c.ns)), { code: 999, msg: `invalid net sysctl key: ${JSON.stringify(key)}` }, key)
    t.not(readSysctlIn(c.ns, 'net/core/somaxconn'), '4242', 'nothing written')
    t.equal(linkState(c).mtu, 1500)
    t.match(errorOf(runTuning('CHECK', conf, c.ns)), { msg: `invalid net sysctl key: ${JSON.stringify(key)}` }, `CHECK ${key}`)
  }
  const r = runTuning('ADD', tuningConf(V, c.ns, dir, { args: { cni: { sysctl: { 'net.core.somaxconn': '4243' } } } }), c.ns)
  t.equal(r.code, 0, 'args.cni.sysctl without sysctl works (the reference panics)')
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), '4243')
})

t.test('ifnames with dots; DEL without netns or with the namespace gone; wrong types name the field', async (t) => {
  const c = container(t, 'dots')
  ipIn(c.ns, ['link', 'add', 'eth0.61', 'type', 'veth', 'peer', 'name', 'peer61'])
  const dir = dataRoot(t)
  const conf = tuningConf(V, c.ns, dir, { sysctl: { 'net.ipv4.conf.IFNAME.arp_notify': '1' }, mtu: 1400 })
  const r = runTuning('ADD', conf, c.ns, { ifName: 'eth0.61' })
  t.equal(r.code, 0, r.stdout)
  t.equal(readSysctlIn(c.ns, 'net/ipv4/conf/eth0.61/arp_notify'), '1', 'IFNAME replaced after the dots (Debian 1.1.1 breaks here)')
  t.equal(runTuning('CHECK', conf, c.ns, { ifName: 'eth0.61' }).code, 0)
  t.ok(backupText(dir, ID, 'eth0.61'))
  t.equal(runTuning('DEL', conf, c.ns, { ifName: 'eth0.61', netns: '' }).code, 0, 'DEL without a netns')
  t.ok(backupText(dir, ID, 'eth0.61'), 'keeps the file (the namespace may still be there)')
  t.equal(runTuning('DEL', conf, c.ns, { ifName: 'eth0.61', netns: '/run/netns/tscni-t-tun-gone-0-000000' }).code, 0, 'DEL with the namespace gone')
  t.equal(backupText(dir, ID, 'eth0.61'), undefined, 'removes the file: the interface went with the namespace')

  t.match(errorOf(runTuning('ADD', tuningConf(V, c.ns, dir, { mtu: 'big' }), c.ns)), { code: 7, msg: 'failed to load netconf: "mtu" must be integer' })
  t.match(errorOf(runTuning('DEL', tuningConf(V, c.ns, dir, { allmulti: 1 }), c.ns)), { code: 7, msg: 'failed to load netconf: "allmulti" must be boolean' })
  t.match(errorOf(runTuning('ADD', '{"cniVersion":"1.0.0","name":"tunnet","type":"tuning","sysctl":[]}', c.ns)), { code: 7, msg: 'failed to load netconf: "sysctl" must be object' })
})

t.test('DEL never fails once the config reads: bad files stay, a gone link drops its file', async (t) => {
  const c = container(t, 'delx')
  const dir = dataRoot(t)
  const file = `${dir}/${ID}_eth0.json`
  const conf = tuningConf(V, c.ns, dir)
  for (const bin of HAVE_REF_TUNING ? [TUNING, REF_TUNING] : [TUNING]) {
    fs.writeFileSync(file, '{\n "mtu": 100000,\n "promisc": true\n}', { mode: 0o600 })
    const r = runTuning('DEL', conf, c.ns, {}, bin)
    t.equal(r.code, 0, `${bin}: a restore the kernel refuses`)
    t.equal(r.stdout, '')
    t.ok(fs.existsSync(file), 'the file stays')
    t.equal(linkState(c).promisc, true, 'what could be restored was')
    ipIn(c.ns, ['link', 'set', 'eth0', 'promisc', 'off'])
    fs.rmSync(file)
  }
  t.match(runTuning('DEL', conf, c.ns).stderr, /^$/, 'no file: nothing said')
  fs.writeFileSync(file, '{"mtu": "x"}', { mode: 0o600 })
  let r = runTuning('DEL', conf, c.ns)
  t.equal(r.code, 0)
  t.match(r.stderr, /cannot be read/)
  t.ok(fs.existsSync(file), 'an unreadable file stays (like the reference)')
  fs.rmSync(file)

  t.equal(runTuning('ADD', tuningConf(V, c.ns, dir, { mtu: 1400 }), c.ns).code, 0)
  ipIn(c.ns, ['link', 'del', 'eth0'])
  r = runTuning('DEL', conf, c.ns)
  t.equal(r.code, 0, r.stdout)
  t.notOk(fs.existsSync(file), 'the link is gone: so is its file')
})

t.test('the backup directory must be one only root can write', async (t) => {
  const c = container(t, 'dir')
  const root = dataRoot(t)
  const open = `${root}/open`
  fs.mkdirSync(open, { mode: 0o777 })
  fs.chmodSync(open, 0o777)
  let r = runTuning('ADD', tuningConf(V, c.ns, `${open}/tuning`, { mtu: 1400 }), c.ns)
  t.match(errorOf(r), { code: 999, msg: `failed to create backup directory: ${open} can be written by other users` })
  t.equal(linkState(c).mtu, 1500, 'nothing changed')
  fs.chmodSync(open, 0o1777)
  r = runTuning('ADD', tuningConf(V, c.ns, `${open}/tuning`, { mtu: 1400 }), c.ns)
  t.equal(r.code, 0, 'under a sticky directory (like /tmp) a directory of our own is fine')
  t.equal(runTuning('DEL', tuningConf(V, c.ns, `${open}/tuning`), c.ns).code, 0)
  const link = `${root}/link`
  fs.symlinkSync(root, link)
  t.match(errorOf(runTuning('ADD', tuningConf(V, c.ns, link, { mtu: 1400 }), c.ns)), { msg: `failed to create backup directory: ${link} is not a directory` }, 'a symlink as the directory')
  const other = `${root}/other`
  fs.mkdirSync(other, { mode: 0o700 })
  fs.chownSync(other, 65534, 65534)
  t.match(errorOf(runTuning('ADD', tuningConf(V, c.ns, other, { mtu: 1400 }), c.ns)), { msg: `failed to create backup directory: ${other} belongs to uid 65534` })
  t.equal(linkState(c).mtu, 1500)
})

// ---- The sysctl allowlist ----
// The sysctl allowlist, through the executable. Its path is fixed in the plugin
// (/etc/cni/tuning/allowlist.conf, upstream's): nothing in the environment or the config can point
// the plugin at another file, so the test uses the real one. It runs only when the host has no
// allowlist of its own, creates the file (and /etc/cni/tuning if missing) and removes exactly what
// it created at teardown. tap runs test files one at a time (.taprc jobs: 1), so no other tuning
// test sees the file. Its first line is a marker, so a file left by a killed run is recognised
// (and replaced) by the next one; as a pattern it matches no sysctl name.

const DIR = '/etc/cni/tuning'
const MARKER = '^tscni-test-allowlist-marker$'

function leftOver(): boolean {
  try {
    return fs.readFileSync(ALLOWLIST_FILE, 'utf8').startsWith(`${MARKER}\n`)
  } catch {
    return false
  }
}

const hostHasOne = fs.existsSync(ALLOWLIST_FILE) && !leftOver()

/** Writes the allowlist for this test; removes it (and the directory, if made here) at teardown. */
function allowlist(t: Test, lines: string[]): void {
  const madeDir = !fs.existsSync(DIR)
  if (madeDir) fs.mkdirSync(DIR, { recursive: true, mode: 0o755 })
  fs.writeFileSync(ALLOWLIST_FILE, [MARKER, ...lines].join('\n') + '\n', { mode: 0o644 })
  t.teardown(() => {
    if (leftOver()) fs.rmSync(ALLOWLIST_FILE, { force: true })
    if (madeDir) fs.rmSync(DIR, { recursive: true, force: true })
  })
}

t.test('with an allowlist, ADD refuses sysctls no line matches, before changing anything', { skip: hostHasOne && `the host has ${ALLOWLIST_FILE}` }, async (t) => {
  t.equal(ALLOWLIST_FILE, '/etc/cni/tuning/allowlist.conf', "upstream's path")
  allowlist(t, ['^net\\.core\\.somaxconn$', '  ^net\\.ipv4\\.conf\\.IFNAME\\.arp_notify$  ', ''])
  const c = container(t, 'allow')
  const dir = dataRoot(t)
  const allowedList = `[${MARKER} ^net\\.core\\.somaxconn$ ^net\\.ipv4\\.conf\\.IFNAME\\.arp_notify$]`

  const ok = tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '555', 'net.ipv4.conf.IFNAME.arp_notify': '1' } })
  let r = runTuning('ADD', ok, c.ns)
  t.equal(r.code, 0, r.stdout)
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), '555')

  for (const sysctl of [{ 'net.core.somaxconn': '556', 'net.ipv4.ip_forward': '1' }, { 'net.ipv4.conf.eth0.arp_notify': '1' }]) {
    const bad = Object.keys(sysctl).at(-1)!
    r = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl, mtu: 1400 }), c.ns)
    t.match(errorOf(r), { code: 999, msg: `Sysctl ${bad} is not allowed. Only the following sysctls are allowed: ${allowedList}` }, bad)
  }
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), '555', 'nothing written')
  r = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '557' }, args: { cni: { sysctl: { 'net.ipv4.ip_forward': '1' } } } }), c.ns)
  t.match(errorOf(r), { msg: /^Sysctl net\.ipv4\.ip_forward is not allowed/ }, 'args.cni.sysctl is checked too')

  const check = runTuning('CHECK', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.ipv4.ip_forward': readSysctlIn(c.ns, 'net/ipv4/ip_forward') } }), c.ns)
  t.equal(check.code, 0, 'CHECK does not consult the allowlist (upstream)')
  t.equal(runTuning('DEL', ok, c.ns).code, 0, 'nor does DEL')

  if (HAVE_REF_TUNING) {
    const ref = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '558', 'net.ipv4.ip_forward': '0' } }), c.ns, {}, REF_TUNING)
    t.equal(ref.code, 0, "Debian's 1.1.1 has no allowlist (upstream added it in v1.2.0)")
  }
})

t.test('an empty allowlist allows no sysctl, and ADDs without sysctls still work', { skip: hostHasOne && `the host has ${ALLOWLIST_FILE}` }, async (t) => {
  allowlist(t, [])
  const c = container(t, 'allow0')
  const dir = dataRoot(t)
  t.match(errorOf(runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '559' } }), c.ns)), {
    msg: `Sysctl net.core.somaxconn is not allowed. Only the following sysctls are allowed: [${MARKER}]`,
  })
  const r = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { mtu: 1400 }), c.ns)
  t.equal(r.code, 0, r.stdout)
  t.equal(runTuning('DEL', tuningConf('1.0.0', c.ns, dir), c.ns).code, 0)
})

// ---- examples/netconf/85-bridge-tuning.conflist, as it is, through dist/cnitool ----
// In a fake host (nsenter), CNI_PATH=dist/bin, the MAC from the `mac` capability (CAP_ARGS) and
// podman-like CNI_ARGS; only host-local's and tuning's dataDirs are moved into private directories.

t.test('examples/netconf/85-bridge-tuning.conflist through cnitool: ADD, CHECK, DEL', async (t) => {
  const root = path.join(__dirname, '..', '..', '..')
  const list = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'netconf', '85-bridge-tuning.conflist'), 'utf8'))
  const data = dataRoot(t)
  for (const p of list.plugins) {
    if (p.ipam) p.ipam.dataDir = `${data}/ipam`
    if (p.type === 'tuning') p.dataDir = `${data}/tuning`
  }
  const netconfDir = `${data}/net.d`
  fs.mkdirSync(netconfDir)
  fs.writeFileSync(`${netconfDir}/85-bridge-tuning.conflist`, JSON.stringify(list))
  const host = makeNetns(t, 'tun-exh')
  const ctr = makeNetns(t, 'tun-exc')
  const env = {
    PATH: RUNTIME_PATH, NETCONFPATH: netconfDir, CNI_PATH: BIN_DIR, CNI_CACHE_DIR: `${data}/cache`,
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web', CAP_ARGS: JSON.stringify({ mac: '02:61:64:00:00:01' }),
  }
  const cnitool = (verb: string) => {
    const r = spawnSync(NSENTER, [`--net=${host.path}`, '--', path.join(root, 'dist', 'cnitool'), verb, list.name, ctr.path], { env, encoding: 'utf8', timeout: 60_000 })
    if (r.error) throw r.error
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
  }
  const add = cnitool('add')
  t.equal(add.code, 0, `cnitool add ${add.stderr}`)
  const result = JSON.parse(add.stdout)
  t.equal(result.interfaces.find((i: any) => i.name === 'eth0' && i.sandbox)?.mac, '02:61:64:00:00:01', 'the result carries the MAC from the capability')
  const c = { ns: ctr, rtnl: rtnlIn(t, ctr) }
  t.match(linkState(c), { mac: '02:61:64:00:00:01', mtu: 1400, allmulti: true, promisc: false })
  t.equal(readSysctlIn(ctr, 'net/ipv4/conf/eth0/arp_notify'), '1')
  t.equal(readSysctlIn(ctr, 'net/core/somaxconn'), '1024')
  const saved = JSON.parse(backupText(`${data}/tuning`, fs.readdirSync(`${data}/tuning`)[0].replace(/_eth0\.json$/, ''))!)
  t.match(saved, { mtu: 1500, allmulti: false, mac: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/ }, 'the originals bridge gave eth0')
  const check = cnitool('check')
  t.equal(check.code, 0, `cnitool check ${check.stderr}`)
  const del = cnitool('del')
  t.equal(del.code, 0, `cnitool del ${del.stderr}`)
  t.same(fs.readdirSync(`${data}/tuning`), [], 'the backup file is gone')
  t.same(ipJson(ctr, ['link', 'show']).map((l: any) => l.ifname), ['lo'], 'eth0 is gone with the bridge DEL')
})
