/**
 * The bridge plugin: containers on a Linux bridge through veth pairs, addresses from a delegated
 * IPAM plugin, optionally the gateway on the bridge and masquerade.
 *
 * ADD follows the reference step by step (reference-plugins.md §1.2) and undoes everything it did
 * when a step fails, so a retried ADD succeeds; DEL is idempotent. Shared things (the bridge, its
 * gateway addresses, sysctls) stay, as with the reference.
 */
import { fs } from '../../lib/native/fs'
import { type Link, Rtnl } from '../../lib/netlink'
import { type Netns, NetnsNotFoundError, openNetns } from '../../lib/ns'
import { parseIP } from '../../lib/ip/address'
import { type Prefix, isGlobalUnicast, networkIP, parsePrefix } from '../../lib/ip/prefix'
import { enableIPv4Forward, enableIPv6Forward, trySysctl } from '../../lib/ip/sysctl'
import { setupIPMasq, gcIPMasq, teardownIPMasq } from './masquerade'
import { setupSpoofCheck, spoofCheckRef, teardownSpoofCheck } from './spoofcheck'
import {
  type DelegateOptions,
  configureIface,
  delegateAdd,
  delegateCheck,
  delegateDel,
  delegateGc,
  delegateStatus,
  errText,
  ZERO_DEFAULT_ROUTE,
} from '../../lib/ipam'
import { type CmdArgs, CniError, ErrorCode, type Result, validAttachments, versionFamily } from '../../lib/skel'
import { writeAllSync } from '../../lib/skel/stdio'
import { type BridgeNetConf, checkAddConf, loadNetConf } from './config'
import { bridgeByName, ensureAddr, ensureBridge, ensureVlanInterface, setupVeth, waitPortUp } from './link'
import { checkAttachment } from './check'

type Family = 4 | 6

/**
 * Test-only failure injection: TSCNI_TEST_BRIDGE_FAIL_AT=<step> makes ADD fail right after that
 * step, to prove that everything done so far is undone. Steps: veth, spoofcheck, ipam, configure,
 * gateway, ipmasq, end. Not for production use.
 */
function failpoint(step: string): void {
  if (process.env.TSCNI_TEST_BRIDGE_FAIL_AT === step) throw new Error(`test failure injected after ${step}`)
}

/** What a failed ADD must take back, newest first. Undo errors go to stderr; the ADD error is what counts. */
class Undo {
  private readonly steps: { what: string; run: () => unknown }[] = []

  push(what: string, run: () => unknown): void {
    this.steps.push({ what, run })
  }

  async runAll(): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step.run()
      } catch (err) {
        writeAllSync(2, `bridge: undoing ${step.what} after a failed ADD: ${(err as Error).message}\n`)
      }
    }
  }
}

function delegateOpts(args: CmdArgs): DelegateOptions {
  return { paths: args.path }
}

function openNetnsForAdd(path: string): Netns {
  try {
    return openNetns(path)
  } catch (err) {
    throw new Error(`failed to open netns ${JSON.stringify(path)}: ${(err as Error).message}`)
  }
}

/** An fd of the namespace this process runs in (the host's), for creating the veth peer in it. */
function openOwnNetnsFd(): number {
  return fs.openSync('/proc/self/ns/net', fs.constants.O_RDONLY)
}

interface GatewayInfo {
  family: Family
  /** gateway/prefix of each address of this family, in order. */
  gws: string[]
  defaultRouteFound: boolean
}

/**
 * The reference's calcGateways: every IP is on interface 2 (the container end); a missing gateway
 * becomes the subnet's first address when isGateway; isDefaultGateway adds a default route per
 * family unless one with a gateway came from IPAM.
 */
