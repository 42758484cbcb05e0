import t from 'tap'
import { selectCniVersion } from '../../../lib/runtime/versions'
import { parseNetworkConfigList } from '../../../lib/runtime/conf'

t.test('cniVersions: the highest of the union with cniVersion, ignoring versions above 1.1.0 (case 93)', async (t) => {
  t.equal(selectCniVersion('0.4.0', ['0.3.1', '1.0.0', '9.9.9']), '1.0.0')
  t.equal(selectCniVersion('1.1.0', ['0.3.1', '1.0.0']), '1.1.0')
  t.equal(selectCniVersion('', ['0.3.1', '0.4.0']), '0.4.0', 'no cniVersion: the list alone')
  t.equal(selectCniVersion('0.3.1', ['1.1', '1.0.0']), '1.1', 'versions compare numerically; the entry is kept as written')
})

t.test('cniVersions: edge cases as libcni', async (t) => {
  t.equal(selectCniVersion('9.9.9', undefined), '9.9.9', 'without cniVersions, cniVersion as written')
  t.equal(selectCniVersion('9.9.9', []), '9.9.9', 'nothing usable: cniVersion as written')
  t.equal(selectCniVersion('9.9.9', ['2.0.0']), '9.9.9')
  t.equal(selectCniVersion('9.9.9', ['0.4.0']), '0.4.0', 'a too-new cniVersion is dropped from the union')
})

t.test('cniVersions: errors with libcni wording', async (t) => {
  t.throws(() => selectCniVersion('1.0.0', '1.0.0'), { message: 'invalid type for cniVersions: []interface {}' })
  t.throws(() => selectCniVersion('1.0.0', ['1.0.0', 3]), { message: 'invalid type for cniVersions index 1: float64' })
  t.throws(() => selectCniVersion('1.0.0', ['x.1']), { message: /^invalid cniVersions entry x\.1 at index 0: / })
  t.throws(() => selectCniVersion('bad', ['1.0.0']), { message: /^invalid cniVersion bad: / })
})

t.test('the selected version is what the list runs at', async (t) => {
  const list = parseNetworkConfigList(JSON.stringify({ cniVersion: '0.4.0', cniVersions: ['0.3.1', '1.0.0', '9.9.9'], name: 'n', plugins: [{ type: 'a' }] }))
  t.equal(list.cniVersion, '1.0.0')
  t.throws(() => parseNetworkConfigList('{"name":"n","cniVersions":[true],"plugins":[{"type":"a"}]}'), {
    message: 'error parsing configuration list: invalid type for cniVersions index 0: bool',
  })
})
