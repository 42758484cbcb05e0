import { CniError, ErrorCode } from './errors'
import { validateContainerID, validateInterfaceName } from './validate-names'

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const
export type Command = (typeof COMMANDS)[number]

/** The CNI_* parameters of one invocation, as the runtime passed them. */
export interface CmdEnv {
  /** Anything the runtime sent; unknown commands are rejected after the config is checked. */
  command: string
  containerID: string
  netns: string
  ifName: string
  /** Raw CNI_ARGS; each plugin parses the keys it knows (see cni-args.ts). */
  args: string
  /** CNI_PATH split on ':' with empty entries dropped. */
  path: string[]
}

type VarName = 'CNI_COMMAND' | 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_ARGS' | 'CNI_PATH'

interface VarRule {
  name: VarName
  requiredFor: readonly string[]
  validate?: (value: string) => void
}

// Order matters: it is the order of the names in "required env variables [...] missing", the same as
// the reference skel, so tools that match on the text see the same message. CNI_PATH is required
// for every verb but VERSION like the reference does, although the spec makes it optional: a plugin
// that delegates cannot work without it, and runtimes always send it.
const RULES: readonly VarRule[] = [
  { name: 'CNI_COMMAND', requiredFor: COMMANDS },
  { name: 'CNI_CONTAINERID', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateContainerID },
  { name: 'CNI_NETNS', requiredFor: ['ADD', 'CHECK'] },
  { name: 'CNI_IFNAME', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateInterfaceName },
  { name: 'CNI_ARGS', requiredFor: [] },
  { name: 'CNI_PATH', requiredFor: ['ADD', 'CHECK', 'DEL', 'GC', 'STATUS'] },
]

/**
 * Reads and validates the CNI_* variables for the command they name. An empty value counts as
 * missing; a present value that is invalid fails at once with its own message (code 4).
 */
export function readCmdEnv(env: NodeJS.ProcessEnv): CmdEnv {
  const command = env.CNI_COMMAND ?? ''
  const missing: string[] = []
  for (const rule of RULES) {
    const value = env[rule.name] ?? ''
    const required = rule.name === 'CNI_COMMAND' || rule.requiredFor.includes(command)
    if (value === '') {
      if (required) missing.push(rule.name)
    } else if (required && rule.validate) {
      rule.validate(value)
    }
  }
  if (missing.length > 0) {
    throw new CniError(ErrorCode.InvalidEnvironment, `required env variables [${missing.join(',')}] missing`)
  }
  return {
    command,
    containerID: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifName: env.CNI_IFNAME ?? '',
    args: env.CNI_ARGS ?? '',
    path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
  }
}

export function isCommand(value: string): value is Command {
  return (COMMANDS as readonly string[]).includes(value)
}
