// Go's encoding/json struct rules (lib/json/go-struct.ts): case-insensitive keys, the last duplicate
// wins, null is unset, objects under one field merge, arrays of shapes, unknown keys dropped or kept,
// no type checking. The folding case marked "reference" was checked against the Go host-local (Go 1.19):
// "ſubnet" sets the subnet, "dataDır" and "dataDİr" set nothing; the Kelvin sign is Go 1.19's equalFoldRight.
import t from 'tap'
import { decodeGoStruct, GO_ANY, type GoShape, goField, goFoldKey } from '../../../lib/json/go-struct'

const PORT_MAPPING: GoShape = { fields: { hostPort: GO_ANY, containerPort: GO_ANY, protocol: GO_ANY, hostIP: GO_ANY } }
const RUNTIME: GoShape = { fields: { runtimeConfig: { fields: { portMappings: { items: PORT_MAPPING } } } } }

t.test('keys match the canonical names case-insensitively and come out canonical', async (t) => {
  const shape: GoShape = { fields: { dataDir: GO_ANY, ipam: { fields: { type: GO_ANY } } } }
  t.strictSame(decodeGoStruct({ DATADIR: '/a', IPAM: { Type: 'x' } }, shape), { dataDir: '/a', ipam: { type: 'x' } })
  t.strictSame(decodeGoStruct({ datadir: '/a' }, shape), { dataDir: '/a' })
  t.strictSame(decodeGoStruct({ dataDir: '/a' }, shape), { dataDir: '/a' })
})

t.test('Go 1.19 folding: the Kelvin sign is k, long s is s, nothing else non-ASCII (reference)', async (t) => {
  const shape: GoShape = { fields: { subnet: GO_ANY, kind: GO_ANY, dataDir: GO_ANY } }
  t.strictSame(decodeGoStruct({ '\u017fubnet': 'a', '\u212aind': 'b' }, shape), { subnet: 'a', kind: 'b' })
  // dotless i and dotted capital I do not fold to i in Go 1.19's equalFold.
  t.strictSame(decodeGoStruct({ 'dataD\u0131r': 'a', 'DATAD\u0130R': 'b' }, shape), {})
  t.equal(goFoldKey('Sub\u017fNET'), 'subsnet')
  t.equal(goFoldKey('cni.dev/Valid-Attachments'), 'cni.dev/valid-attachments')
})

t.test('the last matching key wins', async (t) => {
  const shape: GoShape = { fields: { bridge: GO_ANY, mtu: GO_ANY } }
  t.strictSame(decodeGoStruct({ BRIDGE: 'a', mtu: 1, Bridge: 'b', MTU: 2 }, shape), { bridge: 'b', mtu: 2 })
  t.strictSame(decodeGoStruct({ bridge: 'a', BRIDGE: ['x'] }, shape), { bridge: ['x'] }, 'a later value of another type replaces')
})

t.test('null means not set, also after an earlier value; nullAs says what null stands for', async (t) => {
  const shape: GoShape = {
    fields: { a: GO_ANY, b: { fields: { c: GO_ANY } }, list: { nullAs: () => [] }, items: { items: { nullAs: () => '' } } },
  }
  t.strictSame(decodeGoStruct({ a: null, b: null }, shape), {})
  t.strictSame(decodeGoStruct({ a: 1, A: null }, shape), {}, 'a later null unsets')
  t.strictSame(decodeGoStruct({ A: null, a: 1 }, shape), { a: 1 }, 'a later value sets again')
  t.strictSame(decodeGoStruct({ b: { c: null } }, shape), { b: {} })
  t.strictSame(decodeGoStruct({ list: null }, shape), { list: [] })
  t.strictSame(decodeGoStruct({ items: [null, 'x'] }, shape), { items: ['', 'x'] })
  t.strictSame(decodeGoStruct({ b: { c: [null] } }, shape), { b: { c: [null] } }, 'nulls inside an opaque value are left alone')
  const shared: GoShape = { items: { nullAs: () => ({}) } }
  const out = decodeGoStruct([null, null], shared) as object[]
  t.not(out[0], out[1], 'nullAs is called once per null')
  t.equal(decodeGoStruct(null, GO_ANY), null, 'a null value itself stays null')
  t.strictSame(decodeGoStruct(null, { nullAs: () => [] }), [])
})

