// Side by side with the Go reference bridge (Debian's containernetworking-plugins 1.1.1, spec <= 1.0.0):
// the same inputs, each plugin in namespaces of its own, must give the same result (modulo random
// names and MACs), the same kernel state and the same exit and error codes.
import * as fs from 'node:fs'
import t, { type Test } from 'tap'
import { ipIn, rtnlIn, type TestNetns } from '../../helpers/netns'
import { REF_DIR } from '../../helpers/plugin'
import { type World, OWN_HOST_LOCAL, REF_BRIDGE, addrsOf, bridgeConf, natRules, nftRuleset, runBridge, sysctlIn, world } from './fixture'

interface Side {
  w: World
  ctr: TestNetns
  add: ReturnType<typeof runBridge>
}

/** Runs one ADD through `file` in a fresh world (host and container namespaces, dataDir). */
function addIn(t: Test, file: string | undefined, conf: (dataDir: string) => object, env: { args?: string } = {}): Side {
  const w = world(t, file ? 'ref' : 'our')
  const ctr = w.container()
  const add = runBridge(w, 'ADD', conf(w.dataDir), { netns: ctr.path, file, path: file ? REF_DIR : undefined, args: env.args })
  return { w, ctr, add }
}

/** The result with what differs by design or by chance replaced: random names, MACs, paths, empty dns. */
function normalizeResult(r: any, s: Side): any {
  if (!r || typeof r !== 'object') return r
  let text = JSON.stringify(r).split(s.ctr.path).join('<netns>')
  text = text.replace(/veth[0-9a-f]{8}/g, 'vethX').replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"<mac>"')
  const out = JSON.parse(text)
  if (out.dns && Object.keys(out.dns).length === 0) delete out.dns
  return out
}

const normalizeText = (s: string): string =>
  s.replace(/veth[0-9a-f]{8}/g, 'vethX').replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, '<mac>').replace(/ # handle \d+/g, '')

/** What the kernel shows after an ADD, in terms that do not depend on random names. */
function kernelState(t: Test, s: Side): any {
  const host = s.w.hostRtnl
  const links = host.listLinks()
  const byIndex = new Map(links.map((l) => [l.index, l.name]))
  const hostLinks = links
    .filter((l) => l.name !== 'lo')
    .map((l) => ({
      name: normalizeText(l.name),
      kind: l.kind,
      up: l.up,
      operState: l.operState,
      mtu: l.mtu,
      promisc: l.promisc,
      master: l.master ? byIndex.get(l.master) : undefined,
      port: l.bridgePort,
      vlanFiltering: l.vlanFiltering,
    }))
  const bridges = links.filter((l) => l.kind === 'bridge')
  const ctr = rtnlIn(t, s.ctr)
  const ctrLinks = ctr.listLinks().filter((l) => l.name !== 'lo')
  const ctrState: any[] = []
  for (const l of ctrLinks) {
    ctrState.push({
      name: l.name,
      kind: l.kind,
      up: l.up,
      operState: l.operState,
      mtu: l.mtu,
      addrs: addrsOf(ctr, l.name),
      accept_dad: sysctlIn(s.ctr, `net/ipv6/conf/${l.name}/accept_dad`),
      arp_notify: sysctlIn(s.ctr, `net/ipv4/conf/${l.name}/arp_notify`),
      disable_ipv6: sysctlIn(s.ctr, `net/ipv6/conf/${l.name}/disable_ipv6`),
    })
  }
  const routes = ctr.listRoutes()
    .filter((r) => !r.dst.startsWith('fe80:') && r.type === 'unicast')
    .map((r) => ({ dst: r.dst, gw: r.gw, scope: r.scope, protocol: r.protocol, priority: r.priority }))
    .sort((a, b) => a.dst.localeCompare(b.dst))
  const bridgeAddrs: Record<string, string[]> = {}
  for (const b of bridges) bridgeAddrs[b.name] = addrsOf(host, b.name)
  return {
    hostLinks,
    bridgeAddrs,
    ctrState,
    routes,
    forwarding: [sysctlIn(s.w.host, 'net/ipv4/ip_forward'), sysctlIn(s.w.host, 'net/ipv6/conf/all/forwarding')],
    acceptRa: bridges.map((b) => sysctlIn(s.w.host, `net/ipv6/conf/${b.name}/accept_ra`)),
    nat4: natRules(s.w.host),
    nat6: natRules(s.w.host, 6),
    nft: normalizeText(nftRuleset(s.w.host)),
  }
}

interface AddCase {
  name: string
  conf: (dataDir: string) => object
  args?: string
  /** The Debian build's CHECK fails this one (a gw-less IPAM route is never found: its bug). */
  refCheckFails?: boolean
}

const v = '1.0.0'
const ADD_CASES: AddCase[] = [
  { name: 'isGateway, IPv4', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, isGateway: true }) },
  {
    name: 'dual-stack isDefaultGateway with ipMasq',
    conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, subnet: ['10.81.1.0/24', 'fd00:81:1::/64'], isDefaultGateway: true, ipMasq: true }),
  },
  { name: 'IPv6 only, isGateway', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, subnet: 'fd00:81:2::/64', isGateway: true }) },
  { name: 'no gateway on the bridge', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }) },
  { name: 'mtu and hairpinMode', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, mtu: 1400, hairpinMode: true, isGateway: true }) },
  { name: 'promiscMode', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, promiscMode: true, isGateway: true }) },
  { name: 'macspoofchk', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, macspoofchk: true, isGateway: true }) },
  { name: 'enabledad', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, subnet: 'fd00:81:3::/64', enabledad: true, isGateway: true }) },
  { name: 'L2 (no IPAM)', conf: () => ({ cniVersion: v, name: 'l2', type: 'bridge', bridge: 'tbr0' }) },
  {
    name: 'MAC from runtimeConfig, dns from the config, routes from IPAM',
    conf: (d) => ({
      ...bridgeConf({ cniVersion: v, dataDir: d, isGateway: true, runtimeConfig: { mac: 'c2:11:22:33:44:55' } }),
      ipam: { type: 'host-local', subnet: '10.81.4.0/24', dataDir: d, routes: [{ dst: '10.200.0.0/16' }, { dst: '0.0.0.0/0' }] },
      dns: { nameservers: ['10.81.4.53'], search: ['example.test'] },
    }),
    refCheckFails: true,
  },
  { name: 'MAC from CNI_ARGS', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), args: 'IgnoreUnknown=1;MAC=c2:11:22:33:44:66' },
  ...['0.4.0', '0.3.1', '0.3.0', '0.2.0', '0.1.0'].map((ver) => ({
    name: `dual-stack at ${ver}`,
    conf: (d: string) => bridgeConf({ cniVersion: ver, dataDir: d, subnet: ['10.81.5.0/24', 'fd00:81:5::/64'], isDefaultGateway: true }),
  })),
]

