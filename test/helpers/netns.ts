/**
 * Network namespace fixtures for kernel tests. Every test works in namespaces it makes here (a
 * fake host and containers); nothing is created in the real host namespace. Deleting a namespace
 * removes the links inside it, so teardown is one `ip netns del` per namespace.
 *
 * Names: `tscni-t-<label>-<pid>-<random>`. The pid lets sweepStaleNetns() tell leftovers of a
 * crashed run from namespaces of a test process that is still running in parallel.
 */
import { execFileSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import { Rtnl } from '../../lib/netlink'
import { openNetns } from '../../lib/ns'

export const NETNS_PREFIX = 'tscni-t-'
const NETNS_DIR = '/run/netns'

export interface TestNetns {
  /** Name for `ip netns` / `ip -n`. */
  name: string
  /** Path to the namespace file (what CNI_NETNS holds). */
  path: string
}

/** The part of a tap Test this helper needs. */
export interface HasTeardown {
  teardown(fn: () => unknown): void
}

const live = new Set<string>()
let swept = false

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * Creates a namespace and registers its deletion with `t.teardown` (which runs whether the test
 * passed or failed). The first call in a process also sweeps leftovers of crashed runs.
 */
export function makeNetns(t: HasTeardown, label: string): TestNetns {
  if (!/^[a-z0-9][a-z0-9-]{0,19}$/.test(label)) throw new Error(`bad netns label ${JSON.stringify(label)}`)
  if (!swept) {
    swept = true
    sweepStaleNetns()
    process.once('exit', () => {
      for (const name of live) deleteNetns(name)
    })
  }
  const name = `${NETNS_PREFIX}${label}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`
  ip(['netns', 'add', name])
  live.add(name)
  t.teardown(() => deleteNetns(name))
  return { name, path: `${NETNS_DIR}/${name}` }
}

/** Deletes a namespace by name; quiet when it is already gone. */
export function deleteNetns(name: string): void {
  live.delete(name)
  try {
    ip(['netns', 'del', name])
  } catch (err) {
    if (fs.existsSync(`${NETNS_DIR}/${name}`)) throw err
  }
}

/** True while process `pid` exists (the pid in a test resource's name: is its run still going?). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Names of the `tscni-t-*` namespaces that currently exist. */
export function listTestNetns(): string[] {
  let names: string[]
  try {
    names = fs.readdirSync(NETNS_DIR)
  } catch {
    return []
  }
  return names.filter((n) => n.startsWith(NETNS_PREFIX))
}

/**
 * Removes `tscni-t-*` namespaces left by crashed runs: those whose creating process is gone (or
 * whose name carries no pid). Namespaces of live test processes are left alone. Returns the names
 * it deleted.
 */
export function sweepStaleNetns(): string[] {
  const deleted: string[] = []
  for (const name of listTestNetns()) {
    const m = /-(\d+)-[0-9a-f]+$/.exec(name)
    if (m && (Number(m[1]) === process.pid || pidAlive(Number(m[1])))) continue
    deleteNetns(name)
    deleted.push(name)
  }
  return deleted
}

/** Runs `ip -n <ns> -j <args>` and parses its JSON, for cross-checks against iproute2 in tests. */
export function ipJson<T = any>(ns: TestNetns, args: string[]): T {
  const out = ip(['-n', ns.name, '-j', ...args])
  return (out.trim() ? JSON.parse(out) : []) as T
}

/** Runs `ip -n <ns> <args>` (test set-up only; plugins never spawn ip). */
export function ipIn(ns: TestNetns, args: string[]): string {
  return ip(['-n', ns.name, ...args])
}

/**
 * An rtnetlink connection inside a test namespace, closed at teardown. Reading state back through
 * this is how kernel tests check what a plugin did.
 */
export function rtnlIn(t: HasTeardown, ns: TestNetns): Rtnl {
  const netns = openNetns(ns.path)
  try {
    const rtnl = Rtnl.open(netns)
    t.teardown(() => rtnl.close())
    return rtnl
  } finally {
    netns.close()
  }
}

/** A namespace's fd for the test's lifetime (for IFLA_NET_NS_FD and the like). */
export function netnsFd(t: HasTeardown, ns: TestNetns): number {
  const netns = openNetns(ns.path)
  t.teardown(() => netns.close())
  return netns.fd
}
