import t from 'tap'
import { NetlinkError } from '../../../lib/netlink'
import { DUMP_ATTEMPTS, type DumpState, retryInterrupted, scanDatagram } from '../../../lib/netlink/socket'
import { u16, u32 } from '../../../lib/netlink/encode'
import { makeNetns, rtnlIn } from '../../helpers/netns'

/** One nlmsghdr + payload, as the kernel would put it in a datagram. */
function nlmsg(type: number, flags: number, seq: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const len = 16 + payload.length
  const msg = Buffer.concat([u32(len), u16(type), u16(flags), u32(seq), u32(0), payload])
  return Buffer.concat([msg, Buffer.alloc(((len + 3) & ~3) - len)])
}

const RTM_NEWLINK = 16
const NLMSG_DONE = 3
const NLM_F_MULTI = 2
const NLM_F_DUMP_INTR = 0x10

t.test('scanDatagram finds NLM_F_DUMP_INTR and DONE errors for the watched sequence numbers', async (t) => {
  const a: DumpState = { interrupted: false, doneErrno: 0 }
  const b: DumpState = { interrupted: false, doneErrno: 0 }
  const watched = new Map([
    [5, a],
    [6, b],
  ])
  scanDatagram(
    Buffer.concat([
      nlmsg(RTM_NEWLINK, NLM_F_MULTI, 5, Buffer.alloc(19)), // odd length: padding is skipped
      nlmsg(RTM_NEWLINK, NLM_F_MULTI | NLM_F_DUMP_INTR, 7), // not watched
      nlmsg(NLMSG_DONE, NLM_F_MULTI, 6, u32(0xfffffff0)), // DONE carrying -16 (EBUSY)
    ]),
    watched,
  )
  t.same(a, { interrupted: false, doneErrno: 0 })
  t.same(b, { interrupted: false, doneErrno: -16 })
  // The flag often shows up only on DONE.
  scanDatagram(nlmsg(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, 5, u32(0)), watched)
  t.same(a, { interrupted: true, doneErrno: 0 })
  // Garbage does not throw.
  scanDatagram(Buffer.from([1, 2, 3]), watched)
  scanDatagram(Buffer.concat([u32(4000), Buffer.alloc(12)]), watched)
})

t.test('an interrupted dump is retried, and given up after the last attempt', async (t) => {
  let calls = 0
  const flaky = async () => {
    calls++
    return { result: `attempt ${calls}`, interrupted: calls < 3 }
  }
  t.equal(await retryInterrupted(flaky, 'RTM_GETLINK'), 'attempt 3')
  t.equal(calls, 3)

  calls = 0
  const always = async () => {
    calls++
    return { result: [], interrupted: true }
  }
  const err = await retryInterrupted(always, 'RTM_GETADDR').catch((e: unknown) => e)
  t.equal(calls, DUMP_ATTEMPTS)
  t.equal(DUMP_ATTEMPTS, 5, 'like Go netlinksafe')
  t.type(err, NetlinkError)
  t.match(err, { code: 'EINTR', op: 'RTM_GETADDR' })
  t.match((err as Error).message, /dump interrupted 5 times: results may be incomplete or inconsistent \(EINTR\)$/)
})

t.test('dumps stay consistent while another socket changes the tables', async (t) => {
  const ns = makeNetns(t, 'nl-churn')
  const reader = rtnlIn(t, ns)
  const writer = rtnlIn(t, ns)
  let stop = false
  const churn = (async () => {
    for (let i = 0; !stop; i++) {
      await writer.createBridge(`churn${i % 4}`).catch(() => undefined)
      const l = await writer.getLinkByName(`churn${(i + 2) % 4}`)
      if (l) await writer.deleteLink(l.index).catch(() => undefined)
    }
  })()
  try {
    for (let i = 0; i < 50; i++) {
      const links = await reader.listLinks()
      t.ok(links.some((l) => l.name === 'lo'), `dump ${i} is whole`)
      const names = links.map((l) => l.name)
      t.equal(new Set(names).size, names.length, 'no duplicates')
    }
  } finally {
    stop = true
    await churn
  }
})
