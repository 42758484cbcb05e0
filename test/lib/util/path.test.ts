import * as path from 'node:path'
import t from 'tap'
import { joinPath, normalizePath } from '../../../lib/util/path'

const SAMPLES = [
  '', '.', '..', '/', '//', '///a//b/', 'a', 'a/', 'a/b', 'a/./b', 'a/../b', '../a', '../../a/b/..', '/..', '/../a',
  '/a/b/../../..', 'a/b/../../..', './', './a', 'a/.', 'a/..', '/a/./b/./', 'a//b//', '/var/lib/cni/networks/',
  '.tscni', 'a/.b', 'a/..b/c', '...', 'a/.../b', '/a/b/c/../../d/./e/',
]

t.test('normalizePath is path.posix.normalize', async (t) => {
  for (const s of SAMPLES) t.equal(normalizePath(s), path.posix.normalize(s), JSON.stringify(s))
})

t.test('joinPath is path.posix.join', async (t) => {
  for (const a of SAMPLES) {
    for (const b of ['', 'x', '/x', '../x', 'x/', '.', '..', 'last_reserved_ip.0', '10.1.2.3']) {
      t.equal(joinPath(a, b), path.posix.join(a, b), `${JSON.stringify(a)} + ${JSON.stringify(b)}`)
    }
  }
  t.equal(joinPath('/var/lib/cni/networks', 'mynet', 'lock'), path.posix.join('/var/lib/cni/networks', 'mynet', 'lock'))
  t.equal(joinPath(), path.posix.join())
})