export function calcGateways(result: Result, n: BridgeNetConf): { v4: GatewayInfo; v6: GatewayInfo } {
  const v4: GatewayInfo = { family: 4, gws: [], defaultRouteFound: false }
  const v6: GatewayInfo = { family: 6, gws: [], defaultRouteFound: false }
  for (const ipc of result.ips ?? []) {
    const p = parsePrefix(ipc.address)
    const info = p.ip.family === 4 ? v4 : v6
    const defaultDst = p.ip.family === 4 ? '0.0.0.0/0' : '::/0'
    ipc.interface = 2
    if (!ipc.gateway && n.isGateway) ipc.gateway = networkIP(p).next().toString()
    if (n.isDefaultGateway && !info.defaultRouteFound) {
      const routes = (result.routes ??= [])
      if (!routes.some((r) => r.gw && r.dst === defaultDst)) {
        const route: { dst: string; gw?: string; [ZERO_DEFAULT_ROUTE]?: boolean } = { dst: defaultDst, [ZERO_DEFAULT_ROUTE]: true }
        if (ipc.gateway) route.gw = ipc.gateway
        routes.push(route)
      }
      info.defaultRouteFound = true
    }
    if (n.isGateway) info.gws.push(`${ipc.gateway}/${p.prefix}`)
  }
  return { v4, v6 }
}

/** ADD: see the file comment. */
export async function cmdAdd(args: CmdArgs): Promise<Result> {
  const n = loadNetConf(args.conf, args.args, args.cniVersion)
  checkAddConf(n)
  const isLayer3 = n.ipamType !== ''
  const undo = new Undo()
  const host = Rtnl.open()
  let netns: Netns | undefined
  let ctr: Rtnl | undefined
  let hostNsFd: number | undefined
  try {
    const br = ensureBridge(host, {
      name: n.bridge,
      mtu: n.mtu,
      promisc: n.promiscMode,
      vlanFiltering: n.vlan !== 0 || n.hasVlanTrunk,
    })
    netns = openNetnsForAdd(args.netns)
    ctr = Rtnl.open(netns)
    hostNsFd = openOwnNetnsFd()
    const ctrRtnl = ctr
    const pair = setupVeth(
      ctr,
      host,
      hostNsFd,
      {
        ifName: args.ifName,
        mtu: n.mtu,
        mac: n.mac,
        sandbox: args.netns,
        bridge: br,
        hairpin: n.hairpinMode,
        isolated: n.portIsolation,
        vlan: n.vlan,
        vlans: n.vlans,
        preserveDefaultVlan: n.preserveDefaultVlan,
      },
      (index) => undo.push('the veth pair', () => ctrRtnl.deleteLink(index)),
    )
    failpoint('veth')

    const brIface = { name: br.name, mac: br.mac }
    const result: Result = { cniVersion: args.cniVersion, interfaces: [brIface, pair.host, pair.container] }

    if (n.macspoofchk) {
      const ref = spoofCheckRef(args.containerID, args.ifName)
      // Registered first: teardown copes with a setup that never happened or half happened.
      undo.push('the spoof check', () => teardownSpoofCheck(ref))
      await setupSpoofCheck(pair.host.name, pair.container.mac ?? '', ref)
      failpoint('spoofcheck')
    }

    if (isLayer3) {
      const ipam = await delegateAdd(n.ipamType, args.stdinData, args.cniVersion, delegateOpts(args))
      undo.push('the IPAM allocation', () => delegateDel(n.ipamType, args.stdinData, delegateOpts(args)))
      failpoint('ipam')
      if (ipam.ips?.length) result.ips = ipam.ips
      if (ipam.routes?.length) result.routes = ipam.routes
      if (ipam.dns) result.dns = ipam.dns
      if (!result.ips?.length) throw new Error('IPAM plugin returned missing IP config')

      const gws = calcGateways(result, n)
      netns.runSync(() => {
        const ifn = args.ifName
        if (n.enabledad) {
          trySysctl(`net/ipv6/conf/${ifn}/enhanced_dad`, '1')
          trySysctl(`net/ipv6/conf/${ifn}/accept_dad`, '1')
        } else {
          trySysctl(`net/ipv6/conf/${ifn}/accept_dad`, '0')
        }
        trySysctl(`net/ipv4/conf/${ifn}/arp_notify`, '1')
      })
      configureIface(netns, ctr, args.ifName, result)
      failpoint('configure')

      if (n.isGateway) setupGateways(host, hostNsFd, br, n, gws, result)
      failpoint('gateway')

      if (n.ipMasq) {
        const addrs: Prefix[] = (result.ips ?? []).map((ip) => parsePrefix(ip.address))
        const families = new Set(addrs.map((a) => a.ip.family))
        // Registered first: one family may be set up when the other fails.
        undo.push('the masquerade rules', () => teardownIPMasq(n.name, args.ifName, args.containerID, families))
        await setupIPMasq(n.ipMasqBackend, addrs, n.name, args.ifName, args.containerID)
        failpoint('ipmasq')
      }
    } else if (!n.disableContainerInterface) {
      try {
        ctr.setLinkUp(pair.containerIndex)
      } catch (err) {
        throw new Error(`failed to set ${JSON.stringify(args.ifName)} up: ${errText(err)}`)
      }
    }

    const hostVeth = n.disableContainerInterface ? host.getLinkByName(pair.host.name) : waitPortUp(host, pair.host.name)
    if (hostVeth) pair.host.mac = hostVeth.mac
    // The bridge's MAC may have changed when its first port joined (unless ensureAddr pinned it).
    brIface.mac = bridgeByName(host, n.bridge).mac
    failpoint('end')

    if (!isLayer3 && versionFamily(args.cniVersion) === '020') {
      // The 0.1/0.2 result has no room for an attachment without addresses. The reference finds
      // out when it prints the result, with everything made; we fail at the same point with its
      // words and code, and undo the attachment (the bridge stays, as after any failed ADD).
      throw new CniError(ErrorCode.Internal, 'cannot convert: no valid IP addresses')
    }
    if (n.dns) result.dns = n.dns
    return result
  } catch (err) {
    await undo.runAll()
    throw err
  } finally {
    if (hostNsFd !== undefined) fs.closeSync(hostNsFd)
    ctr?.close()
    netns?.close()
    host.close()
  }
}

