import * as fs from 'node:fs'
import * as path from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { CniRuntime, loadNetworkConfigList, type RuntimeConf } from '../../../lib/runtime'
import { cacheFilePath } from '../../../lib/runtime/cache'
import type { HasTeardown } from '../../helpers/netns'
import { makeStubWorld, type StubWorld } from '../../helpers/stubs'

const rt: RuntimeConf = { containerId: 'ctr-1', netns: '/var/run/netns/ctr-1', ifName: 'eth0', args: [['A', '1'], ['B', '2']] }

function setup(t: HasTeardown, conflist: object, plugins = ['p1', 'p2', 'p3']) {
  const w = makeStubWorld(t)
  w.plugins(...plugins)
  w.conf('10-net.conflist', conflist)
  const stderr = new PassThrough()
  stderr.resume()
  const runtime = new CniRuntime({ path: [w.binDir], cacheDir: w.cacheDir, env: { STUB_DIR: w.dir }, stderr })
  const list = loadNetworkConfigList(w.confDir, (conflist as { name: string }).name)
  const cacheFile = cacheFilePath(w.cacheDir, list.name, rt)
  return { w, runtime, list, cacheFile }
}

const chain = (cniVersion: string, extra: object = {}) => ({ cniVersion, name: 'net', plugins: [{ type: 'p1' }, { type: 'p2', capabilities: { mac: true } }, { type: 'p3' }], ...extra })
const order = (w: StubWorld) => w.calls().map((c) => `${c.command} ${c.type}`)

