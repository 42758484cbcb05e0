// Side by side with the Go reference (/usr/lib/cni/firewall, Debian 1.1.1) on the same input: the
// same complete iptables-save and ip6tables-save after ADD, the same stdout (0.4.0 byte for byte;
// 1.0.0 the same result, printed like upstream HEAD, see README), and DEL in either direction
// between the implementations leaving the same tables.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { deliberate } from '../../helpers/deliberate'
import { FIREWALL, HAVE_REF, REF_FIREWALL, addrLines, expectOk, fwConf, ipt, prevResult, runFw, save, tempDir, world } from './fixture'

const ADDRS = ['10.62.10.2/24', 'fd00:62::a:2/64']
const HOSTS = ['10.62.10.2/32', 'fd00:62::a:2/128']
const cases = [
  { v: '0.4.0', extra: {} },
  { v: '1.0.0', extra: { ingressPolicy: 'same-bridge' } },
  { v: '0.4.0', extra: { ingressPolicy: 'same-bridge', iptablesAdminChainName: 'FW62-ADMIN', backend: '' } },
  // Keys match case-insensitively (Go), the last of a repeated key wins; an unknown backend means auto.
  { v: '1.0.0', extra: { IngressPolicy: 'open', INGRESSPOLICY: 'same-bridge', IptablesAdminChainName: 'FW62-ADM2', backend: 'foo' } },
]

t.test('ADD: the same tables and output as the reference', { skip: !HAVE_REF && 'no reference firewall' }, async (t) => {
  for (const { v, extra } of cases) {
    const label = `${v} ${JSON.stringify(extra)}`
    const ref = world(t, 'fwr-ref')
    const ours = world(t, 'fwr-our')
    const conf = fwConf('fwref', v, prevResult(v, 'fwbr10', ADDRS), { ...extra, dataDir: tempDir(t) })
    const a = { containerID: 'fw-ref-1' }
    const r = runFw(ref, 'ADD', conf, a, REF_FIREWALL)
    const o = runFw(ours, 'ADD', conf, a, FIREWALL)
    expectOk(t, r, `reference ADD ${label}`)
    expectOk(t, o, `our ADD ${label}`)
    const record = path.join(conf.dataDir as string, 'fwref', 'fw-ref-1:eth0')
    t.ok(fs.existsSync(record), `ours records the attachment for GC (${deliberate('firewallRecords')})`)
    if (v === '0.4.0') t.equal(o.stdout, r.stdout, `stdout byte for byte ${label}`)
    else {
      const { dns, ...rest } = r.json
      t.same(dns, {}, 'the reference prints an empty dns')
      t.same(o.json, rest, `the same result ${label} (the empty dns omitted, as upstream HEAD)`)
    }
    t.same(save(ours.host, 4), save(ref.host, 4), `iptables-save ${label}`)
    t.same(save(ours.host, 6), save(ref.host, 6), `ip6tables-save ${label}`)
    // A second ADD (the runtime retrying) changes nothing, on either side.
    const before = [save(ours.host, 4), save(ours.host, 6)]
    expectOk(t, runFw(ours, 'ADD', conf, a, FIREWALL), 'ADD again')
    t.same([save(ours.host, 4), save(ours.host, 6)], before, 'a repeated ADD adds nothing')
  }
})

t.test('DEL across implementations: each removes what the other made', { skip: !HAVE_REF && 'no reference firewall' }, async (t) => {
  for (const [adder, deleter, label] of [[REF_FIREWALL, FIREWALL, 'reference ADD, our DEL'], [FIREWALL, REF_FIREWALL, 'our ADD, reference DEL']] as const) {
    const w = world(t, 'fwx')
    const same = world(t, 'fwx-same')
    const conf = fwConf('fwx', '1.0.0', prevResult('1.0.0', 'fwbr11', ADDRS), { ingressPolicy: 'same-bridge' })
    const a = { containerID: 'fw-x-1' }
    conf.dataDir = tempDir(t)
    // An administrator's rule, and another container's rules, both of which must stay.
    const other = fwConf('fwx', '1.0.0', prevResult('1.0.0', 'fwbr11', ['10.62.11.9/24']))
    for (const host of [w, same]) {
      expectOk(t, runFw(host, 'ADD', other, { containerID: 'fw-x-other' }, REF_FIREWALL), 'another container')
      ipt(host.host, 4, ['-A', 'CNI-ADMIN', '-s', '10.62.99.1/32', '-j', 'DROP'])
    }
    expectOk(t, runFw(w, 'ADD', conf, a, adder), `${label}: ADD`)
    t.ok(save(w.host, 4).includes(addrLines(HOSTS[0])[1]), 'the rules are there')
    expectOk(t, runFw(w, 'DEL', conf, a, deleter), `${label}: DEL`)
    expectOk(t, runFw(same, 'ADD', conf, a, adder), `${label}: ADD on the second host`)
    expectOk(t, runFw(same, 'DEL', conf, a, adder), `${label}: the adder's own DEL on the second host`)
    t.same(save(w.host, 4), save(same.host, 4), `${label}: iptables-save as after the adder's own DEL`)
    t.same(save(w.host, 6), save(same.host, 6), `${label}: ip6tables-save as after the adder's own DEL`)
    t.notOk(save(w.host, 4).some((l) => l.includes('10.62.10.2')), 'no rule of the container is left (IPv4)')
    t.notOk(save(w.host, 6).some((l) => l.includes('fd00:62::a:2')), '(IPv6)')
    t.ok(save(w.host, 4).includes(addrLines('10.62.11.9/32')[1]), "the other container's rules stay")
    t.ok(save(w.host, 4).includes('-A CNI-ADMIN -s 10.62.99.1/32 -j DROP'), "the administrator's rule stays")
  }
})
