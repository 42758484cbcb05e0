/**
 * Side-by-side scenarios for the bridge: the same steps (ADD, CHECK, DEL, ...) run through our
 * bridge and through the reference's (/usr/lib/cni/bridge with its host-local), each in a world of
 * its own (fake host namespace, container namespaces, IPAM dataDir). After every step the two are
 * compared strictly (test/helpers/side-by-side.ts): exit code, stdout byte for byte (key order
 * aside), the complete kernel state of every namespace (test/helpers/kernel-state.ts) and every
 * file of the IPAM store with its mode. Differences pass only by an entry of
 * test/helpers/deliberate.ts, claimed by the step that shows it.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Test } from 'tap'
import { type Allowance, type DeliberateId, allow, deliberate } from '../../helpers/deliberate'
import { ERROR_VERSION, NO_EMPTY_DNS } from '../../helpers/expectations'
import { settle, snapshot, type Snapshot } from '../../helpers/kernel-state'
import { type TestNetns, ipJson } from '../../helpers/netns'
import { BIN_DIR, REF_DIR, type PluginRun } from '../../helpers/plugin'
import { ABSENT, type StdoutExpectation, assertSame, expectedStdout, observeStdout, storeState } from '../../helpers/side-by-side'
import { BRIDGE, REF_BRIDGE, type World, bridgeConf, runBridge, world } from './fixture'

export type Impl = 'ours' | 'ref'

export interface Side {
  impl: Impl
  w: World
  ctrs: Record<string, TestNetns>
  /** The last successful ADD result per container label (its stdout parsed). */
  prev: Record<string, unknown>
  subst: Record<string, string>
  last?: Snapshot
}

export interface Ctx {
  dataDir: string
  impl: Impl
  /** This side's last ADD result for the step's container. */
  prev?: unknown
  side: Side
}

export interface Step {
  /** Shown in messages; default the command. */
  name?: string
  command: string
  conf: (c: Ctx) => object | string
  /** Container label (default 'a'). */
  ctr?: string
  /** Default `ctr-<label>`. */
  containerID?: string
  ifName?: string
  /** CNI_ARGS. */
  args?: string
  env?: Record<string, string | undefined>
  /** CNI_NETNS: the container (default), empty, a path that does not exist, a regular file. */
  netns?: 'ctr' | 'none' | 'gone' | 'file'
  /** The plugin type to run (default bridge): dist/bin/<type> for ours, /usr/lib/cni/<type> for the reference. */
  plugin?: string
  /** Both sides run this implementation (the other one cleans up: a node switching plugins). */
  by?: Impl
  /** The reference gets this config instead (an equivalent it understands), by a deliberate entry. */
  refConf?: { id: DeliberateId; conf: (ours: any, c: Ctx) => any }
  /** Transforms of the reference's stdout into what ours must print. */
  expect?: StdoutExpectation[]
  /** Differences forgiven after this step: paths over { exit, stdout, <namespace>..., store }. */
  allow?: Allowance[]
  /**
   * Brings the reference's world to the state the deliberate behaviour leaves (e.g. what a complete
   * undo removes), so that this and later steps compare strictly.
   */
  refFixup?: { id: DeliberateId; run: (s: Side) => boolean | void }
}

export interface Scenario {
  name: string
  /** Container labels (default ['a']). */
  containers?: string[]
  /** Prepares each side's fake host before the first step. */
  prepare?: (host: TestNetns) => void
  /** MACs the scenario chooses (kept in comparisons). */
  keepMacs?: string[]
  steps: Step[]
  /** Allowances for every step. */
  allow?: Allowance[]
  skip?: string
}

