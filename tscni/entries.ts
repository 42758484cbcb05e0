/**
 * What the one executable can be: the CNI plugins (one symlink each in the bin directory) and the
 * tools for people. Each entry is a dynamic import: the build splits every entry into its own
 * chunk inside the executable, loaded only when chosen, so a plugin's start never pays for
 * cnitool's argument parser or the conformance harness (about 4 ms when they were one chunk).
 */
type Entry = (args: string[]) => Promise<unknown>

/** The CNI plugins: the bin directory holds one symlink per name. */
export const PLUGINS: Record<string, Entry> = {
  bridge: async () => (await import('../plugins/bridge/main')).main(),
  'etcd-ipam': async () => (await import('../plugins/etcd-ipam/main')).main(),
  firewall: async () => (await import('../plugins/firewall/main')).main(),
  'host-local': async () => (await import('../plugins/host-local/main')).main(),
  loopback: async () => (await import('../plugins/loopback/main')).main(),
  portmap: async () => (await import('../plugins/portmap/main')).main(),
  tuning: async () => (await import('../plugins/tuning/main')).main(),
}

/** Tools for people, run as `tscni <tool> ...` or through a symlink of that name. */
export const TOOLS: Record<string, Entry> = {
  cnitool: async (args) => (await import('../cnitool/main')).main(args),
  conformance: async (args) => (await import('../conformance/main')).main(args),
  install: async (args) => (await import('./install')).installMain(args),
  uninstall: async (args) => (await import('./install')).uninstallMain(args),
  plugins: async () => (await import('./about')).printPlugins(),
  version: async () => (await import('./about')).printVersion(),
  help: async () => (await import('./about')).printHelp(),
}
