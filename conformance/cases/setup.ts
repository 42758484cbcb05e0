import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Attachment, CaseContext, ExecRequest } from '../harness/context'
import type { Execution } from '../harness/exec'
import { parseAddr } from '../../lib/ip/address'

export const SUBNET = '10.99.0'

/**
 * One attachment of the plugin under test, ready to ADD: its config, its CNI_* parameters, and
 * where it runs. The same cases can then exercise loopback, host-local and bridge alike.
 */
export interface Scenario {
  conf: Record<string, unknown>
  attach: Attachment
  /** The fake host the plugin runs in (bridge), when it needs one. */
  hostNetns?: string
  /** The IPAM data directory of the network, for plugins that allocate addresses. */
  dataDir?: string
  /** The addresses the store holds right now (IP files of the network). */
  allocations(): string[]
  run(command: string, extra?: Partial<ExecRequest> & { conf?: object; attach?: Attachment }): Promise<Execution>
}

export interface ScenarioOptions {
  version?: string
  containerID?: string
  ifName?: string
  /** Merged into the plugin config (for bridge and host-local, into `ipam` with `ipam`). */
  conf?: Record<string, unknown>
  ipam?: Record<string, unknown>
  /** Reuse namespaces / data dir of another scenario (several containers on one network). */
  like?: Scenario
}

/** The reservations of a host-local store: the files named by an IP address. */
function ipFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => parseAddr(f) !== null).sort()
  } catch {
    return []
  }
}

export function scenario(ctx: CaseContext, opts: ScenarioOptions = {}): Scenario {
  const version = opts.version ?? ctx.version
  const containerID = opts.containerID ?? 'ctr-1'
  const ifName = opts.ifName ?? 'eth0'
  const like = opts.like
  let conf: Record<string, unknown>
  let hostNetns: string | undefined
  let dataDir: string | undefined
  let netns: string
  let network: string
  switch (ctx.plugin) {
    case 'loopback':
      network = 'lonet'
      conf = { cniVersion: version, name: network, type: 'loopback', ...opts.conf }
      netns = ctx.netns()
      break
    case 'host-local':
      network = 'hlnet'
      dataDir = like?.dataDir ?? ctx.tempDir()
      conf = {
        cniVersion: version, name: network, type: 'x', ...opts.conf,
        ipam: { type: 'host-local', subnet: `${SUBNET}.0/24`, dataDir, routes: [{ dst: '0.0.0.0/0' }], ...opts.ipam },
      }
      netns = like?.attach.netns ?? ctx.netns()
      break
    case 'bridge': {
      network = 'brnet'
      dataDir = like?.dataDir ?? ctx.tempDir()
      hostNetns = like?.hostNetns ?? ctx.netns()
      const bridge = (like?.conf.bridge as string | undefined) ?? ctx.uniqueName('cnitbr')
      conf = {
        cniVersion: version, name: network, type: 'bridge', bridge, isGateway: true, ...opts.conf,
        ipam: { type: 'host-local', subnet: `${SUBNET}.0/24`, dataDir, ...opts.ipam },
      }
      netns = ctx.netns()
      break
    }
  }
  const attach: Attachment = { containerID, netns, ifName }
  const s: Scenario = {
    conf,
    attach,
    ...(hostNetns ? { hostNetns } : {}),
    ...(dataDir ? { dataDir } : {}),
    allocations: () => (dataDir ? ipFiles(path.join(dataDir, network)) : []),
    run: (command, extra = {}) =>
      ctx.exec({
        command,
        attach: { ...attach, ...extra.attach },
        stdin: extra.conf ?? conf,
        ...(extra.env ? { env: extra.env } : {}),
        ...(hostNetns ? { hostNetns } : {}),
        ...(extra.plugin ? { plugin: extra.plugin } : {}),
      }),
  }
  return s
}

/** ADD that must succeed; returns the result. */
export async function addOk(ctx: CaseContext, s: Scenario, what = 'ADD'): Promise<any> {
  const e = await s.run('ADD')
  ctx.expectSuccess(e, what)
  ctx.expect(e.json && typeof e.json === 'object', `${what}: stdout is not a JSON result`, e.stdout)
  return e.json
}

/** The config with a prevResult, as a runtime sends it to CHECK and DEL. */
export function withPrev(s: Scenario, prevResult: unknown): Record<string, unknown> {
  return { ...s.conf, prevResult }
}

/** Links of a namespace, through iproute2's JSON output. */
export function links(ctx: CaseContext, netnsPath: string): Array<{ ifname: string; flags: string[]; link_type?: string; linkinfo?: any }> {
  return JSON.parse(ctx.inNetns(netnsPath, 'ip', ['-j', '-d', 'link', 'show']))
}

/** Addresses (CIDR) on one link of a namespace. */
export function addrs(ctx: CaseContext, netnsPath: string, ifName: string): string[] {
  const out = JSON.parse(ctx.inNetns(netnsPath, 'ip', ['-j', 'addr', 'show', 'dev', ifName])) as any[]
  return (out[0]?.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`)
}
