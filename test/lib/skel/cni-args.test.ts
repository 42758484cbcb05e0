import t from 'tap'
import { parseArgBool, parseCniArgs } from '../../../lib/skel/cni-args'

const ip = (v: string): string => {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(v)) throw new Error(`invalid IP address ${v}`)
  return v
}

t.test('known keys are parsed, empty input is empty', async (t) => {
  t.same(parseCniArgs('', { IP: ip }), {})
  t.same(parseCniArgs('IP=10.1.2.3', { IP: ip }), { IP: '10.1.2.3' })
})

t.test('unknown keys fail unless IgnoreUnknown', async (t) => {
  t.throws(() => parseCniArgs('FOO=bar', { IP: ip }), { message: 'ARGS: unknown args ["FOO=bar"]' })
  t.throws(() => parseCniArgs('FOO=bar;X=y', {}), { message: 'ARGS: unknown args ["FOO=bar" "X=y"]' })
  t.throws(() => parseCniArgs('ip=10.1.2.3', { IP: ip }), { message: 'ARGS: unknown args ["ip=10.1.2.3"]' },
    'keys are case-sensitive')
  for (const v of ['1', 'true', 'True', 'TRUE']) {
    t.same(parseCniArgs(`IgnoreUnknown=${v};FOO=bar;IP=10.0.0.9`, { IP: ip }), { IP: '10.0.0.9' }, v)
  }
  t.same(parseCniArgs('FOO=bar;IgnoreUnknown=1', {}), {}, 'IgnoreUnknown counts wherever it stands')
  t.throws(() => parseCniArgs('IgnoreUnknown=0;FOO=bar', {}), { message: 'ARGS: unknown args ["FOO=bar"]' })
})

t.test('malformed pairs and values', async (t) => {
  t.throws(() => parseCniArgs('FOO', {}), { message: 'ARGS: invalid pair "FOO"' })
  t.throws(() => parseCniArgs('A=1;', { A: String }), { message: 'ARGS: invalid pair ""' })
  t.throws(() => parseCniArgs('A=b=c', { A: String }), { message: 'ARGS: invalid pair "A=b=c"' })
  t.throws(() => parseCniArgs('IP=garbage', { IP: ip }), {
    message: 'ARGS: error parsing value of pair "IP=garbage": invalid IP address garbage',
  })
  t.throws(() => parseCniArgs('IgnoreUnknown=yes', {}), {
    message: 'ARGS: error parsing value of pair "IgnoreUnknown=yes": boolean unmarshal error: invalid input yes',
  })
})

t.test('parseArgBool', async (t) => {
  t.equal(parseArgBool('FALSE'), false)
  t.equal(parseArgBool('0'), false)
  t.throws(() => parseArgBool(''))
})
