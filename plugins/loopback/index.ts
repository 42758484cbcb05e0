import { type CmdArgs, type Result, parsePrevResult } from '../../lib/skel'
import { checkConfig } from '../../lib/schemas/check-config'
import validateLoopbackConf from '../../lib/schemas/generated/loopback'
import { NetnsNotFoundError, openNetns } from '../../lib/ns'
import { Rtnl } from '../../lib/netlink'

// loopback always works on `lo`: CNI_IFNAME is validated by skel but not used, like the reference.
const LO = 'lo'

/** Opens rtnetlink inside the container's namespace; the caller closes it. */
function openRtnlIn(netnsPath: string): Rtnl {
  const ns = openNetns(netnsPath)
  try {
    return Rtnl.open(ns)
  } finally {
    ns.close()
  }
}

function findLo(rtnl: Rtnl) {
  const lo = rtnl.getLinkByName(LO)
  if (!lo) throw new Error(`failed to find link "${LO}"`)
  return lo
}

function isLoopbackAddress(family: 4 | 6, address: string): boolean {
  return family === 4 ? address.startsWith('127.') : address === '::1'
}

function readPrevResult(prev: unknown, cniVersion: string): Result {
  try {
    return parsePrevResult(prev, cniVersion)
  } catch (err) {
    throw new Error(`failed to parse prevResult: ${(err as Error).message}`)
  }
}

/** ADD: `lo` up; the result reports its first IPv4 and IPv6 address, or passes prevResult through. */
export async function cmdAdd(args: CmdArgs): Promise<Result> {
  checkConfig(validateLoopbackConf, args.conf)
  const prev = args.conf.prevResult === undefined ? undefined : readPrevResult(args.conf.prevResult, args.cniVersion)
  const rtnl = openRtnlIn(args.netns)
  try {
    const lo = findLo(rtnl)
    rtnl.setLinkUp(lo.index)
    const addrs = rtnl.listAddrs({ index: lo.index })
    for (const a of addrs) {
      if (!isLoopbackAddress(a.family, a.address)) {
        throw new Error(`loopback interface found with non-loopback address "${a.address}"`)
      }
    }
    if (prev) return prev
    const ips = [4, 6]
      .map((family) => addrs.find((a) => a.family === family))
      .filter((a) => a !== undefined)
      .map((a) => ({ interface: 0, address: a.cidr }))
    return {
      cniVersion: args.cniVersion,
      interfaces: [{ name: LO, mac: '00:00:00:00:00:00', sandbox: args.netns }],
      ips,
    }
  } finally {
    rtnl.close()
  }
}

/** DEL: `lo` down. Nothing to do without a namespace, or when it is already gone. */
export async function cmdDel(args: CmdArgs): Promise<void> {
  checkConfig(validateLoopbackConf, args.conf)
  if (args.netns === '') return
  let rtnl: Rtnl
  try {
    rtnl = openRtnlIn(args.netns)
  } catch (err) {
    if (err instanceof NetnsNotFoundError) return
    throw err
  }
  try {
    const lo = findLo(rtnl)
    rtnl.setLinkDown(lo.index)
  } finally {
    rtnl.close()
  }
}

/** CHECK: `lo` must be up. */
export async function cmdCheck(args: CmdArgs): Promise<void> {
  checkConfig(validateLoopbackConf, args.conf)
  const rtnl = openRtnlIn(args.netns)
  try {
    const lo = findLo(rtnl)
    if (!lo.up) throw new Error('loopback interface is down')
  } finally {
    rtnl.close()
  }
}

// STATUS and GC: loopback holds no state and depends on nothing, so both always succeed.
export async function cmdStatus(): Promise<void> {}
export async function cmdGc(): Promise<void> {}
