import { CniError, ErrorCode, toCniError } from './errors'
import { type CmdEnv, type Command, isCommand, readCmdEnv } from './env'
import { type BaseNetConf, decodeConfVersion, parseNetConf } from './netconf'
import { compareVersions, convertResult, formatResult, type Result, SUPPORTED_VERSIONS } from './result'
import { escapeLikeGo } from '../json/go-escape'

/** Everything a verb gets: the environment, the raw stdin and the config parsed once. */
export interface CmdArgs extends CmdEnv {
  command: Command
  stdinData: Buffer
  conf: BaseNetConf
  /** The config's cniVersion as negotiated (absent means 0.1.0); results are printed in it. */
  cniVersion: string
}

/**
 * A plugin's verbs. ADD returns its result in the current (1.x) shape; skel converts it to the
 * config's version. A verb left out succeeds with no output, as in the reference.
 */
export interface PluginFuncs {
  add?(args: CmdArgs): Promise<Result>
  del?(args: CmdArgs): Promise<void>
  check?(args: CmdArgs): Promise<void>
  status?(args: CmdArgs): Promise<void>
  gc?(args: CmdArgs): Promise<void>
}

export interface PluginInfo {
  /** The plugin's type, e.g. "loopback". */
  name: string
  version: string
  /** The spec versions it accepts, oldest first; default every version skel knows. */
  supportedVersions?: readonly string[]
}

/** What one invocation printed and how it ends; pluginMain does the real I/O. */
export interface Outcome {
  stdout: string
  stderr: string
  exitCode: number
}

export interface DispatchIO {
  env: NodeJS.ProcessEnv
  /** Reads all of stdin (not called for VERSION). */
  readStdin(): Buffer
  /** Reads whatever stdin offers without waiting for EOF (VERSION only). */
  peekStdin(): Promise<string>
}

/** Verbs newer than a config version cannot be asked of it. */
const MIN_CONF_VERSION: Partial<Record<Command, string>> = { CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' }

/** Runs one CNI invocation and returns what to print; never throws. */
export async function dispatch(funcs: PluginFuncs, info: PluginInfo, io: DispatchIO): Promise<Outcome> {
  if ((io.env.CNI_COMMAND ?? '') === '') {
    return { stdout: '', stderr: aboutText(info), exitCode: 0 }
  }
  let cniVersion: string | undefined
  try {
    const env = readCmdEnv(io.env)
    if (env.command === 'VERSION') return { stdout: versionText(await io.peekStdin(), info), stderr: '', exitCode: 0 }

    let stdinData: Buffer
    try {
      stdinData = io.readStdin()
    } catch (err) {
      throw new CniError(ErrorCode.IoFailure, `error reading from stdin: ${(err as Error).message}`)
    }
    const conf = parseNetConf(stdinData)
    if (!isCommand(env.command)) {
      throw new CniError(ErrorCode.InvalidEnvironment, `unknown CNI_COMMAND: ${env.command}`)
    }
    const command = env.command
    cniVersion = decodeConfVersion(conf)
    checkVersionGate(command, cniVersion)
    const supported = info.supportedVersions ?? SUPPORTED_VERSIONS
    if (!supported.includes(cniVersion)) {
      throw new CniError(
        ErrorCode.IncompatibleVersion,
        'incompatible CNI versions',
        `config is "${cniVersion}", plugin supports [${supported.map((v) => `"${v}"`).join(' ')}]`,
      )
    }
    const args: CmdArgs = { ...env, command, stdinData, conf, cniVersion }
    return { stdout: await callVerb(funcs, args), stderr: '', exitCode: 0 }
  } catch (err) {
    const e = toCniError(err).toJSON()
    const out = cniVersion ? { cniVersion, ...e } : e
    return { stdout: escapeLikeGo(JSON.stringify(out, null, 4)), stderr: '', exitCode: 1 }
  }
}

function checkVersionGate(command: Command, confVersion: string): void {
  const min = MIN_CONF_VERSION[command]
  if (!min) return
  let allowed: boolean
  try {
    allowed = compareVersions(confVersion, min) >= 0
  } catch (err) {
    throw new CniError(ErrorCode.DecodingFailure, (err as Error).message)
  }
  if (!allowed) throw new CniError(ErrorCode.IncompatibleVersion, `config version does not allow ${command}`)
}

async function callVerb(funcs: PluginFuncs, args: CmdArgs): Promise<string> {
  switch (args.command) {
    case 'ADD': {
      if (!funcs.add) return ''
      const result = await funcs.add(args)
      return formatResult(convertResult(result, args.cniVersion))
    }
    case 'DEL':
      await funcs.del?.(args)
      return ''
    case 'CHECK':
      await funcs.check?.(args)
      return ''
    case 'STATUS':
      await funcs.status?.(args)
      return ''
    case 'GC':
      await funcs.gc?.(args)
      return ''
    case 'VERSION':
      return '' // answered before stdin is read
  }
}

/**
 * VERSION answers with the version the runtime sent, as the spec says (the Go skel always says
 * "1.1.0"); anything unusable on stdin falls back to the newest version.
 */
function versionText(stdin: string, info: PluginInfo): string {
  let asked: unknown
  try {
    asked = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion
  } catch {
    asked = undefined
  }
  const supported = info.supportedVersions ?? (SUPPORTED_VERSIONS as readonly string[])
  const cniVersion = typeof asked === 'string' && supported.includes(asked) ? asked : supported[supported.length - 1]
  return JSON.stringify({ cniVersion, supportedVersions: supported }) + '\n'
}

function aboutText(info: PluginInfo): string {
  return `CNI ${info.name} plugin tscni ${info.version}\nCNI protocol versions supported: ${(info.supportedVersions ?? SUPPORTED_VERSIONS).join(', ')}\n`
}
