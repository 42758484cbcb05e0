// ctnetlink: flows made by real UDP traffic between two test namespaces are listed and deleted.
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { Conntrack, IPPROTO } from '../../../lib/netlink'
import { openNetns } from '../../../lib/ns'
import { type HasTeardown, ipIn, makeNetns, type TestNetns } from '../../helpers/netns'

/** Two namespaces joined by a veth, with conntrack switched on in `a` (a rule that matches on it). */
function pair(t: HasTeardown) {
  const a = makeNetns(t, 'ct-a')
  const b = makeNetns(t, 'ct-b')
  ipIn(a, ['link', 'add', 'cta0', 'type', 'veth', 'peer', 'name', 'ctb0', 'netns', b.name])
  ipIn(a, ['addr', 'add', '10.126.0.1/24', 'dev', 'cta0'])
  ipIn(b, ['addr', 'add', '10.126.0.2/24', 'dev', 'ctb0'])
  ipIn(a, ['addr', 'add', 'fd00:126::1/64', 'dev', 'cta0', 'nodad'])
  ipIn(b, ['addr', 'add', 'fd00:126::2/64', 'dev', 'ctb0', 'nodad'])
  for (const [ns, dev] of [[a, 'cta0'], [b, 'ctb0']] as const) ipIn(ns, ['link', 'set', dev, 'up'])
  for (const tool of ['iptables', 'ip6tables']) {
    execFileSync('ip', ['netns', 'exec', a.name, tool, '-w', '-A', 'OUTPUT', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'ACCEPT'])
  }
  return { a, b }
}

/** One UDP datagram from `from` to host:port (bash's /dev/udp: no tools needed). */
function sendUdp(from: TestNetns, host: string, port: number): void {
  execFileSync('ip', ['netns', 'exec', from.name, 'bash', '-c', `echo x > /dev/udp/${host}/${port}`])
}

function open(t: HasTeardown, ns: TestNetns): Conntrack {
  const netns = openNetns(ns.path)
  try {
    const ct = Conntrack.open(netns)
    t.teardown(() => ct.close())
    return ct
  } finally {
    netns.close()
  }
}

t.test('UDP flows to a port are listed and deleted, others stay', async (t) => {
  const { a } = pair(t)
  sendUdp(a, '10.126.0.2', 5353)
  sendUdp(a, '10.126.0.2', 5354)
  sendUdp(a, 'fd00:126::2', 5353)
  const ct = open(t, a)
  const v4 = ct.list(4).filter((f) => f.dst === '10.126.0.2')
  t.same(v4.map((f) => [f.protocol, f.src, f.dstPort]).sort(), [[IPPROTO.UDP, '10.126.0.1', 5353], [IPPROTO.UDP, '10.126.0.1', 5354]])
  t.match(ct.list(6).filter((f) => f.dst === 'fd00:126::2'), [{ family: 6, protocol: IPPROTO.UDP, src: 'fd00:126::1', dstPort: 5353 }])

  t.equal(ct.deleteByDestinationPort(4, IPPROTO.UDP, 5353), 1, 'one IPv4 flow to 5353')
  t.same(ct.list(4).filter((f) => f.dst === '10.126.0.2').map((f) => f.dstPort), [5354], 'the flow to another port stays')
  t.equal(ct.list(6).filter((f) => f.dst === 'fd00:126::2').length, 1, 'the other family is untouched')
  t.equal(ct.deleteByDestinationPort(6, IPPROTO.UDP, 5353), 1)
  t.equal(ct.list(6).filter((f) => f.dst === 'fd00:126::2').length, 0)
  t.equal(ct.deleteByDestinationPort(4, IPPROTO.UDP, 5353), 0, 'nothing left to delete: not an error')
  t.equal(ct.deleteByDestinationPort(4, IPPROTO.TCP, 5354), 0, 'the protocol must match')
})

t.test('deleting a flow that is already gone says so', async (t) => {
  const { a } = pair(t)
  sendUdp(a, '10.126.0.2', 6000)
  const ct = open(t, a)
  const [flow] = ct.list(4).filter((f) => f.dstPort === 6000)
  t.ok(flow)
  t.equal(ct.delete(flow), true)
  t.equal(ct.delete(flow), false)
})

t.test('an empty table lists nothing', async (t) => {
  const ns = makeNetns(t, 'ct-empty')
  const ct = open(t, ns)
  t.same(ct.list(4), [])
  t.same(ct.list(6), [])
})