/** Runs a command in a namespace (test side: fixups, preparation). Throws on failure. */
export function inNs(ns: TestNetns, cmd: string[]): string {
  const r = spawnSync('/usr/bin/nsenter', [`--net=${ns.path}`, '--', ...cmd], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } })
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`)
  return r.stdout
}

function makeSide(t: Test, impl: Impl, sc: Scenario): Side {
  const w = world(t, impl === 'ours' ? 'our' : 'ref')
  const ctrs: Record<string, TestNetns> = {}
  for (const l of sc.containers ?? ['a']) ctrs[l] = w.container(l)
  const subst: Record<string, string> = {
    [w.host.path]: '<netns host>',
    [w.host.name]: '<netns-name host>',
    [w.dataDir]: '<dataDir>',
    [BIN_DIR]: '<CNI_PATH>',
    [REF_DIR]: '<CNI_PATH>',
  }
  for (const [l, ns] of Object.entries(ctrs)) {
    subst[ns.path] = `<netns ${l}>`
    subst[ns.name] = `<netns-name ${l}>`
  }
  sc.prepare?.(w.host)
  return { impl, w, ctrs, prev: {}, subst }
}

function runStep(side: Side, step: Step): PluginRun {
  const label = step.ctr ?? 'a'
  const impl = step.by ?? side.impl
  const c: Ctx = { dataDir: side.w.dataDir, impl: side.impl, prev: side.prev[label], side }
  let conf = step.conf(c)
  if (side.impl === 'ref' && step.refConf) conf = step.refConf.conf(typeof conf === 'string' ? conf : JSON.parse(JSON.stringify(conf)), c)
  let netns: string | undefined = side.ctrs[label]?.path
  if (step.netns === 'none') netns = ''
  if (step.netns === 'gone') netns = '/run/netns/tscni-t-gone'
  if (step.netns === 'file') {
    netns = `${side.w.dataDir}/regular-file`
    fs.writeFileSync(netns, '')
  }
  // Runtimes send GC and STATUS without an attachment.
  const perNetwork = step.command === 'GC' || step.command === 'STATUS'
  const r = runBridge(side.w, step.command, conf, {
    netns: perNetwork ? undefined : netns,
    file: step.plugin ? path.join(impl === 'ref' ? REF_DIR : BIN_DIR, step.plugin) : impl === 'ref' ? REF_BRIDGE : BRIDGE,
    path: impl === 'ref' ? REF_DIR : undefined,
    containerID: step.containerID ?? `ctr-${label}`,
    ifName: step.ifName,
    args: step.args,
    env: { ...(perNetwork ? { CNI_CONTAINERID: undefined, CNI_IFNAME: undefined } : {}), ...step.env },
  })
  if (step.command === 'ADD' && r.code === 0) side.prev[label] = JSON.parse(r.stdout)
  return r
}

function namespaces(s: Side): Record<string, TestNetns> {
  const out: Record<string, TestNetns> = { host: s.w.host }
  for (const [l, ns] of Object.entries(s.ctrs)) out[`ctr ${l}`] = ns
  return out
}

/** The allowance every bridge scenario carries: our host-local's index beside the store. */
export const STORE_INDEX = allow('storeIndex', /^store\..*\/\.tscni\//, { optional: true })
/** Containers with an IPv6 address: keep_addr_on_down is 1 in ours (HEAD), 0 in Debian's build. */
export const KEEP_ADDR_ON_DOWN = allow('keepAddrOnDown', /\.sysctl\.ipv6\.conf\.[^.]+\.keep_addr_on_down$/, { ours: '1', reference: '0', optional: true })

export async function runScenario(t: Test, sc: Scenario): Promise<void> {
  const ours = makeSide(t, 'ours', sc)
  const ref = makeSide(t, 'ref', sc)
  for (const [i, step] of sc.steps.entries()) {
    const what = `${i + 1}. ${step.name ?? step.command}${step.ctr ? ` ${step.ctr}` : ''}${step.by ? ` (by ${step.by === 'ours' ? 'ours' : 'the reference'} on both sides)` : ''}`
    const label = step.ctr ?? 'a'
    const before = ref.ctrs[label] ? linkNamesIn(ref.ctrs[label]) : []
    const ro = runStep(ours, step)
    const rr = runStep(ref, step)
    // A failed ADD: ours undoes everything, the reference leaves its veth (deliberate); the fixup
    // removes the reference's leftover so the rest compares strictly.
    const fixup = step.refFixup ?? (step.command === 'ADD' && ro.code !== 0 && rr.code !== 0 && !step.by ? undoFailedAdd(label, before) : undefined)
    if (fixup) {
      const did = fixup.run(ref)
      if (did !== false) t.pass(`${what}: the reference's state brought to ours (${deliberate(fixup.id)})`)
      else if (step.refFixup) t.fail(`${what}: ${deliberate(fixup.id)} claimed, but the reference left nothing to undo`)
    }
    await settle([...Object.values(namespaces(ours)), ...Object.values(namespaces(ref))])
    const so = snapshot(namespaces(ours), { subst: ours.subst, keepMacs: sc.keepMacs })
    const sr = snapshot(namespaces(ref), { subst: ref.subst, keepMacs: sc.keepMacs })
    ours.last = so
    ref.last = sr
    const stdoutO = observeStdout(so.norm(ro.stdout))
    const stdoutR = observeStdout(expectedStdout(t, what, sr.norm(rr.stdout), step.expect ?? []))
    delete stdoutO.tree
    delete stdoutR.tree
    const allowances = [...(step.allow ?? []), ...(sc.allow ?? []), STORE_INDEX, ERROR_VERSION, KEEP_ADDR_ON_DOWN]
    assertSame(
      t,
      what,
      { exit: ro.code, stdout: stdoutO, ...so.state, store: storeState(ours.w.dataDir) },
      { exit: rr.code, stdout: stdoutR, ...sr.state, store: storeState(ref.w.dataDir) },
      allowances,
    )
  }
}

// ---- Deliberate differences as they show in the bridge's observations --------------------------

