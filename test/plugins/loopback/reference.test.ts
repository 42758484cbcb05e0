// Side by side with the Go reference loopback (Debian's containernetworking-plugins 1.1.1, spec
// <= 1.0.0): the same inputs, each in a namespace of its own, compared strictly: the exit code,
// stdout byte for byte (key order aside) and the namespace's complete kernel state afterwards
// (test/helpers/kernel-state.ts). Differences pass only by an entry of test/helpers/deliberate.ts.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { type Allowance, allow } from '../../helpers/deliberate'
import { ERROR_VERSION, NO_EMPTY_DNS, VERSION_LIST_DETAILS, loopbackOldShape, versionAnswer } from '../../helpers/expectations'
import { settle, snapshot } from '../../helpers/kernel-state'
import { ipIn, makeNetns, type TestNetns } from '../../helpers/netns'
import { BIN_DIR, REF_DIR, cniEnv, runPlugin, type PluginRun } from '../../helpers/plugin'
import { type StdoutExpectation, assertSame, expectedStdout, observeStdout } from '../../helpers/side-by-side'

const OURS = path.join(BIN_DIR, 'loopback')
const REF = path.join(REF_DIR, 'loopback')

interface Case {
  name: string
  command: string
  env?: Record<string, string | undefined>
  stdin: object | string
  /** Needs a namespace for CNI_NETNS (one each, so the two plugins never share state). */
  netns?: boolean
  /** Run an ADD first in that namespace. */
  addFirst?: boolean
  /** What the reference gets instead (an equivalent at a version it knows). */
  refStdin?: object
  /** An `ip` command run in the namespace first. */
  prepare?: string[]
  compareResult?: boolean
  expect?: StdoutExpectation[]
  allow?: Allowance[]
}

const conf = (cniVersion: string, extra: object = {}) => ({ cniVersion, name: 'lonet', type: 'loopback', ...extra })
const ok10 = conf('1.0.0')

