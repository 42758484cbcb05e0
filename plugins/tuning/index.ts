/**
 * The tuning plugin: sysctls and link attributes (MAC, MTU, promiscuous and all-multicast mode,
 * transmit queue length) of the container's interface, chained after the plugin that made it.
 * ADD passes prevResult on (with the interface's new MAC); the link attributes it changes are saved
 * first in the reference's backup file, which DEL restores (see backup.ts).
 *
 * Better than the reference, deliberately (plugins/tuning/README.md has the list): everything is
 * checked before anything changes, a failed ADD puts back what it changed (sysctls included), a
 * second ADD keeps the originals saved by the first, `args.cni.sysctl` without `sysctl` works
 * instead of panicking, CHECK replaces IFNAME and compares MACs as addresses.
 */
import { fs } from '../../lib/native/fs'
import { NetlinkError, Rtnl } from '../../lib/netlink'
import type { Link } from '../../lib/netlink'
import { type Netns, NetnsNotFoundError, openNetns } from '../../lib/ns'
import type { CmdArgs, Result } from '../../lib/skel'
import { writeAllSync } from '../../lib/skel/stdio'
import { type Backup, backupPath, parseBackup, readBackup, readBackupText, removeBackup, writeBackup, writeBackupText } from './backup'
import { type TuningConf, checkMac, loadConf, parseGoMac, wantsLinkChange } from './config'
import { type Sysctl, checkAllowlist, readSysctlFile, resolveSysctls, writeSysctlFile } from './sysctl'

/** A kernel refusal in the reference's words (Go prints the bare errno text: `invalid argument`). */
function kernelText(err: unknown): string {
  return err instanceof NetlinkError ? err.reason : (err as Error).message
}

function note(msg: string): void {
  writeAllSync(2, `tuning: ${msg}\n`)
}

/** The reference's ns.WithNetNSPath errors come unwrapped: `failed to Statfs "/x": no such file or directory`. */
function openNetnsOrFail(path: string): Netns {
  return openNetns(path)
}

function mustGetLink(rtnl: Rtnl, ifName: string): Link {
  const link = rtnl.getLinkByName(ifName)
  if (!link) throw new Error(`failed to get ${JSON.stringify(ifName)}: Link not found`)
  return link
}

/** The link's current values of the attributes this config sets (what the backup keeps). */
function currentValues(c: TuningConf, link: Link): Backup {
  const b: Backup = {}
  if (c.mac !== '') b.mac = link.mac
  if (c.promisc) b.promisc = link.promisc
  if (c.mtu !== 0) b.mtu = link.mtu
  if (c.allmulti !== undefined) b.allmulti = link.allmulti
  if (c.txQLen !== undefined) b.txQLen = link.txQLen ?? 0
  return b
}

interface AddPlan {
  conf: TuningConf
  ifName: string
  /** Normalized MAC to set, when one is configured. */
  mac?: string
  sysctls: Sysctl[]
  /** The backup file, when a link attribute is configured. */
  file?: string
}

