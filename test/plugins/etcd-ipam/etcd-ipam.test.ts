// etcd-ipam against one real etcd member: every verb, idempotency, requested IPs, dual stack,
// borrowing, cooldown, exhaustion, and an unreachable etcd.
import * as fs from 'node:fs'
import t from 'tap'
import { consistency, dump, HAVE_ETCD, hintDir, ipamConf, runIpam, startCluster } from '../../helpers/etcd'


t.test('etcd-ipam on one member', { skip: !HAVE_ETCD && 'etcd is not installed' }, async (t) => {
  const cluster = await startCluster(t, { base: 23790 })
  const ep = cluster.endpoints[0]
  const hints = hintDir(t, 'verbs')
  let n = 0
  /** A config on its own network name, so sub-tests do not see each other's keys. */
  const fresh = (ipam: object = {}, extra: object = {}) => {
    const name = `net${++n}`
    const conf: Record<string, any> = { ...ipamConf([ep], hints, ipam, extra), name }
    return { conf, base: `/tscni/ipam/${name}/` }
  }

  t.test('ADD, a retried ADD, a second container, CHECK, DEL twice', async (t) => {
    const { conf, base } = fresh()
    const a = await runIpam('ADD', conf, { containerID: 'c1' })
    t.equal(a.code, 0, a.stdout)
    t.match(a.json, { cniVersion: '1.1.0', ips: [{ address: /^10\.64\.0\.\d+\/24$/, gateway: '10.64.0.1' }] })
    const again = await runIpam('ADD', conf, { containerID: 'c1' })
    t.same(again.json, a.json, 'a retried ADD returns the address it already holds')
    fs.rmSync(`${hints}/${conf.name}`, { recursive: true, force: true })
    const noHint = await runIpam('ADD', conf, { containerID: 'c1' })
    t.same(noHint.json, a.json, '... also without the node hint')
    const b = await runIpam('ADD', conf, { containerID: 'c2' })
    t.equal(b.code, 0)
    t.not(b.json.ips[0].address, a.json.ips[0].address, 'another container, another address')
    const other = await runIpam('ADD', conf, { containerID: 'c1', ifName: 'net1' })
    t.not(other.json.ips[0].address, a.json.ips[0].address, 'another interface of the same container, another address')

    let kv = await dump(ep, base)
    t.same(consistency(kv, base).problems, [], 'keys consistent')
    t.equal([...kv.keys()].filter((k) => k.includes('/ips/')).length, 3, 'one key per address')
    t.equal([...kv.keys()].filter((k) => k.includes('/blocks/')).length, 1, 'one block claimed')

    t.equal((await runIpam('CHECK', conf, { containerID: 'c1' })).code, 0, 'CHECK passes')
    const missing = await runIpam('CHECK', conf, { containerID: 'nope' })
    t.equal(missing.code, 1)
    t.match(missing.json.msg, /Failed to find address added by container nope/)

    for (const [id, ifName] of [['c1', 'eth0'], ['c2', 'eth0'], ['c1', 'net1'], ['c1', 'eth0']]) {
      const d = await runIpam('DEL', conf, { containerID: id, ifName })
      t.equal(d.code, 0, `DEL ${id}/${ifName}: ${d.stdout}`)
    }
    kv = await dump(ep, base)
    t.same([...kv.keys()].filter((k) => !k.includes('/blocks/')), [], 'nothing left but the block claim')
    t.equal((await runIpam('CHECK', conf, { containerID: 'c1' })).code, 1, 'CHECK after DEL fails')
  })

  t.test('every spec version gets its own result shape', async (t) => {
    const { conf } = fresh()
    for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
      const r = await runIpam('ADD', { ...conf, cniVersion: v }, { containerID: `v-${v}` })
      t.equal(r.code, 0, `${v}: ${r.stdout}`)
      if (v < '0.3.0') t.match(r.json, { ip4: { ip: /^10\.64\.0\.\d+\/24$/, gateway: '10.64.0.1' } }, v)
      else t.match(r.json, { cniVersion: v, ips: [{ address: /^10\.64\.0\./ }] }, v)
      t.equal((await runIpam('DEL', { ...conf, cniVersion: v }, { containerID: `v-${v}` })).code, 0)
    }
  })

  t.test('dual stack, routes, rangeStart/rangeEnd, gateway', async (t) => {
    const { conf, base } = fresh({
      ranges: [[{ subnet: '10.64.1.0/24', rangeStart: '10.64.1.100', rangeEnd: '10.64.1.110', gateway: '10.64.1.254' }], [{ subnet: 'fd00:64::/120' }]],
      routes: [{ dst: '0.0.0.0/0' }],
    })
    const r = await runIpam('ADD', conf, { containerID: 'ds' })
    t.equal(r.code, 0, r.stdout)
    const [v4, v6] = r.json.ips
    t.match(v4, { address: /^10\.64\.1\.1(0\d|10)\/24$/, gateway: '10.64.1.254' })
    t.match(v6, { address: /^fd00:64::[0-9a-f]+\/120$/, gateway: 'fd00:64::1' })
    t.same(r.json.routes, [{ dst: '0.0.0.0/0' }])
    const kv = await dump(ep, base)
    t.ok([...kv.keys()].some((k) => k.includes('/ips/v6/fd000064')), 'an IPv6 address key')
    t.ok([...kv.keys()].some((k) => k.endsWith('/122')), 'an IPv6 block of the default /122')
    t.equal((await runIpam('DEL', conf, { containerID: 'ds' })).code, 0)
    t.same([...(await dump(ep, base)).keys()].filter((k) => !k.includes('/blocks/')), [])
  })

  t.test('requested addresses: CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips', async (t) => {
    const { conf } = fresh()
    const a = await runIpam('ADD', conf, { containerID: 'r1', args: 'IP=10.64.0.77' })
    t.equal(a.json?.ips?.[0]?.address, '10.64.0.77/24', a.stdout)
    const b = await runIpam('ADD', { ...conf, args: { cni: { ips: ['10.64.0.78'] } } }, { containerID: 'r2' })
    t.equal(b.json?.ips?.[0]?.address, '10.64.0.78/24', b.stdout)
    const c = await runIpam('ADD', { ...conf, runtimeConfig: { ips: ['10.64.0.79/24'] } }, { containerID: 'r3' })
    t.equal(c.json?.ips?.[0]?.address, '10.64.0.79/24', c.stdout)
    const taken = await runIpam('ADD', conf, { containerID: 'r4', args: 'IP=10.64.0.77' })
    t.equal(taken.code, 1)
    t.match(taken.json.msg, 'requested IP address 10.64.0.77 is not available in range set 10.64.0.1-10.64.0.254')
    const gw = await runIpam('ADD', conf, { containerID: 'r5', args: 'IP=10.64.0.1' })
    t.match(gw.json.msg, "requested ip 10.64.0.1 is subnet's gateway")
    const outside = await runIpam('ADD', conf, { containerID: 'r6', args: 'IP=10.99.0.1' })
    t.match(outside.json.msg, 'failed to allocate all requested IPs: 10.99.0.1')
  })

  t.test('GC releases this node\'s allocations that are not valid, and nothing else', async (t) => {
    const { conf, base } = fresh()
    for (const id of ['g1', 'g2', 'g3']) t.equal((await runIpam('ADD', conf, { containerID: id })).code, 0)
    const other = { ...conf, ipam: { ...(conf.ipam as object), nodeName: 'node1' } }
    t.equal((await runIpam('ADD', other, { containerID: 'g4' })).code, 0)
    t.equal((await runIpam('GC', conf)).code, 0, 'GC without valid-attachments releases nothing')
    t.equal(consistency(await dump(ep, base), base).handles.size, 4)
    const gc = await runIpam('GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'g2', ifname: 'eth0' }] })
    t.equal(gc.code, 0, gc.stdout)
    const { problems, handles } = consistency(await dump(ep, base), base)
    t.same(problems, [])
    t.same([...handles.keys()].sort(), ['g2/eth0', 'g4/eth0'], "g1 and g3 released; node1's g4 untouched")
  })

  t.test('borrowing when every block is claimed, then exhaustion; STATUS 50', async (t) => {
    // 10.64.2.0/28 in /30 blocks: four blocks, 13 usable addresses (.1 is the gateway, .15 broadcast).
    const { conf, base } = fresh({ ranges: [[{ subnet: '10.64.2.0/28' }]], blockSize: 30 })
    const nodeConf = (node: string) => ({ ...conf, ipam: { ...(conf.ipam as object), nodeName: node } })
    const got: string[] = []
    for (let i = 0; i < 13; i++) {
      const r = await runIpam('ADD', nodeConf(`n${i % 5}`), { containerID: `b${i}` })
      t.equal(r.code, 0, `ADD ${i}: ${r.stdout}`)
      got.push(r.json?.ips?.[0]?.address)
    }
    t.equal(new Set(got).size, 13, '13 distinct addresses')
    const kv = await dump(ep, base)
    t.same(consistency(kv, base).problems, [])
    const blocks = [...kv.entries()].filter(([k]) => k.includes('/blocks/'))
    t.equal(blocks.length, 4, 'all four blocks claimed')
    t.ok(new Set(blocks.map(([, v]) => v)).size <= 4, 'one owner each')
    const n4 = [...kv.values()].filter((v) => v.includes('"node":"n4"') && v.includes('"ips"') === false).length
    t.ok(n4 >= 1, 'node n4 (no block of its own) borrowed addresses')
    const status = await runIpam('STATUS', conf)
    t.equal(status.code, 1)
    t.equal(status.json.code, 50, status.stdout)
    const full = await runIpam('ADD', nodeConf('n9'), { containerID: 'b-full' })
    t.equal(full.code, 1)
    t.match(full.json.msg, 'no IP addresses available in range set: 10.64.2.1-10.64.2.14')
    t.equal((await runIpam('DEL', conf, { containerID: 'b3' })).code, 0)
    t.equal((await runIpam('STATUS', conf)).code, 0, 'STATUS passes again after a DEL')
  })

  t.test('reuseCooldown keeps a released address out of use', async (t) => {
    const { conf, base } = fresh({ ranges: [[{ subnet: '10.64.3.0/24', rangeStart: '10.64.3.10', rangeEnd: '10.64.3.10' }]], reuseCooldown: 30 })
    t.equal((await runIpam('ADD', conf, { containerID: 'cd1' })).json?.ips?.[0]?.address, '10.64.3.10/24')
    t.equal((await runIpam('DEL', conf, { containerID: 'cd1' })).code, 0)
    const kv = await dump(ep, base)
    t.ok([...kv.keys()].some((k) => k.includes('/released/v4/0a40030a')), 'a released key on a lease')
    const again = await runIpam('ADD', conf, { containerID: 'cd2' })
    t.equal(again.code, 1, 'the only address is cooling down')
    t.equal((await runIpam('STATUS', conf)).json?.code, 50)
  })

  t.test('bad config names the field', async (t) => {
    const { conf } = fresh()
    const noEp = { ...conf, ipam: { ...(conf.ipam as object), endpoints: undefined } }
    const r1 = await runIpam('ADD', noEp)
    t.equal(r1.json.code, 7)
    t.match(r1.json.msg, 'ipam.endpoints')
    const r2 = await runIpam('ADD', { ...conf, ipam: { ...(conf.ipam as object), blockSize: 'x' } })
    t.equal(r2.json.code, 7)
    t.match(r2.json.msg, 'ipam.blockSize')
    const r3 = await runIpam('ADD', { ...conf, ipam: { ...(conf.ipam as object), endpoints: ['127.0.0.1:2379'] } })
    t.equal(r3.json.code, 7)
    t.match(r3.json.msg, 'ipam.endpoints[0]')
    t.notMatch(r1.stdout + r2.stdout + r3.stdout + r1.stderr, /at .*\.ts:\d+/, 'no stack trace')
  })

  t.test("the environment's proxy variables are not used for etcd", async (t) => {
    const { conf } = fresh()
    const proxy = 'http://127.0.0.1:23799'
    const r = await runIpam('ADD', conf, { containerID: 'px', env: { HTTP_PROXY: proxy, http_proxy: proxy, ALL_PROXY: proxy, HTTPS_PROXY: proxy } })
    t.equal(r.code, 0, r.stdout)
  })

  t.test('a dead first endpoint is skipped', async (t) => {
    const { conf } = fresh({ endpoints: ['http://127.0.0.1:23797', ep] })
    const r = await runIpam('ADD', conf, { containerID: 'ep1' })
    t.equal(r.code, 0, r.stdout)
  })

  t.test('unreachable etcd: ADD is code 11 naming the endpoint, fast; STATUS is 50; nothing written', async (t) => {
    const { conf } = fresh({ endpoints: ['http://127.0.0.1:23798'] })
    for (const verb of ['ADD', 'DEL', 'CHECK']) {
      const r = await runIpam(verb, conf, { containerID: 'u1' })
      t.equal(r.json?.code, 11, `${verb}: ${r.stdout}`)
      t.match(r.json?.details, 'http://127.0.0.1:23798: connection refused')
      t.ok(r.ms < 2000, `${verb} failed fast (${r.ms} ms)`)
    }
    const s = await runIpam('STATUS', conf)
    t.equal(s.json?.code, 50, s.stdout)
    t.equal((await runIpam('GC', { ...conf, 'cni.dev/valid-attachments': [] })).json?.code, 11)
  })
})
