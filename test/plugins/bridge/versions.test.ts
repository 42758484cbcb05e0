// The bridge result in every spec version's own shape (key order as the reference prints it), and
// CHECK/DEL with that version's prevResult.
import t from 'tap'
import { VERSIONS, bridgeConf, ipFiles, runBridge, withPrev, world } from './fixture'

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/

for (const v of VERSIONS) {
  t.test(`cniVersion ${v}`, async (t) => {
    const w = world(t, 'ver')
    const ctr = w.container()
    const conf = bridgeConf({ cniVersion: v, dataDir: w.dataDir, subnet: ['10.82.1.0/24', 'fd00:82:1::/64'], isDefaultGateway: true })
    const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
    t.equal(add.code, 0, add.stdout)
    const r = add.json
    t.equal(r.cniVersion, v)
    if (v === '0.1.0' || v === '0.2.0') {
      t.same(Object.keys(r), ['cniVersion', 'ip4', 'ip6', 'dns'])
      t.same(r.ip4, { ip: '10.82.1.2/24', gateway: '10.82.1.1', routes: [{ dst: '0.0.0.0/0', gw: '10.82.1.1' }] })
      t.same(r.ip6, { ip: 'fd00:82:1::2/64', gateway: 'fd00:82:1::1', routes: [{ dst: '::/0', gw: 'fd00:82:1::1' }] })
      t.same(Object.keys(r.ip4), ['ip', 'gateway', 'routes'])
      t.same(r.dns, {})
    } else if (v.startsWith('0.')) {
      t.same(Object.keys(r), ['cniVersion', 'interfaces', 'ips', 'routes', 'dns'], 'struct order')
      t.same(r.interfaces.map((i: any) => Object.keys(i)), [['name', 'mac'], ['name', 'mac'], ['name', 'mac', 'sandbox']])
      t.match(r.interfaces[2], { name: 'eth0', mac: MAC, sandbox: ctr.path })
      t.same(r.ips, [
        { version: '4', interface: 2, address: '10.82.1.2/24', gateway: '10.82.1.1' },
        { version: '6', interface: 2, address: 'fd00:82:1::2/64', gateway: 'fd00:82:1::1' },
      ])
      t.same(Object.keys(r.ips[0]), ['version', 'interface', 'address', 'gateway'])
      t.same(r.dns, {}, '"dns": {} always present')
    } else {
      t.same(Object.keys(r), ['cniVersion', 'interfaces', 'ips', 'routes'], 'sorted keys, empty dns left out')
      t.same(r.interfaces.map((i: any) => Object.keys(i)), [['mac', 'name'], ['mac', 'name'], ['mac', 'name', 'sandbox']])
      t.same(Object.keys(r.ips[0]), ['address', 'gateway', 'interface'])
    }
    if (!v.startsWith('0.1') && !v.startsWith('0.2') && !v.startsWith('0.3')) {
      const check = runBridge(w, 'CHECK', withPrev(conf, r), { netns: ctr.path })
      t.equal(check.code, 0, `CHECK with the ${v} prevResult: ${check.stdout}`)
    }
    const del = runBridge(w, 'DEL', withPrev(conf, r), { netns: ctr.path })
    t.equal(del.code, 0, del.stdout)
    t.same(ipFiles(w.dataDir), [])
  })
}
