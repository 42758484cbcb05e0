import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { NetnsNotFoundError, NotNetnsError, checkNetnsPath, openNetns, withNetnsPathSync } from '../../../lib/ns'
import { makeNetns } from '../../helpers/netns'

/** Inode of the network namespace the calling (main) thread is in. */
const currentNetnsIno = (): number => fs.statSync('/proc/thread-self/ns/net').ino

const openFds = (): number => fs.readdirSync('/proc/self/fd').length

t.test('a missing path is NetnsNotFoundError (ENOENT)', async (t) => {
  const missing = path.join(os.tmpdir(), `tscni-no-such-netns-${process.pid}`)
  t.throws(() => checkNetnsPath(missing), NetnsNotFoundError)
  const err = (() => {
    try {
      openNetns(missing)
    } catch (e) {
      return e
    }
  })() as NetnsNotFoundError
  t.type(err, NetnsNotFoundError)
  t.equal(err.code, 'ENOENT')
  t.equal(err.nsPath, missing)
  t.equal(err.message, `failed to Statfs "${missing}": no such file or directory`)
})

t.test('a regular file or a directory is NotNetnsError', async (t) => {
  const dir = t.testdir({ 'plain-file': 'not a namespace' })
  const file = path.join(dir, 'plain-file')
  t.throws(() => checkNetnsPath(file), NotNetnsError)
  t.throws(() => openNetns(file), NotNetnsError)
  t.throws(() => openNetns(dir), NotNetnsError)
  try {
    openNetns(file)
  } catch (e) {
    t.match((e as Error).message, /^unknown FS magic on ".*plain-file": [0-9a-f]+$/)
    t.equal((e as NotNetnsError).nsPath, file)
  }
})

t.test('namespace files pass the check: bind mounts (nsfs) and /proc/<pid>/ns/net', async (t) => {
  const ns = makeNetns(t, 'ns-check')
  t.doesNotThrow(() => checkNetnsPath(ns.path))
  t.doesNotThrow(() => checkNetnsPath('/proc/self/ns/net'))
  t.doesNotThrow(() => checkNetnsPath(`/proc/${process.pid}/ns/net`))
})

t.test('runSync enters the namespace and comes back', async (t) => {
  const target = makeNetns(t, 'ns-run')
  const outside = currentNetnsIno()
  const targetIno = fs.statSync(target.path).ino
  t.not(targetIno, outside, 'the test namespace is not the one we run in')

  const ns = openNetns(target.path)
  t.teardown(() => ns.close())
  const inside = ns.runSync(() => currentNetnsIno())
  t.equal(inside, targetIno, 'inside: the thread is in the target namespace')
  t.equal(currentNetnsIno(), outside, 'after: back in the original namespace')

  // Namespace-local files read synchronously inside the window see the target's view.
  const ifaces = ns.runSync(() => fs.readdirSync('/proc/sys/net/ipv4/conf'))
  t.same(ifaces.sort(), ['all', 'default', 'lo'], 'a fresh namespace only has lo')

  t.equal(
    ns.runSync(() => 42),
    42,
    'returns what fn returns',
  )
})

t.test('runSync switches back after a throw', async (t) => {
  const target = makeNetns(t, 'ns-throw')
  const outside = currentNetnsIno()
  const ns = openNetns(target.path)
  t.teardown(() => ns.close())
  const boom = new Error('boom')
  let seenInside = 0
  t.throws(
    () =>
      ns.runSync(() => {
        seenInside = currentNetnsIno()
        throw boom
      }),
    boom,
    'the error from fn propagates unchanged',
  )
  t.equal(seenInside, fs.statSync(target.path).ino, 'fn did run inside')
  t.equal(currentNetnsIno(), outside, 'and the thread is back outside')
  // Still usable afterwards.
  t.equal(
    ns.runSync(() => currentNetnsIno()),
    seenInside,
  )
  t.equal(currentNetnsIno(), outside)
})

t.test('withNetnsPathSync opens, enters, leaves and closes', async (t) => {
  const target = makeNetns(t, 'ns-with')
  const outside = currentNetnsIno()
  const fdsBefore = openFds()
  t.equal(
    withNetnsPathSync(target.path, () => currentNetnsIno()),
    fs.statSync(target.path).ino,
  )
  t.equal(currentNetnsIno(), outside)
  t.equal(openFds(), fdsBefore, 'no fd left open')
  t.throws(() => withNetnsPathSync(target.path, () => {
    throw new Error('inner')
  }), /inner/)
  t.equal(currentNetnsIno(), outside)
  t.equal(openFds(), fdsBefore, 'no fd left open after a throw')
  t.throws(() => withNetnsPathSync('/nonexistent/netns', () => 1), NetnsNotFoundError)
})

t.test('close() is idempotent and releases the fd', async (t) => {
  const target = makeNetns(t, 'ns-close')
  const before = openFds()
  const ns = openNetns(target.path)
  t.equal(openFds(), before + 1)
  ns.close()
  ns.close()
  t.equal(openFds(), before)
})