/** Gateway addresses on the bridge (or the VLAN's gateway interface), then forwarding per family. */
function setupGateways(
  host: Rtnl,
  hostNsFd: number,
  br: Link,
  n: BridgeNetConf,
  gws: { v4: GatewayInfo; v6: GatewayInfo },
  result: Result,
): void {
  let vlanIfaceListed = false
  for (const info of [gws.v4, gws.v6]) {
    for (const gw of info.gws) {
      if (n.vlan !== 0) {
        let vlanLink: Link
        try {
          vlanLink = ensureVlanInterface(host, hostNsFd, br, n.vlan, n.preserveDefaultVlan)
        } catch (err) {
          throw new Error(`failed to create vlan interface: ${(err as Error).message}`)
        }
        if (!vlanIfaceListed) {
          result.interfaces!.push({ name: vlanLink.name, mac: vlanLink.mac })
          vlanIfaceListed = true
        }
        try {
          ensureAddr(host, vlanLink, gw, n.forceAddress)
        } catch (err) {
          throw new Error(`failed to set vlan interface for bridge with addr: ${(err as Error).message}`)
        }
      } else {
        try {
          ensureAddr(host, br, gw, n.forceAddress)
        } catch (err) {
          throw new Error(`failed to set bridge addr: ${(err as Error).message}`)
        }
      }
    }
    if (info.gws.length) {
      try {
        if (info.family === 4) enableIPv4Forward()
        else enableIPv6Forward()
      } catch (err) {
        throw new Error(`failed to enable forwarding: ${(err as Error).message}`)
      }
    }
  }
}

/**
 * Deletes the container interface (the veth pair goes with it) and returns the families of the
 * global addresses it had; undefined when there was no such interface.
 */
