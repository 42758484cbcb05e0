import * as fs from 'node:fs'
import t from 'tap'
import { openNetns } from '../../../lib/ns'
import { enableIPv4Forward, enableIPv6Forward, readSysctl, sysctlFile, trySysctl } from '../../../lib/ip/sysctl'
import { makeNetns } from '../../helpers/netns'

t.test('names map to /proc/sys with / as the separator', async (t) => {
  t.equal(sysctlFile('net/ipv6/conf/br0.100/accept_ra'), '/proc/sys/net/ipv6/conf/br0.100/accept_ra')
  t.equal(sysctlFile('/net/ipv6/conf/eth0/enhanced_dad'), '/proc/sys/net/ipv6/conf/eth0/enhanced_dad')
})

t.test('inside a namespace window: forwarding on, ignored failures stay ignored', async (t) => {
  const ns = openNetns(makeNetns(t, 'sysctl').path)
  t.teardown(() => ns.close())
  const seen = ns.runSync(() => {
    // A new namespace's forwarding is the host's to decide (IPv4 copies the host's unless
    // net.core.devconf_inherit_init_net says otherwise; on a Kubernetes node it is on): start from off.
    fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '0')
    fs.writeFileSync('/proc/sys/net/ipv6/conf/all/forwarding', '0')
    const before = [readSysctl('net/ipv4/ip_forward'), readSysctl('net/ipv6/conf/all/forwarding')]
    enableIPv4Forward()
    enableIPv6Forward()
    enableIPv4Forward()
    return { before, after: [readSysctl('net/ipv4/ip_forward'), readSysctl('net/ipv6/conf/all/forwarding')], missing: trySysctl('net/ipv6/conf/nope0/accept_ra', '0') }
  })
  t.same(seen, { before: ['0', '0'], after: ['1', '1'], missing: false })
})