t.test('objects under one field merge, as Go decodes into the struct it already filled', async (t) => {
  const shape: GoShape = {
    fields: { ipam: { fields: { type: GO_ANY, subnet: GO_ANY, ranges: GO_ANY, inner: { fields: { x: GO_ANY, y: GO_ANY } } } } },
  }
  t.strictSame(decodeGoStruct({ ipam: { type: 'host-local', inner: { x: 1 } }, IPAM: { Subnet: '10.0.0.0/24', INNER: { y: 2 } } }, shape), {
    ipam: { type: 'host-local', subnet: '10.0.0.0/24', inner: { x: 1, y: 2 } },
  })
  t.strictSame(decodeGoStruct({ ipam: { type: 'a' }, Ipam: { TYPE: 'b' } }, shape), { ipam: { type: 'b' } }, 'the later field wins inside')
  t.strictSame(decodeGoStruct({ ipam: { type: 'a' }, IPAM: null, ipaM: { subnet: 's' } }, shape), { ipam: { subnet: 's' } }, 'null in between resets')
  t.strictSame(decodeGoStruct({ ipam: 'x', IPAM: { type: 'a' } }, shape), { ipam: { type: 'a' } }, 'no merge into a non-object')
  t.strictSame(decodeGoStruct({ ipam: { type: 'a' }, IPAM: 5 }, shape), { ipam: 5 }, 'a non-object replaces')
  t.strictSame(decodeGoStruct({ ipam: { ranges: [1, 2] }, IPAM: { ranges: [3] } }, shape), { ipam: { ranges: [3] } }, 'arrays replace')
  const opaque: GoShape = { fields: { prevResult: GO_ANY } }
  t.strictSame(decodeGoStruct({ prevResult: { a: 1 }, PrevResult: { b: 2 } }, opaque), { prevResult: { b: 2 } }, 'opaque objects replace')
})

t.test('arrays of a shape: containerd port mappings', async (t) => {
  const conf = {
    RuntimeConfig: {
      PortMappings: [
        { HostPort: 8080, containerPort: 80, PROTOCOL: 'tcp', HostIP: '' },
        { hostPort: 53, ContainerPort: 53, Protocol: 'udp', Extra: true },
        null,
        'junk',
      ],
    },
  }
  t.strictSame(decodeGoStruct(conf, RUNTIME), {
    runtimeConfig: {
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' },
        { hostPort: 53, containerPort: 53, protocol: 'udp' },
        null,
        'junk',
      ],
    },
  })
})

t.test('unknown keys: dropped by default, kept as written with unknownKeys: keep', async (t) => {
  const shape: GoShape = { fields: { ipam: { fields: { type: GO_ANY } }, list: { items: { fields: { id: GO_ANY } } } } }
  const conf = { Foo: 1, ipam: { TYPE: 'x', Subnet: 's', nul: null }, list: [{ ID: 1, Other: [1] }], bar: null }
  t.strictSame(decodeGoStruct(conf, shape), { ipam: { type: 'x' }, list: [{ id: 1 }] })
  t.strictSame(decodeGoStruct(conf, shape, { unknownKeys: 'drop' }), { ipam: { type: 'x' }, list: [{ id: 1 }] })
  t.strictSame(decodeGoStruct(conf, shape, { unknownKeys: 'keep' }), {
    Foo: 1,
    ipam: { type: 'x', Subnet: 's', nul: null },
    list: [{ id: 1, Other: [1] }],
    bar: null,
  })
  t.strictSame(decodeGoStruct({ foo: 1, FOO: 2 }, shape, { unknownKeys: 'keep' }), { foo: 1, FOO: 2 }, 'unknown keys are not folded')
  t.strictSame(
    decodeGoStruct({ ipam: { a: 1 }, IPAM: { b: 2, type: 't' } }, shape, { unknownKeys: 'keep' }),
    { ipam: { a: 1, b: 2, type: 't' } },
    'kept keys merge too',
  )
})

