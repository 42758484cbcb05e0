// Side by side with the Go reference host-local (Debian's containernetworking-plugins 1.1.1, spec
// <= 1.0.0): the same inputs, each on a data directory of its own, must give the same exit code,
// the same error code and text, an equal (normalised) result, and the same files on disk.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import type { PluginRun } from '../../helpers/plugin'
import { HAVE_REF, type HlRun, OURS, REF, runHL, tmpDir } from '../../helpers/host-local'

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
  /** Run on both before the compared step (their outcome is compared too). */
  setup?: Step[]
  step: Step
  /** Ours answers code 7 where the reference's Go decoder answers 999 (a wrong JSON type). */
  typeError?: boolean
  /** The details list the supported versions: ours has 1.1.0 too. */
  versionDetails?: boolean
}

function fill(value: object | string, dataDir: string): object | string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.split(DATADIR).join(dataDir)
}

/**
 * Results compared as JSON after removing what differs by design: an empty `dns` (Debian's
 * libcni always prints `"dns": {}`, HEAD omits it in 1.x) and the route fields Debian's libcni
 * does not know (mtu, advmss, priority, table, scope: HEAD returns them).
 */
function normalize(j: any): any {
  if (!j || typeof j !== 'object') return j
  const out = JSON.parse(JSON.stringify(j))
  if (out.dns && Object.keys(out.dns).length === 0) delete out.dns
  const strip = (routes: any[] | undefined) => routes?.forEach((r) => ['mtu', 'advmss', 'priority', 'table', 'scope'].forEach((k) => delete r[k]))
  strip(out.routes)
  strip(out.ip4?.routes)
  strip(out.ip6?.routes)
  return out
}

/** Every file of a network directory with its content, except our index and temp files. */
function storeFiles(dataDir: string): Record<string, string> {
  const dir = path.join(dataDir, 'refnet')
  const out: Record<string, string> = {}
  if (!fs.existsSync(dir)) return out
  for (const name of fs.readdirSync(dir).sort()) {
    if (name === '.tscni' || name.startsWith('.tmp-')) continue
    out[name] = fs.readFileSync(path.join(dir, name), 'latin1')
  }
  return out
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
    { name: 'cniVersion 9.9.9', step: add(conf('9.9.9', v4)), versionDetails: true },
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
      { name: `${v}: subnet a number`, step: add(conf(v, { subnet: 5 })), typeError: true },
      { name: `${v}: routes not a list`, step: add(conf(v, { ...v4, routes: {} })), typeError: true },
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

function sideBySide(): void {
  const shared = tmpDir(t, 'hl-ref')
  for (const c of cases(shared)) {
    t.test(c.name, async (t) => {
      const runAll = (file: string) => {
        const dataDir = tmpDir(t, 'hl-ref')
        const run = (s: Step): PluginRun => {
          const r = runHL({ ...s, conf: fill(s.conf, dataDir) }, file)
          return { ...r, stdout: r.stdout.split(dataDir).join('<dataDir>'), json: r.json && JSON.parse(JSON.stringify(r.json).split(dataDir).join('<dataDir>')) }
        }
        const setup = (c.setup ?? []).map(run)
        return { setup, step: run(c.step), files: storeFiles(dataDir) }
      }
      const ours = runAll(OURS)
      const ref = runAll(REF)
      ours.setup.forEach((o, i) => t.equal(o.code, ref.setup[i].code, `setup ${i}: exit code`))
      const o = ours.step
      const r = ref.step
      t.equal(o.code, r.code, `exit code (ours: ${o.stdout || '(empty)'}; reference: ${r.stdout || '(empty)'})`)
      if (r.code !== 0) {
        if (c.typeError) {
          t.equal(o.json?.code, 7, 'ours: code 7 naming the field')
          t.match(o.json?.msg, /^failed to load netconf: ".*" must be /)
          t.equal(r.json?.code, 999, 'reference: 999')
        } else {
          t.equal(o.json?.code, r.json?.code, 'error code')
          t.equal(o.json?.msg, r.json?.msg, 'error text')
          if (c.versionDetails) t.equal(o.json?.details, r.json?.details.replace('"1.0.0"]', '"1.0.0" "1.1.0"]'), 'details: ours lists 1.1.0 too')
          else t.equal(o.json?.details, r.json?.details, 'error details')
        }
      } else {
        t.same(normalize(o.json), normalize(r.json), 'same result')
      }
      t.same(ours.files, ref.files, 'same files in the store')
    })
  }
}

if (!HAVE_REF) {
  t.pass(`skipped: no reference host-local at ${REF} (apt-get install containernetworking-plugins)`, { skip: true })
} else {
  sideBySide()
}