export { NO_EMPTY_DNS, ipamDns } from '../../helpers/expectations'

/** ours speaks 1.1.0 where the reference gets 1.0.0: the result's cniVersion differs, nothing else. */
export function at110(step: Step): Step {
  return {
    ...step,
    refConf: {
      id: 'spec110',
      conf: (c) => (typeof c === 'string' ? c : { ...c, cniVersion: '1.0.0', prevResult: c.prevResult ? { ...c.prevResult, cniVersion: '1.0.0' } : undefined }),
    },
    allow: [...(step.allow ?? []), allow('spec110', /^stdout\.json\.cniVersion$/, { ours: '1.1.0', reference: '1.0.0', optional: true })],
  }
}

/** ours succeeds (empty stdout) where the reference fails with `refError` (its stdout decoded). */
export function oursSucceedsWhereReferenceFails(id: DeliberateId, refError: { code: number; msg: string | RegExp; details?: string }): Allowance[] {
  const { msg, ...rest } = refError
  return [
    allow(id, /^exit$/, { ours: 0, reference: 1 }),
    allow(id, /^stdout\.layout$/, { ours: 'empty', reference: 'indented, no newline' }),
    allow(id, /^stdout\.json$/, {
      ours: ABSENT,
      reference: msg instanceof RegExp ? (v: any) => v?.code === rest.code && msg.test(v?.msg) : { ...rest, msg },
    }),
  ]
}

function linkNamesIn(ns: TestNetns): string[] {
  return (ipJson(ns, ['link', 'show']) as any[]).map((l) => l.ifname)
}

/**
 * Brings the reference's world to what our complete undo of a failed ADD leaves: the links the
 * failed ADD made in the container (those not in `before`) are gone.
 */
export function undoFailedAdd(label = 'a', before: string[] = ['lo']): NonNullable<Step['refFixup']> {
  return {
    id: 'failedAddUndone',
    run: (s) => {
      const ns = s.ctrs[label]
      const made = linkNamesIn(ns).filter((n) => !before.includes(n))
      for (const n of made) inNs(ns, ['ip', 'link', 'del', n])
      return made.length > 0
    },
  }
}

export type Conf = (c: Ctx) => Record<string, any>

/** A bridge + host-local config at 1.0.0 (the reference's newest) on the side's dataDir. */
export const br =
  (extra: Record<string, unknown> = {}, subnet: string | string[] = '10.81.0.0/24', cniVersion = '1.0.0'): Conf =>
  (c) =>
    bridgeConf({ cniVersion, dataDir: c.dataDir, subnet, ...extra })

export interface LifecycleOptions extends Partial<Scenario> {
  add?: Partial<Step>
  check?: Partial<Step>
  del?: Partial<Step>
  args?: string
  /** ADD fails on both sides (then ours undoes it completely; runScenario fixes the reference up). */
  addFails?: boolean
  /** An L2 config: the reference's CHECK always fails (it asks the empty IPAM type). */
  l2?: boolean
}

/** ADD, CHECK (with the side's own prevResult), DEL (with it too), DEL again. */
export function lifecycle(name: string, conf: Conf, o: LifecycleOptions = {}): Scenario {
  const withPrev = (c: Ctx) => (c.prev === undefined ? conf(c) : { ...conf(c), prevResult: c.prev })
  const version = String(conf({ dataDir: '/x', impl: 'ours' } as Ctx).cniVersion ?? '0.1.0')
  const { add, check, del, args, addFails, l2, ...rest } = o
  const sample = conf({ dataDir: '/x', impl: 'ours' } as Ctx)
  const hasDns = (sample.dns && Object.keys(sample.dns).length > 0) || sample.ipam?.resolvConf
  const addAllow = [...(version.startsWith('1.') && !addFails && !hasDns ? [NO_EMPTY_DNS] : []), ...(add?.allow ?? [])]
  const checkAllow = [...(l2 ? oursSucceedsWhereReferenceFails('checkL2', { code: 999, msg: 'no plugin name provided' }) : []), ...(check?.allow ?? [])]
  return {
    name,
    ...rest,
    steps: [
      { command: 'ADD', conf, args, ...add, allow: addAllow },
      { command: 'CHECK', conf: withPrev, args, ...check, allow: checkAllow },
      { command: 'DEL', conf: withPrev, args, ...del },
      { name: 'DEL again', command: 'DEL', conf: withPrev, args, ...del },
    ],
  }
}

/** Runs `bridge link set dev <every host veth> <args>` in the side's host (a fixup). */
export function setHostPorts(s: Side, args: string[]): void {
  const links: any[] = ipJson(s.w.host, ['link', 'show'])
  for (const l of links) if (/^veth[0-9a-f]{8}$/.test(l.ifname)) inNs(s.w.host, ['bridge', 'link', 'set', 'dev', l.ifname, ...args])
}
