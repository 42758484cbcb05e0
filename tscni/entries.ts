/**
 * What the one executable can be: the CNI plugins (one symlink each in the bin directory) and the
 * tools for people. Each entry loads its own module only when chosen.
 */
type Entry = (args: string[]) => unknown

/** The CNI plugins: the bin directory holds one symlink per name. */
export const PLUGINS: Record<string, Entry> = {
  bridge: () => (require('../plugins/bridge/main') as typeof import('../plugins/bridge/main')).main(),
  'host-local': () => (require('../plugins/host-local/main') as typeof import('../plugins/host-local/main')).main(),
  loopback: () => (require('../plugins/loopback/main') as typeof import('../plugins/loopback/main')).main(),
}

/** Tools for people, run as `tscni <tool> ...` or through a symlink of that name. */
export const TOOLS: Record<string, Entry> = {
  cnitool: (args) => (require('../cnitool/main') as typeof import('../cnitool/main')).main(args),
  conformance: (args) => (require('../conformance/main') as typeof import('../conformance/main')).main(args),
  install: (args) => (require('./install') as typeof import('./install')).installMain(args),
  uninstall: (args) => (require('./install') as typeof import('./install')).uninstallMain(args),
  version: () => (require('./about') as typeof import('./about')).printVersion(),
  plugins: () => (require('./about') as typeof import('./about')).printPlugins(),
  help: () => (require('./about') as typeof import('./about')).printHelp(),
}