t.test('a kept __proto__ key stays an own key and never becomes the prototype', async (t) => {
  const conf = JSON.parse('{"__proto__":{"bridge":"evil"},"name":"n"}')
  const out = decodeGoStruct(conf, { fields: { bridge: GO_ANY, name: GO_ANY } }, { unknownKeys: 'keep' }) as Record<string, unknown>
  t.equal(Object.getPrototypeOf(out), Object.prototype)
  t.equal(out.bridge, undefined)
  t.ok(Object.prototype.hasOwnProperty.call(out, '__proto__'))
  t.strictSame(Object.keys(out), ['__proto__', 'name'])
})

t.test('types are not checked: a wrong type passes through for the schema to name', async (t) => {
  const shape: GoShape = { fields: { mtu: GO_ANY, ipam: { fields: { type: GO_ANY } }, ranges: { items: { items: { fields: { subnet: GO_ANY } } } } } }
  t.strictSame(decodeGoStruct({ MTU: '1500', IPAM: 'host-local', Ranges: { subnet: 'x' } }, shape), {
    mtu: '1500',
    ipam: 'host-local',
    ranges: { subnet: 'x' },
  })
  t.strictSame(decodeGoStruct({ ranges: ['a', [5, { SUBNET: 1 }]] }, shape), { ranges: ['a', [5, { subnet: 1 }]] })
  t.equal(decodeGoStruct('text', shape), 'text')
  t.strictSame(decodeGoStruct([1], shape), [1])
})

t.test('the input is never modified', async (t) => {
  const conf = { IPAM: { Type: 'a', x: 1 }, ipam: { subnet: 's' }, list: [{ ID: 1 }] }
  const copy = JSON.parse(JSON.stringify(conf))
  const shape: GoShape = { fields: { ipam: { fields: { type: GO_ANY, subnet: GO_ANY } }, list: { items: { fields: { id: GO_ANY } } } } }
  decodeGoStruct(conf, shape)
  decodeGoStruct(conf, shape, { unknownKeys: 'keep' })
  t.strictSame(conf, copy)
})

t.test('goField: one field of a Go struct, case-insensitive, last wins, null unset', async (t) => {
  t.equal(goField({ Code: 5, msg: 'x' }, 'code'), 5)
  t.equal(goField({ code: 1, CODE: 2, Code: 3 }, 'code'), 3)
  t.equal(goField({ code: 1, CODE: null }, 'code'), undefined, 'a last null is not set')
  t.equal(goField({ CODE: null, code: 4 }, 'code'), 4)
  t.equal(goField({ other: 1 }, 'code'), undefined)
  t.equal(goField({ '\u212aind': 'cniCacheV1' }, 'kind'), 'cniCacheV1')
  const obj = { a: 1 }
  t.equal(goField({ Result: { a: 0 }, result: obj }, 'result'), obj, 'the last object as it is: no merge, no copy')
  t.equal(goField({ Result: { a: 0 } }, 'cniVersion'), undefined)
})

t.test('goField reads like decodeGoStruct with that one field', async (t) => {
  const cases: Record<string, unknown>[] = [{ a: 1 }, { A: 1, a: 2 }, { a: 1, A: null }, { a: null, A: 'x' }, { b: 1 }, { a: [1], A: { x: 1 } }]
  for (const obj of cases) {
    const viaShape = (decodeGoStruct(obj, { fields: { a: GO_ANY } }) as Record<string, unknown>).a
    t.strictSame(goField(obj, 'a'), viaShape, JSON.stringify(obj))
  }
})
