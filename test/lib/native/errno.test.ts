import * as os from 'node:os'
import t from 'tap'
import { errnoName, errnoOf } from '../../../lib/native/errno'

t.test('the static errno table agrees with Node\'s', async (t) => {
  const table = os.constants.errno as Record<string, number>
  for (const [name, n] of Object.entries(table)) {
    // Aliases: the kernel and Go name these numbers EAGAIN, EDEADLK and EOPNOTSUPP.
    if (name === 'EWOULDBLOCK' || name === 'EDEADLOCK' || name === 'ENOTSUP') continue
    t.equal(errnoName(n), name, `${n}`)
    t.equal(errnoOf(name), n, name)
  }
  t.equal(errnoOf('EWOULDBLOCK'), 11)
  t.equal(errnoName(-17), 'EEXIST', 'negative numbers too')
  t.equal(errnoName(9999), 'E9999')
  t.equal(errnoOf('ENOPE'), undefined)
})
