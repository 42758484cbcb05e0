// Side by side with the Go reference host-local (Debian's containernetworking-plugins 1.1.1, spec
// <= 1.0.0): the same inputs, each on a data directory of its own, compared strictly: the exit
// code, stdout byte for byte (key order aside) and every file and directory of the data directory
// with its mode and content. The only differences forgiven are entries of test/helpers/deliberate.ts,
// each claimed by the case that shows it.
import * as path from 'node:path'
import t from 'tap'
import { type Allowance, allow } from '../../helpers/deliberate'
import { ERROR_VERSION, MISSING_CONTAINER_ID, ROUTE_FIELDS, NO_EMPTY_DNS, VERSION_LIST_DETAILS, refusesSpec110, typeError, verbBelow110, versionAnswer } from '../../helpers/expectations'
import type { PluginRun } from '../../helpers/plugin'
import { ABSENT, type StdoutExpectation, assertSame, expectedStdout, observeStdout, storeState } from '../../helpers/side-by-side'
import { HAVE_REF, type HlRun, OURS, REF, runHL, tmpDir } from '../../helpers/host-local'
import * as fs from 'node:fs'

const VERSIONS = ['1.0.0', '0.4.0', '0.3.1', '0.2.0']
const DATADIR = '@DATADIR@'

/** A config whose dataDir (anywhere in it) is filled in per run. */
const conf = (cniVersion: string | null, ipam: object, extra: object = {}) => {
  const c: Record<string, unknown> = { name: 'refnet', type: 'bridge', bridge: 'cni0', isGateway: true, ipam: { type: 'host-local', dataDir: DATADIR, ...ipam }, ...extra }
  if (cniVersion !== null) c.cniVersion = cniVersion
  return c
}

interface Step extends Omit<HlRun, 'conf'> {
  conf: object | string
}

interface Case {
  name: string
  /** Files written into both data directories first (path relative to dataDir: content). */
  files?: Record<string, string>
  /** Run on both before the compared step (their outcomes are compared too). */
  setup?: Step[]
  step: Step
  /** Deliberate differences this case shows (beyond the general ones applied by rule below). */
  allow?: Allowance[]
  expect?: StdoutExpectation[]
}

function fill(value: object | string, dataDir: string): object | string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.split(DATADIR).join(dataDir)
}

const v4 = { subnet: '10.60.0.0/24' }
const dual = {
  ranges: [[{ subnet: '10.60.0.0/24', rangeStart: '10.60.0.10', rangeEnd: '10.60.0.20', gateway: '10.60.0.254' }], [{ subnet: 'fd00:60::/64' }]],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '10.61.0.0/16', gw: '10.60.0.9', priority: 3, table: 10 }, { dst: '::/0', gw: 'fd00:60::1' }],
}
const add = (c: object | string, extra: Partial<Step> = {}): Step => ({ command: 'ADD', conf: c, ...extra })

