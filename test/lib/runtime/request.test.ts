import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { parseNetworkConfigList } from '../../../lib/runtime/conf'
import { attachmentRequest, gcRequest, runtimeConfigFor, statusRequest } from '../../../lib/runtime/request'
import { parseResult } from '../../../lib/skel/result'

const FIX = path.join(__dirname, '..', '..', 'fixtures', 'runtime')

const list = parseNetworkConfigList(JSON.stringify({
  cniVersion: '1.0.0',
  name: 'net',
  plugins: [
    { type: 'a', name: 'own-name', cniVersion: '0.1.0', capabilities: { mac: true, portMappings: true, ips: false }, zeta: { b: 1, a: 2 }, runtimeConfig: { old: 1 } },
    { type: 'b', capabilities: { bandwidth: true } },
  ],
}))
const [a, b] = list.plugins as [typeof list.plugins[0], typeof list.plugins[0]]
const rt = { containerId: 'c1', netns: '/var/run/netns/x', ifName: 'eth0' }

t.test('runtimeConfig (case 84): enabled capabilities present in the args, value verbatim', async (t) => {
  const capabilityArgs = { mac: 'c2:11:22:33:44:55', ips: ['10.0.0.1/24'], portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], other: 1 }
  t.same(runtimeConfigFor(a, capabilityArgs), { mac: 'c2:11:22:33:44:55', portMappings: capabilityArgs.portMappings }, 'ips is disabled, other is not a capability')
  t.equal(runtimeConfigFor(b, capabilityArgs), undefined, 'nothing matches: no runtimeConfig')
  t.equal(runtimeConfigFor(a, undefined), undefined)
})

t.test('request (case 84): name/cniVersion from the list, runtimeConfig, unknown keys kept, sorted', async (t) => {
  const stdin = attachmentRequest(list, a, undefined, { ...rt, capabilityArgs: { mac: 'm' } })
  t.equal(stdin, '{"capabilities":{"ips":false,"mac":true,"portMappings":true},"cniVersion":"1.0.0","name":"net","runtimeConfig":{"mac":"m"},"type":"a","zeta":{"a":2,"b":1}}')
  const none = JSON.parse(attachmentRequest(list, a, undefined, rt))
  t.same(none.runtimeConfig, { old: 1 }, "no capability matched: the file's runtimeConfig stays as written (libcni)")
  t.notOk('prevResult' in none, 'no prevResult for the first plugin')
  t.same(JSON.parse(attachmentRequest(list, b, undefined, rt)), { capabilities: { bandwidth: true }, cniVersion: '1.0.0', name: 'net', type: 'b' })
})

t.test('request: prevResult in Go struct order, or sorted once runtimeConfig is injected', async (t) => {
  const v04 = parseNetworkConfigList('{"cniVersion":"0.4.0","name":"n","plugins":[{"type":"x","capabilities":{"mac":true}}]}')
  const prev = parseResult({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0', sandbox: '/ns' }], ips: [{ version: '4', interface: 0, address: '10.0.0.2/24' }] }, '0.4.0')
  const p = v04.plugins[0] as typeof v04.plugins[0]
  t.equal(attachmentRequest(v04, p, prev, rt),
    '{"capabilities":{"mac":true},"cniVersion":"0.4.0","name":"n","prevResult":{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/ns"}],"ips":[{"version":"4","interface":0,"address":"10.0.0.2/24"}],"dns":{}},"type":"x"}')
  t.equal(attachmentRequest(v04, p, prev, { ...rt, capabilityArgs: { mac: 'm' } }),
    '{"capabilities":{"mac":true},"cniVersion":"0.4.0","name":"n","prevResult":{"cniVersion":"0.4.0","dns":{},"interfaces":[{"name":"eth0","sandbox":"/ns"}],"ips":[{"address":"10.0.0.2/24","interface":0,"version":"4"}]},"runtimeConfig":{"mac":"m"},"type":"x"}')
})

t.test('request: byte-identical to what the Go cnitool sent (fixture)', async (t) => {
  const fixList = parseNetworkConfigList(fs.readFileSync(path.join(FIX, 'fixnet.conflist')))
  const fixRt = {
    containerId: 'cnitool-77383ca0a0715733ca6f', netns: '/var/run/netns/testing', ifName: 'eth0',
    capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: 'c2:11:22:33:44:55', bandwidth: { ingressRate: 1000 } },
  }
  const [first, last] = fixList.plugins as [typeof fixList.plugins[0], typeof fixList.plugins[0]]
  t.equal(attachmentRequest(fixList, first, undefined, fixRt), fs.readFileSync(path.join(FIX, 'go-stdin-add-first.json'), 'utf8'))
  const prev = parseResult({ cniVersion: '1.1.0', interfaces: [{ name: 'first-if', sandbox: '/var/run/netns/testing' }], ips: [{ address: '10.99.0.1/24', interface: 0 }] }, '1.1.0')
  t.equal(attachmentRequest(fixList, last, prev, fixRt), fs.readFileSync(path.join(FIX, 'go-stdin-add-last.json'), 'utf8'))
})

t.test('GC and STATUS requests: no runtimeConfig, no prevResult', async (t) => {
  t.equal(statusRequest(list, b), '{"capabilities":{"bandwidth":true},"cniVersion":"1.0.0","name":"net","type":"b"}')
  t.equal(gcRequest(list, b), '{"capabilities":{"bandwidth":true},"cniVersion":"1.0.0","name":"net","type":"b"}', 'cnitool gc: no valid-attachments key')
  t.same(JSON.parse(gcRequest(list, b, [{ containerID: 'c1', ifname: 'eth0' }])), {
    capabilities: { bandwidth: true }, cniVersion: '1.0.0', name: 'net', type: 'b',
    'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }],
    'cni.dev/attachments': [{ containerID: 'c1', ifname: 'eth0' }],
  })
  t.same(JSON.parse(gcRequest(list, b, []))['cni.dev/valid-attachments'], [])
})
