// Start-up is the product's latency: importing lib/netlink must not load the syscall layer. Under
// Node that is the N-API addon (lib/native/addon.ts dlopens dist/node/tscni.node); it is loaded
// when the first socket is opened, not before.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { Rtnl } from '../../../lib/netlink'
import { openNetns } from '../../../lib/ns'
import { makeNetns } from '../../helpers/netns'

const NATIVE_DIR = path.join(__dirname, '..', '..', '..', 'lib', 'native')
const ADDON_FILE = path.resolve(__dirname, '..', '..', '..', 'dist', 'node', 'tscni.node')

/** The lib/native modules (addon.ts, ffi.ts, index.ts, ...) this process has loaded, by base name. */
const nativeModules = (): string[] =>
  Object.keys(require.cache)
    .filter((k) => path.dirname(k) === NATIVE_DIR)
    .map((k) => path.basename(k))
    .sort()

/** True when the addon's shared object is mapped into this process (dlopened). */
const addonMapped = (): boolean => fs.readFileSync('/proc/self/maps', 'utf8').includes(ADDON_FILE)

t.test('importing lib/netlink loads no native code; opening a socket does', async (t) => {
  t.ok(fs.existsSync(ADDON_FILE), 'the addon is built (npm run build)')
  t.ok(
    Object.keys(require.cache).some((k) => k.endsWith(path.join('lib', 'netlink', 'socket.ts'))),
    'lib/netlink (socket.ts included) is loaded',
  )
  t.notOk(nativeModules().includes('addon.ts'), 'addon.ts not loaded at import time')
  t.notOk(addonMapped(), 'tscni.node not dlopened at import time')

  const ns = makeNetns(t, 'nl-lazy')
  const netns = openNetns(ns.path)
  t.notOk(addonMapped(), 'opening a namespace file needs no native code either')
  const rtnl = Rtnl.open(netns)
  netns.close()
  t.teardown(() => rtnl.close())

  t.ok(nativeModules().includes('addon.ts'), 'addon.ts loaded on first use')
  t.ok(addonMapped(), 'tscni.node dlopened on first use')
  t.notOk(nativeModules().includes('ffi.ts'), 'never the bun:ffi backend under Node')
  t.match(rtnl.getLinkByName('lo'), { index: 1, name: 'lo' }, 'and the socket works')
})
