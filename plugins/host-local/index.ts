/**
 * host-local: IPAM from range sets, with allocations kept in files on this host
 * (reference-plugins.md §2). The verbs take skel's CmdArgs and keep no state between calls, so a
 * delegating plugin can run them in-process (hostLocalFuncs) as well as through the executable.
 * host-local never enters a namespace: CNI_NETNS is not used.
 */
import { fs } from '../../lib/native/fs'
import { joinPath } from '../../lib/util/path'
import { CniError, ErrorCode } from '../../lib/skel/errors'
import type { CmdArgs, PluginFuncs } from '../../lib/skel/dispatch'
import type { Result } from '../../lib/skel/result/types'
import { allocate, type Allocation, allocationCIDR, hasFreeAddress } from './allocator'
import { type IPAMConfig, loadIPAMConfig } from './config'
import { parseResolvConf } from './dns'
import { goPathError } from '../../lib/util/go-errors'
import { errCode } from './store/files'
import { goTrimSpace, ipOfFileName, LINE_BREAK, validateNetworkName } from './store/format'
import { Store } from './store'

/** The version label of the results the verbs build (skel converts them to the config's). */
const RESULT_VERSION = '1.1.0'

/**
 * Test-only hook: with TSCNI_TEST_HOLD_LOCK_MS=n in the environment, ADD sleeps n ms after its
 * reservations while still holding the store's lock, so that a test can SIGKILL a plugin that
 * holds the lock. Unset (always, outside tests) it costs one environment read.
 */