const CASES: Case[] = [
  { name: 'ADD 1.0.0', command: 'ADD', stdin: ok10, netns: true, compareResult: true },
  { name: 'ADD 0.4.0', command: 'ADD', stdin: conf('0.4.0'), netns: true, compareResult: true },
  { name: 'ADD 0.3.1', command: 'ADD', stdin: conf('0.3.1'), netns: true, compareResult: true },
  { name: 'ADD 0.3.0', command: 'ADD', stdin: conf('0.3.0'), netns: true, compareResult: true },
  { name: 'ADD 0.2.0', command: 'ADD', stdin: conf('0.2.0'), netns: true, compareResult: true },
  { name: 'ADD 0.1.0', command: 'ADD', stdin: conf('0.1.0'), netns: true, compareResult: true },
  { name: 'ADD without cniVersion (converted to 0.1.0 by both)', command: 'ADD', stdin: { name: 'lonet', type: 'loopback' }, netns: true },
  { name: 'ADD twice', command: 'ADD', stdin: ok10, netns: true, addFirst: true, compareResult: true },
  { name: 'ADD with lo holding another address', command: 'ADD', stdin: ok10, netns: true, prepare: ['addr', 'add', '10.85.0.1/8', 'dev', 'lo'] },
  { name: 'ADD with unknown CNI_ARGS (loopback ignores them)', command: 'ADD', env: { CNI_ARGS: 'FOO=bar' }, stdin: ok10, netns: true, compareResult: true },
  {
    name: 'ADD with a prevResult', command: 'ADD', netns: true, compareResult: true,
    stdin: conf('1.0.0', { prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24', gateway: '10.1.0.1' }], routes: [{ dst: '0.0.0.0/0' }] } }),
  },
  { name: 'missing CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME', command: 'ADD', env: { CNI_CONTAINERID: undefined, CNI_IFNAME: undefined }, stdin: ok10 },
  { name: 'missing CNI_PATH', command: 'ADD', env: { CNI_PATH: undefined }, stdin: ok10, netns: true },
  { name: 'empty CNI_NETNS', command: 'ADD', env: { CNI_NETNS: '' }, stdin: ok10 },
  { name: 'container ID with a space', command: 'ADD', env: { CNI_CONTAINERID: 'ctr 1' }, stdin: ok10, netns: true },
  { name: 'container ID starting with -', command: 'DEL', env: { CNI_CONTAINERID: '-ctr' }, stdin: ok10, netns: true },
  { name: 'interface name of 16 bytes', command: 'ADD', env: { CNI_IFNAME: 'abcdefghijklmnop' }, stdin: ok10, netns: true },
  { name: 'interface name with /', command: 'CHECK', env: { CNI_IFNAME: 'eth/0' }, stdin: ok10, netns: true },
  { name: 'interface name ..', command: 'ADD', env: { CNI_IFNAME: '..' }, stdin: ok10, netns: true },
  { name: 'truncated JSON', command: 'ADD', stdin: '{"cniVersion":"1.0.0","name":', netns: true },
  { name: 'empty stdin', command: 'ADD', stdin: '', netns: true },
  { name: 'a JSON array', command: 'ADD', stdin: '[]', netns: true },
  { name: 'no name', command: 'ADD', stdin: { cniVersion: '1.0.0', type: 'loopback' }, netns: true },
  { name: 'name with /', command: 'ADD', stdin: conf('1.0.0', { name: 'bad/name' }), netns: true },
  { name: 'name starting with -', command: 'DEL', stdin: conf('1.0.0', { name: '-net' }), netns: true },
  { name: 'name not a string', command: 'ADD', stdin: conf('1.0.0', { name: 5 }), netns: true },
  { name: 'cniVersion 9.9.9', command: 'ADD', stdin: conf('9.9.9'), netns: true, allow: [VERSION_LIST_DETAILS] },
  { name: 'cniVersion "1.0" (not exact)', command: 'ADD', stdin: conf('1.0'), netns: true, allow: [VERSION_LIST_DETAILS] },
  {
    name: 'ADD at 1.1.0 (the reference gets 1.0.0, its newest)', command: 'ADD', stdin: conf('1.1.0'), refStdin: ok10, netns: true,
    allow: [allow('spec110', /^stdout\.json\.cniVersion$/, { ours: '1.1.0', reference: '1.0.0' })],
  },
  { name: 'CHECK at 1.1.0 (the reference gets 1.0.0)', command: 'CHECK', stdin: conf('1.1.0'), refStdin: ok10, netns: true, addFirst: true },
  { name: 'DEL at 1.1.0 (the reference gets 1.0.0)', command: 'DEL', stdin: conf('1.1.0'), refStdin: ok10, netns: true, addFirst: true },
  { name: 'cniVersion a number', command: 'ADD', stdin: conf('1.0.0', { cniVersion: 1.0 }), netns: true },
  { name: 'CHECK with cniVersion 0.3.1', command: 'CHECK', stdin: conf('0.3.1'), netns: true },
  { name: 'unknown command FOO', command: 'FOO', stdin: ok10, netns: true },
  { name: 'lower-case add', command: 'add', stdin: ok10, netns: true },
  { name: 'CHECK after ADD', command: 'CHECK', stdin: ok10, netns: true, addFirst: true },
  { name: 'CHECK without ADD (lo down)', command: 'CHECK', stdin: ok10, netns: true },
  { name: 'DEL after ADD', command: 'DEL', stdin: ok10, netns: true, addFirst: true },
  { name: 'DEL without ADD', command: 'DEL', stdin: ok10, netns: true },
  { name: 'DEL without CNI_NETNS', command: 'DEL', env: { CNI_NETNS: undefined }, stdin: ok10 },
  { name: 'DEL of a vanished namespace', command: 'DEL', env: { CNI_NETNS: '/run/netns/tscni-t-gone' }, stdin: ok10 },
  { name: 'ADD in a vanished namespace', command: 'ADD', env: { CNI_NETNS: '/run/netns/tscni-t-gone' }, stdin: ok10 },
]

function sideBySide(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const regular = path.join(dir, 'regular-file')
  fs.writeFileSync(regular, '')
  CASES.push({ name: 'ADD with a regular file as netns', command: 'ADD', env: { CNI_NETNS: regular }, stdin: ok10 })

  for (const c of CASES) {
    t.test(c.name, async (t) => {
      const runOne = (file: string): PluginRun & { ns?: TestNetns } => {
        const ns = c.netns ? makeNetns(t, 'ref') : undefined
        if (ns && c.prepare) ipIn(ns, c.prepare)
        const base = cniEnv(c.command, { containerID: 'ctr-1', netns: ns?.path, ifName: 'eth0', path: path.dirname(file) })
        const stdin = file === REF && c.refStdin ? c.refStdin : c.stdin
        if (c.addFirst) runPlugin(file, { env: { ...base, CNI_COMMAND: 'ADD' }, stdin })
        return { ...runPlugin(file, { env: { ...base, ...c.env }, stdin }), ns }
      }
      const ours = runOne(OURS)
      const ref = runOne(REF)
      const observe = (r: PluginRun & { ns?: TestNetns }, stdout: string) => {
        const subst = { [regular]: '<regular file>', ...(r.ns ? { [r.ns.path]: '<netns>', [r.ns.name]: '<netns-name>' } : {}) }
        const snap = r.ns ? snapshot({ ns: r.ns }, { subst }) : undefined
        const o = observeStdout(snap ? snap.norm(stdout) : stdout.split(regular).join('<regular file>'))
        delete o.tree
        return { exit: r.code, stdout: o, ...(snap?.state ?? {}) }
      }
      await settle([ours.ns, ref.ns].filter((x): x is TestNetns => x !== undefined))
      const version = typeof c.stdin === 'object' ? String((c.stdin as any).cniVersion ?? '0.1.0') : ''
      const expect = [...(c.expect ?? [])]
      if (c.compareResult && version.startsWith('0.')) expect.push(loopbackOldShape(version))
      const allowances = [...(c.allow ?? []), ERROR_VERSION]
      if (ref.code === 0 && version.startsWith('1.') && /\n {4}"dns": \{\}\n\}$/.test(ref.stdout)) allowances.push(NO_EMPTY_DNS)
      assertSame(t, c.name, observe(ours, ours.stdout), observe(ref, expectedStdout(t, c.name, ref.stdout, expect)), allowances)
    })
  }

  for (const sent of ['0.1.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0', '9.9.9', undefined]) {
    t.test(`VERSION, stdin ${sent === undefined ? 'empty' : `at ${sent}`}`, async (t) => {
      const stdin = sent === undefined ? '' : { cniVersion: sent }
      const ours = runPlugin(OURS, { env: { CNI_COMMAND: 'VERSION' }, stdin })
      const ref = runPlugin(REF, { env: { CNI_COMMAND: 'VERSION' }, stdin })
      const o = observeStdout(ours.stdout)
      const r = observeStdout(expectedStdout(t, 'VERSION', ref.stdout, versionAnswer(sent)))
      delete o.tree
      delete r.tree
      assertSame(t, 'VERSION', { exit: ours.code, stdout: o }, { exit: ref.code, stdout: r })
    })
  }

  t.test('no CNI_COMMAND: both print the about text on stderr and exit 0', async (t) => {
    const ours = runPlugin(OURS, { env: {}, stdin: ok10 })
    const ref = runPlugin(REF, { env: {}, stdin: ok10 })
    assertSame(t, 'no CNI_COMMAND', { exit: ours.code, stdout: ours.stdout }, { exit: ref.code, stdout: ref.stdout })
    t.match(ours.stderr, /CNI protocol versions supported/)
    t.match(ref.stderr, /CNI protocol versions supported/)
  })
}

if (!fs.existsSync(REF)) {
  t.pass('skipped: no reference loopback at ' + REF + ' (apt-get install containernetworking-plugins)', { skip: true })
} else {
  sideBySide()
}