t.test('ADD (case 85): in order, prevResult = the previous plugin\'s result; the last result is cached and returned', async (t) => {
  const { w, runtime, list, cacheFile } = setup(t, chain('1.0.0'))
  const result = await runtime.add(list, { ...rt, capabilityArgs: { mac: 'c2:11:22:33:44:55' } })
  t.same(order(w), ['ADD p1', 'ADD p2', 'ADD p3'])
  const [c1, c2, c3] = w.calls()
  t.notOk('prevResult' in c1?.conf, 'the first plugin gets no prevResult')
  t.same(c2?.conf.prevResult.ips, [{ address: '10.99.0.1/24', interface: 0 }], "plugin 2 gets plugin 1's result")
  t.same(c3?.conf.prevResult.ips, [{ address: '10.99.0.2/24', interface: 1 }], "plugin 3 gets plugin 2's result")
  t.same(c2?.conf.runtimeConfig, { mac: 'c2:11:22:33:44:55' })
  t.notOk('runtimeConfig' in c1?.conf)
  for (const c of w.calls()) {
    t.same(c.env, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ctr-1', CNI_NETNS: '/var/run/netns/ctr-1', CNI_ARGS: 'A=1;B=2', CNI_IFNAME: 'eth0', CNI_PATH: w.binDir })
    t.equal(c.conf.name, 'net')
    t.equal(c.conf.cniVersion, '1.0.0')
  }
  t.same(result.ips, [{ address: '10.99.0.3/24', interface: 2 }])
  const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8'))
  t.same(cached.result, { cniVersion: '1.0.0', interfaces: result.interfaces, ips: result.ips }, 'cache holds the final result')
  t.equal(Buffer.from(cached.config, 'base64').toString(), list.bytes.toString())
})

t.test('ADD: a plugin missing from CNI_PATH (case 94) or failing stops the chain; nothing cached', async (t) => {
  const { w, runtime, list, cacheFile } = setup(t, chain('1.0.0'), ['p1', 'p3'])
  await t.rejects(runtime.add(list, rt), { message: `plugin type="p2" failed (add): failed to find plugin "p2" in path [${w.binDir}]` })
  t.same(order(w), ['ADD p1'])
  t.notOk(fs.existsSync(cacheFile))
  w.plugins('p2')
  w.answer('p2', 'ADD', { exit: 1, stdout: '{"code":11,"msg":"try later","details":"busy"}' })
  w.clearCalls()
  await t.rejects(runtime.add(list, rt), { message: 'plugin type="p2" failed (add): try later; busy', cniCode: 11 })
  t.same(order(w), ['ADD p1', 'ADD p2'], 'no automatic DEL (the caller must DEL)')
  t.notOk(fs.existsSync(cacheFile))
})

t.test('ADD (case 97): bad interface name, container ID or network name fails before any plugin runs', async (t) => {
  const { w, runtime, list } = setup(t, chain('1.0.0'))
  await t.rejects(runtime.add(list, { ...rt, ifName: 'bad/if' }), { message: 'plugin type="p1" failed (add): interface name contains / or : or whitespace characters', cniCode: 4 })
  await t.rejects(runtime.add(list, { ...rt, containerId: '' }), { message: 'plugin type="p1" failed (add): missing containerID', cniCode: 3 })
  await t.rejects(runtime.add({ ...list, name: '-x' }, rt), { message: 'plugin type="p1" failed (add): invalid characters found in network name; -x', cniCode: 7 })
  t.same(w.calls(), [], 'no plugin ran')
})

t.test('ADD (case 96): a result without cniVersion is taken as the list version and cached with it', async (t) => {
  const { w, runtime, list, cacheFile } = setup(t, chain('0.4.0', { plugins: [{ type: 'p1' }] }), ['p1'])
  w.answer('p1', 'ADD', { stdout: '{"ips":[{"version":"4","address":"10.1.2.3/24"}]}' })
  const result = await runtime.add(list, rt)
  t.equal(result.cniVersion, '0.4.0')
  t.equal(JSON.parse(fs.readFileSync(cacheFile, 'utf8')).result.cniVersion, '0.4.0')
  w.answer('p1', 'ADD', { stdout: '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.2.3/24"}]}' })
  t.equal((await runtime.add(list, rt)).cniVersion, '0.3.1', 'any known version is accepted as it is')
  w.answer('p1', 'ADD', { stdout: '' })
  await t.rejects(runtime.add(list, rt), { message: 'plugin type="p1" failed (add): failed to unmarshal raw result: unexpected end of JSON input' })
})

t.test('DEL (case 86): reverse order, each plugin with the cached result in the list version; cache removed', async (t) => {
  const { w, runtime, list, cacheFile } = setup(t, chain('1.0.0'))
  const added = await runtime.add(list, rt)
  w.clearCalls()
  await runtime.del(list, rt)
  t.same(order(w), ['DEL p3', 'DEL p2', 'DEL p1'])
  for (const c of w.calls()) t.same(c.conf.prevResult, JSON.parse(JSON.stringify(added)), `${c.type}: prevResult is the final ADD result`)
  t.notOk(fs.existsSync(cacheFile), 'cache file removed')
})

t.test('DEL (case 86): a failing plugin stops DEL and keeps the cache', async (t) => {
  const { w, runtime, list, cacheFile } = setup(t, chain('1.0.0'))
  await runtime.add(list, rt)
  w.clearCalls()
  w.answer('p2', 'DEL', { exit: 1, stdout: '{"code":999,"msg":"cannot"}' })
  await t.rejects(runtime.del(list, rt), { message: 'plugin type="p2" failed (delete): cannot' })
  t.same(order(w), ['DEL p3', 'DEL p2'])
  t.ok(fs.existsSync(cacheFile), 'cache kept for the retry')
})

t.test('DEL (case 87): no cache, or a corrupt one, runs without prevResult', async (t) => {
  const { w, runtime, list, cacheFile } = setup(t, chain('1.0.0'))
  await runtime.del(list, rt)
  t.same(order(w), ['DEL p3', 'DEL p2', 'DEL p1'])
  t.ok(w.calls().every((c) => !('prevResult' in c.conf)))
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true })
  fs.writeFileSync(cacheFile, '{corrupt')
  w.clearCalls()
  await runtime.del(list, rt)
  t.ok(w.calls().every((c) => !('prevResult' in c.conf)), 'corrupt cache: no prevResult')
  t.notOk(fs.existsSync(cacheFile), 'corrupt cache removed')
})

