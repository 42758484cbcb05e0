import t from 'tap'
import { GoRaw, goMarshal, goMarshalStruct, goQuote, goTypeName } from '../../../lib/runtime/go-json'

t.test('goMarshal: compact, map keys sorted at every level, like Go maps', async (t) => {
  t.equal(goMarshal({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null }, A: true }), '{"A":true,"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}')
  t.equal(goMarshal([]), '[]')
  t.equal(goMarshal({}), '{}')
  t.equal(goMarshal({ u: undefined, x: 1 }), '{"x":1}', 'undefined is left out')
})

t.test('goMarshal: Go escapes <, >, & and U+2028/U+2029 in strings', async (t) => {
  t.equal(goMarshal({ 'k<': 'a <b> & c\u2028\u2029' }), '{"k\\u003c":"a \\u003cb\\u003e \\u0026 c\\u2028\\u2029"}')
  t.equal(goMarshal('tab\tnl\n"q"\\'), '"tab\\tnl\\n\\"q\\"\\\\"')
})

t.test('goMarshal: numbers print as Go prints float64', async (t) => {
  t.equal(goMarshal([1, 1.5, 1e21, 1.5e-7, 123456789012, -0.25]), '[1,1.5,1e+21,1.5e-7,123456789012,-0.25]')
  t.throws(() => goMarshal(Number.NaN))
})

t.test('goMarshalStruct keeps field order; GoRaw is embedded as it is', async (t) => {
  t.equal(goMarshalStruct({ z: 1, a: { y: 1, x: 2 }, m: undefined }), '{"z":1,"a":{"x":2,"y":1}}')
  t.equal(goMarshal({ b: new GoRaw('{"z":1,"a":2}'), a: 0 }), '{"a":0,"b":{"z":1,"a":2}}')
})

t.test('goQuote and goTypeName match Go %q and %T', async (t) => {
  t.equal(goQuote('boom'), '"boom"')
  t.equal(goQuote('a "b"\n\t\x01'), '"a \\"b\\"\\n\\t\\x01"')
  t.same([null, 's', 1, true, [], {}].map(goTypeName), ['<nil>', 'string', 'float64', 'bool', '[]interface {}', 'map[string]interface {}'])
})
