import yargs, { type Arguments, type Argv } from 'yargs'
import { UsageError } from './errors'

/**
 * The command line: yargs declares every command (so --help lists them all) and each handler
 * loads its own file from commands/ only when that command runs.
 */

export type CommandArgs = Arguments

type Handler = (args: CommandArgs) => Promise<void>

const lazy = (load: () => Promise<{ run: Handler }>): Handler => async (args) => (await load()).run(restoreOperands(args))

/**
 * yargs never fills positionals from what follows `--`, yet that is how a network named "-x" is
 * named (`cnitool add -- -x /var/run/netns/a`). Those operands go in as placeholders and come back here.
 */
const OPERAND = '\u0001operand:'
let operands: string[] = []

function hideOperands(argv: string[]): string[] {
  const dd = argv.indexOf('--')
  if (dd < 0) return argv
  operands = argv.slice(dd + 1)
  return [...argv.slice(0, dd), ...operands.map((_, i) => `${OPERAND}${i}`)]
}

function restoreOperands(args: CommandArgs): CommandArgs {
  for (const [key, value] of Object.entries(args)) {
    if (typeof value === 'string' && value.startsWith(OPERAND)) args[key] = operands[Number(value.slice(OPERAND.length))]
  }
  return args
}

const ATTACH_HELP =
  'The container ID is derived from the netns path as the reference cnitool does, so either tool finds the other\'s cache.'

const ENVIRONMENT = `Environment:
  NETCONFPATH    directory of network configs (default /etc/cni/net.d)
  CNI_PATH       plugin directories, ':'-separated
  CNI_IFNAME     interface name when -i is not given (default eth0)
  CNI_ARGS       'K=V;K2=V2' passed to the plugins
  CAP_ARGS       JSON object of capability args, e.g. '{"mac":"c2:11:22:33:44:55"}'
  CNI_CACHE_DIR  result cache directory (default /var/lib/cni; tscni extension)`

function attachmentCommand(y: Argv, verb: string, netnsRequired: boolean): Argv {
  return y
    .positional('network', { type: 'string', describe: 'network name (the "name" in a config under NETCONFPATH)' })
    .positional('netns', {
      type: 'string',
      describe: netnsRequired ? 'network namespace path, e.g. /var/run/netns/testing' : 'accepted for compatibility with the reference cnitool; unused',
    })
    .epilogue(`${verb}\n\n${ENVIRONMENT}`)
}

function ifnameOption(y: Argv): Argv {
  return y.option('ifname', { alias: 'i', type: 'string', requiresArg: true, describe: "interface name in the namespace (default: CNI_IFNAME, else 'eth0')" })
}

function jsonOption(y: Argv): Argv {
  return y.option('json', { type: 'boolean', describe: 'print JSON instead of text' })
}

export async function run(argv: string[]): Promise<void> {
  const parser = yargs(hideOperands(argv))
    .scriptName('cnitool')
    .usage('$0 <command> [options]\n\nRuns CNI network configurations against network namespaces (a TypeScript cnitool).')
    .option('cache-dir', { type: 'string', global: true, requiresArg: true, describe: 'result cache directory (default: CNI_CACHE_DIR, else /var/lib/cni)' })
    .command('add <network> <netns>', 'attach the namespace to the network; prints the result', (y) =>
      ifnameOption(attachmentCommand(y, `Runs ADD on every plugin of the network in order and caches the result. ${ATTACH_HELP}`, true))
        .example('CNI_PATH=/opt/cni/bin $0 add mynet /var/run/netns/testing', 'attach netns "testing" to network "mynet" as eth0'),
      lazy(() => import('./commands/add')))
    .command('check <network> <netns>', 'check that an attachment is as ADD left it', (y) =>
      ifnameOption(attachmentCommand(y, 'Runs CHECK on every plugin in order, with the cached ADD result (networks of cniVersion 0.4.0 and later).', true)),
      lazy(() => import('./commands/check')))
    .command('del <network> <netns>', 'detach the namespace from the network', (y) =>
      ifnameOption(attachmentCommand(y, 'Runs DEL on every plugin in reverse order, with the cached ADD result, then removes the cache entry. The namespace may already be gone.', true)),
      lazy(() => import('./commands/del')))
    .command('gc <network> [netns]', 'delete every cached attachment of the network, then run GC on its plugins', (y) =>
      attachmentCommand(y, 'Like the reference cnitool, no attachment is kept: each cached attachment of the network gets a DEL, then every plugin gets GC (cniVersion 1.1.0). All errors are reported.', false),
      lazy(() => import('./commands/gc')))
    .command('status <network> [netns]', 'ask the plugins whether the network is ready', (y) =>
      attachmentCommand(y, 'Runs STATUS on every plugin in order (cniVersion 1.1.0; older networks succeed without running anything). The first error is reported.', false),
      lazy(() => import('./commands/status')))
    .command('list', 'list the networks found under NETCONFPATH', (y) => jsonOption(y).epilogue(ENVIRONMENT),
      lazy(() => import('./commands/list')))
    .command('show <network>', 'show the cached attachments of a network', (y) =>
      jsonOption(y).positional('network', { type: 'string', describe: 'network name' }).epilogue(ENVIRONMENT),
      lazy(() => import('./commands/show')))
    .command('ipam <network>', "how full the network's address pools are: per range, block and node (etcd-ipam, host-local)", (y) =>
      jsonOption(y).positional('network', { type: 'string', describe: 'network name' })
        .epilogue(`Reads the IPAM's own store: etcd-ipam's keys in etcd, host-local's files on this host. Read-only.\n\n${ENVIRONMENT}`),
      lazy(() => import('./commands/ipam')))
    .command('version [network]', "print cnitool's version; with a network, ask each of its plugins for theirs", (y) =>
      jsonOption(y).positional('network', { type: 'string', describe: 'network whose plugins to ask (VERSION)' }),
      lazy(() => import('./commands/version')))
    .demandCommand(1, 'name a command: add, check, del, gc, status, list, show, ipam or version')
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .parserConfiguration({ 'boolean-negation': false })
    .wrap(null)
    .exitProcess(false)
    .fail((message, err) => {
      // yargs' own complaints (YError) are usage errors; anything else came from a command.
      if (err && err.name !== 'YError') throw err
      throw usageError(message ?? err?.message ?? 'invalid command line', argv)
    })
  parser.wrap(Math.min(100, parser.terminalWidth()))
  if (argv.length === 0) {
    parser.showHelp('error')
    process.exitCode = 1
    return
  }
  await parser.parseAsync()
}

/** Each command's operands, for usage errors. */
const OPERANDS: Record<string, string> = {
  add: '<network> <netns>',
  check: '<network> <netns>',
  del: '<network> <netns>',
  gc: '<network> [netns]',
  status: '<network> [netns]',
  list: '',
  show: '<network>',
  ipam: '<network>',
  version: '[network]',
}

/** yargs' complaint about the command line, said in cnitool's terms. */
function usageError(message: string, argv: string[]): UsageError {
  const command = argv.find((a) => !a.startsWith('-'))
  if (command !== undefined && !Object.hasOwn(OPERANDS, command)) {
    return new UsageError(`unknown command ${JSON.stringify(command)} (commands: ${Object.keys(OPERANDS).join(', ')})`)
  }
  if (command !== undefined && message.startsWith('Not enough non-option arguments')) {
    return new UsageError(`missing arguments: cnitool ${command} ${OPERANDS[command]}`, command)
  }
  return new UsageError(message, command)
}
