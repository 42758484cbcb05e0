import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import {
  cacheFilePath,
  decodeCacheEntry,
  encodeCacheEntry,
  listCachedAttachments,
  readCachedConfig,
  readCachedResult,
  writeCacheEntry,
} from '../../../lib/runtime/cache'
import { parseNetworkConfigList } from '../../../lib/runtime/conf'
import { parsePluginResult } from '../../../lib/runtime/runtime'
import { makeTempDir } from '../../helpers/stubs'

const FIX = path.join(__dirname, '..', '..', 'fixtures', 'runtime')
const GO_FILE = 'go-cache-fixnet-cnitool-77383ca0a0715733ca6f-eth0'
const conflist = fs.readFileSync(path.join(FIX, 'fixnet.conflist'))
const goCache = fs.readFileSync(path.join(FIX, GO_FILE), 'utf8')
const rt = {
  containerId: 'cnitool-77383ca0a0715733ca6f',
  netns: '/var/run/netns/testing',
  ifName: 'eth0',
  args: [['K8S_POD_NAME', 'web<1>'], ['IgnoreUnknown', '1']] as [string, string][],
  capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: 'c2:11:22:33:44:55', bandwidth: { ingressRate: 1000 } },
}
const result = () => parsePluginResult(fs.readFileSync(path.join(FIX, 'fixnet-result.json')), '1.1.0')

t.test('what we write equals what libcni wrote, byte for byte (Go fixture)', async (t) => {
  t.equal(encodeCacheEntry(result(), conflist, 'fixnet', rt), goCache)
  const dir = makeTempDir(t, 'cache')
  writeCacheEntry(dir, result(), conflist, 'fixnet', rt)
  const file = path.join(dir, 'results', 'fixnet-cnitool-77383ca0a0715733ca6f-eth0')
  t.equal(fs.readFileSync(file, 'utf8'), goCache)
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'file 0600')
  t.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700, 'results/ 0700')
  t.same(fs.readdirSync(path.dirname(file)), [path.basename(file)], 'no temp file left')
})

t.test('a file in Go\'s format is read correctly', async (t) => {
  const entry = decodeCacheEntry(goCache)
  t.ok(entry)
  t.equal(entry?.containerId, rt.containerId)
  t.equal(entry?.networkName, 'fixnet')
  t.equal(entry?.ifName, 'eth0')
  t.equal(entry?.netns, '/var/run/netns/testing')
  t.same(entry?.cniArgs, rt.args)
  t.same(entry?.capabilityArgs, rt.capabilityArgs)
  t.ok(entry?.config.equals(conflist), 'config is the conflist file bytes (base64 in the file)')
  const dir = makeTempDir(t, 'cache')
  fs.mkdirSync(path.join(dir, 'results'))
  fs.copyFileSync(path.join(FIX, GO_FILE), path.join(dir, 'results', 'fixnet-cnitool-77383ca0a0715733ca6f-eth0'))
  t.same(readCachedResult(dir, 'fixnet', '1.1.0', rt), result())
  const as040 = readCachedResult(dir, 'fixnet', '0.4.0', rt)
  t.equal(as040?.cniVersion, '0.4.0', "converted to the list's version")
  const cfg = readCachedConfig(dir, 'fixnet', { containerId: rt.containerId, netns: rt.netns, ifName: 'eth0' })
  t.same(cfg?.rt.args, rt.args)
  t.same(cfg?.rt.capabilityArgs, rt.capabilityArgs)
  const listed = listCachedAttachments(dir)
  t.equal(listed.length, 1)
  t.same(parseNetworkConfigList(listed[0]?.config ?? Buffer.alloc(0)).name, 'fixnet')
})

t.test('empty fields are left out; a minimal entry', async (t) => {
  const r = parsePluginResult(Buffer.from('{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.2/24"}]}'), '0.4.0')
  const text = encodeCacheEntry(r, Buffer.from('{}'), 'n', { containerId: 'c', netns: '', ifName: 'eth0', args: [], capabilityArgs: {} })
  t.equal(text, '{"kind":"cniCacheV1","containerId":"c","config":"e30=","ifName":"eth0","networkName":"n","result":{"cniVersion":"0.4.0","dns":{},"ips":[{"address":"10.0.0.2/24","version":"4"}]}}')
})

t.test('legacy caches (a bare result) and bad files', async (t) => {
  const dir = makeTempDir(t, 'cache')
  const r = { containerId: 'c', netns: '/x', ifName: 'eth0' }
  const file = cacheFilePath(dir, 'n', r)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  t.equal(readCachedResult(dir, 'n', '1.0.0', r), undefined, 'no file: no result')
  fs.writeFileSync(file, '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.5.5.5/24"}],"dns":{}}')
  t.same(readCachedResult(dir, 'n', '1.0.0', r), { cniVersion: '1.0.0', ips: [{ address: '10.5.5.5/24' }] }, 'legacy: converted to the list version')
  t.same(listCachedAttachments(dir), [], 'legacy files are not attachments')
  fs.writeFileSync(file, '{broken')
  t.throws(() => readCachedResult(dir, 'n', '1.0.0', r), { message: "decoding version from network config: invalid character 'b' looking for beginning of object key string" })
  fs.writeFileSync(file, '{"kind":"cniCacheV1","containerId":"c","config":"!!","ifName":"eth0","networkName":"n"}')
  t.equal(decodeCacheEntry(fs.readFileSync(file, 'utf8')), undefined, 'bad base64: not a V1 entry')
  t.throws(() => cacheFilePath(dir, '', r), { message: /^cache file path requires network name/ })
})

t.test('listing attachments: sorted, filtered by container, entries without names skipped', async (t) => {
  const dir = makeTempDir(t, 'cache')
  const r = parsePluginResult(Buffer.from('{"cniVersion":"1.0.0"}'), '1.0.0')
  writeCacheEntry(dir, r, Buffer.from('{}'), 'net-b', { containerId: 'ctr-2', netns: '/n2', ifName: 'eth0' })
  writeCacheEntry(dir, r, Buffer.from('{}'), 'net-a', { containerId: 'ctr-1', netns: '/n1', ifName: 'eth1' })
  writeCacheEntry(dir, r, Buffer.from('{}'), 'net-a', { containerId: 'ctr-1', netns: '/n1', ifName: 'eth0' })
  fs.writeFileSync(path.join(dir, 'results', 'net-a-ctr-3-eth0'), '{"kind":"cniCacheV1","containerId":"ctr-3","config":"","ifName":"","networkName":"net-a"}')
  fs.mkdirSync(path.join(dir, 'results', 'a-directory'))
  t.same(listCachedAttachments(dir).map((a) => `${a.networkName} ${a.containerId} ${a.ifName}`), ['net-a ctr-1 eth0', 'net-a ctr-1 eth1', 'net-b ctr-2 eth0'])
  t.same(listCachedAttachments(dir, 'ctr-2').map((a) => a.networkName), ['net-b'])
  t.same(listCachedAttachments(path.join(dir, 'nothing')), [], 'no cache directory: nothing cached')
})
