// ipam.resolvConf -> the result's dns, parsed line by line as the reference does.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { parseResolvConf } from '../../../plugins/host-local/dns'
import { tmpDir } from '../../helpers/host-local'

t.test('parses nameserver, domain, search and options like the reference', async (t) => {
  const file = path.join(tmpDir(t, 'dns'), 'resolv.conf')
  fs.writeFileSync(
    file,
    [
      '# a comment',
      '; another',
      '',
      'nameserver 1.1.1.1',
      '  nameserver\t8.8.8.8   extra  ',
      'nameserver',
      'domain a.example',
      'domain b.example',
      'search x.example y.example',
      'options ndots:2 rotate',
      'search z.example\r',
      'sortlist 10.0.0.0',
      'nameserver not-an-address',
      '#nameserver 9.9.9.9',
    ].join('\n'),
  )
  t.same(parseResolvConf(file), {
    nameservers: ['1.1.1.1', '8.8.8.8', 'not-an-address'],
    domain: 'b.example',
    search: ['x.example', 'y.example', 'z.example'],
    options: ['ndots:2', 'rotate'],
  })
})

t.test('an empty file gives an empty dns', async (t) => {
  const file = path.join(tmpDir(t, 'dns'), 'empty')
  fs.writeFileSync(file, '')
  t.same(parseResolvConf(file), {})
})

t.test('errors are worded like Go', async (t) => {
  const dir = tmpDir(t, 'dns')
  t.throws(() => parseResolvConf(path.join(dir, 'missing')), { message: `open ${path.join(dir, 'missing')}: no such file or directory` })
  t.throws(() => parseResolvConf(dir), { message: `read ${dir}: is a directory` })
  const long = path.join(dir, 'long')
  fs.writeFileSync(long, `nameserver ${'x'.repeat(70000)}\n`)
  t.throws(() => parseResolvConf(long), { message: 'bufio.Scanner: token too long' })
})