interface ErrCase {
  name: string
  command?: string
  conf: (dataDir: string) => object | string
  env?: Record<string, string | undefined>
  netns?: 'none' | 'gone' | 'file'
  /** Our code when it differs from the reference's on purpose (config errors: 7 instead of 999). */
  ours?: number
  /** The reference refuses it, ours accepts it (spec 1.1.0). */
  oursAccepts?: boolean
  /** Prepare the fake host before the run. */
  prepare?: (host: TestNetns) => void
}

const ERR_CASES: ErrCase[] = [
  { name: 'truncated JSON', conf: () => '{"cniVersion":"1.0.0","name":' },
  { name: 'vlan out of range', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, vlan: 4095 }), ours: 7 },
  { name: 'negative vlan', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, vlan: -100 }), ours: 7 },
  { name: 'mtu of the wrong type', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, mtu: '1500' }), ours: 7 },
  { name: 'hairpinMode with promiscMode', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, hairpinMode: true, promiscMode: true }), ours: 7 },
  { name: 'IPAM plugin not found', conf: (d) => ({ ...bridgeConf({ cniVersion: v, dataDir: d }), ipam: { type: 'nope' } }) },
  { name: 'IPAM config invalid', conf: (d) => ({ ...bridgeConf({ cniVersion: v, dataDir: d }), ipam: { type: 'host-local', dataDir: d } }) },
  { name: 'unknown CNI_ARGS', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), env: { CNI_ARGS: 'FOO=bar' } },
  { name: 'CNI_ARGS pair without =', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), env: { CNI_ARGS: 'MAC' } },
  { name: 'bad MAC', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, args: { cni: { mac: 'nope' } } }) },
  { name: 'netns path that does not exist', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), netns: 'gone' },
  { name: 'netns path that is a regular file', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), netns: 'file' },
  {
    name: 'a device of another kind named like the bridge',
    conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }),
    prepare: (host) => ipIn(host, ['link', 'add', 'tbr0', 'type', 'veth', 'peer', 'name', 'tbr0p']),
  },
  { name: 'cniVersion 1.1.0 (Debian stops at 1.0.0)', conf: (d) => bridgeConf({ cniVersion: '1.1.0', dataDir: d }), oursAccepts: true },
  { name: 'CHECK without prevResult', command: 'CHECK', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }) },
  { name: 'CHECK at 0.3.1', command: 'CHECK', conf: (d) => bridgeConf({ cniVersion: '0.3.1', dataDir: d }) },
  { name: 'DEL without ADD', command: 'DEL', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }) },
  { name: 'DEL without CNI_NETNS', command: 'DEL', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), netns: 'none' },
  { name: 'DEL of a vanished namespace', command: 'DEL', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), netns: 'gone' },
  { name: 'DEL with a bad vlan', command: 'DEL', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d, vlan: 5000 }), ours: 7 },
  // Debian's skel predates STATUS (code 4, unknown command); ours answers like HEAD: not at 1.0.0 (code 1).
  { name: 'STATUS at 1.0.0', command: 'STATUS', conf: (d) => bridgeConf({ cniVersion: v, dataDir: d }), ours: 1 },
]

