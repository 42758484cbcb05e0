// The bridge config: defaults, Go-style key matching, value rules with the reference's messages,
// MAC precedence, and the pure parts of ADD (gateways, GC attachments). No kernel needed.
import t from 'tap'
import { CniError, type BaseNetConf, type Result, validAttachments } from '../../../lib/skel'
import { type BridgeNetConf, checkAddConf, collectVlanTrunk, loadNetConf } from '../../../plugins/bridge/config'
import { calcGateways } from '../../../plugins/bridge/index'
import { ZERO_DEFAULT_ROUTE } from '../../../lib/ipam'

const base = (extra: object = {}): BaseNetConf => ({ cniVersion: '1.0.0', name: 'net', type: 'bridge', ...extra })
const load = (extra: object = {}, args = '') => loadNetConf(base(extra), args, '1.0.0')

function thrown(fn: () => unknown): CniError | Error | undefined {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  return undefined
}

t.test('defaults', async (t) => {
  t.match(load(), {
    name: 'net',
    bridge: 'cni0',
    isGateway: false,
    isDefaultGateway: false,
    forceAddress: false,
    ipMasq: false,
    mtu: 0,
    hairpinMode: false,
    promiscMode: false,
    vlan: 0,
    hasVlanTrunk: false,
    vlans: [],
    preserveDefaultVlan: false,
    macspoofchk: false,
    enabledad: false,
    disableContainerInterface: false,
    portIsolation: false,
    ipamType: '',
  })
  t.equal(load().mac, undefined)
  t.equal(load().dns, undefined)
})

t.test('isDefaultGateway implies isGateway', async (t) => {
  t.equal(load({ isDefaultGateway: true }).isGateway, true)
})

t.test('keys match case-insensitively (last wins) and null reads as absent', async (t) => {
  const n = load({ BRIDGE: 'a', Bridge: 'b', ISGATEWAY: true, Mtu: 1400, vlan: null, IPAM: { TYPE: 'host-local' } })
  t.match(n, { bridge: 'b', isGateway: true, mtu: 1400, vlan: 0, ipamType: 'host-local' })
  t.match(load({ vlanTrunk: [{ MINID: 3, maxid: 4 }] }), { vlans: [3, 4], hasVlanTrunk: true })
  t.equal(load({ RuntimeConfig: { MAC: 'c2:00:00:00:00:01' } }).mac, 'c2:00:00:00:00:01')
})

t.test('wrong types are code 7 naming the field', async (t) => {
  t.match(thrown(() => load({ mtu: '1500' })), { code: 7, msg: 'failed to load netconf: "mtu" must be integer' })
  t.match(thrown(() => load({ isGateway: 'yes' })), { code: 7, msg: 'failed to load netconf: "isGateway" must be boolean' })
  t.match(thrown(() => load({ vlanTrunk: [{ id: 'x' }] })), { code: 7, msg: 'failed to load netconf: "vlanTrunk[0].id" must be integer' })
  t.match(thrown(() => load({ args: { cni: { mac: 5 } } })), { code: 7, msg: 'failed to load netconf: "args.cni.mac" must be string' })
})

t.test('vlan range', async (t) => {
  for (const v of [-1, 4095, -100]) {
    t.match(thrown(() => load({ vlan: v })), { code: 999, msg: `invalid VLAN ID ${v} (must be between 0 and 4094)` })
  }
  t.equal(load({ vlan: 4094 }).vlan, 4094)
  t.equal(load({ vlan: 0 }).vlan, 0)
})

t.test('vlanTrunk: messages in item order, union sorted without duplicates', async (t) => {
  const cases: [object[], string][] = [
    [[{ minID: 0, maxID: 10 }], 'incorrect trunk minID parameter'],
    [[{ minID: 1, maxID: 4095 }], 'incorrect trunk maxID parameter'],
    [[{ minID: 10, maxID: 5 }], 'minID is greater than maxID in trunk parameter'],
    [[{ maxID: 5 }], 'minID and maxID should be configured simultaneously, minID is missing'],
    [[{ minID: 5 }], 'minID and maxID should be configured simultaneously, maxID is missing'],
    [[{ id: 0 }], 'incorrect trunk id parameter'],
    [[{ id: 4095 }], 'incorrect trunk id parameter'],
    [[{ id: 5 }, { minID: 0, maxID: 1 }], 'incorrect trunk minID parameter'],
  ]
  for (const [trunk, msg] of cases) t.match(thrown(() => load({ vlanTrunk: trunk })), { code: 999, msg }, JSON.stringify(trunk))
  t.same(collectVlanTrunk([{ id: 7 }, { minID: 3, maxID: 5 }, { id: 4 }, { minID: 5, maxID: 6, id: 100 }]), [3, 4, 5, 6, 7, 100])
  t.match(load({ vlanTrunk: [] }), { hasVlanTrunk: true, vlans: [] }, 'an empty trunk still asks for VLAN filtering')
})

