// Go's encoding/json messages for malformed configs, checked against the Go reference plugin itself
// (its skel prints `error unmarshall network config: <Go's error>`), and without it against texts
// recorded from it.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import t from 'tap'
import { goSyntaxError } from '../../../lib/json/go-syntax'

const REF = '/usr/lib/cni/host-local'

const BAD = [
  '', ' ', '{', '{"a"', '{"a":', '{"a":1', '{"a":1,', '[', '[1', '[1,', '"abc', '{"a":tru}', '{"a":fals}',
  '{"a":nul}', '{"a":1}x', '{"a":1} }', '{a:1}', '{"a" 1}', '{"a":1 "b":2}', '[1 2]', '{"a":-}', '{"a":01}',
  '{"a":1.}', '{"a":1e}', '{"a":1e+}', '{"a":"\\x"}', '{"a":"\\u12g4"}', '{"a":"a\nb"}', '{"a":"\t"}',
  "{'a':1}", '{"a":+1}', '{"a":.5}', '{"a":\u0001}', '{"a":\u007f}', '{"a":\u00e9}', '{"a":[1,]}', '{,}',
  '{"a":1,}', 'nul', 'truex', '\u0000', 'tru', 'n', '-', '1.', '1e', '1e+', '"a\\', '"\\u12', '"abc', '{"a":"\\', '[tr',
]

t.test('syntax errors read like Go\'s, as the reference prints them', { skip: fs.existsSync(REF) ? false : 'no reference plugin' }, async (t) => {
  for (const input of BAD) {
    const r = spawnSync(REF, [], { input, encoding: 'utf8', env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' } })
    const msg = (JSON.parse(r.stdout) as { msg: string }).msg
    t.equal(`error unmarshall network config: ${goSyntaxError(input)}`, msg, JSON.stringify(input))
  }
})

t.test('well-formed JSON has no syntax error', async (t) => {
  for (const ok of ['{}', ' {"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"]} ', '[]', '"s"', '0', '-0.1E2']) {
    t.equal(goSyntaxError(ok), undefined, ok)
  }
})

t.test('recorded texts', async (t) => {
  t.equal(goSyntaxError(''), 'unexpected end of JSON input')
  t.equal(goSyntaxError('{"a":1}x'), "invalid character 'x' after top-level value")
  t.equal(goSyntaxError('{a:1}'), "invalid character 'a' looking for beginning of object key string")
})
