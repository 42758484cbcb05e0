// Unit tests (no kernel): the config merge, MAC syntax, sysctl names, the allowlist rule, the
// backup file's format.
import t from 'tap'
import { CniError } from '../../../lib/skel'
import { formatBackup, parseBackup, backupName } from '../../../plugins/tuning/backup'
import { checkMac, loadConf, parseGoMac } from '../../../plugins/tuning/config'
import { checkAllowlistText, sysctlPath } from '../../../plugins/tuning/sysctl'

const base = (extra: Record<string, unknown> = {}): Record<string, unknown> & { name: string } => ({ cniVersion: '1.0.0', name: 'n', type: 'tuning', ...extra })
const thrown = (fn: () => unknown): any => {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

t.test('MAC precedence: args.cni.mac > runtimeConfig.mac > CNI_ARGS MAC > mac', async (t) => {
  const all = base({ mac: '02:00:00:00:00:01', runtimeConfig: { mac: '02:00:00:00:00:03' }, args: { cni: { mac: '02:00:00:00:00:04' } } })
  t.equal(loadConf(all, '1.0.0', 'MAC=02:00:00:00:00:02', false).mac, '02:00:00:00:00:04')
  const { args: _a, ...noArgs } = all
  t.equal(loadConf(noArgs, '1.0.0', 'MAC=02:00:00:00:00:02', false).mac, '02:00:00:00:00:03')
  t.equal(loadConf(base({ mac: '02:00:00:00:00:01' }), '1.0.0', 'IgnoreUnknown=1;K8S_POD_NAME=x;MAC=02:00:00:00:00:02', false).mac, '02:00:00:00:00:02')
  t.equal(loadConf(base({ mac: '02:00:00:00:00:01' }), '1.0.0', '', false).mac, '02:00:00:00:00:01')
  t.equal(loadConf(base({ MAC: '02:00:00:00:00:01', RuntimeConfig: { MAC: '02:00:00:00:00:05' } }), '1.0.0', '', false).mac, '02:00:00:00:00:05', 'keys match like Go (case-insensitive)')
  const e = thrown(() => loadConf(base(), '1.0.0', 'mac=02:00:00:00:00:02', false))
  t.equal(e.message, 'ARGS: unknown args ["mac=02:00:00:00:00:02"]', "CNI_ARGS keys are case-sensitive, like the reference's")
})

t.test('args.cni: sysctl entries merged (also without sysctl: the reference panics), other keys replace', async (t) => {
  const c = loadConf(base({ sysctl: { 'net.core.somaxconn': '500', 'net.ipv4.ip_forward': '0' }, mtu: 1400, promisc: true, args: { cni: { sysctl: { 'net.core.somaxconn': '600' }, mtu: 1300, promisc: false, allmulti: true, txQLen: 0 } } }), '1.0.0', '', false)
  t.same([...c.sysctl], [['net.core.somaxconn', '600'], ['net.ipv4.ip_forward', '0']])
  t.match(c, { mtu: 1300, promisc: false, allmulti: true, txQLen: 0, dataDir: '/run/cni/tuning' })
  const only = loadConf(base({ args: { cni: { sysctl: { 'net.core.somaxconn': '700' } } } }), '1.0.0', '', false)
  t.same([...only.sysctl], [['net.core.somaxconn', '700']])
})

t.test('wrong types are code 7 naming the field; values keep the reference texts', async (t) => {
  for (const [conf, field] of [
    [base({ mtu: '1400' }), '"mtu" must be integer'],
    [base({ mtu: -1 }), '"mtu" must be >= 0'],
    [base({ promisc: 'yes' }), '"promisc" must be boolean'],
    [base({ sysctl: { 'net.core.somaxconn': 500 } }), '"sysctl.net.core.somaxconn" must be string'],
    [base({ args: { cni: { txQLen: 1.5 } } }), '"args.cni.txQLen" must be integer'],
    [base({ runtimeConfig: { mac: 5 } }), '"runtimeConfig.mac" must be string'],
  ] as const) {
    const e = thrown(() => loadConf(conf, '1.0.0', '', false))
    t.ok(e instanceof CniError, field)
    t.equal(e.code, 7)
    t.equal(e.msg, `failed to load netconf: ${field}`)
  }
  t.equal(thrown(() => loadConf(base({ dataDir: 'rel/dir' }), '1.0.0', '', false)).code, 7, 'a relative dataDir')
  t.equal(thrown(() => loadConf(base(), '1.0.0', '', true)).message, 'Required prevResult missing')
  t.equal(thrown(() => checkMac('zz')).message, 'invalid args zz for MAC addr: address zz: invalid MAC address')
})

t.test("parseGoMac: Go's net.ParseMAC forms; checkMac gives the kernel's spelling", async (t) => {
  t.equal(checkMac('02:AB:cd:00:00:01'), '02:ab:cd:00:00:01')
  t.equal(checkMac('02-ab-cd-00-00-01'), '02:ab:cd:00:00:01')
  t.equal(checkMac('02ab.cd00.0001'), '02:ab:cd:00:00:01')
  t.equal(parseGoMac('02:ab:cd:00:00:01:02:03')?.length, 8)
  for (const bad of ['', '02:ab:cd:00:00', '02:ab-cd:00:00:01', '02:ab:cd:00:00:0g', '02ab.cd00.00011', '0:ab:cd:00:00:01:']) t.equal(parseGoMac(bad), undefined, bad)
  t.match(thrown(() => checkMac('02:ab:cd:00:00:01:02:03')).message, /only 6-byte/)
})

t.test('sysctl names stay in /proc/sys/net', async (t) => {
  t.equal(sysctlPath('net.core.somaxconn', 'eth0'), '/proc/sys/net/core/somaxconn')
  t.equal(sysctlPath('net/ipv4/conf/IFNAME/arp_notify', 'eth0'), '/proc/sys/net/ipv4/conf/eth0/arp_notify')
  t.equal(sysctlPath('net.ipv4.conf.IFNAME.arp_notify', 'eth0.100'), '/proc/sys/net/ipv4/conf/eth0.100/arp_notify', 'dots replaced before IFNAME (upstream v1.2.0)')
  t.equal(sysctlPath('net.ipv4..ip_forward', 'eth0'), '/proc/sys/net/ipv4/ip_forward', 'empty elements dropped like filepath.Join')
  for (const [key, shown] of [
    ['kernel.hostname', 'kernel.hostname'],
    ['net/../kernel/hostname', 'net/../kernel/hostname'],
    ['net/core/../../kernel/hostname', 'net/core/../../kernel/hostname'],
    ['net/ipv4/../core/somaxconn', 'net/ipv4/../core/somaxconn'],
    ['/proc/sys/net/core/somaxconn', '/proc/sys/net/core/somaxconn'],
    ['/net/core/somaxconn', '/net/core/somaxconn'],
    ['net', 'net'],
    ['net.core.somaxconn\u0000x', 'net.core.somaxconn\u0000x'],
    ['net/./core/somaxconn', 'net/./core/somaxconn'],
  ]) {
    // The name as JSON: a control character in it must not reach tap's output as a raw byte.
    t.equal(thrown(() => sysctlPath(key, 'eth0'))?.message, `invalid net sysctl key: ${JSON.stringify(shown)}`, JSON.stringify(key))
  }
})

t.test("the allowlist: unanchored regexps, one per non-blank line, upstream's message", async (t) => {
  const text = '  ^net\\.core\\.somaxconn$\n\nnet\\.ipv4\\.conf\\.IFNAME\\.\n'
  t.doesNotThrow(() => checkAllowlistText(['net.core.somaxconn', 'net.ipv4.conf.IFNAME.arp_notify'], text))
  t.equal(
    thrown(() => checkAllowlistText(['net.core.somaxconn', 'net.ipv4.ip_forward'], text))?.message,
    'Sysctl net.ipv4.ip_forward is not allowed. Only the following sysctls are allowed: [^net\\.core\\.somaxconn$ net\\.ipv4\\.conf\\.IFNAME\\.]',
  )
  t.doesNotThrow(() => checkAllowlistText(['xnet.core.somaxconnx'], 'net.core'), 'unanchored')
  t.match(thrown(() => checkAllowlistText(['net.core.x'], '(')).message, /error parsing regexp/)
  t.doesNotThrow(() => checkAllowlistText([], ''), 'no sysctls: nothing to refuse')
})

t.test("the backup file: Go's MarshalIndent, one space, no newline, the reference's key order", async (t) => {
  t.equal(formatBackup({ allmulti: false, mtu: 1500, promisc: false, mac: '32:58:ad:fe:7b:53' }), '{\n "mac": "32:58:ad:fe:7b:53",\n "promisc": false,\n "mtu": 1500,\n "allmulti": false\n}')
  t.equal(formatBackup({}), '{}')
  t.equal(formatBackup({ txQLen: 0, mtu: 0, mac: '' }), '{\n "txQLen": 0\n}', 'omitempty on mac and mtu, not on txQLen')
  t.same(parseBackup('{"MTU": 1400, "mac": null, "Promisc": true}'), { mtu: 1400, promisc: true })
  t.equal(parseBackup('{"mtu": "1400"}'), undefined, 'a wrong type: nothing restored, like Go')
  t.equal(parseBackup('{'), undefined)
  t.same(parseBackup('null'), {})
  t.equal(backupName('abc', 'eth0'), 'abc_eth0.json')
  for (const [id, ifn] of [['a/b', 'eth0'], ['abc', 'x/y'], ['.x', 'eth0'], ['', 'eth0']]) t.throws(() => backupName(id, ifn), `${id} ${ifn}`)
})
