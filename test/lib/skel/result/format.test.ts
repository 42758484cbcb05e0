import t from 'tap'
import { convertResult, formatResult, type Result, type Result020, type Result040 } from '../../../../lib/skel/result'

// Expected strings below are what the reference (libcni v1.3 types, Go encoding/json) prints
// for the same data, byte for byte.

function bridgeResult(): Result {
  return {
    cniVersion: '1.1.0',
    interfaces: [
      { name: 'cni0', mac: 'b6:08:f1:d7:ce:5d' },
      { name: 'veth0d699569', mac: '76:63:f4:0e:aa:b5' },
      { name: 'eth0', mac: '4a:5a:e5:33:b9:cf', mtu: 1500, sandbox: '/var/run/netns/c1' },
    ],
    ips: [
      { interface: 2, address: '10.250.1.2/24', gateway: '10.250.1.1' },
      { interface: 2, address: 'fd00:250::2/64', gateway: 'fd00:250::1' },
    ],
    routes: [
      { dst: '0.0.0.0/0', gw: '10.250.1.1' },
      { dst: '::/0', gw: 'fd00:250::1' },
    ],
    dns: { nameservers: ['10.250.1.1'], search: ['cluster.local'] },
  }
}

t.test('bridge-like dual-stack result at 1.1.0: keys sorted at every level', async (t) => {
  t.equal(
    formatResult(convertResult(bridgeResult(), '1.1.0')),
    `{
    "cniVersion": "1.1.0",
    "dns": {
        "nameservers": [
            "10.250.1.1"
        ],
        "search": [
            "cluster.local"
        ]
    },
    "interfaces": [
        {
            "mac": "b6:08:f1:d7:ce:5d",
            "name": "cni0"
        },
        {
            "mac": "76:63:f4:0e:aa:b5",
            "name": "veth0d699569"
        },
        {
            "mac": "4a:5a:e5:33:b9:cf",
            "mtu": 1500,
            "name": "eth0",
            "sandbox": "/var/run/netns/c1"
        }
    ],
    "ips": [
        {
            "address": "10.250.1.2/24",
            "gateway": "10.250.1.1",
            "interface": 2
        },
        {
            "address": "fd00:250::2/64",
            "gateway": "fd00:250::1",
            "interface": 2
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0",
            "gw": "10.250.1.1"
        },
        {
            "dst": "::/0",
            "gw": "fd00:250::1"
        }
    ]
}`,
  )
})

t.test('bridge-like dual-stack result at 0.4.0: struct order, version first, no mtu', async (t) => {
  t.equal(
    formatResult(convertResult(bridgeResult(), '0.4.0')),
    `{
    "cniVersion": "0.4.0",
    "interfaces": [
        {
            "name": "cni0",
            "mac": "b6:08:f1:d7:ce:5d"
        },
        {
            "name": "veth0d699569",
            "mac": "76:63:f4:0e:aa:b5"
        },
        {
            "name": "eth0",
            "mac": "4a:5a:e5:33:b9:cf",
            "sandbox": "/var/run/netns/c1"
        }
    ],
    "ips": [
        {
            "version": "4",
            "interface": 2,
            "address": "10.250.1.2/24",
            "gateway": "10.250.1.1"
        },
        {
            "version": "6",
            "interface": 2,
            "address": "fd00:250::2/64",
            "gateway": "fd00:250::1"
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0",
            "gw": "10.250.1.1"
        },
        {
            "dst": "::/0",
            "gw": "fd00:250::1"
        }
    ],
    "dns": {
        "nameservers": [
            "10.250.1.1"
        ],
        "search": [
            "cluster.local"
        ]
    }
}`,
  )
})

