import t from 'tap'
import {
  convertResult,
  parsePrevResult,
  parseResult,
  SUPPORTED_VERSIONS,
  versionFamily,
  type Result,
} from '../../../../lib/skel/result'

// A dual-stack result that every version can hold without loss (no interfaces, one IP per
// family, one route per family): converting it between any two versions must give exactly
// the target version's form of the same data.
function sameDataIn(version: string): object {
  switch (versionFamily(version)) {
    case '100':
      return {
        cniVersion: version,
        ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }, { address: 'fd00::5/64' }],
        routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0', gw: 'fd00::1' }],
        dns: { nameservers: ['10.1.0.1'], domain: 'example.org' },
      }
    case '040':
      return {
        cniVersion: version,
        ips: [
          { version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1' },
          { version: '6', address: 'fd00::5/64' },
        ],
        routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0', gw: 'fd00::1' }],
        dns: { nameservers: ['10.1.0.1'], domain: 'example.org' },
      }
    case '020':
      return {
        cniVersion: version,
        ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
        ip6: { ip: 'fd00::5/64', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
        dns: { nameservers: ['10.1.0.1'], domain: 'example.org' },
      }
  }
}

// A bridge-like 1.1.0 result using everything 1.x has.
function bridgeResult(): Result {
  return {
    cniVersion: '1.1.0',
    interfaces: [
      { name: 'cni0', mac: 'b6:08:f1:d7:ce:5d', mtu: 1500 },
      { name: 'veth0d699569', mac: '76:63:f4:0e:aa:b5' },
      { name: 'eth0', mac: '4a:5a:e5:33:b9:cf', mtu: 1500, sandbox: '/run/netns/c1', socketPath: '/run/s.sock', pciID: '0000:00:1f.6' },
    ],
    ips: [
      { interface: 2, address: 'fd00:250::2/64', gateway: 'fd00:250::1' },
      { interface: 2, address: '10.250.1.2/24', gateway: '10.250.1.1' },
      { interface: 0, address: '10.250.2.9/24' },
      { interface: 2, address: 'fd00:251::2/64' },
    ],
    routes: [
      { dst: '0.0.0.0/0', gw: '10.250.1.1', mtu: 1400, advmss: 1360, priority: 5, table: 100, scope: 0 },
      { dst: '::/0', gw: 'fd00:250::1' },
      { dst: '10.9.0.0/16' },
    ],
    dns: { nameservers: ['10.250.1.1'], search: ['cluster.local'] },
  }
}

t.test('every version converts to every version (49 pairs)', async (t) => {
  for (const from of SUPPORTED_VERSIONS) {
    const parsed = parseResult(sameDataIn(from), '1.1.0')
    t.equal(parsed.cniVersion, from, `parseResult keeps the label ${from}`)
    for (const to of SUPPORTED_VERSIONS) {
      t.same(convertResult(parsed, to), sameDataIn(to), `${from} -> ${to}`)
    }
  }
})

t.test('1.x -> 0.3/0.4 adds version, drops 1.x-only interface fields, keeps routes verbatim', async (t) => {
  for (const to of ['0.3.0', '0.3.1', '0.4.0'] as const) {
    const r = convertResult(bridgeResult(), to)
    t.same(r, {
      cniVersion: to,
      interfaces: [
        { name: 'cni0', mac: 'b6:08:f1:d7:ce:5d' },
        { name: 'veth0d699569', mac: '76:63:f4:0e:aa:b5' },
        { name: 'eth0', mac: '4a:5a:e5:33:b9:cf', sandbox: '/run/netns/c1' },
      ],
      ips: [
        { version: '6', interface: 2, address: 'fd00:250::2/64', gateway: 'fd00:250::1' },
        { version: '4', interface: 2, address: '10.250.1.2/24', gateway: '10.250.1.1' },
        { version: '4', interface: 0, address: '10.250.2.9/24' },
        { version: '6', interface: 2, address: 'fd00:251::2/64' },
      ],
      routes: [
        { dst: '0.0.0.0/0', gw: '10.250.1.1', mtu: 1400, advmss: 1360, priority: 5, table: 100, scope: 0 },
        { dst: '::/0', gw: 'fd00:250::1' },
        { dst: '10.9.0.0/16' },
      ],
      dns: { nameservers: ['10.250.1.1'], search: ['cluster.local'] },
    })
    for (const intf of r.interfaces ?? []) {
      t.notOk('mtu' in intf || 'socketPath' in intf || 'pciID' in intf, `${to}: ${intf.name} has no 1.x-only field`)
    }
  }
})