function cases(resolvDir: string): Case[] {
  const resolv = path.join(resolvDir, 'resolv.conf')
  fs.writeFileSync(resolv, 'nameserver 10.60.0.53\nnameserver fd00:60::53\ndomain example.org\nsearch a.example b.example\noptions ndots:3\n')
  const list: Case[] = []
  for (const v of VERSIONS) {
    list.push({ name: `${v}: one IPv4 range`, step: add(conf(v, v4)) })
    list.push({ name: `${v}: dual stack, custom range, routes`, step: add(conf(v, dual)) })
    list.push({ name: `${v}: resolvConf`, step: add(conf(v, { ...v4, resolvConf: resolv })) })
    list.push({ name: `${v}: round robin after a DEL`, setup: [add(conf(v, v4), { containerID: 'a' }), add(conf(v, v4), { containerID: 'b' }), { command: 'DEL', conf: conf(v, v4), containerID: 'a' }], step: add(conf(v, v4), { containerID: 'c' }) })
    list.push({ name: `${v}: CNI_ARGS IP`, step: add(conf(v, v4), { args: 'IP=10.60.0.77' }) })
    list.push({ name: `${v}: DEL after ADD`, setup: [add(conf(v, v4))], step: { command: 'DEL', conf: conf(v, v4) } })
  }
  list.push(
    { name: 'no cniVersion (0.1.0)', step: add(conf(null, v4)) },
    { name: '0.1.0 dual stack', step: add(conf('0.1.0', dual)) },
    { name: 'two IPv4 sets at 0.2.0', step: add(conf('0.2.0', { ranges: [[v4], [{ subnet: '10.61.0.0/24' }]] })) },
    { name: 'two IPv4 sets at 0.3.1', step: add(conf('0.3.1', { ranges: [[v4], [{ subnet: '10.61.0.0/24' }]] })) },
    { name: 'two IPv4 sets without cniVersion', step: add(conf(null, { ranges: [[v4], [{ subnet: '10.61.0.0/24' }]] })) },
    { name: 'CHECK at 0.3.1', step: { command: 'CHECK', conf: conf('0.3.1', v4) } },
    {
      name: 'cniVersion 9.9.9',
      step: add(conf('9.9.9', v4)),
      allow: [VERSION_LIST_DETAILS],
    },
  )
  for (const v of VERSIONS) {
    list.push(
      { name: `${v}: upper-case keys (Go matches keys case-insensitively)`, step: add(JSON.stringify(conf(v, {})).replace('"ipam":{', '"IPAM":{"Subnet":"10.60.0.0/24","RangeStart":"10.60.0.5",').replace('"dataDir"', '"DataDir"')) },
      { name: `${v}: runtimeConfig.ipRanges prepended`, step: add(conf(v, v4, { runtimeConfig: { ipRanges: [[{ subnet: '10.59.0.0/24' }]] } })) },
      { name: `${v}: runtimeConfig.ips`, step: add(conf(v, v4, { runtimeConfig: { ips: ['10.60.0.88/24'] } })) },
      { name: `${v}: args.cni.ips`, step: add(conf(v, v4, { args: { cni: { ips: ['10.60.0.89'] } } })) },
      { name: `${v}: requested IPs in two sets`, step: add(conf(v, dual, { runtimeConfig: { ips: ['fd00:60::99', '10.60.0.15'] } })) },
      { name: `${v}: CNI_ARGS IgnoreUnknown with bridge MAC and K8S keys`, step: add(conf(v, v4), { args: 'IgnoreUnknown=1;MAC=00:11:22:33:44:55;K8S_POD_NAME=p;IP=10.60.0.90' }) },
      { name: `${v}: CNI_ARGS empty IP`, step: add(conf(v, v4), { args: 'IP=' }) },
      { name: `${v}: container ID with . _ -`, step: add(conf(v, v4), { containerID: 'a.b_c-D9' }) },
      // errors
      { name: `${v}: no ipam`, step: add({ cniVersion: v, name: 'refnet', type: 'bridge' }) },
      { name: `${v}: ipam null`, step: add({ cniVersion: v, name: 'refnet', ipam: null }) },
      { name: `${v}: no ranges`, step: add(conf(v, {})) },
      { name: `${v}: legacy keys without subnet`, step: add(conf(v, { rangeStart: '10.60.0.5' })) },
      { name: `${v}: empty range set`, step: add(conf(v, { ranges: [[]] })) },
      { name: `${v}: range without subnet`, step: add(conf(v, { ranges: [[{}]] })) },
      { name: `${v}: mixed families`, step: add(conf(v, { ranges: [[v4, { subnet: 'fd00::/64' }]] })) },
      { name: `${v}: /31`, step: add(conf(v, { subnet: '10.60.0.0/31' })) },
      { name: `${v}: /127`, step: add(conf(v, { subnet: 'fd00::/127' })) },
      { name: `${v}: host bits set`, step: add(conf(v, { subnet: '10.60.0.1/24' })) },
      { name: `${v}: IPv4-mapped subnet`, step: add(conf(v, { subnet: '::ffff:10.60.0.0/120' })) },
      { name: `${v}: rangeStart outside`, step: add(conf(v, { ...v4, rangeStart: '10.61.0.1' })) },
      { name: `${v}: rangeEnd outside`, step: add(conf(v, { ...v4, rangeEnd: '10.61.0.1' })) },
      { name: `${v}: rangeStart after rangeEnd`, step: add(conf(v, { ...v4, rangeStart: '10.60.0.50', rangeEnd: '10.60.0.40' })) },
      { name: `${v}: ranges overlap in a set`, step: add(conf(v, { ranges: [[v4, { subnet: '10.60.0.128/25' }]] })) },
      { name: `${v}: range sets overlap`, step: add(conf(v, { ranges: [[v4], [{ subnet: 'fd00::/64' }], [{ subnet: '10.60.0.0/16' }]] })) },
      { name: `${v}: bad subnet`, step: add(conf(v, { subnet: '10.60.0.0' })) },
      { name: `${v}: empty subnet`, step: add(conf(v, { subnet: '' })) },
      { name: `${v}: bad rangeStart`, step: add(conf(v, { ...v4, rangeStart: 'x' })) },
      { name: `${v}: bad gateway in ranges`, step: add(conf(v, { ranges: [[{ ...v4, gateway: '1.2.3' }]] })) },
      { name: `${v}: bad route dst`, step: add(conf(v, { ...v4, routes: [{ dst: '10.0.0.0' }] })) },
      { name: `${v}: bad route gw`, step: add(conf(v, { ...v4, routes: [{ dst: '10.0.0.0/8', gw: 'gw' }] })) },
      { name: `${v}: bad runtimeConfig.ips`, step: add(conf(v, v4, { runtimeConfig: { ips: ['garbage'] } })) },
      { name: `${v}: empty args.cni.ips entry`, step: add(conf(v, v4, { args: { cni: { ips: [''] } } })) },
      { name: `${v}: resolvConf missing`, step: add(conf(v, { ...v4, resolvConf: path.join(resolvDir, 'missing') })) },
      { name: `${v}: resolvConf is a directory`, step: add(conf(v, { ...v4, resolvConf: resolvDir })) },
      { name: `${v}: dataDir is a regular file`, step: add(JSON.stringify(conf(v, v4)).replace(DATADIR, resolv)) },
      { name: `${v}: dataDir under /proc`, step: add(JSON.stringify(conf(v, v4)).replace(DATADIR, '/proc/tscni-t-nope')) },
      { name: `${v}: CNI_ARGS unknown key`, step: add(conf(v, v4), { args: 'MAC=00:11:22:33:44:55' }) },
      { name: `${v}: CNI_ARGS lower-case ip`, step: add(conf(v, v4), { args: 'ip=10.60.0.5' }) },
      { name: `${v}: CNI_ARGS pair without =`, step: add(conf(v, v4), { args: 'FOO' }) },
      { name: `${v}: CNI_ARGS bad IP`, step: add(conf(v, v4), { args: 'IP=10.60.0.300' }) },
      { name: `${v}: CNI_ARGS bad IgnoreUnknown`, step: add(conf(v, v4), { args: 'IgnoreUnknown=maybe;FOO=1' }) },
      { name: `${v}: requested IP outside every range`, step: add(conf(v, v4), { args: 'IP=10.70.0.5' }) },
      { name: `${v}: requested IP is the gateway`, step: add(conf(v, v4), { args: 'IP=10.60.0.1' }) },
      { name: `${v}: requested IP taken`, setup: [add(conf(v, v4), { args: 'IP=10.60.0.5', containerID: 'first' })], step: add(conf(v, v4), { args: 'IP=10.60.0.5' }) },
      { name: `${v}: duplicate ADD`, setup: [add(conf(v, v4))], step: add(conf(v, v4)) },
      { name: `${v}: second ifname`, setup: [add(conf(v, v4))], step: add(conf(v, v4), { ifName: 'eth1' }) },
      { name: `${v}: exhausted /30`, setup: [add(conf(v, { subnet: '10.60.0.0/30' }), { containerID: 'first' })], step: add(conf(v, { subnet: '10.60.0.0/30' })) },
      { name: `${v}: second set exhausted: the first is rolled back`, setup: [add(conf(v, { ranges: [[v4], [{ subnet: '10.61.0.0/30' }]] }), { containerID: 'first' })], step: add(conf(v, { ranges: [[v4], [{ subnet: '10.61.0.0/30' }]] })) },
      // type errors: ours code 7 naming the field, the reference 999 with Go's decoder text
      { name: `${v}: subnet a number`, step: add(conf(v, { subnet: 5 })), allow: typeError('ipam.subnet', 'string') },
      { name: `${v}: routes not a list`, step: add(conf(v, { ...v4, routes: {} })), allow: typeError('ipam.routes', 'array') },
      // DEL / CHECK
      { name: `${v}: DEL twice`, setup: [add(conf(v, v4)), { command: 'DEL', conf: conf(v, v4) }], step: { command: 'DEL', conf: conf(v, v4) } },
      { name: `${v}: DEL of an unknown container`, setup: [add(conf(v, v4), { containerID: 'other' })], step: { command: 'DEL', conf: conf(v, v4) } },
      { name: `${v}: DEL without CNI_NETNS`, setup: [add(conf(v, v4))], step: { command: 'DEL', conf: conf(v, v4), noNetns: true } },
      { name: `${v}: DEL of one ifname`, setup: [add(conf(v, v4)), add(conf(v, v4), { ifName: 'eth1' })], step: { command: 'DEL', conf: conf(v, v4), ifName: 'eth1' } },
      { name: `${v}: DEL with unknown CNI_ARGS`, setup: [add(conf(v, v4))], step: { command: 'DEL', conf: conf(v, v4), args: 'MAC=aa' } },
      { name: `${v}: DEL with an invalid range`, step: { command: 'DEL', conf: conf(v, { subnet: '10.60.0.0/31' }) } },
      { name: `${v}: CHECK after ADD`, setup: [add(conf(v, v4))], step: { command: 'CHECK', conf: conf(v, v4) } },
      { name: `${v}: CHECK without ADD`, setup: [add(conf(v, v4), { containerID: 'other' })], step: { command: 'CHECK', conf: conf(v, v4) } },
      { name: `${v}: CHECK after DEL`, setup: [add(conf(v, v4)), { command: 'DEL', conf: conf(v, v4) }], step: { command: 'CHECK', conf: conf(v, v4) } },
      { name: `${v}: CHECK of another ifname`, setup: [add(conf(v, v4))], step: { command: 'CHECK', conf: conf(v, v4), ifName: 'eth1' } },
      // skel
      { name: `${v}: container ID with a space`, step: add(conf(v, v4), { containerID: 'ctr 1' }) },
      { name: `${v}: interface name of 16 bytes`, step: add(conf(v, v4), { ifName: 'abcdefghijklmnop' }) },
      { name: `${v}: missing network name`, step: add({ cniVersion: v, ipam: { type: 'host-local', ...v4, dataDir: DATADIR } }) },
    )
  }
  return list
}

