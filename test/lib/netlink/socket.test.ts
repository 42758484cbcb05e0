import { spawn } from 'node:child_process'
import t from 'tap'
import { NetlinkError } from '../../../lib/netlink'
import { IFLA, NLM_F, NLMSG, RTM } from '../../../lib/netlink/consts'
import { attr, attrMap, cstring, readCstring, u16, u32 } from '../../../lib/netlink/encode'
import { parseLink } from '../../../lib/netlink/links'
import { DUMP_ATTEMPTS, NetlinkSocket, encodeRequest, parseDatagram, retryInterrupted } from '../../../lib/netlink/socket'
import { IFINFOMSG_LEN, ifinfomsg, parseIfinfomsg } from '../../../lib/netlink/structs'
import { openNetns } from '../../../lib/ns'
import { type HasTeardown, type TestNetns, makeNetns, rtnlIn } from '../../helpers/netns'

/** One nlmsghdr + payload, as the kernel would put it in a datagram (padded to 4 bytes). */
function nlmsg(type: number, flags: number, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const len = 16 + payload.length
  const msg = Buffer.concat([u32(len), u16(type), u16(flags), u32(seq), u32(0), payload])
  return Buffer.concat([msg, Buffer.alloc(((len + 3) & ~3) - len)])
}

/** An NetlinkSocket opened inside a test namespace, closed at teardown. */
function socketIn(t: HasTeardown, ns: TestNetns): NetlinkSocket {
  const netns = openNetns(ns.path)
  try {
    const s = NetlinkSocket.open(netns)
    t.teardown(() => s.close())
    return s
  } finally {
    netns.close()
  }
}

t.test('parseDatagram splits a datagram into its messages, padding skipped', async (t) => {
  const odd = Buffer.alloc(19, 0xab) // odd length: the next message starts after 1 byte of padding
  const msgs = parseDatagram(
    Buffer.concat([
      nlmsg(RTM.NEWLINK, NLM_F.MULTI, 5, odd),
      nlmsg(RTM.NEWLINK, NLM_F.MULTI | NLM_F.DUMP_INTR, 7),
      nlmsg(NLMSG.DONE, NLM_F.MULTI, 6, u32(0xfffffff0)), // DONE carrying -16 (EBUSY)
    ]),
  )
  t.equal(msgs.length, 3)
  t.match(msgs[0], { type: RTM.NEWLINK, flags: NLM_F.MULTI, seq: 5 })
  t.ok(msgs[0].data.equals(odd), 'the payload exactly, without the padding')
  t.match(msgs[1], { type: RTM.NEWLINK, flags: NLM_F.MULTI | NLM_F.DUMP_INTR, seq: 7 })
  t.equal(msgs[1].data.length, 0)
  t.match(msgs[2], { type: NLMSG.DONE, seq: 6 })
  t.equal(msgs[2].data.readInt32LE(0), -16)
  t.same(parseDatagram(Buffer.alloc(0)), [], 'an empty datagram has no messages')
})

t.test('malformed datagrams do not throw: the well-formed head is kept, the rest dropped', async (t) => {
  t.same(parseDatagram(Buffer.from([1, 2, 3])), [], 'shorter than a header')
  t.same(parseDatagram(Buffer.concat([u32(4000), Buffer.alloc(12)])), [], 'a length beyond the datagram')
  t.same(parseDatagram(Buffer.concat([u32(8), Buffer.alloc(12)])), [], 'a length shorter than the header')
  t.same(parseDatagram(Buffer.concat([u32(0), Buffer.alloc(28)])), [], 'a zero length (no endless loop)')
  const good = nlmsg(NLMSG.DONE, NLM_F.MULTI, 9, u32(0))
  const msgs = parseDatagram(Buffer.concat([good, u32(4000), Buffer.alloc(12)]))
  t.equal(msgs.length, 1, 'a truncated tail ends the list')
  t.match(msgs[0], { type: NLMSG.DONE, seq: 9 })
  t.same(parseDatagram(Buffer.concat([good, Buffer.from([1, 2])])).length, 1, 'trailing bytes shorter than a header')
})

t.test('encodeRequest: nlmsghdr in host byte order, then the payload', async (t) => {
  const payload = Buffer.concat([ifinfomsg({ index: 7 }), attr(IFLA.IFNAME, cstring('eth0'))])
  const msg = encodeRequest(RTM.GETLINK, NLM_F.REQUEST | NLM_F.ACK, 0xdeadbeef, payload)
  t.equal(msg.length, 16 + payload.length)
  t.equal(msg.readUInt32LE(0), msg.length, 'nlmsg_len covers header and payload')
  t.equal(msg.readUInt16LE(4), RTM.GETLINK)
  t.equal(msg.readUInt16LE(6), NLM_F.REQUEST | NLM_F.ACK)
  t.equal(msg.readUInt32LE(8), 0xdeadbeef)
  t.equal(msg.readUInt32LE(12), 0, 'nlmsg_pid 0: to the kernel')
  t.ok(msg.subarray(16).equals(payload))
  const [back] = parseDatagram(msg)
  t.match(back, { type: RTM.GETLINK, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 0xdeadbeef })
  t.ok(back.data.equals(payload), 'parseDatagram reads back what encodeRequest wrote')
  t.equal(encodeRequest(RTM.GETLINK, NLM_F.DUMP, 1, Buffer.alloc(0)).length, 16, 'an empty payload')
})

