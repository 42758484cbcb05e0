/**
 * cnitool: runs a network config against a namespace, like the reference cnitool
 * (`cnitool add|check|del|gc|status <network> <netns>`), plus `list`, `show` and `version`.
 *
 * Start-up matters even for a tool: `cnitool --version` and `cnitool version` answer here without
 * loading the argument parser; everything else loads cli.ts (yargs) and then one command file.
 */
import { version } from '../package.json'
import { exitWithError } from './errors'
import { versionText } from './version-text'

export function main(argv: string[]): void {
  const rest = argv.slice(1)
  if (argv[0] === '--version' || (argv[0] === 'version' && rest.every((a) => a === '--json'))) {
    process.stdout.write(versionText(version, rest.includes('--json')))
    return
  }
  import('./cli').then((cli) => cli.run(argv)).catch(exitWithError)
}