const STORE_INDEX = allow('storeIndex', /^store\..*\/\.tscni\//, { optional: true })

/** Deliberate differences that apply by rule, whatever the case. */
function byRule(c: Case, ref: PluginRun): Allowance[] {
  const out: Allowance[] = [STORE_INDEX]
  let v: unknown
  try {
    v = (typeof c.step.conf === 'string' ? JSON.parse(c.step.conf) : (c.step.conf as any)).cniVersion
  } catch {
    v = undefined
  }
  // A 1.x result with an empty dns: Debian prints "dns": {}, ours (HEAD) omits it.
  if (String(v).startsWith('1.') && ref.code === 0 && /\n {4}"dns": \{\}\n\}$/.test(ref.stdout)) out.push(NO_EMPTY_DNS)
  return out
}

function sideBySide(): void {
  const shared = tmpDir(t, 'hl-ref')
  const list = [...cases(shared), ...moreCases(shared)]
  for (const c of list) {
    t.test(c.name, async (t) => {
      const runAll = (file: string) => {
        const dataDir = tmpDir(t, 'hl-ref')
        for (const [rel, content] of Object.entries(c.files ?? {})) {
          fs.mkdirSync(path.dirname(path.join(dataDir, rel)), { recursive: true, mode: 0o755 })
          fs.writeFileSync(path.join(dataDir, rel), content, { mode: 0o644 })
        }
        const run = (s: Step): PluginRun => {
          const r = runHL({ ...s, conf: fill(s.conf, dataDir) }, file)
          return { ...r, stdout: r.stdout.split(dataDir).join('<dataDir>') }
        }
        const setup = (c.setup ?? []).map(run)
        return { setup, step: run(c.step), store: storeState(dataDir) }
      }
      const ours = runAll(OURS)
      const ref = runAll(REF)
      ours.setup.forEach((o, i) => t.equal(o.code, ref.setup[i].code, `setup ${i + 1}: same exit code (ours ${o.stdout || '(empty)'}, reference ${ref.setup[i].stdout || '(empty)'})`))
      const observe = (r: PluginRun, stdout: string, store: unknown) => {
        const o = observeStdout(stdout)
        delete o.tree
        return { exit: r.code, stdout: o, store }
      }
      assertSame(
        t,
        c.name,
        observe(ours.step, ours.step.stdout, ours.store),
        observe(ref.step, expectedStdout(t, c.name, ref.step.stdout, c.expect ?? []), ref.store),
        [...(c.allow ?? []), ...byRule(c, ref.step), ERROR_VERSION, ROUTE_FIELDS],
      )
    })
  }
}