t.test('1.x -> 0.1/0.2 keeps the first IP of each family and splits routes by family', async (t) => {
  for (const to of ['0.1.0', '0.2.0'] as const) {
    t.same(convertResult(bridgeResult(), to), {
      cniVersion: to,
      ip4: {
        ip: '10.250.1.2/24',
        gateway: '10.250.1.1',
        // only dst/gw survive; the second v4 route follows the first into ip4
        routes: [{ dst: '0.0.0.0/0', gw: '10.250.1.1' }, { dst: '10.9.0.0/16' }],
      },
      ip6: { ip: 'fd00:250::2/64', gateway: 'fd00:250::1', routes: [{ dst: '::/0', gw: 'fd00:250::1' }] },
      dns: { nameservers: ['10.250.1.1'], search: ['cluster.local'] },
    })
  }
})

t.test('0.1/0.2: a route whose family has no IP is dropped', async (t) => {
  const v4only: Result = {
    cniVersion: '1.0.0',
    ips: [{ address: '10.0.0.2/24' }, { address: '10.0.0.3/24' }],
    routes: [{ dst: '::/0', gw: 'fd00::1' }, { dst: '0.0.0.0/0', gw: '10.0.0.1' }],
  }
  t.same(convertResult(v4only, '0.2.0'), {
    cniVersion: '0.2.0',
    ip4: { ip: '10.0.0.2/24', routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }] },
  })
  const v6only: Result = { cniVersion: '1.0.0', ips: [{ address: 'fd00::2/64' }], routes: [{ dst: '10.0.0.0/8' }] }
  t.same(convertResult(v6only, '0.2.0'), { cniVersion: '0.2.0', ip6: { ip: 'fd00::2/64' } })
})

t.test('0.1/0.2 needs at least one IP', async (t) => {
  const l2: Result = { cniVersion: '1.1.0', interfaces: [{ name: 'br0', mac: 'aa:bb:cc:dd:ee:ff' }] }
  for (const to of ['0.1.0', '0.2.0', ''] as const) {
    t.throws(() => convertResult(l2, to), { message: 'cannot convert: no valid IP addresses' }, JSON.stringify(to))
  }
  t.same(convertResult(l2, '0.4.0'), { cniVersion: '0.4.0', interfaces: [{ name: 'br0', mac: 'aa:bb:cc:dd:ee:ff' }] })
  t.same(convertResult(l2, '1.0.0'), { cniVersion: '1.0.0', interfaces: [{ name: 'br0', mac: 'aa:bb:cc:dd:ee:ff' }] })
})

t.test("target '' means 0.1.0", async (t) => {
  t.same(convertResult({ cniVersion: '1.1.0', ips: [{ address: '127.0.0.1/8' }] }, ''), {
    cniVersion: '0.1.0',
    ip4: { ip: '127.0.0.1/8' },
  })
})

t.test('1.0.0 <-> 1.1.0 only relabels, 1.1-only fields included', async (t) => {
  const down = convertResult(bridgeResult(), '1.0.0')
  t.same(down, { ...bridgeResult(), cniVersion: '1.0.0' })
  t.same(convertResult(down, '1.1.0'), bridgeResult())
})

t.test('IPv4-mapped addresses count as IPv4 and print as IPv4, as Go prints them', async (t) => {
  const r: Result = {
    cniVersion: '1.1.0',
    ips: [{ address: '::ffff:10.1.0.5/112', gateway: '::ffff:10.1.0.1' }],
    routes: [{ dst: '::ffff:0.0.0.0/96' }],
  }
  t.same(convertResult(r, '0.4.0'), {
    cniVersion: '0.4.0',
    ips: [{ version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
  })
  t.same(convertResult(r, '0.2.0'), {
    cniVersion: '0.2.0',
    ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] },
  })
})