function deleteContainerLink(netns: Netns, ifName: string): Family[] | undefined {
  const ctr = Rtnl.open(netns)
  try {
    const link = ctr.getLinkByName(ifName)
    if (!link) return undefined
    const addrs = ctr.listAddrs({ index: link.index })
    try {
      ctr.deleteLink(link.index)
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENODEV') throw new Error(`failed to delete ${JSON.stringify(ifName)}: ${errText(err)}`)
    }
    const families = new Set<Family>()
    for (const a of addrs) {
      const ip = parseIP(a.address)
      if (ip && isGlobalUnicast(ip)) families.add(ip.family)
    }
    return [...families]
  } finally {
    ctr.close()
  }
}

/**
 * DEL: remove the container interface, release the IPAM allocation, remove the spoof check and the
 * masquerade rules. Everything already gone is success; so is a namespace that no longer exists or
 * was never given (host-side rules are still removed then, which the reference skips).
 */
export async function cmdDel(args: CmdArgs): Promise<void> {
  const n = loadNetConf(args.conf, args.args, args.cniVersion)
  const isLayer3 = n.ipamType !== ''
  let families: Family[] | undefined
  if (args.netns !== '') {
    let netns: Netns | undefined
    try {
      netns = openNetns(args.netns)
    } catch (err) {
      if (!(err instanceof NetnsNotFoundError)) throw err
    }
    if (netns) {
      try {
        families = deleteContainerLink(netns, args.ifName)
      } finally {
        netns.close()
      }
    }
  }
  if (isLayer3) await delegateDel(n.ipamType, args.stdinData, delegateOpts(args))
  if (n.macspoofchk) {
    try {
      await teardownSpoofCheck(spoofCheckRef(args.containerID, args.ifName))
    } catch (err) {
      writeAllSync(2, `${(err as Error).message}\n`)
    }
  }
  if (isLayer3 && n.ipMasq) {
    // Unknown families (no interface to read them from): look in both tables.
    await teardownIPMasq(n.name, args.ifName, args.containerID, families?.length ? families : [4, 6])
  }
}

/** CHECK: the IPAM's check, then the attachment against prevResult (see check.ts). */
export async function cmdCheck(args: CmdArgs): Promise<void> {
  const n = loadNetConf(args.conf, args.args, args.cniVersion)
  let netns: Netns
  try {
    netns = openNetns(args.netns)
  } catch (err) {
    throw new Error(`failed to open netns ${JSON.stringify(args.netns)}: ${(err as Error).message}`)
  }
  try {
    // The reference also asks an L2 config's (empty) IPAM type, which always fails.
    if (n.ipamType !== '') await delegateCheck(n.ipamType, args.stdinData, delegateOpts(args))
    checkAttachment(args, n, netns)
  } finally {
    netns.close()
  }
}

/** STATUS: ready when the IPAM plugin says so (an L2 bridge depends on nothing). */
export async function cmdStatus(args: CmdArgs): Promise<void> {
  const n = loadNetConf(args.conf, '', args.cniVersion)
  if (n.ipamType !== '') await delegateStatus(n.ipamType, args.stdinData, delegateOpts(args))
}

/**
 * GC: forwarded to the IPAM plugin (same stdin), and masquerade rules of this network whose
 * attachment is not valid any more are removed. Both run; all errors are reported.
 */
export async function cmdGc(args: CmdArgs): Promise<void> {
  const n = loadNetConf(args.conf, '', args.cniVersion)
  const valid = validAttachments(args.conf)
  const errors: unknown[] = []
  if (n.ipamType !== '') {
    await delegateGc(n.ipamType, args.stdinData, delegateOpts(args)).catch((err: unknown) => errors.push(err))
  }
  await gcIPMasq(n.name, valid).catch((err: unknown) => errors.push(err))
  // One failure keeps its own code (an IPAM error passes through); several become one message.
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new Error(errors.map((e) => (e as Error).message).join('; '))
}
