// CHECK passes after ADD and fails, with the reference's message, once one of the container's rules
// is removed behind the plugin's back: iptables (a rule of the CNI-DN- chain, an entry rule of
// CNI-HOSTPORT-DNAT, the chain itself; IPv4 and IPv6) and nftables (the DNAT rule, a masquerade rule).
import t, { type Test } from 'tap'
import {
  type Net,
  type World,
  addrOf,
  attachBridge,
  dnChain,
  errorOf,
  expectOk,
  mustIn,
  natSave,
  net,
  portmapConf,
  runPortmap,
  world,
} from './fixture'

const M = [
  { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
  { hostPort: 8053, containerPort: 53, protocol: 'udp' },
]

async function setUp(t: Test, n: Net, backend: string, id: string) {
  const w = world(t, `pc${backend.slice(0, 3)}`)
  const ctr = w.container('c1')
  const r = attachBridge(w, n, ctr, id)
  const conf = portmapConf(n, M, r, { backend })
  const attach = { containerID: id, netns: ctr.path }
  expectOk(t, runPortmap(w, 'ADD', conf, attach), 'ADD')
  const check = () => runPortmap(w, 'CHECK', conf, attach)
  expectOk(t, check(), 'CHECK after ADD')
  return { w, r, check }
}

/** The reference's listing of a rule list in its CHECK message: `[[a b] [c d]]`. */
const shown = (rules: string[][]) => `[${rules.map((r) => `[${r.join(' ')}]`).join(' ')}]`

function ipt(w: World, family: 4 | 6, args: string[]): void {
  mustIn(w.host, [family === 4 ? 'iptables' : 'ip6tables', '-t', 'nat', ...args])
}

t.test('iptables: a removed rule fails CHECK with the reference message', async (t) => {
  const n = net('pmcheck', '1.0.0', '10.134.1.0/24', 'fd00:134::/64')
  const id = 'pm-check-1'
  const chain = dnChain(n.name, id)
  const { w, r, check } = await setUp(t, n, 'iptables', id)
  const ip4 = addrOf(r, 4)
  const ip6 = addrOf(r, 6)
  const own4 = [
    ['-p', 'tcp', '--dport', '8080', '-s', `${ip4}/24`, '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'tcp', '--dport', '8080', '-s', '127.0.0.1', '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', `${ip4}:80`],
    ['-p', 'udp', '--dport', '8053', '-s', `${ip4}/24`, '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'udp', '--dport', '8053', '-s', '127.0.0.1', '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'udp', '--dport', '8053', '-j', 'DNAT', '--to-destination', `${ip4}:53`],
  ]
  const own6 = [
    ['-p', 'tcp', '--dport', '8080', '-s', `${ip6}/64`, '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', `[${ip6}]:80`],
    ['-p', 'udp', '--dport', '8053', '-s', `${ip6}/64`, '-j', 'CNI-HOSTPORT-SETMARK'],
    ['-p', 'udp', '--dport', '8053', '-j', 'DNAT', '--to-destination', `[${ip6}]:53`],
  ]
  const comment = `dnat name: "${n.name}" id: "${id}"`
  const entries = ['tcp', 'udp'].map((p, i) => ['-m', 'comment', '--comment', comment, '-m', 'multiport', '-p', p, '--destination-ports', ['8080', '8053'][i], '-j', chain])

  t.test('IPv4: the DNAT rule of the container chain', async (t) => {
    ipt(w, 4, ['-D', chain, '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', `${ip4}:80`])
    t.same(errorOf(check()), { exit: 1, code: 999, msg: `could not check ipv4 dnat: rule ${shown(own4)} in chain ${chain} not found in table nat` })
    ipt(w, 4, ['-A', chain, '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', `${ip4}:80`])
    expectOk(t, check(), 'CHECK once the rule is back (at the end: order does not matter)')
  })

  t.test('IPv4: an entry rule of CNI-HOSTPORT-DNAT', async (t) => {
    ipt(w, 4, ['-D', 'CNI-HOSTPORT-DNAT', ...entries[1]])
    t.same(errorOf(check()), { exit: 1, code: 999, msg: `could not check ipv4 dnat: rule ${shown(entries)} in chain CNI-HOSTPORT-DNAT not found in table nat` })
    ipt(w, 4, ['-A', 'CNI-HOSTPORT-DNAT', ...entries[1]])
    expectOk(t, check(), 'CHECK once it is back')
  })

  t.test('IPv6: the hairpin rule of the container chain', async (t) => {
    ipt(w, 6, ['-D', chain, ...own6[2]])
    t.same(errorOf(check()), { exit: 1, code: 999, msg: `could not check ipv6 dnat: rule ${shown(own6)} in chain ${chain} not found in table nat` })
    ipt(w, 6, ['-A', chain, ...own6[2]])
    expectOk(t, check(), 'CHECK once it is back')
  })

  t.test('IPv4: the whole chain', async (t) => {
    const saved = natSave(w.host, 4)
    ipt(w, 4, ['-D', 'CNI-HOSTPORT-DNAT', ...entries[0]])
    ipt(w, 4, ['-D', 'CNI-HOSTPORT-DNAT', ...entries[1]])
    ipt(w, 4, ['-F', chain])
    ipt(w, 4, ['-X', chain])
    t.notSame(natSave(w.host, 4), saved)
    t.same(errorOf(check()), { exit: 1, code: 999, msg: `could not check ipv4 dnat: chain ${chain} not found in iptables table nat` })
  })
})

/** Handle of the rule of `chain` whose text contains `text` (`nft -a list chain`). */
function nftHandle(w: World, family: 'ip' | 'ip6', chain: string, text: string): string {
  const line = mustIn(w.host, ['nft', '-a', 'list', 'chain', family, 'cni_hostport', chain]).split('\n').find((l) => l.includes(text))
  const m = line && /# handle (\d+)/.exec(line)
  if (!m) throw new Error(`no rule "${text}" in ${family} cni_hostport ${chain}`)
  return m[1]
}

t.test('nftables: a removed rule fails CHECK with the reference message', async (t) => {
  const n = net('pmcheck', '1.1.0', '10.135.1.0/24', 'fd00:135::/64')
  const id = 'pm-check-2'
  const { w, r, check } = await setUp(t, n, 'nftables', id)
  const ip4 = addrOf(r, 4)
  const ip6 = addrOf(r, 6)
  const nft = (args: string[]) => mustIn(w.host, ['nft', ...args])

  t.test('IPv4: the DNAT rule', async (t) => {
    const rule = `tcp dport 8080 dnat to ${ip4}:80 comment "${id}"`
    nft(['delete', 'rule', 'ip', 'cni_hostport', 'hostports', 'handle', nftHandle(w, 'ip', 'hostports', rule)])
    t.same(errorOf(check()), { exit: 1, code: 999, msg: 'missing hostport rules in "hostports" chain' })
    nft(['add', 'rule', 'ip', 'cni_hostport', 'hostports', ...rule.split(' ')])
    expectOk(t, check(), 'CHECK once it is back')
  })

  t.test('IPv6: the DNAT rule', async (t) => {
    const rule = `udp dport 8053 dnat to [${ip6}]:53 comment "${id}"`
    nft(['delete', 'rule', 'ip6', 'cni_hostport', 'hostports', 'handle', nftHandle(w, 'ip6', 'hostports', rule)])
    t.same(errorOf(check()), { exit: 1, code: 999, msg: 'missing hostport rules in "hostports" chain' })
  })

  t.test('IPv4: the localhost masquerade rule', async (t) => {
    expectOk(t, runPortmap(w, 'ADD', portmapConf(n, M, r, { backend: 'nftables' }), { containerID: id, netns: r.interfaces[2].sandbox }), 'ADD again repairs')
    expectOk(t, check(), 'CHECK after the repair')
    const rule = `ip saddr 127.0.0.1 ip daddr ${ip4} masquerade comment "${id}"`
    nft(['delete', 'rule', 'ip', 'cni_hostport', 'masquerading', 'handle', nftHandle(w, 'ip', 'masquerading', rule)])
    t.same(errorOf(check()), { exit: 1, code: 999, msg: 'missing hostport rules in "masquerading" chain' })
  })
})