t.test('convertResult prints IPv6 canonically and refuses bad addresses by field', async (t) => {
  const r: Result = { cniVersion: '1.1.0', ips: [{ address: 'FD00:0:0:0:0:0:0:5/64', gateway: 'fd00:0::1' }] }
  t.same(convertResult(r, '1.1.0').ips, [{ address: 'fd00::5/64', gateway: 'fd00::1' }])
  t.throws(() => convertResult({ cniVersion: '1.1.0', ips: [{ address: '10.0.0.2' }] }, '1.1.0'), {
    message: 'ips[0].address must be a CIDR string, got "10.0.0.2"',
  })
  t.throws(() => convertResult({ cniVersion: '1.1.0', routes: [{ dst: '0.0.0.0/0', gw: 'x' }] }, '0.4.0'), {
    message: 'routes[0].gw must be an IP address string, got "x"',
  })
})

t.test('convertResult leaves its input alone', async (t) => {
  const input = bridgeResult()
  const out = convertResult(input, '1.1.0')
  t.same(input, bridgeResult())
  out.ips?.push({ address: '10.0.0.9/24' })
  ;(out.interfaces ?? [])[0]!.name = 'changed'
  t.same(input, bridgeResult(), 'no shared arrays or objects')
  convertResult(input, '0.2.0')
  convertResult(input, '0.4.0')
  t.same(input, bridgeResult())
})

t.test('unknown target versions are refused', async (t) => {
  for (const v of ['9.9.9', '1.1', '0.5.0']) {
    t.throws(() => convertResult(bridgeResult(), v), { message: `unsupported CNI result version "${v}"` })
  }
})

t.test('parseResult: version label', async (t) => {
  const ip = { address: '10.0.0.2/24' }
  t.equal(parseResult({ ips: [ip] }, '1.0.0').cniVersion, '1.0.0', 'missing: the default')
  t.equal(parseResult({ cniVersion: '', ips: [ip] }, '1.1.0').cniVersion, '1.1.0', 'empty: the default')
  t.equal(parseResult({ cniVersion: null, ips: [ip] }, '1.1.0').cniVersion, '1.1.0', 'null: the default')
  t.same(parseResult({ ip4: { ip: '10.0.0.2/24' } }, ''), { cniVersion: '0.1.0', ips: [ip] }, "'' everywhere: 0.1.0")
  t.equal(parseResult({ cniVersion: '0.3.0', ips: [{ version: '4', ...ip }] }, '1.1.0').cniVersion, '0.3.0', 'own label kept')
})