t.test('bridge-like dual-stack result at 0.2.0: ip4/ip6 with their routes', async (t) => {
  t.equal(
    formatResult(convertResult(bridgeResult(), '0.2.0')),
    `{
    "cniVersion": "0.2.0",
    "ip4": {
        "ip": "10.250.1.2/24",
        "gateway": "10.250.1.1",
        "routes": [
            {
                "dst": "0.0.0.0/0",
                "gw": "10.250.1.1"
            }
        ]
    },
    "ip6": {
        "ip": "fd00:250::2/64",
        "gateway": "fd00:250::1",
        "routes": [
            {
                "dst": "::/0",
                "gw": "fd00:250::1"
            }
        ]
    },
    "dns": {
        "nameservers": [
            "10.250.1.1"
        ],
        "search": [
            "cluster.local"
        ]
    }
}`,
  )
})

t.test('1.x: every field sorted; 0-valued mtu/advmss/priority dropped, table/scope/interface 0 kept', async (t) => {
  const r: Result = {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'eth0', mac: '', mtu: 9000, sandbox: '/x', socketPath: '/s', pciID: '0000:00:1f.6' }],
    ips: [{ interface: 0, address: '10.0.0.2/8' }],
    routes: [
      { dst: '10.0.0.0/8', gw: '10.0.0.1', mtu: 1400, advmss: 1360, priority: 10, table: 0, scope: 253 },
      { dst: '0.0.0.0/0', mtu: 0, advmss: 0, priority: 0 },
    ],
    dns: { options: ['ndots:5'], domain: 'd', search: ['s'], nameservers: ['10.0.0.1'] },
  }
  t.equal(
    formatResult(r),
    `{
    "cniVersion": "1.1.0",
    "dns": {
        "domain": "d",
        "nameservers": [
            "10.0.0.1"
        ],
        "options": [
            "ndots:5"
        ],
        "search": [
            "s"
        ]
    },
    "interfaces": [
        {
            "mtu": 9000,
            "name": "eth0",
            "pciID": "0000:00:1f.6",
            "sandbox": "/x",
            "socketPath": "/s"
        }
    ],
    "ips": [
        {
            "address": "10.0.0.2/8",
            "interface": 0
        }
    ],
    "routes": [
        {
            "advmss": 1360,
            "dst": "10.0.0.0/8",
            "gw": "10.0.0.1",
            "mtu": 1400,
            "priority": 10,
            "scope": 253,
            "table": 0
        },
        {
            "dst": "0.0.0.0/0"
        }
    ]
}`,
  )
})

t.test('0.4.0: route fields in struct order, dns in struct order', async (t) => {
  const r: Result040 = {
    cniVersion: '0.4.0',
    interfaces: [{ name: 'eth0', mac: '', sandbox: '' }],
    ips: [{ version: '4', interface: 0, address: '10.0.0.2/8' }],
    routes: [
      { dst: '10.0.0.0/8', gw: '10.0.0.1', mtu: 1400, advmss: 1360, priority: 10, table: 0, scope: 253 },
      { dst: '0.0.0.0/0', mtu: 0 },
    ],
    dns: { options: ['ndots:5'], domain: 'd', search: ['s'], nameservers: ['10.0.0.1'] },
  }
  t.equal(
    formatResult(r),
    `{
    "cniVersion": "0.4.0",
    "interfaces": [
        {
            "name": "eth0"
        }
    ],
    "ips": [
        {
            "version": "4",
            "interface": 0,
            "address": "10.0.0.2/8"
        }
    ],
    "routes": [
        {
            "dst": "10.0.0.0/8",
            "gw": "10.0.0.1",
            "mtu": 1400,
            "advmss": 1360,
            "priority": 10,
            "table": 0,
            "scope": 253
        },
        {
            "dst": "0.0.0.0/0"
        }
    ],
    "dns": {
        "nameservers": [
            "10.0.0.1"
        ],
        "domain": "d",
        "search": [
            "s"
        ],
        "options": [
            "ndots:5"
        ]
    }
}`,
  )
})

