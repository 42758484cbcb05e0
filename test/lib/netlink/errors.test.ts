import t from 'tap'
import { NetlinkError, errnoName, errnoText } from '../../../lib/netlink'
import { errnoNumber, toNetlinkError } from '../../../lib/netlink/errors'

t.test('errno names and texts', async (t) => {
  t.equal(errnoName(-17), 'EEXIST')
  t.equal(errnoName(17), 'EEXIST')
  t.equal(errnoName(-19), 'ENODEV')
  t.equal(errnoName(-95), 'EOPNOTSUPP', 'not ENOTSUP')
  t.equal(errnoName(-11), 'EAGAIN', 'not EWOULDBLOCK')
  t.equal(errnoName(-3), 'ESRCH')
  t.equal(errnoName(-99), 'EADDRNOTAVAIL')
  t.equal(errnoName(-9999), 'E9999')
  t.equal(errnoText(-17), 'file exists')
  t.equal(errnoText(-95), 'operation not supported')
  t.equal(errnoText(-101), 'network is unreachable')
  t.type(errnoText(-9999), 'string')
  t.equal(errnoNumber('EEXIST'), -17)
  t.throws(() => errnoNumber('ENOPE'), TypeError)
})

t.test('NetlinkError', async (t) => {
  const e = new NetlinkError(-17, 'RTM_NEWLINK', '"br0"')
  t.type(e, Error)
  t.match(e, { name: 'NetlinkError', code: 'EEXIST', errno: -17, op: 'RTM_NEWLINK', object: '"br0"', reason: 'file exists' })
  t.equal(e.message, 'RTM_NEWLINK "br0": file exists (EEXIST)')
  t.equal(new NetlinkError(19, 'RTM_GETLINK').message, 'RTM_GETLINK: no such device (ENODEV)', 'no object; positive errno accepted')
  t.equal(new NetlinkError(19, 'RTM_GETLINK').errno, -19)
  t.equal(new NetlinkError(4, 'RTM_GETLINK', undefined, 'custom').message, 'RTM_GETLINK: custom (EINTR)')
  t.ok(NetlinkError.is(e))
  t.ok(NetlinkError.is(e, 'ENODEV', 'EEXIST'))
  t.notOk(NetlinkError.is(e, 'ENODEV'))
  t.notOk(NetlinkError.is(new Error('x')))
  t.notOk(NetlinkError.is(undefined))
})

t.test('toNetlinkError maps what the syscall layer throws', async (t) => {
  // The addon and bun:ffi throw like Node's system errors: .code (name), .errno (negative), .syscall.
  const sysErr = Object.assign(new Error('send: No buffer space available'), { errno: -105, code: 'ENOBUFS', syscall: 'send' })
  const mapped = toNetlinkError(sysErr, 'RTM_GETLINK', 'link 3')
  t.type(mapped, NetlinkError)
  t.match(mapped, { code: 'ENOBUFS', errno: -105, op: 'RTM_GETLINK', object: 'link 3' })
  t.equal((mapped as Error).message, 'RTM_GETLINK link 3: no buffer space available (ENOBUFS)')
  t.match(toNetlinkError(Object.assign(new Error('x'), { errno: 9 }), 'RTM_GETLINK'), { code: 'EBADF', errno: -9 }, 'a positive errno too')
  const codeOnly = Object.assign(new Error('x'), { code: 'EPERM' })
  t.match(toNetlinkError(codeOnly, 'RTM_SETLINK'), { code: 'EPERM', errno: -1 })
  const other = new Error('Multipart message not terminated properly')
  t.equal(toNetlinkError(other, 'RTM_GETLINK'), other, 'anything else passes through')
  const notErrno = Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })
  t.equal(toNetlinkError(notErrno, 'RTM_GETLINK'), notErrno, 'a Node error code that is no errno passes through')
  t.equal(toNetlinkError('str', 'RTM_GETLINK'), 'str')
  const already = new NetlinkError(-17, 'RTM_NEWLINK')
  t.equal(toNetlinkError(already, 'RTM_SETLINK'), already)
})
