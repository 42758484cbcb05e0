import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { parseNetworkConfigList } from '../../../lib/runtime/conf'
import { goJsonParse } from '../../../lib/runtime/go-json-parse'
import { listNetworkConfigFiles, loadNetworkConfigList } from '../../../lib/runtime/load'
import { makeTempDir } from '../../helpers/stubs'

const write = (dir: string, name: string, content: object | string) => {
  const file = path.join(dir, name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

t.test('a conflist parses into name, version, flags and plugins; bytes kept as read', async (t) => {
  const text = '{"cniVersion":"1.1.0","name":"n","disableCheck":"True","disableGC":true,"plugins":[{"type":"a","capabilities":{"mac":true,"ips":false}},{"TYPE":"b","Name":"bee"}]}'
  const list = parseNetworkConfigList(text)
  t.equal(list.name, 'n')
  t.equal(list.cniVersion, '1.1.0')
  t.equal(list.disableCheck, true, 'booleans may be strings, any case')
  t.equal(list.disableGC, true)
  t.equal(list.loadOnlyInlinedPlugins, false)
  t.same(list.plugins.map((p) => [p.type, p.name, p.capabilities]), [['a', '', { mac: true, ips: false }], ['b', 'bee', {}]], 'plugin fields match case-insensitively, as Go struct fields')
  t.equal(list.bytes.toString(), text)
})

t.test('conflist errors carry libcni wording', async (t) => {
  const cases: [string, string][] = [
    ['{"name":"x",', 'error parsing configuration list: unexpected end of JSON input'],
    ['{"name":nul}', "error parsing configuration list: invalid character '}' in literal null (expecting 'l')"],
    ['[1]', 'error parsing configuration list: json: cannot unmarshal array into Go value of type map[string]interface {}'],
    ['{"plugins":[]}', 'error parsing configuration list: no name'],
    ['{"name":5}', 'error parsing configuration list: invalid name type float64'],
    ['{"name":"n","cniVersion":1}', 'error parsing configuration list: invalid cniVersion type float64'],
    ['{"name":"n","disableCheck":"yes"}', 'error parsing configuration list: invalid value "yes" for disableCheck'],
    ['{"name":"n","disableGC":1}', 'error parsing configuration list: invalid type float64 for disableGC'],
    ['{"name":"n","plugins":{}}', "error parsing configuration list: invalid 'plugins' type map[string]interface {}"],
    ['{"name":"n","plugins":[]}', 'error parsing configuration list: no plugins in list'],
    ['{"name":"n","loadOnlyInlinedPlugins":true}', "error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key"],
    ['{"name":"n","plugins":[{"name":"x"}]}', "failed to parse plugin config 0: error parsing configuration: missing 'type'"],
    ['{"name":"n","plugins":[null]}', "failed to parse plugin config 0: error parsing configuration: missing 'type'"],
    ['{"name":"n","plugins":["x"]}', 'failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal string into Go value of type types.PluginConf'],
    ['{"name":"n","plugins":[{"type":5}]}', 'failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal number into Go struct field PluginConf.type of type string'],
    ['{"name":"n","plugins":[{"type":"a","capabilities":{"mac":1}}]}', 'failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal number into Go struct field PluginConf.capabilities of type bool'],
    ['{"name":"n","plugins":[{"type":"a","ipam":"x"}]}', 'failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal string into Go struct field PluginConf.ipam of type types.IPAM'],
    ['{"name":"n","plugins":[{"type":"a","dns":{"nameservers":"x"}}]}', 'failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal string into Go struct field DNS.dns.nameservers of type []string'],
    ['{"name":"n","cniVersions":["x"],"plugins":[{"type":"a"}]}', 'error parsing configuration list: invalid cniVersions entry x at index 0: failed to convert major version part "x": strconv.Atoi: parsing "x": invalid syntax'],
  ]
  for (const [text, message] of cases) t.throws(() => parseNetworkConfigList(text), { message }, text)
})

t.test('goJsonParse reports syntax errors as Go does', async (t) => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    ['not json', "invalid character 'o' in literal null (expecting 'u')"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b"}', `invalid character '"' after object key:value pair`],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['{"a":1}}', "invalid character '}' after top-level value"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ['{"a":1.e}', "invalid character 'e' after decimal point in numeric literal"],
    ['{"a":01}', "invalid character '1' after object key:value pair"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
  ]
  for (const [text, message] of cases) t.throws(() => goJsonParse(text), { message }, JSON.stringify(text))
  t.same(goJsonParse(' {"a":[1,-2.5e3,true,null,"\\u00e9"]} '), { a: [1, -2500, true, null, 'é'] })
})

