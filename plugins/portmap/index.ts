/**
 * The portmap plugin: host ports forwarded to a container, chained after the plugin that made its
 * interface (its addresses come from prevResult, which ADD passes on unchanged). Rules follow the
 * reference's, on iptables or nftables (see iptables.ts, nftables.ts).
 *
 * Better than the reference, deliberately: a failed ADD removes the container's rules again; DEL
 * removes the container's rules even when the runtime sends no mappings (they are found by name),
 * and drops stale UDP conntrack flows of the mapped ports as ADD does; CHECK looks only at the
 * family of each address; GC removes the chains of attachments that are gone.
 */
import type { Prefix } from '../../lib/ip/prefix'
import type { Family } from '../../lib/netfilter/iptables'
import { type CmdArgs, CniError, ErrorCode, type Result, validAttachments } from '../../lib/skel'
import { writeAllSync } from '../../lib/skel/stdio'
import { backendFor } from './backend'
import { CONFIG_ERROR, type PortMapConf, loadConf } from './config'
import { type ContainerIPs, containerIPs } from './container-ips'
import { iptablesCheck, iptablesForward, iptablesGc, iptablesNatUsable, iptablesUnforward } from './iptables'
import { nftCheckPorts, nftForwardPorts, nftUnforwardPorts } from './nftables'
import { dropStaleUdpFlows, enableRouteLocalnet } from './side-effects'

/** ADD and DEL say where a config error came from, as the reference does (CHECK does not). */
function prefixed(err: unknown): unknown {
  if (err instanceof CniError && err.code === CONFIG_ERROR) return new CniError(err.code, `failed to parse config: ${err.msg}`, err.details)
  return err
}

function loadWithPrefix(args: CmdArgs): PortMapConf {
  try {
    return loadConf(args.conf, args.cniVersion)
  } catch (err) {
    throw prefixed(err)
  }
}

/** The backend, its option check failing like a config error (the reference checks it while parsing). */
const backendWithPrefix = (c: PortMapConf) => backendFor(c).catch((err: unknown) => Promise.reject(prefixed(err)))

function byFamily(ips: ContainerIPs): [Family, Prefix][] {
  const out: [Family, Prefix][] = []
  if (ips.v4) out.push([4, ips.v4])
  if (ips.v6) out.push([6, ips.v6])
  return out
}

/** The families whose nat table can be used; neither is an error (the reference's text). */
async function usableFamilies(): Promise<Family[]> {
  const out: Family[] = []
  for (const f of [4, 6] as const) if (await iptablesNatUsable(f)) out.push(f)
  if (out.length === 0) throw new Error('neither iptables nor ip6tables usable')
  return out
}

/** Removes whatever the container has, on the backend given; used by DEL and by a failed ADD. */
async function unforward(c: PortMapConf, containerID: string, backend: 'iptables' | 'nftables', families?: Family[]): Promise<void> {
  if (backend === 'nftables') return nftUnforwardPorts(containerID)
  for (const f of families ?? (await usableFamilies())) await iptablesUnforward(c.name, containerID, f)
}

export async function cmdAdd(args: CmdArgs): Promise<Result> {
  const c = loadWithPrefix(args)
  if (!c.prevResult) throw new Error('must be called as chained plugin')
  if (c.mappings.length === 0) return c.prevResult
  const ips = containerIPs(c.prevResult, args.ifName)
  const families = byFamily(ips)
  if (families.length === 0) return c.prevResult
  const backend = await backendWithPrefix(c)
  try {
    if (backend === 'nftables') await nftForwardPorts(c, args.containerID, ips)
    else for (const [f, cip] of families) await iptablesForward(c, args.containerID, f, cip)
    dropStaleUdpFlows(c.mappings, families.map(([f]) => f), families.map(([, p]) => p.ip.toString()).join(', '))
    if (c.snat && ips.v4) enableRouteLocalnet(ips.v4)
  } catch (err) {
    // The shared chains stay (other containers use them); this container's rules go.
    await unforward(c, args.containerID, backend, families.map(([f]) => f)).catch((undoErr: unknown) => {
      writeAllSync(2, `portmap: undoing a failed ADD: ${(undoErr as Error).message}\n`)
    })
    throw err
  }
  return c.prevResult
}

export async function cmdDel(args: CmdArgs): Promise<void> {
  const c = loadWithPrefix(args)
  const backend = await backendWithPrefix(c)
  await unforward(c, args.containerID, backend)
  // No prevResult is needed: flows to the mapped UDP ports are dropped in both families.
  dropStaleUdpFlows(c.mappings, [4, 6], `container ${args.containerID}`)
}

export async function cmdCheck(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion)
  if (!c.prevResult) throw new Error('Required prevResult missing')
  if (c.mappings.length === 0) return
  const ips = containerIPs(c.prevResult, args.ifName)
  const backend = await backendFor(c)
  if (backend === 'nftables') return nftCheckPorts(c, args.containerID, ips)
  for (const [f, cip] of byFamily(ips)) {
    try {
      await iptablesCheck(c, args.containerID, f, cip)
    } catch (err) {
      throw new Error(`could not check ipv${f} dnat: ${(err as Error).message}`)
    }
  }
}

/** STATUS: ready while a packet filter can be programmed. */
export async function cmdStatus(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion)
  const backend = await backendFor(c)
  if (backend === 'iptables' && !(await iptablesNatUsable(4)) && !(await iptablesNatUsable(6))) {
    throw new CniError(ErrorCode.NotAvailable, 'portmap: neither iptables nor ip6tables usable')
  }
}

/**
 * GC: the DNAT chains of this network's attachments not in `cni.dev/valid-attachments`
 * (iptables, where the rules name their network). nftables rules carry only the container ID, as
 * the reference writes them, so on nftables GC removes nothing rather than guess the network.
 */
export async function cmdGc(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion)
  const backend = await backendFor(c)
  if (backend !== 'iptables') return
  const valid = new Set(validAttachments(args.conf).map((a) => a.containerID))
  for (const f of await usableFamilies()) await iptablesGc(c.name, valid, f)
}
