// host-local run in-process by the bridge (when CNI_PATH resolves it to the host-local of the bridge's
// own install) and host-local executed must be indistinguishable: same results, same store bytes,
// same errors.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { BIN_DIR, NSENTER, RUNTIME_PATH } from '../../helpers/plugin'
import { OWN_HOST_LOCAL, type World, bridgeConf, runBridge, tempDir, world } from './fixture'

const STRACE = '/usr/bin/strace'

/** Every file of a host-local store (names and bytes), our own index directory left out. */
function storeOf(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (dir: string, rel: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === '.tscni' || e.name.startsWith('.tmp-')) continue
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`)
      else out[`${rel}${e.name}`] = fs.readFileSync(p, 'utf8')
    }
  }
  walk(dataDir, '')
  return out
}

const normalize = (s: string, w: World, netns: string): string =>
  s
    .split(w.dataDir).join('<dir>')
    .split(netns || '\0').join('<netns>')
    .replace(/veth[0-9a-f]{8}/g, 'vethX')
    .replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, '<mac>')

t.test('in-process and executed host-local give identical answers and stores', { skip: OWN_HOST_LOCAL ? false : 'needs our host-local in dist/bin' }, async (t) => {
  // In-process: another bin directory whose bridge and host-local are symlinks to the very same
  // executable; the bridge then runs host-local inside its own process (proved under strace below).
  const inDir = tempDir(t)
  for (const p of ['bridge', 'host-local']) fs.symlinkSync(path.join(BIN_DIR, 'tscni'), path.join(inDir, p))

  // Executed: CNI_PATH finds a wrapper that logs each call and execs our host-local.
  const exDir = tempDir(t)
  const log = path.join(exDir, 'calls.log')
  fs.writeFileSync(path.join(exDir, 'host-local'), `#!/bin/sh\necho "$CNI_COMMAND" >> ${log}\nexec ${path.join(BIN_DIR, 'host-local')}\n`, { mode: 0o755 })

  const sides = [
    { label: 'in-process', file: path.join(inDir, 'bridge'), cniPath: inDir },
    { label: 'executed', file: path.join(BIN_DIR, 'bridge'), cniPath: exDir },
  ].map((s) => {
    const w = world(t, s.label === 'in-process' ? 'inp' : 'exe')
    return { ...s, w, a: w.container('a'), b: w.container('b') }
  })

  const transcript = (s: (typeof sides)[number]): string[] => {
    const out: string[] = []
    const conf = bridgeConf({ dataDir: s.w.dataDir, subnet: ['10.83.1.0/30', 'fd00:83:1::/64'], isDefaultGateway: true })
    const run = (command: string, c: object, netns: string, id: string) => {
      const r = runBridge(s.w, command, c, { netns, containerID: id, file: s.file, path: s.cniPath })
      out.push(`${command} ${id}: ${r.code} ${normalize(r.stdout, s.w, netns)} ${normalize(r.stderr, s.w, netns)}`)
      return r
    }
    const addA = run('ADD', conf, s.a.path, 'ctr-a')
    out.push(`store after ADD: ${JSON.stringify(storeOf(s.w.dataDir))}`)
    run('ADD', conf, s.b.path, 'ctr-b') // the /30 has one address: host-local's error
    run('CHECK', { ...conf, prevResult: addA.json }, s.a.path, 'ctr-a')
    run('ADD', { ...conf, ipam: { type: 'host-local', dataDir: s.w.dataDir } }, s.b.path, 'ctr-c') // invalid IPAM config
    run('STATUS', conf, '', '') // the /30 is full: host-local says not available (50)
    run('GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr-a', ifname: 'eth0' }] }, '', '')
    run('DEL', conf, s.a.path, 'ctr-a')
    run('CHECK', { ...conf, prevResult: addA.json }, s.a.path, 'ctr-a')
    out.push(`store after DEL: ${JSON.stringify(storeOf(s.w.dataDir))}`)
    return out
  }

  const [inProcess, executed] = sides.map(transcript)
  t.match(inProcess[0], /^ADD ctr-a: 0 /, 'in-process ADD works')
  t.same(inProcess, executed, 'identical transcripts')
  t.same(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean), ['ADD', 'ADD', 'CHECK', 'ADD', 'STATUS', 'GC', 'DEL', 'CHECK'], 'the executed side really executed it')
})

t.test('the bridge runs our host-local in-process: no second exec', { skip: OWN_HOST_LOCAL && fs.existsSync(STRACE) ? false : 'needs our host-local and strace' }, async (t) => {
  const w = world(t, 'inx')
  const a = w.container('a')
  const dir = tempDir(t)
  const trace = path.join(dir, 'trace')
  const conf = JSON.stringify(bridgeConf({ dataDir: w.dataDir, subnet: ['10.83.2.0/24'] }))
  const env = { PATH: RUNTIME_PATH, CNI_CONTAINERID: 'ctr-x', CNI_NETNS: a.path, CNI_IFNAME: 'eth0', CNI_PATH: BIN_DIR }
  const traced = (command: string) => {
    const r = spawnSync(STRACE, ['-f', '-qq', '-e', 'trace=execve', '-o', trace, NSENTER, `--net=${w.host.path}`, '--', path.join(BIN_DIR, 'bridge')], {
      env: { ...env, CNI_COMMAND: command }, input: conf, encoding: 'utf8',
    })
    t.equal(r.status, 0, `${command}: ${r.stdout}${r.stderr}`)
    return fs.readFileSync(trace, 'utf8').split('\n').filter((l) => /execve\(/.test(l) && !/ENOENT/.test(l)).map((l) => /execve\("([^"]+)"/.exec(l)?.[1])
  }
  t.same(traced('ADD'), [NSENTER, path.join(BIN_DIR, 'bridge')], 'ADD: nsenter and the bridge, nothing else')
  t.same(traced('DEL'), [NSENTER, path.join(BIN_DIR, 'bridge')], 'DEL: nothing else either')
})