/** Inside the container's namespace: everything ADD changes, undone in reverse order on failure. */
function applyInNetns(p: AddPlan): void {
  const undo: Array<[string, () => void]> = []
  let rtnl: Rtnl | undefined
  try {
    for (const s of p.sysctls) {
      let old: string | undefined
      try {
        old = fs.readFileSync(s.file, 'utf8') as string
      } catch {
        old = undefined // write-only or missing: the write below tells
      }
      writeSysctlFile(s.file, s.value)
      if (old !== undefined) {
        const was = old
        undo.push([`sysctl ${s.file}`, () => writeSysctlFile(s.file, was)])
      }
    }
    if (!p.file) return
    const file = p.file
    const c = p.conf
    rtnl = Rtnl.open()
    const r = rtnl
    const link = mustGetLink(r, p.ifName)
    const before = currentValues(c, link)

    // The originals: a backup left by an earlier ADD of this attachment keeps its values (they are
    // the real originals); attributes it lacks get today's values.
    const prevText = readBackupText(file)
    const prev = prevText === undefined ? undefined : parseBackup(prevText)
    writeBackup(c.dataDir, file, { ...before, ...(prev ?? {}) })
    undo.push([`backup ${file}`, () => (prevText === undefined ? removeBackup(file) : writeBackupText(c.dataDir, file, prevText))])

    const step = (what: string, set: () => void, restore: () => void): void => {
      try {
        set()
      } catch (err) {
        throw new Error(kernelText(err))
      }
      undo.push([what, restore])
    }
    const i = link.index
    if (p.mac !== undefined) step('MAC', () => r.setMac(i, p.mac!), () => r.setMac(i, before.mac!))
    if (c.promisc) step('promiscuous mode', () => r.setPromisc(i, true), () => r.setPromisc(i, before.promisc!))
    if (c.mtu !== 0) step('MTU', () => r.setMtu(i, c.mtu), () => r.setMtu(i, before.mtu!))
    if (c.allmulti !== undefined) step('all-multicast mode', () => r.setAllmulti(i, c.allmulti!), () => r.setAllmulti(i, before.allmulti!))
    if (c.txQLen !== undefined) step('transmit queue length', () => r.setTxQLen(i, c.txQLen!), () => r.setTxQLen(i, before.txQLen!))
  } catch (err) {
    for (const [what, fn] of undo.reverse()) {
      try {
        fn()
      } catch (undoErr) {
        note(`undoing a failed ADD: restoring ${what}: ${kernelText(undoErr)}`)
      }
    }
    throw err
  } finally {
    rtnl?.close()
  }
}

export async function cmdAdd(args: CmdArgs): Promise<Result> {
  const c = loadConf(args.conf, args.cniVersion, args.args, true)
  checkAllowlist(c.sysctl.keys())
  const plan: AddPlan = { conf: c, ifName: args.ifName, sysctls: resolveSysctls(c.sysctl, args.ifName) }
  if (c.mac !== '') plan.mac = checkMac(c.mac)
  if (wantsLinkChange(c)) plan.file = backupPath(c.dataDir, args.containerID, args.ifName)
  const result = c.prevResult!
  // Opened even with nothing to do (podman's default `{"type": "tuning"}`): a bad CNI_NETNS fails
  // ADD, as in the reference.
  const ns = openNetnsOrFail(args.netns)
  try {
    if (plan.sysctls.length > 0 || plan.file) ns.runSync(() => applyInNetns(plan))
  } finally {
    ns.close()
  }
  if (plan.mac !== undefined) for (const intf of result.interfaces ?? []) if (intf.name === args.ifName) intf.mac = plan.mac
  return result
}

/** Inside the namespace: puts the saved attributes back; returns what failed (the file then stays). */
function restoreInNetns(file: string, ifName: string): void {
  const b = readBackup(file)
  if (b === undefined) return
  if (b === 'unreadable') {
    note(`${file} cannot be read; nothing restored, the file stays`)
    return
  }
  const rtnl = Rtnl.open()
  try {
    const link = rtnl.getLinkByName(ifName)
    if (!link) {
      // The interface is gone, and its attributes with it: nothing to restore, ever.
      removeBackup(file)
      return
    }
    const errs: string[] = []
    const attempt = (what: string, fn: () => void): void => {
      try {
        fn()
      } catch (err) {
        errs.push(`failed to restore ${what}: ${kernelText(err)}`)
      }
    }
    const i = link.index
    if (b.mtu) attempt('MTU', () => rtnl.setMtu(i, b.mtu!))
    if (b.mac) {
      attempt('MAC address', () => {
        const m = parseGoMac(b.mac!)
        if (!m || m.length !== 6) throw new Error(`invalid args ${b.mac} for MAC addr: address ${b.mac}: invalid MAC address`)
        rtnl.setMac(i, [...m].map((x) => x.toString(16).padStart(2, '0')).join(':'))
      })
    }
    if (b.promisc !== undefined) attempt('promiscuous mode', () => rtnl.setPromisc(i, b.promisc!))
    if (b.allmulti !== undefined) attempt('all-multicast mode', () => rtnl.setAllmulti(i, b.allmulti!))
    if (b.txQLen !== undefined) attempt('transmit queue length', () => rtnl.setTxQLen(i, b.txQLen!))
    if (errs.length > 0) {
      note(`${errs.join('; ')} (${file} stays)`)
      return
    }
    removeBackup(file)
  } finally {
    rtnl.close()
  }
}

