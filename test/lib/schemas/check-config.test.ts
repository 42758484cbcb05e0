import t from 'tap'
import { checkConfig, fieldName } from '../../../lib/schemas/check-config'
import { CniError } from '../../../lib/skel/errors'
import validateNetconf from '../../../lib/schemas/generated/netconf'
import validateLoopback from '../../../lib/schemas/generated/loopback'

t.test('fieldName writes JSON pointers the way people write fields', async (t) => {
  t.equal(fieldName(''), '')
  t.equal(fieldName('/mtu'), 'mtu')
  t.equal(fieldName('/ipam/ranges/0/1/subnet'), 'ipam.ranges[0][1].subnet')
  t.equal(fieldName('/capabilities/a~1b'), 'capabilities.a/b')
})

t.test('a valid config passes through unchanged', async (t) => {
  const conf = {
    cniVersion: '1.1.0', name: 'n', type: 'loopback', unknownField: { kept: true },
    dns: { nameservers: ['10.0.0.1'], search: null }, capabilities: { ips: true },
  }
  t.equal(checkConfig(validateNetconf, conf), conf)
  t.equal(checkConfig(validateLoopback, conf), conf, 'unknown fields are allowed: runtimes add their own')
})

t.test('a wrong type is code 7 and names the field and what was expected', async (t) => {
  const cases: Array<[object, string]> = [
    [{ name: 'n', ipam: { type: 5 } }, 'failed to load netconf: "ipam.type" must be string'],
    [{ name: 'n', dns: { nameservers: ['a', 1] } }, 'failed to load netconf: "dns.nameservers[1]" must be string'],
    [{ name: 'n', capabilities: { ips: 'yes' } }, 'failed to load netconf: "capabilities.ips" must be boolean'],
    [{ name: 'n', ipMasq: 'true' }, 'failed to load netconf: "ipMasq" must be boolean'],
  ]
  for (const [conf, msg] of cases) {
    t.throws(() => checkConfig(validateLoopback, conf), new CniError(7, msg), msg)
  }
  t.throws(() => checkConfig(validateNetconf, []), { code: 7, msg: 'failed to load netconf: network config must be object' })
})
