import t from 'tap'
import { Rtnl } from '../../../lib/netlink'
import { openNetns } from '../../../lib/ns'
import { makeNetns } from '../../helpers/netns'

const packageLoaded = (): boolean => Object.keys(require.cache).some((k) => k.includes('/node_modules/netlink/'))

t.test('importing lib/netlink does not load the netlink package; opening a socket does', async (t) => {
  t.notOk(packageLoaded(), 'not loaded at import time (no work on the start-up path)')
  const ns = makeNetns(t, 'nl-lazy')
  const netns = openNetns(ns.path)
  const rtnl = Rtnl.open(netns)
  netns.close()
  t.teardown(() => rtnl.close())
  t.ok(packageLoaded(), 'loaded on first use')
  const loaded = Object.keys(require.cache).filter((k) => k.includes('/node_modules/netlink/'))
  t.notOk(
    loaded.some((k) => /\/(genl|nl80211|wg)\/|\/dist\/index\.js$|\/rt\/ifla\.js$/.test(k)),
    'only the transport: no index, genl, nl80211, wg or the rt encoders',
  )
  t.ok(await rtnl.getLinkByName('lo'))
})