t.test('discovery (case 100): a malformed .conflist fails every lookup', async (t) => {
  const dir = makeTempDir(t, 'conf')
  write(dir, '10-a.conflist', '{"name": "a", ')
  write(dir, '20-b.conflist', { cniVersion: '1.0.0', name: 'b', plugins: [{ type: 'x' }] })
  t.throws(() => loadNetworkConfigList(dir, 'b'), { message: /^error parsing configuration list: unexpected end of JSON input$/ })
  const listed = listNetworkConfigFiles(dir)
  t.match(listed, [{ file: /10-a.conflist$/, error: /unexpected end/ }, { file: /20-b.conflist$/, list: { name: 'b' } }], 'list reports each file')
})

t.test('discovery (case 100): <dir>/<name>/*.conf plugins are appended unless loadOnlyInlinedPlugins', async (t) => {
  const dir = makeTempDir(t, 'conf')
  write(dir, '10-net.conflist', { cniVersion: '1.0.0', name: 'mynet', plugins: [{ type: 'inline' }] })
  write(dir, 'mynet/20-second.conf', { type: 'second' })
  write(dir, 'mynet/10-first.conf', { type: 'first', name: 'own' })
  write(dir, 'mynet/30-ignored.json', { type: 'json-is-not-read' })
  write(dir, '20-only.conflist', { cniVersion: '1.0.0', name: 'only', loadOnlyInlinedPlugins: true, plugins: [{ type: 'inline' }] })
  write(dir, 'only/10.conf', { type: 'never' })
  write(dir, '30-none.conflist', { cniVersion: '1.0.0', name: 'none' })
  write(dir, 'none/10.conf', { type: 'fromdir' })
  write(dir, '40-empty.conflist', { cniVersion: '1.0.0', name: 'empty' })
  t.same(loadNetworkConfigList(dir, 'mynet').plugins.map((p) => p.type), ['inline', 'first', 'second'])
  t.same(loadNetworkConfigList(dir, 'only').plugins.map((p) => p.type), ['inline'])
  t.same(loadNetworkConfigList(dir, 'none').plugins.map((p) => p.type), ['fromdir'], 'a list without plugins takes them from its directory')
  t.throws(() => loadNetworkConfigList(dir, 'empty'), { message: 'no plugin configs found' })
})

t.test('discovery (case 100): single-plugin .conf/.json files when no conflist matches', async (t) => {
  const dir = makeTempDir(t, 'conf')
  write(dir, '10-other.conflist', { cniVersion: '1.0.0', name: 'other', plugins: [{ type: 'x' }] })
  write(dir, '50-j.json', { cniVersion: '1.0.0', name: 'single', type: 'from-json' })
  write(dir, '20-s.conf', { cniVersion: '0.4.0', name: 'single', type: 'from-conf', args: { a: '<b>' } })
  const list = loadNetworkConfigList(dir, 'single')
  t.equal(list.plugins[0]?.type, 'from-conf', 'sorted by file name: 20-s.conf before 50-j.json')
  t.equal(list.cniVersion, '0.4.0')
  t.match(list.file, /20-s.conf$/)
  t.equal(list.bytes.toString(), '{"cniVersion":"0.4.0","name":"single","plugins":[{"args":{"a":"\\u003cb\\u003e"},"cniVersion":"0.4.0","name":"single","type":"from-conf"}]}',
    "upconverted: the list's bytes are Go's encoding of {cniVersion, name, plugins: [conf]}")
  t.same(listNetworkConfigFiles(dir).map((e) => [e.list?.name, e.shadowed ?? false]), [['other', false], ['single', false], ['single', true]])
})

t.test('discovery: not found, no configs, missing directory', async (t) => {
  const dir = makeTempDir(t, 'conf')
  t.throws(() => loadNetworkConfigList(dir, 'x'), { message: `no net configurations found in ${dir}` })
  t.throws(() => loadNetworkConfigList(path.join(dir, 'missing'), 'x'), { message: `no net configurations found in ${dir}/missing` })
  write(dir, '10-a.conflist', { cniVersion: '1.0.0', name: 'a', plugins: [{ type: 'x' }] })
  t.throws(() => loadNetworkConfigList(dir, 'x'), { name: 'NetworkNotFoundError', message: `no net configuration with name "x" in ${dir}` })
  write(dir, '20-b.conf', { name: 'b', type: 'y' })
  t.throws(() => loadNetworkConfigList(dir, 'x'), { message: `no net configuration with name "x" in ${dir}` })
  write(dir, '05-bad.conf', { name: 'c' })
  t.throws(() => loadNetworkConfigList(dir, 'b'), { message: "error parsing configuration: missing 'type'" }, 'a broken .conf aborts the fallback too')
  t.equal(loadNetworkConfigList(dir, 'a').name, 'a', 'a matching conflist never reads the .conf files')
})