t.test('MAC: runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC', async (t) => {
  t.equal(load({}, 'MAC=c2:00:00:00:00:01').mac, 'c2:00:00:00:00:01')
  t.equal(load({ args: { cni: { mac: 'c2:00:00:00:00:02' } } }, 'MAC=c2:00:00:00:00:01').mac, 'c2:00:00:00:00:02')
  t.equal(
    load({ args: { cni: { mac: 'c2:00:00:00:00:02' } }, runtimeConfig: { mac: 'c2:00:00:00:00:03' } }, 'MAC=c2:00:00:00:00:01').mac,
    'c2:00:00:00:00:03',
  )
  t.match(thrown(() => load({}, 'IP=10.0.0.1')), { message: 'ARGS: unknown args ["IP=10.0.0.1"]' })
  t.equal(load({}, 'IgnoreUnknown=1;IP=10.0.0.1;MAC=c2:00:00:00:00:01').mac, 'c2:00:00:00:00:01')
  t.match(thrown(() => load({}, 'MAC')), { message: 'ARGS: invalid pair "MAC"' })
})

t.test('dns: set only when it says something', async (t) => {
  t.equal(load({ dns: {} }).dns, undefined)
  t.same(load({ dns: { domain: 'x' } }).dns, { domain: 'x' })
  t.same(load({ dns: { nameservers: [] } }).dns, { nameservers: [] }, 'an empty list counts, as a non-nil Go slice')
})

t.test('ADD-only combinations', async (t) => {
  const add = (extra: object) => thrown(() => checkAddConf(load(extra)))
  t.match(add({ ipam: { type: 'host-local' }, disableContainerInterface: true }), {
    code: 999,
    msg: 'cannot use IPAM when DisableContainerInterface flag is set',
  })
  t.match(add({ hairpinMode: true, promiscMode: true }), { code: 999, msg: 'cannot set hairpin mode and promiscuous mode at the same time.' })
  t.match(add({ ipMasq: true, ipMasqBackend: 'x', ipam: { type: 'host-local' } }), { code: 999, msg: 'unknown ipmasq backend "x"' })
  t.equal(add({ ipMasq: false, ipMasqBackend: 'x' }), undefined, 'an unused backend is not checked')
  t.equal(add({ disableContainerInterface: true }), undefined)
  t.match(add({ bridge: '' }), { code: 999 })
  t.equal(thrown(() => load({ hairpinMode: true, promiscMode: true })), undefined, 'DEL/CHECK still accept it')
})

t.test('calcGateways: interface 2, computed gateways, one default route per family', async (t) => {
  const n = (extra: Partial<BridgeNetConf>) => ({ ...load(), ...extra }) as BridgeNetConf
  const r: Result = {
    cniVersion: '1.0.0',
    ips: [{ address: '10.1.2.3/24' }, { address: 'fd00::5/64', gateway: 'fd00::fe' }, { address: '10.9.0.4/16' }],
  }
  const gws = calcGateways(r, n({ isGateway: true, isDefaultGateway: true }))
  t.same(r.ips, [
    { address: '10.1.2.3/24', interface: 2, gateway: '10.1.2.1' },
    { address: 'fd00::5/64', gateway: 'fd00::fe', interface: 2 },
    { address: '10.9.0.4/16', interface: 2, gateway: '10.9.0.1' },
  ])
  // Marked as made by the bridge (for Debian's wording of a failed route add).
  t.same(r.routes, [
    { dst: '0.0.0.0/0', gw: '10.1.2.1', [ZERO_DEFAULT_ROUTE]: true },
    { dst: '::/0', gw: 'fd00::fe', [ZERO_DEFAULT_ROUTE]: true },
  ])
  t.same(gws.v4.gws, ['10.1.2.1/24', '10.9.0.1/16'])
  t.same(gws.v6.gws, ['fd00::fe/64'])

  const withDefault: Result = { cniVersion: '1.0.0', ips: [{ address: '10.1.2.3/24' }], routes: [{ dst: '0.0.0.0/0', gw: '10.1.2.254' }] }
  calcGateways(withDefault, n({ isGateway: true, isDefaultGateway: true }))
  t.same(withDefault.routes, [{ dst: '0.0.0.0/0', gw: '10.1.2.254' }], 'an IPAM default route with a gateway wins')

  const plain: Result = { cniVersion: '1.0.0', ips: [{ address: '10.1.2.3/24' }] }
  const none = calcGateways(plain, n({}))
  t.same(plain.ips, [{ address: '10.1.2.3/24', interface: 2 }], 'no gateway invented without isGateway')
  t.same(none.v4.gws, [])
})

t.test('GC attachments: valid-attachments, else attachments; null is none; bad shapes are refused', async (t) => {
  t.same(validAttachments({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] }), [{ containerID: 'a', ifName: 'eth0' }])
  t.same(validAttachments({ 'cni.dev/attachments': [{ containerID: 'b', ifname: 'eth1' }] }), [{ containerID: 'b', ifName: 'eth1' }])
  t.same(validAttachments({ 'cni.dev/valid-attachments': null, 'cni.dev/attachments': [{ containerID: 'b', ifname: 'x' }] }), [])
  t.same(validAttachments({}), [])
  t.match(thrown(() => validAttachments({ 'cni.dev/valid-attachments': [{ containerID: 1 }] })), { code: 7 })
})
