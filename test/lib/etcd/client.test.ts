// The etcd client under Node, without an etcd (etcd-ipam's tests run it against real members).
import t from 'tap'
import { EtcdClient, EtcdUnavailableError, prefixEnd } from '../../../lib/etcd/client'

t.test('prefixEnd is the first key after the prefix', async (t) => {
  t.equal(prefixEnd('/a/b/'), '/a/b0')
  t.equal(prefixEnd('ab'), 'ac')
})

t.test('an unreachable endpoint is EtcdUnavailableError naming it', async (t) => {
  const c = new EtcdClient({ endpoints: ['http://127.0.0.1:23899'], requestTimeoutMs: 1000, totalTimeoutMs: 2000 })
  await t.rejects(c.range('/x'), EtcdUnavailableError)
  await t.rejects(c.range('/x'), /http:\/\/127\.0\.0\.1:23899: /)
})
