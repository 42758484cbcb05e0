// Chained plugins (checklist §2 ADD/DEL/CHECK with prevResult; SPEC §5 "Chained plugins"): portmap
// chained after the directory's bridge, the way a conflist runs it. The harness discovers plugins
// by the main three, so these cases hang off `bridge` (they need one anyway: portmap maps to the
// address bridge gave) and run the directory's `portmap` beside it; a directory without one skips.
//
// The rules are looked for wherever the plugin put them: an iptables nat rule DNATing to the
// container, or an nft rule doing so, so any portmap implementation can be judged.
import * as fs from 'node:fs'
import type { Case, PluginName } from '../harness/case'
import type { CaseContext } from '../harness/context'
import type { Execution } from '../harness/exec'
import { type Scenario, addOk, scenario } from './setup'

const BR = ['bridge'] as const
const PORTMAP = 'portmap' as PluginName
/** The bridge's subnet for these cases (10.130.x: out of the way of the other cases' 10.99.0). */
const SUBNET = '10.130.99'
const MAPPINGS = [
  { hostPort: 18080, containerPort: 80, protocol: 'tcp' },
  { hostPort: 18053, containerPort: 53, protocol: 'udp' },
]

interface Chain {
  s: Scenario
  /** bridge's ADD result: the prevResult portmap gets. */
  prev: any
  /** The container's IPv4 address. */
  ip: string
  conf(extra?: { prevResult?: unknown; mappings?: unknown[] | null }): Record<string, unknown>
  portmap(command: string, conf?: Record<string, unknown>): Promise<Execution>
}

/** bridge ADD, ready for portmap; skips when the directory has no portmap. */
async function chain(ctx: CaseContext, containerID = 'ctr-1', like?: Scenario): Promise<Chain> {
  if (!fs.existsSync(ctx.file(PORTMAP))) ctx.skip('no portmap plugin in the directory')
  const s = scenario(ctx, { containerID, ipam: { subnet: `${SUBNET}.0/24` }, ...(like ? { like } : {}) })
  const prev = await addOk(ctx, s, 'bridge ADD')
  const ip = String((prev.ips ?? []).find((x: any) => !String(x.address).includes(':'))?.address ?? '').split('/')[0]!
  ctx.expect(ip.startsWith(`${SUBNET}.`), 'bridge gave no address in the subnet', prev)
  const conf: Chain['conf'] = (extra = {}) => {
    const c: Record<string, unknown> = { cniVersion: ctx.version, name: s.conf.name, type: 'portmap' }
    if (extra.mappings !== null) c.runtimeConfig = { portMappings: extra.mappings ?? MAPPINGS }
    if (!('prevResult' in extra)) c.prevResult = prev
    else if (extra.prevResult !== undefined) c.prevResult = extra.prevResult
    return c
  }
  return {
    s, prev, ip, conf,
    portmap: (command, c = conf()) => ctx.exec({ plugin: PORTMAP, command, attach: s.attach, stdin: c, hostNetns: s.hostNetns! }),
  }
}