t.test('parseResult: 0.3/0.4 input comes back in the 1.x shape', async (t) => {
  const r = parseResult(
    {
      cniVersion: '0.4.0',
      // 0.4.0 has no interface mtu/socketPath/pciID: the reference's decoder ignores them
      interfaces: [{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', sandbox: '/x', mtu: 1500, socketPath: '/s', pciID: 'p' }],
      ips: [{ version: '4', interface: 0, address: '10.0.0.2/24', gateway: '10.0.0.1' }, { address: 'fd00::2/64' }],
      routes: [{ dst: '0.0.0.0/0', mtu: 1400, table: 0 }],
      dns: {},
    },
    '1.1.0',
  )
  t.same(r, {
    cniVersion: '0.4.0',
    interfaces: [{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', sandbox: '/x' }],
    ips: [{ interface: 0, address: '10.0.0.2/24', gateway: '10.0.0.1' }, { address: 'fd00::2/64' }],
    routes: [{ dst: '0.0.0.0/0', mtu: 1400, table: 0 }],
  })
})

t.test('parseResult: 0.1/0.2 input becomes ips ip4-then-ip6 and concatenated routes', async (t) => {
  const r = parseResult(
    {
      cniVersion: '0.2.0',
      ip6: { ip: 'fd00::2/64', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
      ip4: { ip: '10.0.0.2/24', gateway: '10.0.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', mtu: 1400 }] },
      dns: { nameservers: ['10.0.0.1'] },
    },
    '1.1.0',
  )
  t.same(r, {
    cniVersion: '0.2.0',
    ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1' }, { address: 'fd00::2/64' }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', mtu: 1400 }, { dst: '::/0', gw: 'fd00::1' }],
    dns: { nameservers: ['10.0.0.1'] },
  })
})

t.test('parseResult reads keys the way Go encoding/json does', async (t) => {
  const r = parseResult(
    {
      CNIVersion: '1.0.0',
      IPs: [{ Address: '10.0.0.2/24', INTERFACE: 0, gateway: null }],
      routes: null,
      dns: { Nameservers: [], domain: '' },
      somethingElse: { ignored: true },
    },
    '1.1.0',
  )
  t.same(r, { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24', interface: 0 }] }, 'case-insensitive, null/empty = absent')
})

t.test('parseResult names the bad field', async (t) => {
  const cases: [unknown, string, string | RegExp][] = [
    ['{}', '1.1.0', 'result must be an object'],
    [[], '1.1.0', 'result must be an object'],
    [{ cniVersion: 1 }, '1.1.0', 'cniVersion must be a string'],
    [{ cniVersion: '9.9.9' }, '1.1.0', 'unsupported CNI result version "9.9.9"'],
    [{ ips: {} }, '1.1.0', 'ips must be an array'],
    [{ ips: [null] }, '1.1.0', 'ips[0] must be an object'],
    [{ ips: [{}] }, '1.1.0', 'ips[0].address must be a string'],
    [{ ips: [{ address: '10.1.0.5' }] }, '1.1.0', 'ips[0].address must be a CIDR string, got "10.1.0.5"'],
    [{ ips: [{ address: '10.0.0.1/8' }, { address: '10.1.0.5/33' }] }, '1.1.0', /^ips\[1\]\.address must be a CIDR string/],
    [{ ips: [{ address: 'fe80::1%eth0/64' }] }, '1.1.0', /^ips\[0\]\.address must be a CIDR string/],
    [{ ips: [{ address: '010.1.0.5/8' }] }, '1.1.0', /^ips\[0\]\.address must be a CIDR string/],
    [{ ips: [{ address: '10.1.0.5/8', gateway: '10.1.0' }] }, '1.1.0', 'ips[0].gateway must be an IP address string, got "10.1.0"'],
    [{ ips: [{ address: '10.1.0.5/8', interface: '2' }] }, '1.1.0', 'ips[0].interface must be an integer'],
    [{ ips: [{ address: '10.1.0.5/8', interface: 1.5 }] }, '1.1.0', 'ips[0].interface must be an integer'],
    [{ interfaces: [{ name: 'a' }, { mac: 'x' }] }, '1.1.0', 'interfaces[1].name must be a string'],
    [{ interfaces: [{ name: 'a', mtu: '1500' }] }, '1.1.0', 'interfaces[0].mtu must be an integer'],
    [{ interfaces: [{ name: 'a', sandbox: 1 }] }, '1.1.0', 'interfaces[0].sandbox must be a string'],
    [{ routes: [{ gw: '10.0.0.1' }] }, '1.1.0', 'routes[0].dst must be a string'],
    [{ routes: [{ dst: 'default' }] }, '1.1.0', 'routes[0].dst must be a CIDR string, got "default"'],
    [{ routes: [{ dst: '0.0.0.0/0', table: 'main' }] }, '1.1.0', 'routes[0].table must be an integer'],
    [{ dns: [] }, '1.1.0', 'dns must be an object'],
    [{ dns: { nameservers: ['10.0.0.1', 5] } }, '1.1.0', 'dns.nameservers[1] must be a string'],
    [{ dns: { domain: ['x'] } }, '1.1.0', 'dns.domain must be a string'],
    [{ ips: [{ version: '5', address: '10.0.0.2/24' }] }, '0.4.0', 'ips[0].version must be "4" or "6", got "5"'],
    [
      { ips: [{ version: '4', address: 'fd00::2/64' }] },
      '0.3.1',
      'ips[0].version is "4" but address "fd00::2/64" is IPv6',
    ],
    [{ ip4: 'x' }, '0.2.0', 'ip4 must be an object'],
    [{ ip4: {} }, '0.2.0', 'ip4.ip must be a string'],
    [{ ip4: { ip: 'fd00::2/64' } }, '0.2.0', 'ip4.ip must be an IPv4 CIDR string, got "fd00::2/64"'],
    [{ ip6: { ip: '10.0.0.2/24' } }, '0.1.0', 'ip6.ip must be an IPv6 CIDR string, got "10.0.0.2/24"'],
    [{ ip4: { ip: '10.0.0.2/24', routes: [{ dst: 'x' }] } }, '0.2.0', 'ip4.routes[0].dst must be a CIDR string, got "x"'],
  ]
  for (const [value, version, message] of cases) {
    t.throws(() => parseResult(value, version), message instanceof RegExp ? message : { message }, JSON.stringify(value))
  }
})

t.test('parsePrevResult', async (t) => {
  t.test('a prevResult without cniVersion takes the config version', async (t) => {
    const r = parsePrevResult({ ips: [{ address: '10.0.0.2/24' }] }, '1.1.0')
    t.same(r, { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }] })
    const r040 = parsePrevResult({ ips: [{ version: '4', address: '10.0.0.2/24' }] }, '0.4.0')
    t.same(r040, { cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24' }] })
    t.equal(parsePrevResult({ ip4: { ip: '10.0.0.2/24' } }, '').cniVersion, '0.1.0', "config '' means 0.1.0")
  })

  t.test('a prevResult of the same family keeps its own version', async (t) => {
    t.equal(parsePrevResult({ cniVersion: '1.0.0' }, '1.1.0').cniVersion, '1.0.0')
    t.equal(parsePrevResult({ cniVersion: '0.3.1' }, '0.4.0').cniVersion, '0.3.1')
    t.equal(parsePrevResult({ cniVersion: '0.1.0', ip4: { ip: '10.0.0.2/24' } }, '0.2.0').cniVersion, '0.1.0')
  })

  t.test('a prevResult from another family is refused, listing the family', async (t) => {
    t.throws(() => parsePrevResult({ cniVersion: '0.4.0' }, '1.1.0'), {
      message: 'could not parse prevResult: result type supports [1.0.0 1.1.0] but unmarshalled CNIVersion is "0.4.0"',
    })
    t.throws(() => parsePrevResult({ cniVersion: '1.0.0' }, '0.3.1'), {
      message: 'could not parse prevResult: result type supports [0.3.0 0.3.1 0.4.0] but unmarshalled CNIVersion is "1.0.0"',
    })
    // The reference's 0.1/0.2 list starts with "" (no version), hence the leading space.
    t.throws(() => parsePrevResult({ cniVersion: '0.4.0' }, '0.2.0'), {
      message: 'could not parse prevResult: result type supports [ 0.1.0 0.2.0] but unmarshalled CNIVersion is "0.4.0"',
    })
    t.throws(() => parsePrevResult({ cniVersion: '9.9.9' }, '1.1.0'), /CNIVersion is "9\.9\.9"/)
  })

  t.test('an explicitly empty cniVersion is not "missing" (reference decoding)', async (t) => {
    t.throws(() => parsePrevResult({ cniVersion: '' }, '1.1.0'), {
      message: 'could not parse prevResult: result type supports [1.0.0 1.1.0] but unmarshalled CNIVersion is ""',
    })
    t.equal(parsePrevResult({ cniVersion: '', ip4: { ip: '10.0.0.2/24' } }, '0.2.0').cniVersion, '0.1.0')
  })

  t.test('other failures carry the same prefix', async (t) => {
    t.throws(() => parsePrevResult({}, '9.9.9'), {
      message: 'could not parse prevResult: unsupported CNI result version "9.9.9"',
    })
    t.throws(() => parsePrevResult('x', '1.1.0'), { message: 'could not parse prevResult: prevResult must be an object' })
    t.throws(() => parsePrevResult({ ips: [{ address: 'nope' }] }, '1.1.0'), {
      message: 'could not parse prevResult: ips[0].address must be a CIDR string, got "nope"',
    })
  })
})
