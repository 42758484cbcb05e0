import { execPlugin, type ExecOptions } from './exec'
import { goJsonParse } from './go-json-parse'
import { CURRENT_SPEC_VERSION } from './versions'

/** What a plugin's VERSION command reports. */
export interface VersionInfo {
  cniVersion: string
  supportedVersions: string[]
}

/**
 * Runs a plugin's VERSION command as libcni's GetVersionInfo does: fake values for the variables
 * old skels insist on (CNI_NETNS, CNI_IFNAME, CNI_PATH = "dummy"), `{"cniVersion":"1.1.0"}` on
 * stdin. A plugin that answers "unknown CNI_COMMAND: VERSION" predates the command: 0.1.0 only.
 */
export async function probeVersion(pluginPath: string, opts: ExecOptions = {}): Promise<VersionInfo> {
  let stdout: Buffer
  try {
    stdout = await execPlugin(
      pluginPath,
      JSON.stringify({ cniVersion: CURRENT_SPEC_VERSION }),
      { CNI_COMMAND: 'VERSION', CNI_CONTAINERID: '', CNI_NETNS: 'dummy', CNI_ARGS: '', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' },
      opts,
    )
  } catch (err) {
    if ((err as Error).message === 'unknown CNI_COMMAND: VERSION') {
      return { cniVersion: CURRENT_SPEC_VERSION, supportedVersions: ['0.1.0'] }
    }
    throw err
  }
  return decodeVersionInfo(stdout.toString('utf8'))
}

/** libcni's PluginDecoder: `cniVersion` required; `supportedVersions` too, unless cniVersion is "0.2.0". */
export function decodeVersionInfo(text: string): VersionInfo {
  let value: unknown
  try {
    value = goJsonParse(text)
  } catch (err) {
    throw new Error(`decoding version info: ${(err as Error).message}`)
  }
  const obj = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<string, unknown>
  const cniVersion = typeof obj.cniVersion === 'string' ? obj.cniVersion : ''
  const supported = Array.isArray(obj.supportedVersions) ? obj.supportedVersions.filter((v): v is string => typeof v === 'string') : []
  if (cniVersion === '') throw new Error('decoding version info: missing field cniVersion')
  if (supported.length === 0) {
    if (cniVersion === '0.2.0') return { cniVersion: CURRENT_SPEC_VERSION, supportedVersions: ['0.1.0', '0.2.0'] }
    throw new Error('decoding version info: missing field supportedVersions')
  }
  return { cniVersion, supportedVersions: supported }
}
