// Many host-local processes on one network at once, and one killed while it holds the lock.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { parseIP } from '../../../lib/ipam/range'
import { Store } from '../../../plugins/host-local/store'
import { FAKE_NETNS, hlConf, ipFiles, lockIsFree, OURS, runHL, runHLAsync, sleep, tmpDir } from '../../helpers/host-local'

t.test('50 parallel ADDs: 50 distinct addresses and a consistent store', async (t) => {
  const dataDir = tmpDir(t)
  const dir = path.join(dataDir, 'hlnet')
  const conf = hlConf(dataDir, { ranges: [[{ subnet: '10.50.0.0/24' }], [{ subnet: 'fd00:50::/120' }]] })
  const ids = Array.from({ length: 50 }, (_, i) => `par-${i}`)
  const runs = await Promise.all(ids.map((containerID) => runHLAsync({ command: 'ADD', conf, containerID })))
  const failed = runs.filter((r) => r.code !== 0)
  t.same(failed.map((r) => r.stdout), [], 'every ADD succeeded')

  const v4 = runs.map((r) => r.json.ips[0].address.split('/')[0])
  const v6 = runs.map((r) => r.json.ips[1].address.split('/')[0])
  t.equal(new Set(v4).size, 50, '50 distinct IPv4 addresses')
  t.equal(new Set(v6).size, 50, '50 distinct IPv6 addresses')
  // Round robin from a fresh network hands out the first 50, whatever the order of the processes.
  t.same(new Set(v4), new Set(Array.from({ length: 50 }, (_, i) => `10.50.0.${i + 2}`)), 'the first 50 of the range')

  // The files are the results, one for one.
  t.equal(ipFiles(dir).length, 100, 'one file per address')
  ids.forEach((id, i) => {
    for (const a of [v4[i], v6[i]]) t.equal(fs.readFileSync(path.join(dir, a), 'latin1'), `${id}\r\neth0`)
  })
  for (const [idx, all] of [[0, v4], [1, v6]] as const) {
    const last = fs.readFileSync(path.join(dir, `last_reserved_ip.${idx}`), 'latin1')
    t.ok(all.includes(last), `last_reserved_ip.${idx} (${last}) is one of the handed-out addresses`)
  }
  t.equal(last4(dir), '10.50.0.51', 'the last reservation was the highest address')
  t.same(fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-')), [], 'no temp files')

  // The index agrees with the files: a fresh Store finds every owner through it.
  const s = Store.open(dataDir, 'hlnet')
  t.teardown(() => s.close())
  s.withLock(() => {
    const wrong = ids.filter((id, i) => s.getByID(id, 'eth0').map(String).sort().join() !== [v4[i], v6[i]].sort().join())
    t.same(wrong, [], 'getByID matches for every container')
    const next = s.firstUntaken(4, parseIP('10.50.0.2')!.value, parseIP('10.50.0.254')!.value)
    t.equal(next, parseIP('10.50.0.52')!.value, 'first free address per the index')
  })

  // And 50 parallel DELs empty it again.
  const dels = await Promise.all(ids.map((containerID) => runHLAsync({ command: 'DEL', conf, containerID })))
  t.same(dels.filter((r) => r.code !== 0).map((r) => r.stdout), [], 'every DEL succeeded')
  t.same(ipFiles(dir), [], 'all released')
  const after = runHL({ command: 'ADD', conf, containerID: 'after' })
  t.equal(after.json.ips[0].address, '10.50.0.52/24', 'round robin continues after the last reservation')
})

function last4(dir: string): string {
  return fs.readFileSync(path.join(dir, 'last_reserved_ip.0'), 'latin1')
}

t.test('SIGKILL while holding the lock: the next ADD goes through at once, no duplicate', async (t) => {
  const dataDir = tmpDir(t)
  const dir = path.join(dataDir, 'hlnet')
  const conf = hlConf(dataDir, { subnet: '10.51.0.0/24' })
  t.equal(runHL({ command: 'ADD', conf, containerID: 'before' }).json.ips[0].address, '10.51.0.2/24')

  // TSCNI_TEST_HOLD_LOCK_MS: the plugin sleeps after reserving, with the store's lock held.
  const env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'victim',
    CNI_NETNS: FAKE_NETNS,
    CNI_IFNAME: 'eth0',
    CNI_PATH: path.dirname(OURS),
    TSCNI_TEST_HOLD_LOCK_MS: '60000',
  }
  const victim = spawn(OURS, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (victim.exitCode === null && victim.signalCode === null) victim.kill('SIGKILL')
  })
  victim.stdin.end(JSON.stringify(conf))
  const exited = new Promise<NodeJS.Signals | null>((r) => victim.once('exit', (_code, signal) => r(signal)))

  const lockFile = path.join(dir, 'lock')
  const deadline = Date.now() + 20_000
  while (!(fs.existsSync(path.join(dir, '10.51.0.3')) && !lockIsFree(lockFile)) && Date.now() < deadline) await sleep(10)
  t.ok(fs.existsSync(path.join(dir, '10.51.0.3')), 'the victim reserved 10.51.0.3')
  t.notOk(lockIsFree(lockFile), 'and holds the lock')

  // Another ADD started now waits for the lock...
  const waiter = runHLAsync({ command: 'ADD', conf, containerID: 'waiter' })
  await sleep(300)
  t.notOk(lockIsFree(lockFile), 'still held while the waiter waits')

  // ...and is let through the moment the holder dies.
  const killedAt = Date.now()
  victim.kill('SIGKILL')
  t.equal(await exited, 'SIGKILL')
  const w = await waiter
  const waited = Date.now() - killedAt
  t.equal(w.code, 0, w.stdout)
  t.equal(w.json.ips[0].address, '10.51.0.4/24', 'not the victim\'s address: no duplicate')
  t.ok(waited < 2000, `the waiter finished ${waited} ms after the kill (flock is released by the kernel at once)`)

  const t0 = Date.now()
  const next = runHL({ command: 'ADD', conf, containerID: 'next' })
  t.equal(next.json.ips[0].address, '10.51.0.5/24')
  t.ok(Date.now() - t0 < 2000, 'a fresh ADD is not slowed down either')

  // The victim's reservation is on disk, like the Go plugin's would be: the runtime's DEL frees it.
  t.equal(fs.readFileSync(path.join(dir, '10.51.0.3'), 'latin1'), 'victim\r\neth0')
  t.same(fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-')).length <= 1, true, 'at most the victim\'s temp file')
  t.equal(runHL({ command: 'DEL', conf, containerID: 'victim' }).code, 0)
  t.same(ipFiles(dir), ['10.51.0.2', '10.51.0.4', '10.51.0.5'])
  const s = Store.open(dataDir, 'hlnet')
  t.teardown(() => s.close())
  s.withLock(() => t.same(s.getByID('waiter', 'eth0').map(String), ['10.51.0.4'], 'the index is consistent after the kill'))
})