/** Cases beyond the table above: the remaining options, the verbs of spec 1.1.0, VERSION. */
function moreCases(dir: string): Case[] {
  const list: Case[] = []
  const resolvEmpty = path.join(dir, 'resolv-empty.conf')
  fs.writeFileSync(resolvEmpty, '# nothing\n\n; nothing either\nnameserver\n')
  for (const v of ['1.0.0', '0.4.0']) {
    list.push(
      { name: `${v}: legacy subnet, rangeStart, rangeEnd, gateway`, step: add(conf(v, { subnet: '10.62.0.0/24', rangeStart: '10.62.0.5', rangeEnd: '10.62.0.9', gateway: '10.62.0.6' })) },
      { name: `${v}: legacy keys and ranges together (the legacy range first)`, step: add(conf(v, { subnet: '10.62.0.0/24', ranges: [[{ subnet: 'fd00:62::/64' }]] })) },
      { name: `${v}: two ranges in one set, the first full`, setup: [add(conf(v, { ranges: [[{ subnet: '10.62.1.0/30' }, { subnet: '10.62.2.0/24' }]] }), { containerID: 'first' })], step: add(conf(v, { ranges: [[{ subnet: '10.62.1.0/30' }, { subnet: '10.62.2.0/24' }]] })) },
      { name: `${v}: an IPv6 /126 ends at its last address`, setup: [1, 2].map((i) => add(conf(v, { subnet: 'fd00:62::/126' }), { containerID: `c${i}` })), step: add(conf(v, { subnet: 'fd00:62::/126' })) },
      { name: `${v}: routes with mtu, advmss and scope`, step: add(conf(v, { ...v4, routes: [{ dst: '10.63.0.0/16', mtu: 1400, advmss: 1360 }, { dst: '10.64.0.0/16', gw: '10.60.0.2', scope: 253 }] })) },
      { name: `${v}: a resolvConf without entries`, step: add(conf(v, { ...v4, resolvConf: resolvEmpty })) },
      { name: `${v}: dataDir that does not exist yet (created with its parents)`, step: add(JSON.stringify(conf(v, v4)).replace(DATADIR, `${DATADIR}/x/y`)) },
      { name: `${v}: network name with . _ -`, step: add(JSON.stringify(conf(v, v4)).replace('"refnet"', '"ref.net_1-a"')) },
      { name: `${v}: a legacy allocation (container ID only) blocks a duplicate`, files: { 'refnet/10.60.0.9': 'ctr-1' }, step: add(conf(v, v4)) },
      { name: `${v}: DEL releases a legacy allocation`, files: { 'refnet/10.60.0.9': 'ctr-1\n', 'refnet/10.60.0.10': 'other' }, step: { command: 'DEL', conf: conf(v, v4) } },
      { name: `${v}: CHECK finds a legacy allocation`, files: { 'refnet/10.60.0.9': ' ctr-1 ' }, step: { command: 'CHECK', conf: conf(v, v4) } },
      { name: `${v}: round robin from a last_reserved_ip written by someone else`, files: { 'refnet/last_reserved_ip.0': '10.60.0.200' }, step: add(conf(v, v4)) },
      { name: `${v}: a last_reserved_ip with a newline is ignored`, files: { 'refnet/last_reserved_ip.0': '10.60.0.200\n' }, step: add(conf(v, v4)) },
      { name: `${v}: DEL without ADD`, step: { command: 'DEL', conf: conf(v, v4) }, allow: [allow('delCreatesNoStore', /^store\.refnet\/(lock)?$/, { ours: ABSENT })] },
      { name: `${v}: DEL without ADD and without CNI_NETNS`, step: { command: 'DEL', conf: conf(v, v4), noNetns: true }, allow: [allow('delCreatesNoStore', /^store\.refnet\/(lock)?$/, { ours: ABSENT })] },
      { name: `${v}: CHECK without ADD on a fresh dataDir`, step: { command: 'CHECK', conf: conf(v, v4) } },
    )
  }
  // Runtimes send GC and STATUS without a container ID, which Debian's skel asks for first.
  list.push(
    { name: 'STATUS at 1.0.0', setup: [add(conf('1.0.0', v4))], step: { command: 'STATUS', conf: conf('1.0.0', v4) }, allow: verbBelow110('STATUS', 'missing containerID') },
    { name: 'GC at 1.0.0', setup: [add(conf('1.0.0', v4))], step: { command: 'GC', conf: conf('1.0.0', v4) }, allow: verbBelow110('GC', 'missing containerID') },
    { name: 'STATUS at 1.1.0', setup: [add(conf('1.0.0', v4))], step: { command: 'STATUS', conf: conf('1.1.0', v4) }, allow: refusesSpec110('empty', MISSING_CONTAINER_ID) },
    {
      name: 'GC at 1.1.0: releases what is not a valid attachment',
      setup: [add(conf('1.0.0', v4), { containerID: 'keep' }), add(conf('1.0.0', v4), { containerID: 'stale' })],
      step: { command: 'GC', conf: conf('1.1.0', v4, { 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] }) },
      allow: [...refusesSpec110('empty', MISSING_CONTAINER_ID), allow('spec110', /^store\.refnet\/10\.60\.0\.3$/, { ours: ABSENT })],
    },
    { name: 'ADD at 1.1.0', step: add(conf('1.1.0', v4)), allow: [...refusesSpec110('result'), allow('spec110', /^store\.refnet\//, { reference: ABSENT })] },
  )
  for (const sent of ['0.2.0', '0.4.0', '1.0.0', '1.1.0', '9.9.9']) list.push({ name: `VERSION, stdin at ${sent}`, step: { command: 'VERSION', conf: { cniVersion: sent } }, expect: versionAnswer(sent) })
  list.push({ name: 'VERSION, empty stdin', step: { command: 'VERSION', conf: '' }, expect: versionAnswer(undefined) })
  return list
}

if (!HAVE_REF) {
  t.pass(`skipped: no reference host-local at ${REF} (apt-get install containernetworking-plugins)`, { skip: true })
} else {
  sideBySide()
}