t.test('DEL below 0.4.0 sends no prevResult; a cached result is converted to the list version', async (t) => {
  const { w, runtime, list, cacheFile } = setup(t, chain('0.3.1'))
  await runtime.add(list, rt)
  w.clearCalls()
  await runtime.del(list, rt)
  t.ok(w.calls().every((c) => !('prevResult' in c.conf)))
  t.notOk(fs.existsSync(cacheFile))
  const v04 = setup(t, chain('0.4.0'))
  fs.mkdirSync(path.dirname(v04.cacheFile), { recursive: true })
  fs.writeFileSync(v04.cacheFile, '{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.9/24"}]}')
  await v04.runtime.del(v04.list, rt)
  t.same(v04.w.calls()[0]?.conf.prevResult, { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.9/24' }], dns: {} })
})

t.test('CHECK (cases 88-90)', async (t) => {
  const { w, runtime, list } = setup(t, chain('1.0.0'))
  const added = await runtime.add(list, rt)
  w.clearCalls()
  await runtime.check(list, rt)
  t.same(order(w), ['CHECK p1', 'CHECK p2', 'CHECK p3'], 'forward order')
  for (const c of w.calls()) {
    t.same(c.conf.prevResult, JSON.parse(JSON.stringify(added)))
    t.same(c.env, { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'ctr-1', CNI_NETNS: '/var/run/netns/ctr-1', CNI_ARGS: 'A=1;B=2', CNI_IFNAME: 'eth0', CNI_PATH: w.binDir }, 'ADD-identical env')
  }
  w.clearCalls()
  w.answer('p2', 'CHECK', { exit: 1, stdout: '{"code":999,"msg":"veth gone"}' })
  await t.rejects(runtime.check(list, rt), { message: 'veth gone', code: 999 }, 'the plugin error as it is')
  t.same(order(w), ['CHECK p1', 'CHECK p2'], 'stops at the first failure')

  for (const flag of [true, 'true', 'TRUE']) {
    const d = setup(t, chain('1.0.0', { disableCheck: flag }))
    await d.runtime.check(d.list, rt)
    t.same(d.w.calls(), [], `disableCheck ${JSON.stringify(flag)}: nothing runs`)
  }
  const old = setup(t, chain('0.3.1'))
  await t.rejects(old.runtime.check(old.list, rt), { message: 'configuration version "0.3.1" does not support the CHECK command' })
  t.same(old.w.calls(), [])
})

t.test('STATUS (case 91, 101)', async (t) => {
  const old = setup(t, chain('1.0.0'))
  await old.runtime.status(old.list)
  t.same(old.w.calls(), [], 'below 1.1.0: success without running anything')
  const { w, runtime, list } = setup(t, chain('1.1.0'))
  await runtime.status(list)
  t.same(order(w), ['STATUS p1', 'STATUS p2', 'STATUS p3'])
  for (const c of w.calls()) {
    t.same(c.env, { CNI_COMMAND: 'STATUS', CNI_CONTAINERID: '', CNI_NETNS: '', CNI_ARGS: '', CNI_IFNAME: '', CNI_PATH: w.binDir })
    t.notOk('prevResult' in c.conf || 'runtimeConfig' in c.conf)
  }
  w.clearCalls()
  w.answer('p2', 'STATUS', { exit: 1, stdout: '{"code":50,"msg":"plugin not available"}' })
  await t.rejects(runtime.status(list), { message: 'plugin not available', code: 50 })
  t.same(order(w), ['STATUS p1', 'STATUS p2'], 'plugin 3 does not run')
})

t.test('GC (case 92, 101): stale attachments deleted, then GC on every plugin, all errors reported', async (t) => {
  const { w, runtime, list } = setup(t, chain('1.1.0'))
  const other = { containerId: 'ctr-2', netns: '/var/run/netns/ctr-2', ifName: 'eth1', capabilityArgs: { mac: 'm2' } }
  await runtime.add(list, rt)
  await runtime.add(list, other)
  w.conf('20-other.conflist', { cniVersion: '1.1.0', name: 'othernet', plugins: [{ type: 'p1' }] })
  await runtime.add(loadNetworkConfigList(w.confDir, 'othernet'), rt)
  w.clearCalls()
  await runtime.gc(list, { validAttachments: [{ containerID: 'ctr-2', ifname: 'eth1' }] })
  t.same(order(w), ['DEL p3', 'DEL p2', 'DEL p1', 'GC p1', 'GC p2', 'GC p3'], 'only ctr-1/eth0 of this network is deleted')
  const del = w.calls().filter((c) => c.command === 'DEL')
  t.ok(del.every((c) => c.env.CNI_CONTAINERID === 'ctr-1' && c.env.CNI_ARGS === 'A=1;B=2' && c.conf.prevResult), 'DEL with the cached parameters and result')
  for (const c of w.calls().filter((c) => c.command === 'GC')) {
    t.same(c.env, { CNI_COMMAND: 'GC', CNI_CONTAINERID: '', CNI_NETNS: '', CNI_ARGS: '', CNI_IFNAME: '', CNI_PATH: w.binDir })
    t.same(c.conf['cni.dev/valid-attachments'], [{ containerID: 'ctr-2', ifname: 'eth1' }])
    t.same(c.conf['cni.dev/attachments'], [{ containerID: 'ctr-2', ifname: 'eth1' }])
  }
  t.same(runtime.cachedAttachments().map((a) => `${a.networkName} ${a.containerId}`), ['net ctr-2', 'othernet ctr-1'])

  w.clearCalls()
  w.answer('p1', 'DEL', { exit: 1, stdout: '{"code":11,"msg":"del busy"}' })
  w.answer('p1', 'GC', { exit: 1, stdout: '{"code":999,"msg":"gc p1"}' })
  w.answer('p3', 'GC', { exit: 1, stdout: '{"code":999,"msg":"gc p3"}' })
  await t.rejects(runtime.gc(list), {
    message: 'failed to delete stale attachment ctr-2 eth1: plugin type="p1" failed (delete): del busy\nfailed to GC plugin p1: gc p1\nfailed to GC plugin p3: gc p3',
  })
  t.same(order(w), ['DEL p3', 'DEL p2', 'DEL p1', 'GC p1', 'GC p2', 'GC p3'], 'GC runs on every plugin even after errors')
  t.ok(w.calls().filter((c) => c.command === 'GC').every((c) => !('cni.dev/valid-attachments' in c.conf)), 'no valid set given: no key')

  const disabled = setup(t, chain('1.1.0', { disableGC: true }))
  await disabled.runtime.add(disabled.list, rt)
  disabled.w.clearCalls()
  await disabled.runtime.gc(disabled.list)
  t.same(disabled.w.calls(), [], 'disableGC: nothing runs')

  const old = setup(t, chain('1.0.0'))
  await old.runtime.add(old.list, rt)
  old.w.clearCalls()
  await old.runtime.gc(old.list)
  t.same(order(old.w), ['DEL p3', 'DEL p2', 'DEL p1'], 'below 1.1.0: stale attachments deleted, no GC verb')
})

t.test('versionInfo / validate', async (t) => {
  const { w, runtime, list } = setup(t, chain('1.0.0'))
  t.same(await runtime.validate(list), ['mac'])
  w.answer('p2', 'VERSION', { stdout: '{"cniVersion":"0.4.0","supportedVersions":["0.3.1","0.4.0"]}' })
  await t.rejects(runtime.validate(list), { message: '[plugin p2 does not support config version "1.0.0"]' })
})
