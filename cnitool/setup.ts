import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {
  CniRuntime,
  DEFAULT_CACHE_DIR,
  DEFAULT_NETCONF_DIR,
  listNetworkConfigFiles,
  loadNetworkConfigList,
  type NetworkConfigList,
  NetworkNotFoundError,
  type RuntimeConf,
} from '../lib/runtime'
import { goJsonParse } from '../lib/runtime/go-json-parse'

/**
 * What cnitool reads from its environment, as the reference cnitool does:
 * - NETCONFPATH: the config directory (default /etc/cni/net.d);
 * - CNI_PATH: plugin directories, `:`-separated;
 * - CNI_ARGS: `K=V;K2=V2` passed to plugins;
 * - CAP_ARGS: a JSON object of capability args (e.g. {"mac": "..."});
 * - CNI_IFNAME: the interface name when -i/--ifname is not given (default eth0);
 * - CNI_CACHE_DIR (tscni extension; also --cache-dir): the result cache (default /var/lib/cni).
 */

export function netconfDir(): string {
  return process.env.NETCONFPATH || DEFAULT_NETCONF_DIR
}

export function cacheDir(flag: unknown): string {
  return (typeof flag === 'string' && flag) || process.env.CNI_CACHE_DIR || DEFAULT_CACHE_DIR
}

export function makeRuntime(cacheDirFlag: unknown): CniRuntime {
  const cniPath = (process.env.CNI_PATH ?? '').split(':').filter((p) => p !== '')
  return new CniRuntime({ path: cniPath, cacheDir: cacheDir(cacheDirFlag) })
}

/** Loads a network by name; when it is not there, says which networks are. */
export function loadNetwork(name: string): NetworkConfigList {
  const dir = netconfDir()
  try {
    return loadNetworkConfigList(dir, name)
  } catch (err) {
    if (err instanceof NetworkNotFoundError) {
      const names = knownNetworks(dir)
      err.message += names.length ? ` (networks there: ${names.join(', ')}; see: cnitool list)` : ''
    }
    throw err
  }
}

function knownNetworks(dir: string): string[] {
  try {
    return [...new Set(listNetworkConfigFiles(dir).flatMap((e) => (e.list ? [e.list.name] : [])))]
  } catch {
    return []
  }
}

/** `cnitool-` + the first 10 bytes of sha512(absolute netns path), in hex: the reference's container ID. */
export function containerIdFor(netnsPath: string): string {
  return `cnitool-${crypto.createHash('sha512').update(netnsPath).digest().subarray(0, 10).toString('hex')}`
}

/**
 * Go's filepath.Abs: relative to the working directory, cleaned. Like Go's os.Getwd, the working
 * directory is $PWD when that names the current directory (so /var/run stays /var/run rather than
 * its real path /run): the same netns argument gives the same container ID in both tools.
 */
export function absNetns(netns: string): string {
  return path.resolve(workingDir(), netns)
}

function workingDir(): string {
  const pwd = process.env.PWD
  if (pwd && path.isAbsolute(pwd)) {
    try {
      const a = fs.statSync(pwd)
      const b = fs.statSync('.')
      if (a.dev === b.dev && a.ino === b.ino) return pwd
    } catch {
      // fall through
    }
  }
  return process.cwd()
}

/**
 * The attachment of `<netns>` from the environment, checked in the reference's order
 * (CAP_ARGS, CNI_ARGS, interface name, netns path).
 */
export function attachmentFor(netns: string, ifnameFlag: unknown): RuntimeConf {
  const rt: RuntimeConf = { containerId: '', netns: '', ifName: '' }
  const capArgs = process.env.CAP_ARGS ?? ''
  if (capArgs !== '') rt.capabilityArgs = parseCapArgs(capArgs)
  const cniArgs = process.env.CNI_ARGS ?? ''
  if (cniArgs !== '') rt.args = parseCniArgsPairs(cniArgs)
  rt.ifName = (typeof ifnameFlag === 'string' && ifnameFlag) || process.env.CNI_IFNAME || 'eth0'
  rt.netns = absNetns(netns)
  rt.containerId = containerIdFor(rt.netns)
  return rt
}

function parseCapArgs(text: string): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = goJsonParse(text)
  } catch (err) {
    throw new Error(`CAP_ARGS is not valid JSON: ${(err as Error).message}`)
  }
  if (value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`CAP_ARGS must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`)
  }
  return value as Record<string, unknown>
}

/** `K=V;K2=V2`: every pair exactly one `=` with both sides non-empty, or the reference's error. */
export function parseCniArgsPairs(text: string): [string, string][] {
  return text.split(';').map((pair) => {
    const kv = pair.split('=')
    if (kv.length !== 2 || kv[0] === '' || kv[1] === '') throw new Error(`invalid CNI_ARGS pair ${JSON.stringify(pair)}`)
    return [kv[0], kv[1]] as [string, string]
  })
}
