// Our firewall alone on synthetic prevResults: DEL (twice, without prevResult), CHECK (every missing
// piece, IPv4 and IPv6), the administrator's chain, GC of stale attachments, a failed ADD undone,
// and config errors refused before any rule.
import * as fs from 'node:fs'
import t from 'tap'
import { addrLines, chainRules, errorOf, expectOk, fwConf, ipt, prevResult, runFw, save, tempDir, world } from './fixture'

const A = ['10.62.20.2/24', 'fd00:62::14:2/64']

t.test('DEL removes the rules; a second DEL and a DEL without prevResult succeed', async (t) => {
  const w = world(t, 'fwl-del')
  const dataDir = tempDir(t)
  const conf = fwConf('fwdel', '1.1.0', prevResult('1.1.0', 'fwbr20', A), { dataDir, backend: 'iptables' })
  const a = { containerID: 'fw-del-1' }
  expectOk(t, runFw(w, 'ADD', conf, a), 'ADD')
  t.same(chainRules(w.host, 'CNI-FORWARD', 4).slice(1), addrLines('10.62.20.2/32'))
  t.same(chainRules(w.host, 'CNI-FORWARD', 6).slice(1), addrLines('fd00:62::14:2/128'))
  t.ok(fs.existsSync(`${dataDir}/fwdel/fw-del-1:eth0`), 'the attachment is recorded')
  const del = runFw(w, 'DEL', conf, a)
  expectOk(t, del, 'DEL')
  t.equal(del.stdout, '', 'DEL prints nothing')
  t.same(chainRules(w.host, 'CNI-FORWARD', 4), ['-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN'], 'only the admin jump is left (IPv4)')
  t.same(chainRules(w.host, 'CNI-FORWARD', 6).length, 1, '(IPv6)')
  t.notOk(fs.existsSync(`${dataDir}/fwdel/fw-del-1:eth0`), 'the record is gone')
  expectOk(t, runFw(w, 'DEL', conf, a), 'DEL again')

  // The runtime lost prevResult: the record still names the addresses.
  expectOk(t, runFw(w, 'ADD', conf, a), 'ADD again')
  expectOk(t, runFw(w, 'DEL', fwConf('fwdel', '1.1.0', undefined, { dataDir, backend: 'iptables' }), a), 'DEL without prevResult')
  t.same(chainRules(w.host, 'CNI-FORWARD', 4).length, 1, 'the rules went all the same')
  // An unknown policy fails DEL (as the reference), after the rules went.
  expectOk(t, runFw(w, 'ADD', conf, a), 'ADD once more')
  const bad = runFw(w, 'DEL', { ...conf, ingressPolicy: 'nope' }, a)
  t.match(errorOf(bad), { exit: 1, code: 999, msg: 'unknown ingress policy: "nope"' })
  t.same(chainRules(w.host, 'CNI-FORWARD', 4).length, 1, 'the rules went first')
})