t.test('empty dns: omitted at 1.x, "dns": {} at 0.x', async (t) => {
  const ips = [{ address: '127.0.0.1/8' }]
  const plain = `{
    "cniVersion": "1.0.0",
    "ips": [
        {
            "address": "127.0.0.1/8"
        }
    ]
}`
  t.equal(formatResult({ cniVersion: '1.0.0', ips }), plain)
  t.equal(formatResult({ cniVersion: '1.0.0', ips, dns: {} }), plain)
  t.equal(formatResult({ cniVersion: '1.0.0', ips, dns: { nameservers: [], domain: '' } }), plain)
  t.equal(
    formatResult({ cniVersion: '0.3.1', ips: [{ version: '4', address: '127.0.0.1/8' }] }),
    `{
    "cniVersion": "0.3.1",
    "ips": [
        {
            "version": "4",
            "address": "127.0.0.1/8"
        }
    ],
    "dns": {}
}`,
  )
  t.equal(
    formatResult({ cniVersion: '0.1.0', ip4: { ip: '127.0.0.1/8' } }),
    `{
    "cniVersion": "0.1.0",
    "ip4": {
        "ip": "127.0.0.1/8"
    },
    "dns": {}
}`,
  )
})

t.test('empty strings and arrays are omitted, interface name is not', async (t) => {
  t.equal(
    formatResult({ cniVersion: '1.0.0', interfaces: [{ name: '', mac: '' }], ips: [], routes: [] }),
    `{
    "cniVersion": "1.0.0",
    "interfaces": [
        {
            "name": ""
        }
    ]
}`,
  )
  const noLabel: Result020 = { cniVersion: '', ip6: { ip: '::1/128', gateway: '', routes: [] } }
  t.equal(
    formatResult(noLabel),
    `{
    "ip6": {
        "ip": "::1/128"
    },
    "dns": {}
}`,
  )
})

t.test('no trailing newline, 4-space indent', async (t) => {
  const out = formatResult(convertResult(bridgeResult(), '1.1.0'))
  t.notOk(out.endsWith('\n'))
  t.ok(out.startsWith('{\n    "cniVersion"'))
})

t.test('strings are escaped as Go escapes them', async (t) => {
  const out = formatResult({ cniVersion: '1.1.0', dns: { domain: 'a<b>&c\u2028\u2029"\\\n' } })
  t.equal(
    out,
    `{
    "cniVersion": "1.1.0",
    "dns": {
        "domain": "a\\u003cb\\u003e\\u0026c\\u2028\\u2029\\"\\\\\\n"
    }
}`,
  )
})

t.test("shape override: loopback's unconverted 1.x result labelled 0.2.0", async (t) => {
  const r: Result = {
    cniVersion: '0.2.0',
    interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: '/run/netns/c1' }],
    ips: [
      { interface: 0, address: '127.0.0.1/8' },
      { interface: 0, address: '::1/128' },
    ],
  }
  t.equal(
    formatResult(r, '100'),
    `{
    "cniVersion": "0.2.0",
    "interfaces": [
        {
            "mac": "00:00:00:00:00:00",
            "name": "lo",
            "sandbox": "/run/netns/c1"
        }
    ],
    "ips": [
        {
            "address": "127.0.0.1/8",
            "interface": 0
        },
        {
            "address": "::1/128",
            "interface": 0
        }
    ]
}`,
  )
})

t.test('a result printed in the wrong shape is refused instead of losing fields', async (t) => {
  const current: Result = { cniVersion: '0.2.0', ips: [{ address: '10.0.0.2/24' }] }
  t.throws(() => formatResult(current), /cannot print result labelled "0\.2\.0" in the 020 shape/)
  t.throws(() => formatResult({ cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24' }] }), /in the 040 shape/)
  t.throws(() => formatResult({ cniVersion: '1.0.0', ip4: { ip: '10.0.0.2/24' } }), /in the 100 shape/)
  t.throws(() => formatResult({ cniVersion: '9.9.9' }), { message: 'unsupported CNI result version "9.9.9"' })
})
