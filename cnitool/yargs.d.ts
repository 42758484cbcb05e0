// yargs 18 ships no type declarations for its Node entry: the part cnitool uses, typed here.
declare module 'yargs' {
  export interface Arguments {
    [key: string]: unknown
    _: (string | number)[]
    $0: string
  }

  export interface OptionSpec {
    alias?: string | string[]
    type?: 'string' | 'boolean' | 'number'
    describe?: string
    default?: unknown
    defaultDescription?: string
    global?: boolean
    requiresArg?: boolean
  }

  export interface PositionalSpec {
    type?: 'string' | 'number'
    describe?: string
  }

  export interface Argv {
    scriptName(name: string): Argv
    usage(message: string): Argv
    command(command: string, describe: string, builder: (y: Argv) => Argv, handler: (args: Arguments) => void | Promise<void>): Argv
    positional(name: string, spec: PositionalSpec): Argv
    option(name: string, spec: OptionSpec): Argv
    example(command: string, description: string): Argv
    epilogue(text: string): Argv
    strict(enabled?: boolean): Argv
    demandCommand(min: number, message?: string): Argv
    recommendCommands(): Argv
    fail(handler: (message: string | undefined, err: Error | undefined) => void): Argv
    help(option?: string | boolean): Argv
    alias(key: string, alias: string): Argv
    version(enabled: false): Argv
    wrap(columns: number | null): Argv
    exitProcess(enabled: boolean): Argv
    showHelp(level?: 'log' | 'error' | ((text: string) => void)): Argv
    terminalWidth(): number
    parserConfiguration(config: Record<string, boolean>): Argv
    parseAsync(): Promise<Arguments>
  }

  export default function yargs(args?: readonly string[], cwd?: string): Argv
}