t.test('an interrupted dump is retried, and given up after the last attempt', async (t) => {
  let calls = 0
  const flaky = () => {
    calls++
    return { result: `attempt ${calls}`, interrupted: calls < 3 }
  }
  t.equal(retryInterrupted(flaky, 'RTM_GETLINK'), 'attempt 3')
  t.equal(calls, 3)

  calls = 0
  const always = () => {
    calls++
    return { result: [], interrupted: true }
  }
  const err = t.throws(() => retryInterrupted(always, 'RTM_GETADDR'), NetlinkError)
  t.equal(calls, DUMP_ATTEMPTS)
  t.equal(DUMP_ATTEMPTS, 5, 'like Go netlinksafe')
  t.match(err, { code: 'EINTR', errno: -4, op: 'RTM_GETADDR' })
  t.match((err as Error).message, /^RTM_GETADDR: dump interrupted 5 times: results may be incomplete or inconsistent \(EINTR\)$/)

  calls = 0
  t.throws(() => retryInterrupted(always, 'RTM_GETROUTE', 'table 100', 2), {
    code: 'EINTR',
    object: 'table 100',
    message: 'RTM_GETROUTE table 100: dump interrupted 2 times: results may be incomplete or inconsistent (EINTR)',
  })
  t.equal(calls, 2, 'attempts can be given')

  calls = 0
  t.equal(retryInterrupted(() => ({ result: ++calls, interrupted: false }), 'RTM_GETLINK'), 1, 'a whole dump is not repeated')
  const boom = new Error('boom')
  t.throws(() => retryInterrupted(() => { throw boom }, 'RTM_GETLINK'), boom, 'other errors pass through at once')
})

t.test('a dump of links in a fresh namespace returns lo', async (t) => {
  const s = socketIn(t, makeNetns(t, 'nl-dump'))
  const msgs = s.dump(RTM.GETLINK, ifinfomsg())
  t.equal(msgs.length, 1, 'one link')
  t.equal(msgs[0].type, RTM.NEWLINK)
  t.equal(parseIfinfomsg(msgs[0].data).index, 1)
  t.equal(readCstring(attrMap(msgs[0].data.subarray(IFINFOMSG_LEN)).get(IFLA.IFNAME)!), 'lo')
  t.match(parseLink(msgs[0].data), { index: 1, name: 'lo', up: false })
  // The socket is reusable: a request right after the dump gets its own answer.
  const one = s.request(RTM.GETLINK, Buffer.concat([ifinfomsg(), attr(IFLA.IFNAME, cstring('lo'))]), 0, '"lo"')
  t.equal(one.length, 1)
  t.match(parseLink(one[0].data), { index: 1, name: 'lo' })
})

t.test('a rejected request is a NetlinkError naming the op and the object; the socket goes on', async (t) => {
  const s = socketIn(t, makeNetns(t, 'nl-err'))
  t.throws(() => s.request(RTM.GETLINK, ifinfomsg({ index: 4242 }), 0, 'link 4242'), {
    name: 'NetlinkError',
    code: 'ENODEV',
    op: 'RTM_GETLINK',
    object: 'link 4242',
    message: 'RTM_GETLINK link 4242: no such device (ENODEV)',
  })
  t.equal(s.dump(RTM.GETLINK, ifinfomsg()).length, 1, 'the next dump reads its own answer')
})

t.test('a request to a closed socket throws', async (t) => {
  const s = socketIn(t, makeNetns(t, 'nl-closed'))
  t.equal(s.request(RTM.GETLINK, ifinfomsg({ index: 1 }), 0).length, 1, 'open: answered')
  s.close()
  s.close() // twice is fine (and teardown closes it once more)
  t.throws(() => s.request(RTM.GETLINK, ifinfomsg({ index: 1 }), 0), { message: /closed/ })
  t.throws(() => s.dump(RTM.GETLINK, ifinfomsg()), { message: /closed/ })
})

t.test('dumps stay consistent while another process changes the tables', async (t) => {
  const ns = makeNetns(t, 'nl-churn')
  const reader = rtnlIn(t, ns)
  // The churn runs in its own process (our dumps block this thread): one `ip -batch` fed by a
  // shell loop, adding and deleting bridges as fast as the kernel takes them.
  const script =
    'i=0; while :; do echo "link add churn$((i % 4)) type bridge"; echo "link del churn$(((i + 2) % 4))"; i=$((i + 1)); done' +
    ` | exec ip -n ${ns.name} -force -batch -`
  const churn = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true })
  const stopChurn = () => {
    if (churn.pid !== undefined && churn.exitCode === null && churn.signalCode === null) {
      try {
        process.kill(-churn.pid, 'SIGKILL') // the shell and ip: the group this test started
      } catch {
        // already gone
      }
    }
  }
  t.teardown(stopChurn)
  const deadline = Date.now() + 5000
  while (!reader.listLinks().some((l) => l.name.startsWith('churn')) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10))
  }

  const states = new Set<string>()
  let dumps = 0
  let gaveUp = 0
  const until = Date.now() + 500
  let whole = true
  let unique = true
  while (dumps < 50 || Date.now() < until) {
    dumps++
    let names: string[]
    try {
      names = reader.listLinks().map((l) => l.name)
    } catch (err) {
      // Interrupted DUMP_ATTEMPTS times in a row: the honest answer, not a wrong list.
      if (!NetlinkError.is(err, 'EINTR')) throw err
      gaveUp++
      continue
    }
    if (!names.includes('lo')) whole = false
    if (new Set(names).size !== names.length) unique = false
    states.add(names.filter((n) => n !== 'lo').sort().join(','))
  }
  stopChurn()
  t.ok(whole, `every one of ${dumps - gaveUp} dumps has lo`)
  t.ok(unique, 'no dump lists a link twice')
  t.ok(states.size > 1, `the tables changed under the dumps (${states.size} different link sets seen)`)
  t.ok(gaveUp < dumps / 2, `most dumps complete (${gaveUp} of ${dumps} gave up with EINTR)`)
})
