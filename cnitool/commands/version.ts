import { version } from '../../package.json'
import type { CommandArgs } from '../cli'
import { loadNetwork, makeRuntime } from '../setup'
import { versionText } from '../version-text'

/**
 * `cnitool version`: our version. `cnitool version <network>`: also each plugin's VERSION answer
 * and whether it supports the network's cniVersion (libcni's validation).
 */
export async function run(args: CommandArgs): Promise<void> {
  if (args.network === undefined) {
    process.stdout.write(versionText(version, Boolean(args.json)))
    return
  }
  const list = loadNetwork(String(args.network))
  const runtime = makeRuntime(args['cache-dir'])
  const wanted = list.cniVersion || '0.1.0'
  const plugins = []
  let ok = true
  for (const plugin of list.plugins) {
    try {
      const info = await runtime.versionInfo(plugin.type)
      const supports = info.supportedVersions.includes(wanted)
      ok &&= supports
      plugins.push({ type: plugin.type, supportedVersions: info.supportedVersions, supportsNetworkVersion: supports })
    } catch (err) {
      ok = false
      plugins.push({ type: plugin.type, error: (err as Error).message })
    }
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ network: list.name, cniVersion: wanted, plugins }, null, 2)}\n`)
  } else {
    let text = `network ${list.name} runs at cniVersion ${wanted}\n`
    for (const p of plugins) {
      text += 'error' in p
        ? `  ${p.type}: ${p.error}\n`
        : `  ${p.type}: supports ${p.supportedVersions.join(', ')}${p.supportsNetworkVersion ? '' : `  (NOT ${wanted})`}\n`
    }
    process.stdout.write(text)
  }
  if (!ok) process.exitCode = 1
}
