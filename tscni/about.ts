import { version } from '../package.json'
import { PLUGINS } from './entries'

export function printVersion(): void {
  process.stdout.write(`tscni ${version} (built with Bun ${process.versions.bun ?? 'n/a'})\n`)
}

export function printHelp(): void {
  process.stdout.write(`tscni ${version}: CNI plugins in one executable

As a CNI plugin, run it through a symlink named after the plugin (what \`tscni install\` makes):
  ${Object.keys(PLUGINS).join(', ')}

Commands:
  tscni install [--dir DIR] [--force]   put tscni and the plugin symlinks into DIR (default /opt/cni/bin)
  tscni uninstall [--dir DIR]           remove what install put there, nothing else
  tscni cnitool ...                     run a network config against a namespace (see \`tscni cnitool --help\`)
  tscni conformance --plugins DIR ...   judge a plugin directory against the CNI spec
  tscni <plugin>                        run a plugin by name (CNI_* variables, config on stdin)
  tscni plugins                         list the plugins this executable serves
  tscni version
`)
}

/** The plugin names, one a line: the build makes a symlink for each. */
export function printPlugins(): void {
  process.stdout.write(`${Object.keys(PLUGINS).join('\n')}\n`)
}
