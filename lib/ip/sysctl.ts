/**
 * Kernel parameters under /proc/sys, and IP forwarding.
 *
 * Everything here is synchronous on purpose: /proc/sys/net belongs to the network namespace of the
 * thread that opens the file, so for another namespace these calls go inside `Netns.runSync()`
 * (never async fs there: libuv's pool threads stay in the original namespace). Called outside a
 * window they act on the plugin's own namespace, the host.
 */
import { fs } from '../native/fs'

/**
 * `net/ipv6/conf/eth0/accept_ra` -> `/proc/sys/net/ipv6/conf/eth0/accept_ra`. Names use `/` as the
 * separator (like the reference), so interface names with dots (`br0.100`) stay one path element.
 */
export function sysctlFile(name: string): string {
  return `/proc/sys/${name.replace(/^\/+/, '')}`
}

/** The value with surrounding whitespace removed (the kernel ends every value with a newline). */
export function readSysctl(name: string): string {
  return fs.readFileSync(sysctlFile(name), 'utf8').trim()
}

export function writeSysctl(name: string, value: string): void {
  fs.writeFileSync(sysctlFile(name), value)
}

/**
 * Writes a value whose failure the reference ignores (`_, _ = sysctl.Sysctl(...)`): accept_ra on a
 * device without IPv6, arp_notify, accept_dad. Returns whether the write worked.
 */
export function trySysctl(name: string, value: string): boolean {
  try {
    writeSysctl(name, value)
    return true
  } catch {
    return false
  }
}

/** Writes "1" unless the file already says 1, as the reference's echo1 does. */
function ensureOne(name: string): void {
  try {
    if (readSysctl(name) === '1') return
  } catch {
    // unreadable: try the write, which reports the real problem
  }
  writeSysctl(name, '1')
}

/** net.ipv4.ip_forward = 1 in the current namespace. */
export function enableIPv4Forward(): void {
  ensureOne('net/ipv4/ip_forward')
}

/** net.ipv6.conf.all.forwarding = 1 in the current namespace. */
export function enableIPv6Forward(): void {
  ensureOne('net/ipv6/conf/all/forwarding')
}