/**
 * DEL: restores the saved attributes and removes the file. Like the reference it fails only on a
 * config it cannot read; everything after that is reported on stderr and DEL succeeds.
 */
export async function cmdDel(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion, args.args, false)
  try {
    const file = backupPath(c.dataDir, args.containerID, args.ifName)
    if (args.netns === '') return // the namespace may still exist: keep the file for a later DEL
    let ns: Netns
    try {
      ns = openNetns(args.netns)
    } catch (err) {
      // A namespace that is gone took the interface with it: nothing is left to restore.
      if (err instanceof NetnsNotFoundError) removeBackup(file)
      return
    }
    try {
      ns.runSync(() => restoreInNetns(file, args.ifName))
    } finally {
      ns.close()
    }
  } catch (err) {
    note(`DEL: ${(err as Error).message}`)
  }
}

export async function cmdCheck(args: CmdArgs): Promise<void> {
  const c = loadConf(args.conf, args.cniVersion, args.args, true)
  const sysctls = resolveSysctls(c.sysctl, args.ifName)
  const ns = openNetnsOrFail(args.netns)
  try {
    ns.runSync(() => checkInNetns(c, args.ifName, sysctls))
  } finally {
    ns.close()
  }
}

function checkInNetns(c: TuningConf, ifName: string, sysctls: Sysctl[]): void {
  for (const s of sysctls) {
    const cur = readSysctlFile(s.file)
    if (cur !== s.value) throw new Error(`Error: Tuning configured value of ${s.file} is ${s.value}, current value is ${cur}`)
  }
  const rtnl = Rtnl.open()
  let link: Link | undefined
  try {
    link = rtnl.getLinkByName(ifName)
  } finally {
    rtnl.close()
  }
  if (!link) throw new Error(`Cannot find container link ${ifName}`)
  if (c.mac !== '') {
    const want = parseGoMac(c.mac)
    const same = want !== undefined && want.length === 6 && [...want].map((x) => x.toString(16).padStart(2, '0')).join(':') === link.mac
    if (!same) throw new Error(`Error: Tuning configured Ethernet of ${ifName} is ${c.mac}, current value is ${link.mac}`)
  }
  if (c.promisc !== link.promisc) {
    throw new Error(`Error: Tuning link ${ifName} configured promisc is ${c.promisc}, current value is ${link.promisc ? 1 : 0}`)
  }
  if (c.mtu !== 0 && c.mtu !== link.mtu) {
    throw new Error(`Error: Tuning configured MTU of ${ifName} is ${c.mtu}, current value is ${link.mtu}`)
  }
  if (c.allmulti !== undefined && c.allmulti !== link.allmulti) {
    throw new Error(`Error: Tuning configured all-multicast mode of ${ifName} is ${c.allmulti}, current value is ${link.allmulti}`)
  }
  if (c.txQLen !== undefined && c.txQLen !== (link.txQLen ?? 0)) {
    throw new Error(`Error: Tuning configured Transmit Queue Length of ${ifName} is ${c.txQLen}, current value is ${link.txQLen ?? 0}`)
  }
}

/** STATUS: nothing tuning needs can be unavailable; the config is still checked. */
export async function cmdStatus(args: CmdArgs): Promise<void> {
  loadConf(args.conf, args.cniVersion, '', false)
}

/**
 * GC: nothing. The backup files are named after container and interface only, and the default
 * directory is shared by every network, so a network's list of valid attachments cannot tell
 * which files are its own; a file left behind is removed by the DEL of a namespace that is gone.
 */
export async function cmdGc(args: CmdArgs): Promise<void> {
  loadConf(args.conf, args.cniVersion, '', false)
}