/** JSON with sorted keys and an empty "dns" left out: "equivalent" results compare equal. */
function canonical(v: unknown, top = true): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x, false)).join(',')}]`
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([k, x]) => !(top && k === 'dns' && x && typeof x === 'object' && Object.keys(x).length === 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x, false)}`).join(',')}}`
  }
  return JSON.stringify(v)
}

/** `iptables -S` words: spaces separate, double quotes group (with \" and \\ escapes). */
function words(line: string): string[] {
  const out: string[] = []
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!)
  return out
}

function tryIn(ctx: CaseContext, netns: string, cmd: string, args: string[]): string {
  try {
    return ctx.inNetns(netns, cmd, args)
  } catch {
    return '' // the tool is missing or the table is not there: nothing of the plugin in it
  }
}

/** The tables iptables-nft keeps in nft (it warns not to touch them). */
const XTABLES = ['nat', 'filter', 'mangle', 'raw', 'security']

interface FoundRule {
  where: 'iptables' | 'nft'
  text: string
  remove(): void
}

/** The plugin's rules in the fake host that DNAT to `ip` (iptables nat, then nft). */
function dnatRules(ctx: CaseContext, host: string, ip: string): FoundRule[] {
  const found: FoundRule[] = []
  for (const line of tryIn(ctx, host, 'iptables', ['-t', 'nat', '-S']).split('\n')) {
    if (!line.startsWith('-A ') || !new RegExp(`--to-destination ${ip.replace(/\./g, '\\.')}(:|$| )`).test(line)) continue
    const w = words(line)
    found.push({ where: 'iptables', text: line, remove: () => ctx.inNetns(host, 'iptables', ['-t', 'nat', '-D', ...w.slice(1)]) })
  }
  let table = ''
  let chainName = ''
  for (const line of tryIn(ctx, host, 'nft', ['-a', 'list', 'ruleset']).split('\n')) {
    const t = /^table (\S+) (\S+)/.exec(line)
    if (t) table = `${t[1]} ${t[2]}`
    const c = /^\s*chain (\S+)/.exec(line)
    if (c) chainName = c[1]!
    const h = /# handle (\d+)\s*$/.exec(line)
    // iptables-nft's tables show up in nft too: those rules were found above already.
    if (XTABLES.includes(table.split(' ')[1] ?? '')) continue
    if (h && (line.includes(`dnat to ${ip}:`) || line.includes(`dnat ip to ${ip}:`))) {
      const [family, name] = table.split(' ')
      found.push({ where: 'nft', text: line.trim(), remove: () => ctx.inNetns(host, 'nft', ['delete', 'rule', family!, name!, chainName, 'handle', h![1]!]) })
    }
  }
  return found
}

export const chainedCases: Case[] = [
  {
    id: 'chained.prevresult-passthrough', title: 'portmap after bridge: ADD outputs prevResult unchanged', level: 'MUST', section: 'SPEC §5 Chained plugins (prevResult)', plugins: BR,
    async run(ctx) {
      const c = await chain(ctx)
      for (const mappings of [MAPPINGS, []]) {
        const e = await c.portmap('ADD', c.conf({ mappings }))
        ctx.expectSuccess(e, `portmap ADD with ${mappings.length} mappings`)
        ctx.expect(e.json && typeof e.json === 'object', 'portmap ADD printed no JSON result', e.stdout)
        ctx.expect(canonical(e.json) === canonical(c.prev), 'the result is not the prevResult it was given', { prevResult: c.prev, output: e.json })
      }
      ctx.expect(dnatRules(ctx, c.s.hostNetns!, c.ip).length > 0, 'ADD made no DNAT rule to the container (iptables nat or nft)')
    },
  },
  {
    id: 'chained.add-no-prevresult', title: 'portmap ADD without prevResult fails', level: 'REF', section: 'REF portmap (must be called as chained plugin)', plugins: BR,
    async run(ctx) {
      const c = await chain(ctx)
      ctx.expectError(await c.portmap('ADD', c.conf({ prevResult: undefined })), 'portmap ADD without prevResult')
    },
  },
  {
    id: 'chained.del-no-prevresult', title: 'portmap DEL without prevResult succeeds', level: 'SHOULD', section: 'SPEC §2 DEL (prevResult)', plugins: BR,
    async run(ctx) {
      const c = await chain(ctx)
      ctx.expectSuccess(await c.portmap('ADD'), 'portmap ADD')
      ctx.expectSuccess(await c.portmap('DEL', c.conf({ prevResult: undefined })), 'portmap DEL without prevResult')
      ctx.expectSuccess(await c.portmap('DEL', c.conf({ prevResult: undefined })), 'and again')
      const never = await chain(ctx, 'ctr-2', c.s)
      ctx.expectSuccess(await never.portmap('DEL', never.conf({ prevResult: undefined })), 'DEL without prevResult of an attachment portmap never saw')
    },
  },
  {
    id: 'chained.no-leftovers', title: 'portmap DEL removes its rules for the container', level: 'MUST', section: 'SPEC §2 DEL', plugins: BR,
    async run(ctx) {
      const c = await chain(ctx)
      ctx.expectSuccess(await c.portmap('ADD'), 'portmap ADD')
      ctx.expect(dnatRules(ctx, c.s.hostNetns!, c.ip).length > 0, 'ADD made no DNAT rule to the container (iptables nat or nft)')
      ctx.expectSuccess(await c.portmap('DEL'), 'portmap DEL')
      const left = dnatRules(ctx, c.s.hostNetns!, c.ip)
      ctx.expect(left.length === 0, `rules left after DEL: ${left.map((r) => r.text).join(' | ')}`)
      ctx.expectSuccess(await c.portmap('DEL'), 'a second DEL')
    },
  },
  {
    id: 'chained.check-after-add', title: 'portmap CHECK right after ADD succeeds', level: 'SHOULD', section: 'SPEC §2 CHECK', plugins: BR, minVersion: '0.4.0',
    note: "Debian's portmap 1.1.1 fails it whenever ip6tables works: it checks the IPv4 rules in ip6tables too (fixed upstream in v1.3.0)",
    async run(ctx) {
      const c = await chain(ctx)
      ctx.expectSuccess(await c.portmap('ADD'), 'portmap ADD')
      const e = await c.portmap('CHECK')
      ctx.expectSuccess(e, 'portmap CHECK')
      ctx.expect(e.stdout.trim() === '', 'CHECK printed something', e.stdout)
    },
  },
  {
    id: 'chained.check-removed-rule', title: "portmap CHECK fails after one of its rules was removed", level: 'SHOULD', section: 'SPEC §2 CHECK (untracked resources: firewall rules)', plugins: BR, minVersion: '0.4.0',
    async run(ctx) {
      const c = await chain(ctx)
      ctx.expectSuccess(await c.portmap('ADD'), 'portmap ADD')
      const rules = dnatRules(ctx, c.s.hostNetns!, c.ip)
      ctx.expect(rules.length > 0, 'ADD made no DNAT rule to the container (iptables nat or nft)')
      rules[0]!.remove()
      ctx.expect(dnatRules(ctx, c.s.hostNetns!, c.ip).length === rules.length - 1, `could not remove ${rules[0]!.text}`)
      ctx.expectError(await c.portmap('CHECK'), `portmap CHECK after "${rules[0]!.text}" was removed`)
    },
  },
  {
    id: 'chained.gc', title: 'portmap GC removes the rules of attachments that are not valid, only those', level: 'SHOULD', section: 'SPEC §2 GC', plugins: BR, minVersion: '1.1.0',
    async run(ctx) {
      const a = await chain(ctx, 'ctr-1')
      const b = await chain(ctx, 'ctr-2', a.s)
      ctx.expectSuccess(await a.portmap('ADD'), 'portmap ADD of ctr-1')
      ctx.expectSuccess(await b.portmap('ADD', b.conf({ mappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp' }] })), 'portmap ADD of ctr-2')
      const gcConf = { cniVersion: ctx.version, name: a.s.conf.name, type: 'portmap', 'cni.dev/valid-attachments': [{ containerID: 'ctr-1', ifname: 'eth0' }] }
      const e = await ctx.exec({ plugin: PORTMAP, command: 'GC', stdin: gcConf, hostNetns: a.s.hostNetns! })
      ctx.expectSuccess(e, 'portmap GC')
      ctx.expect(dnatRules(ctx, a.s.hostNetns!, a.ip).length > 0, 'GC removed the rules of the valid attachment')
      const left = dnatRules(ctx, a.s.hostNetns!, b.ip)
      ctx.expect(left.length === 0, `GC left the rules of ctr-2: ${left.map((r) => r.text).join(' | ')}`)
    },
  },
]