function holdLockForTest(): void {
  const ms = Number(process.env.TSCNI_TEST_HOLD_LOCK_MS)
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * One address from every range set for (containerID, ifname), under one hold of the lock: a
 * requested address that falls in the set if there is one (the first in request order), else the
 * next free one in round-robin order. On any failure the addresses this call reserved are
 * released again, and the error carries the reference's text.
 */
function allocateAll(store: Store, conf: IPAMConfig, containerID: string, ifname: string): Allocation[] {
  store.lock()
  try {
    const pending = [...conf.requestedIPs]
    const done: Allocation[] = []
    try {
      conf.rangeSets.forEach((rangeSet, idx) => {
        const i = pending.findIndex((ip) => rangeSet.contains(ip))
        const requestedIP = i >= 0 ? pending.splice(i, 1)[0] : null
        try {
          done.push(allocate(store, rangeSet, { containerID, ifname, rangeSetIndex: idx, requestedIP }))
        } catch (err) {
          throw new Error(`failed to allocate for range ${idx}: ${(err as Error).message}`)
        }
      })
      if (pending.length > 0) throw new Error(`failed to allocate all requested IPs: ${pending.join(' ')}`)
      holdLockForTest()
      return done
    } catch (err) {
      for (const a of done) {
        try {
          store.release(a.ip)
        } catch {
          // The error being reported matters more; a leftover is what DEL is for.
        }
      }
      throw err
    }
  } finally {
    store.unlock()
  }
}

/** ADD: one address per range set; the result has `ips` in range-set order, `routes` and `dns`. */
export async function cmdAdd(args: CmdArgs): Promise<Result> {
  const conf = loadIPAMConfig(args.conf, args.args)
  const dns = conf.resolvConf ? parseResolvConf(conf.resolvConf) : undefined
  const store = Store.open(conf.dataDir, conf.name)
  let allocations: Allocation[]
  try {
    allocations = allocateAll(store, conf, args.containerID, args.ifName)
  } finally {
    store.close()
  }
  // The abbreviated IPAM result: no interfaces, no ips[].interface.
  const result: Result = {
    cniVersion: RESULT_VERSION,
    ips: allocations.map((a) => ({ address: allocationCIDR(a), gateway: a.gateway.toString() })),
  }
  if (conf.routes.length > 0) result.routes = conf.routes
  if (dns) result.dns = dns
  return result
}

/**
 * The network's directory when it exists, else null: with no directory nothing was ever
 * allocated, so DEL and GC have nothing to do and need not create it.
 */
function existingNetworkDir(conf: IPAMConfig): string | null {
  validateNetworkName(conf.name)
  const dir = joinPath(conf.dataDir, conf.name)
  try {
    fs.statSync(dir)
    return dir
  } catch (err) {
    const code = errCode(err)
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
}

/**
 * DEL: releases every address of (containerID, ifname); when there is none, the legacy files
 * holding only the container ID. Like the reference this runs once per range set, so with two or
 * more sets one DEL releases both kinds. Succeeds when nothing is allocated. No netns needed.
 */
export async function cmdDel(args: CmdArgs): Promise<void> {
  const conf = loadIPAMConfig(args.conf, args.args)
  if (!existingNetworkDir(conf)) return
  const store = Store.open(conf.dataDir, conf.name)
  try {
    store.withLock(() => {
      for (let i = 0; i < conf.rangeSets.length; i++) store.releaseByID(args.containerID, args.ifName)
    })
  } finally {
    store.close()
  }
}

/** CHECK: some address must be recorded for (containerID, ifname) (or the legacy container ID). */
export async function cmdCheck(args: CmdArgs): Promise<void> {
  const conf = loadIPAMConfig(args.conf, args.args)
  const store = Store.open(conf.dataDir, conf.name)
  try {
    if (!store.withLock(() => store.hasAnyForID(args.containerID, args.ifName))) {
      throw new Error(`host-local: Failed to find address added by container ${args.containerID}`)
    }
  } finally {
    store.close()
  }
}

/**
 * GC (spec 1.1.0): releases every allocation whose (containerID, ifname) is not in
 * `cni.dev/valid-attachments` (or `cni.dev/attachments`; null means an empty list). A legacy file
 * (container ID only) is kept while any valid attachment has its container ID. When NEITHER key is
 * present nothing is released: the request does not say what is valid, and reading that as
 * "nothing is" would free every address in use. Errors do not stop the collection; they are
 * reported together at the end.
 */
export async function cmdGc(args: CmdArgs): Promise<void> {
  const conf = loadIPAMConfig(args.conf, args.args)
  const valid = conf.validAttachments
  if (!valid || !existingNetworkDir(conf)) return
  const pairs = new Set(valid.map((a) => goTrimSpace(a.containerID) + LINE_BREAK + a.ifname))
  const ids = new Set(valid.map((a) => goTrimSpace(a.containerID)))
  const errors: string[] = []
  const store = Store.open(conf.dataDir, conf.name)
  try {
    store.withLock(() => {
      for (const [ipText, owner] of store.listAllocations()) {
        const keep = owner.ifname === undefined ? ids.has(owner.id) : pairs.has(owner.id + LINE_BREAK + owner.ifname)
        if (keep) continue
        try {
          const ip = ipOfFileName(ipText)
          if (ip) store.release(ip)
        } catch (err) {
          errors.push(`failed to release ${ipText}: ${(err as Error).message}`)
        }
      }
    })
  } finally {
    store.close()
  }
  if (errors.length > 0) throw new Error(errors.join('; '))
}

/**
 * STATUS (spec 1.1.0): code 50 when ADD cannot succeed: the data directory cannot be created or
 * written, or a range set has no free address (ADD needs one from every set). Success otherwise.
 */
export async function cmdStatus(args: CmdArgs): Promise<void> {
  const conf = loadIPAMConfig(args.conf, args.args)
  let store: Store
  try {
    store = Store.open(conf.dataDir, conf.name)
  } catch (err) {
    throw new CniError(ErrorCode.NotAvailable, 'host-local: data directory is not usable', (err as Error).message)
  }
  try {
    try {
      fs.accessSync(store.dir, fs.constants.W_OK)
    } catch (err) {
      throw new CniError(ErrorCode.NotAvailable, 'host-local: data directory is not usable', goPathError('access', store.dir, err).message)
    }
    store.withLock(() => {
      conf.rangeSets.forEach((rangeSet, idx) => {
        if (!hasFreeAddress(store, rangeSet)) {
          throw new CniError(ErrorCode.NotAvailable, `host-local: no IP addresses available in range set ${idx}: ${rangeSet}`)
        }
      })
    })
  } finally {
    store.close()
  }
}

/** The verbs as skel's PluginFuncs, for main.ts and for running host-local in-process. */
export const hostLocalFuncs: PluginFuncs = {
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: cmdStatus,
  gc: cmdGc,
}
