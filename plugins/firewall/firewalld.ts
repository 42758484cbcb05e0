/**
 * The firewalld backend: the container's addresses become sources of a zone (`trusted` unless
 * `firewalldZone` says otherwise), at runtime only (not permanent), over the system D-Bus as the
 * reference does it (chained-plugins.md §2.5):
 *
 *   ADD    zone.addSource(zone, "<ip>/32")     ZONE_ALREADY_SET is fine
 *   DEL    zone.removeSource(zone, ip)         every error ignored
 *   CHECK  zone.querySource(zone, ip) -> b     false fails here (the reference lets it pass)
 *
 * D-Bus is spoken by `dbus-send` (from the dbus package, present wherever a system bus is), run
 * with an argument array. Measured against firewalld 1.3: ~12 ms a call to the bus daemon and ~18 ms
 * a zone call (firewalld itself takes most of it; busctl took ~34 ms), so an ADD costs about what
 * the reference's does. Only the auto-detection, which runs on every call of a node whose bus has
 * no firewalld, is spoken on the socket directly (bus-probe.ts: ~1 ms instead of ~15). The bus is
 * found the way the reference's godbus finds it: `$DBUS_SYSTEM_BUS_ADDRESS`, else
 * `unix:path=/var/run/dbus/system_bus_socket` (libdbus, behind dbus-send, reads the same variable
 * with the same default).
 */
import { fs } from '../../lib/native/fs'
import { SpawnError, spawnFile } from '../../lib/native/spawn'
import { findTool } from '../../lib/netfilter/exec'
import { nameHasOwner } from './bus-probe'

const DEST = 'org.fedoraproject.FirewallD1'
const PATH = '/org/fedoraproject/FirewallD1'
const ZONE_IFACE = 'org.fedoraproject.FirewallD1.zone'
const DEFAULT_BUS = 'unix:path=/var/run/dbus/system_bus_socket'
/** libdbus' default reply timeout. */
const REPLY_TIMEOUT_MS = 25_000

/** A D-Bus error reply, or a bus that cannot be reached; `message` is what godbus would show. */
export class DbusError extends Error {
  override readonly name = 'DbusError'
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message)
  }
}

/** The system bus address a client would use. */
export function systemBusAddress(): string {
  return process.env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_BUS
}

/** The socket path of a `unix:path=…` address (the first one of a `;` list); undefined for others. */
function socketPath(address: string): string | undefined {
  for (const part of address.split(';')) {
    const m = /^unix:(.*)$/.exec(part)
    if (!m) continue
    for (const kv of m[1].split(',')) {
      if (kv.startsWith('path=')) return decodeURIComponent(kv.slice(5))
    }
  }
  return undefined
}

/** One method call; the reply's lines as dbus-send prints them (`   string "x"`, `   boolean true`). */
async function call(path: string, iface: string, method: string, args: string[]): Promise<string[]> {
  const tool = findTool('dbus-send')
  if (!tool) throw new DbusError('', 'cannot reach the system bus: dbus-send not found in $PATH')
  const argv = ['--system', '--print-reply', `--reply-timeout=${REPLY_TIMEOUT_MS}`, `--dest=${method === 'GetNameOwner' ? 'org.freedesktop.DBus' : DEST}`, path, `${iface}.${method}`, ...args.map((a) => `string:${a}`)]
  let r
  try {
    r = await spawnFile(tool, argv, { env: process.env })
  } catch (err) {
    if (err instanceof SpawnError) throw new DbusError('', `cannot run dbus-send: ${err.message}`)
    throw err
  }
  if (r.status !== 0) {
    const text = r.stderr.toString('utf8').trim()
    const m = /^Error ([^\s:]+): ([\s\S]*)$/.exec(text)
    if (m) throw new DbusError(m[1], m[2])
    throw new DbusError('', text || `dbus-send exited ${r.status}`)
  }
  return r.stdout.toString('utf8').split('\n').slice(1).map((l) => l.trim()).filter((l) => l !== '')
}

/**
 * Whether firewalld owns its name on the system bus (the reference's auto-detection). Without a
 * bus socket the answer is no, as the reference's failed dial is.
 */
export async function firewalldRunning(): Promise<boolean> {
  const sock = socketPath(systemBusAddress())
  if (sock !== undefined && !fs.existsSync(sock)) return false
  // On the socket directly (bus-probe.ts); other kinds of address through dbus-send.
  if (sock !== undefined) return nameHasOwner(sock, DEST).catch(() => false)
  try {
    await call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetNameOwner', [DEST])
    return true
  } catch {
    return false
  }
}

/** The reference's dial error when the bus socket is missing, else undefined. */
function busMissing(): DbusError | undefined {
  const sock = socketPath(systemBusAddress())
  if (sock !== undefined && !fs.existsSync(sock)) return new DbusError('', `dial unix ${sock}: connect: no such file or directory`)
  return undefined
}

/** Fails like the reference's connection attempt when there is no bus (ADD, CHECK and DEL alike). */
export function ensureBus(): void {
  const err = busMissing()
  if (err) throw err
}

/** The zone's sources now (none when it cannot be asked: addSource then reports the error). */
async function zoneSources(zone: string): Promise<Set<string>> {
  try {
    const reply = await call(PATH, ZONE_IFACE, 'getSources', [zone])
    return new Set(reply.map((l) => /^string "(.*)"$/.exec(l)?.[1]).filter((ip): ip is string => ip !== undefined))
  } catch {
    return new Set()
  }
}

/**
 * ADD: each address a source of the zone. Addresses already there are left as they are (firewalld
 * 1.3 accepts them again silently, older ones answer ZONE_ALREADY_SET), so a failure undoes exactly
 * the sources this call added. Returns them (what a later failure of the ADD takes out again).
 */
export async function firewalldAdd(zone: string, ips: readonly string[]): Promise<string[]> {
  const present = await zoneSources(zone)
  const added: string[] = []
  for (const ip of ips) {
    if (present.has(ip)) continue
    try {
      await call(PATH, ZONE_IFACE, 'addSource', [zone, ip])
      added.push(ip)
    } catch (err) {
      if ((err as Error).message.includes('ZONE_ALREADY_SET')) continue
      await firewalldRemove(zone, added)
      throw new Error(`failed to add the address ${ip} to ${zone} zone: ${(err as Error).message}`)
    }
  }
  return added
}

/** DEL: each address removed from the zone; errors (already gone, no firewalld) are ignored. */
export async function firewalldRemove(zone: string, ips: readonly string[]): Promise<void> {
  for (const ip of ips) await call(PATH, ZONE_IFACE, 'removeSource', [zone, ip]).catch(() => undefined)
}

/** CHECK: each address is a source of the zone. */
export async function firewalldCheck(zone: string, ips: readonly string[]): Promise<void> {
  for (const ip of ips) {
    let reply: string[]
    try {
      reply = await call(PATH, ZONE_IFACE, 'querySource', [zone, ip])
    } catch {
      throw new Error(`failed to find the address ${ip} in ${zone} zone`)
    }
    if (reply[0] !== 'boolean true') throw new Error(`failed to find the address ${ip} in ${zone} zone`)
  }
}