function sideBySide(): void {
  for (const c of ADD_CASES) {
    t.test(`ADD ${c.name}`, async (t) => {
      const ours = addIn(t, undefined, c.conf, { args: c.args })
      const ref = addIn(t, REF_BRIDGE, c.conf, { args: c.args })
      t.equal(ours.add.code, ref.add.code, `exit code (ours: ${ours.add.stdout}; reference: ${ref.add.stdout})`)
      if (ref.add.code !== 0) return
      t.same(normalizeResult(ours.add.json, ours), normalizeResult(ref.add.json, ref), 'same result')
      const [os, rs] = [kernelState(t, ours), kernelState(t, ref)]
      t.same(os, rs, 'same kernel state')
      // CHECK and DEL of each other's attachment would need a shared namespace; each checks its own.
      const check = (s: Side, file?: string) =>
        runBridge(s.w, 'CHECK', { ...c.conf(s.w.dataDir), prevResult: s.add.json }, { netns: s.ctr.path, file, path: file ? REF_DIR : undefined, args: c.args })
      const version = (c.conf('/x') as { cniVersion: string }).cniVersion
      if (version >= '0.4.0' && (c.conf('/x') as { ipam?: unknown }).ipam) {
        t.equal(check(ours).code, 0, 'CHECK passes (ours)')
        const refCheck = check(ref, REF_BRIDGE)
        if (c.refCheckFails) t.match(refCheck.json?.msg, /^Expected Route .* not found in routing table$/, 'the reference’s CHECK fails here (its bug)')
        else t.equal(refCheck.code, 0, 'CHECK passes (reference)')
      }
      const del = (s: Side, file?: string) =>
        runBridge(s.w, 'DEL', c.conf(s.w.dataDir), { netns: s.ctr.path, file, path: file ? REF_DIR : undefined, args: c.args })
      t.equal(del(ours).code, 0, 'DEL (ours)')
      t.equal(del(ref, REF_BRIDGE).code, 0, 'DEL (reference)')
      t.same(normalizeText(nftRuleset(ours.w.host)), normalizeText(nftRuleset(ref.w.host)), 'same nftables ruleset after DEL')
      t.same(natRules(ours.w.host), natRules(ref.w.host), 'same iptables rules after DEL')
    })
  }

  for (const c of ERR_CASES) {
    t.test(`error: ${c.name}`, async (t) => {
      const runOne = (file?: string) => {
        const w = world(t, file ? 'ref' : 'our')
        c.prepare?.(w.host)
        let netns: string | undefined = w.container().path
        if (c.netns === 'none') netns = ''
        if (c.netns === 'gone') netns = '/run/netns/tscni-t-gone'
        if (c.netns === 'file') {
          netns = `${w.dataDir}/regular-file`
          fs.writeFileSync(netns, '')
        }
        const r = runBridge(w, c.command ?? 'ADD', c.conf(w.dataDir), { netns, file, path: file ? REF_DIR : undefined, env: c.env })
        // Texts that name our own temp dirs and CNI_PATH differ by construction.
        const msg = typeof r.json?.msg === 'string' ? r.json.msg.split(w.dataDir).join('<dir>').replace(/in path \[[^\]]*\]/, 'in path [...]') : undefined
        return { ...r, msg }
      }
      const ours = runOne()
      const ref = runOne(REF_BRIDGE)
      if (c.oursAccepts) {
        t.equal(ref.code, 1, `the reference refuses it: ${ref.stdout}`)
        if (OWN_HOST_LOCAL) t.equal(ours.code, 0, `ours accepts it: ${ours.stdout}`)
        else t.pass('ours accepts it', { skip: 'needs our host-local (spec 1.1.0) in dist/bin' })
        return
      }
      t.equal(ours.code, ref.code, `exit code (ours: ${ours.stdout}; reference: ${ref.stdout})`)
      if (ref.code === 0) return
      t.equal(ours.json?.code, c.ours ?? ref.json?.code, `error code (reference: ${ref.json?.code} ${ref.json?.msg})`)
      // Messages that differ by design: Go's JSON decoder texts, and a delegate's invalid-config
      // error (the reference host-local vs ours when it is installed).
      if (c.ours === undefined && ref.msg && !/unmarshal|invalid character|unexpected end/.test(ref.msg)) {
        t.equal(ours.msg, ref.msg, 'same message')
      }
    })
  }
}

if (!fs.existsSync(REF_BRIDGE)) {
  t.pass('side by side with the reference', { skip: `no reference bridge at ${REF_BRIDGE} (apt-get install containernetworking-plugins)` })
} else {
  sideBySide()
}

