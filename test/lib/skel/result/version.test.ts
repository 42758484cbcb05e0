import t from 'tap'
import { compareVersions, isSupportedVersion, SUPPORTED_VERSIONS, versionFamily } from '../../../../lib/skel/result'

t.test('SUPPORTED_VERSIONS lists every spec version oldest first', async (t) => {
  t.same([...SUPPORTED_VERSIONS], ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])
})

t.test('isSupportedVersion wants an exact listed version', async (t) => {
  for (const v of SUPPORTED_VERSIONS) t.ok(isSupportedVersion(v), v)
  for (const v of ['', '1.1', '1.1.0 ', '0.5.0', '9.9.9', '1.2.0', 'v1.0.0']) t.notOk(isSupportedVersion(v), JSON.stringify(v))
})

t.test('versionFamily maps each version to its result shape', async (t) => {
  const expected = {
    '': '020',
    '0.1.0': '020',
    '0.2.0': '020',
    '0.3.0': '040',
    '0.3.1': '040',
    '0.4.0': '040',
    '1.0.0': '100',
    '1.1.0': '100',
  }
  for (const [v, family] of Object.entries(expected)) t.equal(versionFamily(v), family, JSON.stringify(v))
})

t.test('versionFamily refuses versions it has no shape for', async (t) => {
  t.throws(() => versionFamily('9.9.9'), { message: 'unsupported CNI result version "9.9.9"' })
  t.throws(() => versionFamily('1.1'), { message: 'unsupported CNI result version "1.1"' })
  t.throws(() => versionFamily('0.5.0'), { message: 'unsupported CNI result version "0.5.0"' })
})

t.test('compareVersions orders the supported versions as listed', async (t) => {
  SUPPORTED_VERSIONS.forEach((a, i) => {
    SUPPORTED_VERSIONS.forEach((b, j) => {
      t.equal(compareVersions(a, b), Math.sign(i - j), `${a} vs ${b}`)
    })
  })
})

t.test('compareVersions compares numerically, like the reference ParseVersion', async (t) => {
  t.equal(compareVersions('0.10.0', '0.9.0'), 1, 'parts are numbers, not text')
  t.equal(compareVersions('1.1', '1.1.0'), 0, 'missing parts are 0')
  t.equal(compareVersions('1', '1.0.0'), 0)
  t.equal(compareVersions('', '0.1.0'), 0, "'' means 0.1.0")
  t.equal(compareVersions('', '0.2.0'), -1)
  t.equal(compareVersions('2.0.0', '1.99.99'), 1)
})

t.test('compareVersions throws a clear error for unparsable versions', async (t) => {
  t.throws(() => compareVersions('1.2.3.4', '1.0.0'), { message: 'invalid version "1.2.3.4": too many parts' })
  // libcni's texts (version.ParseVersion on strconv.Atoi), which reach runtimes' messages.
  t.throws(() => compareVersions('1.0.0', 'a.b.c'), { message: 'failed to convert major version part "a": strconv.Atoi: parsing "a": invalid syntax' })
  t.throws(() => compareVersions('1..0', '1.0.0'), { message: 'failed to convert minor version part "": strconv.Atoi: parsing "": invalid syntax' })
  t.throws(() => compareVersions('1.0.x', '1.0.0'), { message: 'failed to convert micro version part "x": strconv.Atoi: parsing "x": invalid syntax' })
  t.equal(compareVersions('+1.0.0', '1.0.0'), 0, 'Atoi accepts a sign')
  t.throws(() => compareVersions('v1.0.0', '1.0.0'), /major version part "v1"/)
})