t.test('CHECK finds every missing piece, in both families', async (t) => {
  const w = world(t, 'fwl-chk')
  const conf = fwConf('fwchk', '1.0.0', prevResult('1.0.0', 'fwbr21', A), { dataDir: tempDir(t), backend: 'iptables' })
  const a = { containerID: 'fw-chk-1' }
  expectOk(t, runFw(w, 'ADD', conf, a), 'ADD')
  expectOk(t, runFw(w, 'CHECK', conf, a), 'CHECK passes')
  ipt(w.host, 6, ['-D', 'CNI-FORWARD', '-s', 'fd00:62::14:2/128', '-j', 'ACCEPT'])
  t.match(errorOf(runFw(w, 'CHECK', conf, a)), { exit: 1, code: 999, msg: 'expected rule [-s fd00:62::14:2/128 -j ACCEPT] not found' }, 'a missing IPv6 rule')
  expectOk(t, runFw(w, 'ADD', conf, a), 'ADD restores it')
  ipt(w.host, 4, ['-D', 'CNI-FORWARD', '-d', '10.62.20.2/32', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'])
  t.match(errorOf(runFw(w, 'CHECK', conf, a)), { msg: 'expected rule [-d 10.62.20.2/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT] not found' }, 'a missing IPv4 rule')
  expectOk(t, runFw(w, 'ADD', conf, a), 'ADD')
  ipt(w.host, 4, ['-D', 'CNI-FORWARD', '-m', 'comment', '--comment', 'CNI firewall plugin admin overrides', '-j', 'CNI-ADMIN'])
  t.match(errorOf(runFw(w, 'CHECK', conf, a)), { msg: 'expected CNI-FORWARD rule [-m comment --comment CNI firewall plugin admin overrides -j CNI-ADMIN] not found' }, 'the admin jump')
  ipt(w.host, 4, ['-D', 'FORWARD', '-m', 'comment', '--comment', 'CNI firewall plugin rules', '-j', 'CNI-FORWARD'])
  t.match(errorOf(runFw(w, 'CHECK', conf, a)), { msg: 'expected FORWARD rule [-m comment --comment CNI firewall plugin rules -j CNI-FORWARD] not found' }, 'the FORWARD jump')
  const chains = save(w.host, 4).filter((l) => l.startsWith(':'))
  runFw(w, 'CHECK', { ...conf, iptablesAdminChainName: 'FW62-NEW' }, a)
  t.same(save(w.host, 4).filter((l) => l.startsWith(':')), chains, 'CHECK creates no chain (the reference does)')
  const none = runFw(w, 'CHECK', fwConf('fwchk', '1.0.0', undefined), a)
  t.match(errorOf(none), { exit: 1, code: 999, msg: 'missing prevResult from earlier plugin' })
})

t.test("the administrator's chain: created, jumped to first, never flushed; a custom name", async (t) => {
  const w = world(t, 'fwl-adm')
  const dataDir = tempDir(t)
  ipt(w.host, 4, ['-N', 'CNI-ADMIN'])
  ipt(w.host, 4, ['-A', 'CNI-ADMIN', '-d', '10.62.22.2/32', '-p', 'tcp', '--dport', '22', '-j', 'DROP'])
  const conf = fwConf('fwadm', '0.4.0', prevResult('0.4.0', 'fwbr22', ['10.62.22.2/24']), { dataDir })
  const a = { containerID: 'fw-adm-1' }
  expectOk(t, runFw(w, 'ADD', conf, a), 'ADD')
  t.same(chainRules(w.host, 'CNI-ADMIN'), ['-A CNI-ADMIN -d 10.62.22.2/32 -p tcp -m tcp --dport 22 -j DROP'], 'the admin rule is kept')
  t.match(chainRules(w.host, 'CNI-FORWARD')[0], /-j CNI-ADMIN$/, 'CNI-FORWARD jumps to it first')
  expectOk(t, runFw(w, 'DEL', conf, a), 'DEL')
  t.same(chainRules(w.host, 'CNI-ADMIN'), ['-A CNI-ADMIN -d 10.62.22.2/32 -p tcp -m tcp --dport 22 -j DROP'], 'still there after DEL')
  expectOk(t, runFw(w, 'ADD', { ...conf, iptablesAdminChainName: 'FW62-ADMIN' }, a), 'ADD with another admin chain')
  t.same(chainRules(w.host, 'CNI-FORWARD').slice(0, 2), [
    '-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j FW62-ADMIN',
    '-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN',
  ], 'its jump goes above the old one, which stays (as the reference)')
  t.same(save(w.host, 6).filter((l) => l.includes('CNI-')), [], 'no IPv6 address, nothing in ip6tables')
})

t.test('GC removes the rules of recorded attachments that are gone, and only those', async (t) => {
  const w = world(t, 'fwl-gc')
  const dataDir = tempDir(t)
  const add = (net: string, id: string, addrs: string[]) =>
    expectOk(t, runFw(w, 'ADD', fwConf(net, '1.1.0', prevResult('1.1.0', 'fwbr23', addrs), { dataDir }), { containerID: id }), `ADD ${net}/${id}`)
  add('fwgc', 'gc-a', ['10.62.23.2/24', 'fd00:62::17:2/64'])
  add('fwgc', 'gc-b', ['10.62.23.3/24', 'fd00:62::17:3/64'])
  add('fwgc', 'gc-c', ['10.62.23.4/24'])
  add('fwgc-other', 'gc-b', ['10.62.24.3/24'])
  // A container the reference made: no record, so GC cannot see it.
  const ref = fwConf('fwgc', '1.1.0', prevResult('1.1.0', 'fwbr23', ['10.62.23.9/24']), { dataDir: tempDir(t) })
  expectOk(t, runFw(w, 'ADD', ref, { containerID: 'gc-unrecorded' }), 'ADD of an attachment without record')
  const gc = (valid: object[]) => runFw(w, 'GC', { cniVersion: '1.1.0', name: 'fwgc', type: 'firewall', dataDir, 'cni.dev/valid-attachments': valid }, { containerID: '' })
  const r = gc([{ containerID: 'gc-a', ifname: 'eth0' }])
  expectOk(t, r, 'GC')
  t.equal(r.stdout, '', 'GC prints nothing')
  const v4 = save(w.host, 4)
  const v6 = save(w.host, 6)
  t.ok(addrLines('10.62.23.2/32').every((l) => v4.includes(l)), "a's rules stay")
  t.ok(addrLines('fd00:62::17:2/128').every((l) => v6.includes(l)), "a's IPv6 rules stay")
  t.notOk(v4.some((l) => l.includes('10.62.23.3/') || l.includes('10.62.23.4/')), "b's and c's rules are gone")
  t.notOk(v6.some((l) => l.includes('fd00:62::17:3/')), "b's IPv6 rules are gone")
  t.ok(addrLines('10.62.24.3/32').every((l) => v4.includes(l)), "the other network's b stays")
  t.ok(addrLines('10.62.23.9/32').every((l) => v4.includes(l)), 'the unrecorded attachment stays')
  t.same(fs.readdirSync(`${dataDir}/fwgc`), ['gc-a:eth0'], 'only the valid record is left')
  expectOk(t, gc([]), 'GC with nothing valid')
  t.notOk(save(w.host, 4).some((l) => l.includes('10.62.23.2/')), 'now a goes too')
  const old = runFw(w, 'GC', { cniVersion: '1.0.0', name: 'fwgc', type: 'firewall' }, { containerID: '' })
  t.match(errorOf(old), { exit: 1, code: 1 }, 'GC of a 1.0.0 config is refused')
  expectOk(t, runFw(w, 'STATUS', { cniVersion: '1.1.0', name: 'fwgc', type: 'firewall' }, { containerID: '' }), 'STATUS')
})

t.test('a failed ADD removes what it added; config errors come before any rule', async (t) => {
  const w = world(t, 'fwl-err')
  const dataDir = tempDir(t)
  const a = { containerID: 'fw-err-1' }
  const before = [save(w.host, 4), save(w.host, 6)]
  // An interface name iptables refuses (over 15 bytes): the isolation rules fail after the
  // address rules were appended.
  const longBridge = fwConf('fwerr', '1.0.0', prevResult('1.0.0', 'fw-bridge-name-too-long', A), { dataDir, ingressPolicy: 'same-bridge' })
  const r = runFw(w, 'ADD', longBridge, a)
  t.match(errorOf(r), { exit: 1, code: 999 }, `the ADD fails: ${r.json?.msg}`)
  t.notOk(save(w.host, 4).some((l) => l.includes('10.62.20.2')), 'no address rule is left (IPv4)')
  t.notOk(save(w.host, 6).some((l) => l.includes('fd00:62::14:2')), '(IPv6)')
  t.notOk(fs.existsSync(`${dataDir}/fwerr/fw-err-1:eth0`), 'nothing recorded')
  t.notOk(r.stderr.includes('    at '), 'no stack trace')

  const w2 = world(t, 'fwl-err2')
  const cases: [string, object, object][] = [
    ['unknown policy', { ingressPolicy: 'isolated' }, { code: 999, msg: 'unknown ingress policy: "isolated"' }],
    ['policy of the wrong type', { ingressPolicy: 1 }, { code: 7, msg: 'failed to load netconf: "ingressPolicy" must be string' }],
    ['admin chain of the wrong type', { iptablesAdminChainName: true }, { code: 7, msg: /"iptablesAdminChainName" must be string/ }],
    ['zone of the wrong type', { firewalldZone: [] }, { code: 7, msg: /"firewalldZone" must be string/ }],
    ['backend of the wrong type', { backend: 0 }, { code: 7, msg: /"backend" must be string/ }],
  ]
  for (const [what, extra, want] of cases) {
    const e = runFw(w2, 'ADD', fwConf('fwerr', '1.0.0', prevResult('1.0.0', 'fwbr24', A), { dataDir, ...extra }), a)
    t.match(errorOf(e), { exit: 1, ...want }, what)
  }
  const noIf = runFw(w2, 'ADD', fwConf('fwerr', '1.0.0', { cniVersion: '1.0.0', ips: [{ address: '10.62.24.2/24' }] }, { dataDir, ingressPolicy: 'same-bridge' }), a)
  t.match(errorOf(noIf), { code: 999, msg: 'interface needs to be set for ingress policy "same-bridge", make sure to chain "firewall" plugin with "bridge"' })
  t.match(errorOf(runFw(w2, 'ADD', fwConf('fwerr', '1.0.0', undefined), a)), { code: 999, msg: 'missing prevResult from earlier plugin' })
  t.match(errorOf(runFw(w2, 'ADD', fwConf('fwerr', '0.3.1', undefined), a)), { code: 1, msg: 'incompatible CNI versions', details: undefined })
  t.same(save(w2.host, 4).filter((l) => l.includes('CNI-')), [], 'no chain or rule was made (IPv4)')
  t.same(save(w2.host, 6).filter((l) => l.includes('CNI-')), [], '(IPv6)')
  t.same([save(w.host, 4).filter((l) => /10\.62|fd00/.test(l)), save(w.host, 6).filter((l) => /10\.62|fd00/.test(l))], [before[0].filter((l) => /10\.62/.test(l)), []])

  const version = runFw(w2, 'VERSION', { cniVersion: '1.0.0' }, a)
  t.same(version.json, { cniVersion: '1.0.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] }, 'VERSION: 0.4.0 and later')
  const status = runFw(w2, 'STATUS', { cniVersion: '1.1.0', name: 'fwerr', type: 'firewall', backend: 'firewalld' }, a)
  t.match(errorOf(status), { exit: 1, code: 50 }, 'STATUS without firewalld')
  const noBus = runFw(w2, 'ADD', fwConf('fwerr', '1.0.0', prevResult('1.0.0', 'fwbr24', A), { dataDir, backend: 'firewalld' }), a)
  t.match(errorOf(noBus), { code: 999, msg: 'dial unix /nonexistent/tscni-test-no-bus: connect: no such file or directory' }, 'firewalld without a bus')
})
