import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { IP, parseIP } from '../../../lib/ipam/range'
import { lockIsFree } from '../../helpers/host-local'
import { goTrimSpace, INDEX_DIR, INDEX_FILE, Store, validateNetworkName } from '../../../plugins/host-local/store'

/** What the helpers need of a (sub)test. */
type Tap = { teardown(fn: () => void): void }

const ip = (s: string): IP => {
  const v = parseIP(s)
  if (!v) throw new Error(`bad test address ${s}`)
  return v
}

function tmpDataDir(t: Tap): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-hl-store-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function openStore(t: Tap, dataDir = tmpDataDir(t), name = 'net1'): Store {
  const s = Store.open(dataDir, name)
  t.teardown(() => s.close())
  return s
}

const mode = (p: string): number => fs.statSync(p).mode & 0o7777
const umask = process.umask()

/** Every temp file left anywhere under `dir`. */
function temps(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name))
      else if (e.name.startsWith('.tmp-')) out.push(path.join(d, e.name))
    }
  }
  walk(dir)
  return out
}

t.test('on-disk layout is byte-compatible with the reference', async (t) => {
  const dataDir = tmpDataDir(t)
  const s = openStore(t, dataDir)
  const dir = path.join(dataDir, 'net1')
  t.equal(s.dir, dir)
  t.ok(fs.statSync(dir).isDirectory())
  t.equal(mode(dir), 0o755 & ~umask, 'network dir 0755')
  t.equal(mode(path.join(dir, 'lock')), 0o750 & ~umask, 'lock file 0750')
  t.equal(fs.statSync(path.join(dir, 'lock')).size, 0, 'lock file empty')

  s.lock()
  t.equal(s.reserve(ip('10.1.2.2'), 'ctr1', 'eth0', 0), true)
  t.equal(s.reserve(ip('fd00:250::2'), '   dummy\n ', 'eth0', 1), true)
  s.unlock()
  t.same(fs.readFileSync(path.join(dir, '10.1.2.2')), Buffer.from('ctr1\r\neth0'), 'content: id CR LF ifname, no newline')
  t.equal(mode(path.join(dir, '10.1.2.2')), 0o644 & ~umask, 'IP file 0644, like the reference')
  t.same(fs.readFileSync(path.join(dir, 'fd00:250::2')), Buffer.from('dummy\r\neth0'), 'IPv6 name; the ID is trimmed')
  t.same(fs.readFileSync(path.join(dir, 'last_reserved_ip.0')), Buffer.from('10.1.2.2'), 'last_reserved_ip.0, no newline')
  t.same(fs.readFileSync(path.join(dir, 'last_reserved_ip.1')), Buffer.from('fd00:250::2'))
  t.equal(mode(path.join(dir, 'last_reserved_ip.0')), 0o644 & ~umask, 'last_reserved_ip 0644')
  t.same(temps(dataDir), [], 'no temp files left')
  const names = fs.readdirSync(dir).sort()
  t.same(names, ['.tscni', '10.1.2.2', 'fd00:250::2', 'last_reserved_ip.0', 'last_reserved_ip.1', 'lock'])
  t.same(fs.readdirSync(path.join(dir, INDEX_DIR)), [INDEX_FILE], 'only the index in our subdirectory')
  const index = fs.readFileSync(path.join(dir, INDEX_DIR, INDEX_FILE))
  t.not(goTrimSpace(index.toString('utf8')), 'ctr1\r\neth0', 'the index never looks like an owner to the Go plugin')
  t.equal(parseIP(INDEX_FILE), null)
})

t.test('reserve refuses a taken address and leaves it alone', async (t) => {
  const s = openStore(t)
  s.lock()
  t.teardown(() => s.unlock())
  t.equal(s.reserve(ip('10.1.2.2'), 'a', 'eth0', 0), true)
  t.equal(s.reserve(ip('10.1.2.3'), 'b', 'eth0', 0), true)
  t.equal(s.reserve(ip('10.1.2.2'), 'c', 'eth0', 0), false)
  t.equal(fs.readFileSync(path.join(s.dir, '10.1.2.2'), 'utf8'), 'a\r\neth0')
  t.equal(s.lastReservedIP(0)?.toString(), '10.1.2.3', 'a failed reservation does not move last_reserved_ip')
  t.same(temps(s.dir), [])
})

t.test('a reservation whose last_reserved_ip cannot be written is undone', async (t) => {
  const s = openStore(t)
  fs.mkdirSync(path.join(s.dir, 'last_reserved_ip.0'))
  s.lock()
  t.teardown(() => s.unlock())
  t.throws(() => s.reserve(ip('10.1.2.2'), 'a', 'eth0', 0))
  t.notOk(fs.existsSync(path.join(s.dir, '10.1.2.2')), 'IP file removed again')
  t.same(s.getByID('a', 'eth0'), [])
  t.same(temps(s.dir), [], 'no temp file left')
})

t.test('lastReservedIP reads like the reference: no trimming, invalid means none', async (t) => {
  const s = openStore(t)
  const f = path.join(s.dir, 'last_reserved_ip.3')
  t.equal(s.lastReservedIP(3), null, 'missing')
  fs.writeFileSync(f, '10.1.2.9')
  t.equal(s.lastReservedIP(3)?.toString(), '10.1.2.9')
  fs.writeFileSync(f, '10.1.2.9\n')
  t.equal(s.lastReservedIP(3), null, 'a trailing newline makes it invalid')
  fs.writeFileSync(f, 'garbage')
  t.equal(s.lastReservedIP(3), null)
  fs.writeFileSync(f, '::ffff:10.1.2.9')
  t.equal(s.lastReservedIP(3)?.toString(), '10.1.2.9', 'IPv4-mapped canonicalised')
})

t.test('getByID, hasAnyForID and legacy id-only files', async (t) => {
  const s = openStore(t)
  s.lock()
  t.teardown(() => s.unlock())
  s.reserve(ip('10.1.2.20'), 'c1', 'eth0', 0)
  s.reserve(ip('10.1.2.3'), 'c1', 'eth0', 0)
  s.reserve(ip('fd00::5'), 'c1', 'eth0', 1)
  s.reserve(ip('10.1.2.4'), 'c1', 'eth1', 0)
  s.reserve(ip('10.1.2.5'), 'c2', 'eth0', 0)
  t.same(s.getByID('c1', 'eth0').map(String), ['10.1.2.20', '10.1.2.3', 'fd00::5'], 'file-name order, like filepath.Walk')
  t.same(s.getByID(' c1 ', 'eth1').map(String), ['10.1.2.4'])
  t.same(s.getByID('c3', 'eth0'), [])
  t.ok(s.hasAnyForID('c2', 'eth0'))
  t.notOk(s.hasAnyForID('c2', 'eth1'))
  // A legacy file (pre-ifname format) written by an old plugin.
  fs.writeFileSync(path.join(s.dir, '10.1.2.9'), 'old\n')
  s.unlock()
  s.lock()
  t.same(s.getByID('old', 'eth0').map(String), ['10.1.2.9'], 'legacy file matches any ifname')
  t.ok(s.hasAnyForID('old', 'whatever'))
})

t.test('releaseByID: ifname-specific, legacy only as a fallback, unknown is fine', async (t) => {
  const s = openStore(t)
  s.lock()
  t.teardown(() => s.unlock())
  s.reserve(ip('10.1.2.2'), 'c1', 'eth0', 0)
  s.reserve(ip('fd00::2'), 'c1', 'eth0', 1)
  s.reserve(ip('10.1.2.3'), 'c1', 'eth1', 0)
  fs.writeFileSync(path.join(s.dir, '10.1.2.4'), 'c1') // legacy
  s.unlock()
  s.lock()
  t.same(s.releaseByID('c1', 'eth0').map(String).sort(), ['10.1.2.2', 'fd00::2'])
  t.notOk(fs.existsSync(path.join(s.dir, '10.1.2.2')))
  t.ok(fs.existsSync(path.join(s.dir, '10.1.2.3')), 'the other ifname stays')
  t.ok(fs.existsSync(path.join(s.dir, '10.1.2.4')), 'legacy file stays while new-format files matched')
  t.same(s.releaseByID('c1', 'eth0').map(String), ['10.1.2.4'], 'second DEL: legacy pass')
  t.same(s.releaseByID('c1', 'eth0'), [], 'third DEL: nothing, no error')
  t.same(s.releaseByID('nobody', 'eth0'), [], 'unknown container')
  t.same(s.releaseByID('c1', 'eth1').map(String), ['10.1.2.3'])
  t.equal(fs.readFileSync(path.join(s.dir, 'last_reserved_ip.0'), 'utf8'), '10.1.2.3', 'last_reserved_ip untouched')
  t.same(temps(s.dir), [])
})

t.test('release(ip) and listAllocations (GC)', async (t) => {
  const s = openStore(t)
  s.lock()
  t.teardown(() => s.unlock())
  s.reserve(ip('10.1.2.2'), 'c1', 'eth0', 0)
  s.reserve(ip('fd00::2'), 'c2', 'net1', 1)
  fs.writeFileSync(path.join(s.dir, '10.1.2.7'), 'legacy')
  fs.writeFileSync(path.join(s.dir, 'not-an-ip'), 'c1\r\neth0')
  t.same(
    [...s.listAllocations()],
    [
      ['10.1.2.2', { id: 'c1', ifname: 'eth0' }],
      ['10.1.2.7', { id: 'legacy' }],
      ['fd00::2', { id: 'c2', ifname: 'net1' }],
    ],
  )
  t.equal(s.release(ip('10.1.2.2')), true)
  t.equal(s.release(ip('10.1.2.2')), false, 'already gone')
  t.notOk(fs.existsSync(path.join(s.dir, '10.1.2.2')))
  t.same([...s.listAllocations().keys()], ['10.1.2.7', 'fd00::2'])
  t.equal(s.firstUntaken(4, ip('10.1.2.2').value, ip('10.1.2.9').value), ip('10.1.2.2').value)
})

t.test('operations need the lock; the lock is re-entrant', async (t) => {
  const s = openStore(t)
  t.throws(() => s.reserve(ip('10.1.2.2'), 'a', 'eth0', 0), { message: /needs the lock/ })
  t.throws(() => s.getByID('a', 'eth0'), { message: /needs the lock/ })
  t.throws(() => s.releaseByID('a', 'eth0'), { message: /needs the lock/ })
  t.throws(() => s.unlock(), { message: /unlock without lock/ })
  s.lock()
  s.lock()
  s.unlock()
  t.equal(s.reserve(ip('10.1.2.2'), 'a', 'eth0', 0), true, 'still locked after the inner unlock')
  s.unlock()
  t.equal(s.withLock(() => s.getByID('a', 'eth0').length), 1)
  s.close()
  t.throws(() => s.lock(), { message: /closed/ })
})

t.test('network names cannot leave the data directory', async (t) => {
  const dataDir = tmpDataDir(t)
  for (const bad of ['', '.', '..', '../x', 'a/b', '/abs', '.hidden', 'x\0y', '-dash', 'sp ace', 'a\\b', 'ünï']) {
    t.throws(() => validateNetworkName(bad), { message: /invalid network name/ }, JSON.stringify(bad))
    t.throws(() => Store.open(dataDir, bad), { message: /invalid network name/ })
  }
  for (const good of ['net1', 'my-net_1.2', 'A', 'a..b', '0']) {
    t.doesNotThrow(() => validateNetworkName(good), good)
  }
  t.same(fs.readdirSync(dataDir), [], 'nothing created for rejected names')
})

t.test('the index follows writers that do not know about it', async (t) => {
  const dataDir = tmpDataDir(t)
  const a = openStore(t, dataDir)
  a.withLock(() => {
    a.reserve(ip('10.1.2.2'), 'c1', 'eth0', 0)
    a.reserve(ip('10.1.2.3'), 'c2', 'eth0', 0)
  })
  const dir = a.dir
  const v = (s: string) => ip(s).value

  // A foreign add (the Go plugin writes in place).
  fs.writeFileSync(path.join(dir, '10.1.2.4'), 'go1\r\neth0')
  a.withLock(() => {
    t.same(a.getByID('go1', 'eth0').map(String), ['10.1.2.4'])
    t.equal(a.firstUntaken(4, v('10.1.2.2'), v('10.1.2.254')), v('10.1.2.5'))
  })
  // A foreign delete.
  fs.unlinkSync(path.join(dir, '10.1.2.3'))
  a.withLock(() => {
    t.equal(a.firstUntaken(4, v('10.1.2.2'), v('10.1.2.254')), v('10.1.2.3'))
    t.same(a.getByID('c2', 'eth0'), [])
  })
  // The same name deleted and recreated for another owner.
  fs.unlinkSync(path.join(dir, '10.1.2.2'))
  fs.writeFileSync(path.join(dir, '10.1.2.2'), 'go2\r\neth0')
  const b = openStore(t, dataDir)
  b.withLock(() => {
    t.same(b.getByID('c1', 'eth0'), [], 'old owner gone')
    t.same(b.getByID('go2', 'eth0').map(String), ['10.1.2.2'], 'new owner found')
  })
  // A corrupt index is ignored and rebuilt.
  fs.writeFileSync(path.join(dir, INDEX_DIR, INDEX_FILE), 'TSCNIDX1 garbage')
  const c = openStore(t, dataDir)
  c.withLock(() => t.same(c.getByID('go1', 'eth0').map(String), ['10.1.2.4']))
  t.ok(fs.statSync(path.join(dir, INDEX_DIR, INDEX_FILE)).size > 64, 'rewritten')
  // Stale temp files (a writer killed half-way) are removed by the next full scan.
  fs.writeFileSync(path.join(dir, '.tmp-999999-deadbeef'), 'half')
  fs.writeFileSync(path.join(dir, INDEX_DIR, '.tmp-999999-deadbeef'), 'half')
  const d = openStore(t, dataDir)
  d.withLock(() => d.getByID('x', 'eth0'))
  t.same(temps(dataDir), [], 'stale temps cleaned')
  t.equal(parseIP('.tmp-999999-deadbeef'), null, 'temp names never parse as IPs')
})

t.test('an unchanged directory is served from the index without reading the owners', async (t) => {
  const dataDir = tmpDataDir(t)
  const a = openStore(t, dataDir)
  a.withLock(() => {
    for (let i = 2; i < 50; i++) a.reserve(IP.v4((10 << 24) | i), `c${i}`, 'eth0', 0)
  })
  // Change an owner in place without touching the directory: only a reader of the files would see
  // it. The index (hash of "c7\r\neth0") still points at 10.0.0.7, and confirming the hit by
  // reading the file shows it is no longer c7's: no false release.
  fs.writeFileSync(path.join(a.dir, '10.0.0.7'), 'zz\r\neth0')
  const b = openStore(t, dataDir)
  b.withLock(() => {
    t.same(b.getByID('c7', 'eth0'), [], 'hash hit confirmed against the file')
    t.same(b.releaseByID('c7', 'eth0'), [])
    t.ok(fs.existsSync(path.join(a.dir, '10.0.0.7')))
    t.same(b.getByID('c8', 'eth0').map(String), ['10.0.0.8'])
  })
})

// ---- locking across processes ----

// The N-API addon lib/native loads under Node (built by `npm run build`); the locker child uses its flock.
const ADDON = path.join(__dirname, '..', '..', '..', 'dist', 'node', 'tscni.node')
const LOCKER = `
const fs = require('fs')
const m = { exports: {} }
process.dlopen(m, process.env.ADDON)
const fd = fs.openSync(process.env.LOCKFILE, fs.constants.O_CREAT | fs.constants.O_RDONLY, 0o750)
m.exports.flock(fd, m.exports.LOCK_EX)
process.stdout.write('locked\\n')
setInterval(() => {}, 1000)
`

function spawnLocker(t: Tap, lockFile: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', LOCKER], {
    env: { ADDON, LOCKFILE: lockFile, PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return child
}

function waitForLine(child: ChildProcess, line: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = ''
    const timer = setTimeout(() => done(false), ms)
    const onData = (d: Buffer) => {
      buf += d.toString()
      if (buf.split('\n').includes(line)) done(true)
    }
    const done = (v: boolean) => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      resolve(v)
    }
    child.stdout?.on('data', onData)
  })
}


t.test('flock excludes another process, and a SIGKILLed holder releases it at once', async (t) => {
  const s = openStore(t)
  const lockFile = path.join(s.dir, 'lock')
  const child = spawnLocker(t, lockFile)
  t.ok(await waitForLine(child, 'locked', 10000), 'child holds the lock')
  t.notOk(lockIsFree(lockFile), 'our side cannot take it')
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await exited
  t.ok(lockIsFree(lockFile), 'free as soon as the holder died')
  s.lock()
  t.pass('Store.lock() returns')
  s.unlock()
})

t.test('a held Store lock blocks another process until unlock', async (t) => {
  const s = openStore(t)
  const lockFile = path.join(s.dir, 'lock')
  s.lock()
  const child = spawnLocker(t, lockFile)
  t.notOk(await waitForLine(child, 'locked', 400), 'child waits while we hold the lock')
  s.unlock()
  t.ok(await waitForLine(child, 'locked', 10000), 'child gets it after unlock')
  t.notOk(lockIsFree(lockFile))
})

// ---- interoperability with the Go reference plugin (Debian's host-local) ----

const GO_HOST_LOCAL = '/usr/lib/cni/host-local'

t.test('interop with the reference host-local', { skip: !fs.existsSync(GO_HOST_LOCAL) && 'no reference host-local' }, async (t) => {
  const dataDir = tmpDataDir(t)
  const conf = JSON.stringify({
    cniVersion: '0.4.0',
    name: 'shared',
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.77.0.0/29' }]] },
  })
  const goRun = (cmd: string, id: string) =>
    spawnSync(GO_HOST_LOCAL, [], {
      input: conf,
      env: { CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
      encoding: 'utf8',
      timeout: 20000,
    })
  const ours = openStore(t, dataDir, 'shared')
  ours.withLock(() => ours.reserve(ip('10.77.0.2'), 'ts1', 'eth0', 0))
  const r1 = goRun('ADD', 'go1')
  t.equal(r1.status, 0, r1.stdout)
  t.equal(JSON.parse(r1.stdout).ips[0].address, '10.77.0.3/29', 'Go continues after our last_reserved_ip')
  ours.withLock(() => {
    t.same(ours.getByID('go1', 'eth0').map(String), ['10.77.0.3'], 'we see the Go allocation')
    t.equal(ours.reserve(ip('10.77.0.3'), 'ts2', 'eth0', 0), false, 'and cannot take it')
    t.equal(ours.reserve(ip('10.77.0.4'), 'ts2', 'eth0', 0), true)
  })
  const r2 = goRun('CHECK', 'ts2')
  t.equal(r2.status, 0, `Go finds our allocation on CHECK ${r2.stdout}`)
  const r3 = goRun('DEL', 'ts1')
  t.equal(r3.status, 0, r3.stdout)
  t.notOk(fs.existsSync(path.join(dataDir, 'shared', '10.77.0.2')), 'Go releases our file')
  ours.withLock(() => {
    t.equal(ours.firstUntaken(4, ip('10.77.0.2').value, ip('10.77.0.6').value), ip('10.77.0.2').value)
    t.same(ours.releaseByID('go1', 'eth0').map(String), ['10.77.0.3'], 'we release the Go allocation')
  })

  // While we hold the lock the Go plugin waits.
  ours.lock()
  const goChild = spawn(GO_HOST_LOCAL, [], {
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'go3', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  t.teardown(() => {
    if (goChild.exitCode === null) goChild.kill('SIGKILL')
  })
  goChild.stdin.end(conf)
  let out = ''
  goChild.stdout.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => goChild.once('exit', (c) => r(c)))
  await new Promise((r) => setTimeout(r, 400))
  t.equal(goChild.exitCode, null, 'Go host-local blocks on our flock')
  ours.unlock()
  t.equal(await exited, 0)
  t.equal(JSON.parse(out).ips[0].address, '10.77.0.5/29')
})

// ---- the index files: snapshot + journal ----

/** Counts full scans (directory listings of `dir`) made while `fn` runs. */
function countScans(dir: string, fn: () => void): number {
  // The module object itself (the `import * as` namespace only has getters onto it).
  const nodeFs = require('node:fs') as { readdirSync: (...a: unknown[]) => unknown }
  const real = nodeFs.readdirSync
  let n = 0
  nodeFs.readdirSync = (p: unknown, ...rest: unknown[]) => {
    if (path.resolve(String(p)) === path.resolve(dir)) n++
    return real(p, ...rest)
  }
  try {
    fn()
  } finally {
    nodeFs.readdirSync = real
  }
  return n
}

t.test('index: snapshot + journal survive across processes and compactions', async (t) => {
  const dataDir = tmpDataDir(t)
  const base = (10 << 24) | (3 << 16)
  const model = new Map<string, string>()
  let seed = 99
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return (seed >>> 8) % n
  }
  let mismatches = 0
  let scans = 0
  const dir = path.join(dataDir, 'j')
  // 1,300 operations, each by a fresh Store (a new plugin process): crosses the journal limit twice.
  for (let i = 0; i < 1300; i++) {
    const s = Store.open(dataDir, 'j')
    scans += countScans(dir, () =>
      s.withLock(() => {
        if (model.size > 0 && rnd(3) === 0) {
          const victim = [...model.keys()][rnd(model.size)]
          if (!s.release(ip(victim))) mismatches++
          model.delete(victim)
        } else {
          const a = IP.v4(base + rnd(1500))
          const ok = s.reserve(a, `c${i}`, 'eth0', 0)
          if (ok === model.has(a.toString())) mismatches++
          if (ok) model.set(a.toString(), `c${i}`)
        }
      }),
    )
    s.close()
  }
  t.equal(mismatches, 0, 'every reserve/release agreed with the model')
  t.equal(scans, 1, 'only the very first operation scanned the directory')
  const files = fs.readdirSync(path.join(dir, INDEX_DIR)).sort()
  t.same(files.filter((f) => !['index', 'journal'].includes(f)), [], 'only snapshot and journal')
  const journalSize = fs.existsSync(path.join(dir, INDEX_DIR, 'journal')) ? fs.statSync(path.join(dir, INDEX_DIR, 'journal')).size : 0
  t.ok(journalSize <= 16 + 512 * 32, `journal bounded (${journalSize} bytes)`)

  // The answers of a fresh Store equal those of a full scan (and of the model).
  const check = (s: Store, label: string) => {
    let bad = 0
    for (const [a, owner] of model) if (s.getByID(owner, 'eth0').map(String).join() !== a) bad++
    for (let probe = 0; probe < 200; probe++) {
      const from = BigInt(base + rnd(1500))
      let expect: bigint | null = null
      for (let v = from; v < BigInt(base + 1500); v++) {
        if (!model.has(IP.v4(v).toString())) {
          expect = v
          break
        }
      }
      if (s.firstUntaken(4, from, BigInt(base + 1499)) !== expect) bad++
    }
    t.equal(bad, 0, label)
  }
  const fresh = Store.open(dataDir, 'j')
  t.equal(countScans(dir, () => fresh.withLock(() => check(fresh, 'served from snapshot + journal'))), 0)
  fresh.close()
  fs.rmSync(path.join(dir, INDEX_DIR), { recursive: true })
  const rescanned = Store.open(dataDir, 'j')
  t.equal(countScans(dir, () => rescanned.withLock(() => check(rescanned, 'served from a rescan'))), 1)
  rescanned.close()
})

t.test('index: many changes in one lock are merged in memory', async (t) => {
  const dataDir = tmpDataDir(t)
  const s = openStore(t, dataDir)
  const base = (10 << 24) | (4 << 16)
  s.withLock(() => {
    // 1,200 + 600 changes: more than the 1,024 kept beside the snapshot.
    for (let i = 0; i < 1200; i++) s.reserve(IP.v4(base + i), `c${i}`, 'eth0', 0)
    for (let i = 0; i < 1200; i += 2) s.release(IP.v4(base + i))
    t.equal(s.firstUntaken(4, BigInt(base), BigInt(base + 5000)), BigInt(base))
    t.equal(s.firstUntaken(4, BigInt(base + 1), BigInt(base + 5000)), BigInt(base + 2))
    t.same(s.getByID('c1199', 'eth0').map(String), [IP.v4(base + 1199).toString()])
    t.same(s.getByID('c1198', 'eth0'), [])
  })
  const again = openStore(t, dataDir)
  again.withLock(() => {
    t.equal(again.firstUntaken(4, BigInt(base + 1199), BigInt(base + 5000)), BigInt(base + 1200))
    t.same(again.getByID('c1001', 'eth0').map(String), [IP.v4(base + 1001).toString()])
  })
})

t.test('index: a torn or corrupt journal is never trusted beyond its last good commit', async (t) => {
  const dataDir = tmpDataDir(t)
  const dir = path.join(dataDir, 'net1')
  const op = (fn: (s: Store) => void) => {
    const s = Store.open(dataDir, 'net1')
    s.withLock(() => fn(s))
    s.close()
  }
  op((s) => s.reserve(ip('10.1.2.2'), 'a', 'eth0', 0)) // scan + snapshot
  op((s) => s.reserve(ip('10.1.2.3'), 'b', 'eth0', 0)) // journal
  op((s) => s.reserve(ip('10.1.2.4'), 'c', 'eth0', 0)) // journal
  const journal = path.join(dir, INDEX_DIR, 'journal')
  t.equal(fs.statSync(journal).size, 16 + 4 * 32, 'two groups of set + commit')

  // A torn append (a writer killed mid-write): ignored, and the next flush writes a snapshot.
  fs.appendFileSync(journal, Buffer.alloc(20, 0x41))
  op((s) => {
    t.same(s.getByID('c', 'eth0').map(String), ['10.1.2.4'])
    t.equal(s.firstUntaken(4, ip('10.1.2.2').value, ip('10.1.2.9').value), ip('10.1.2.5').value)
  })
  op((s) => s.reserve(ip('10.1.2.5'), 'd', 'eth0', 0))
  t.notOk(fs.existsSync(journal), 'replaced by a snapshot')
  op((s) => s.reserve(ip('10.1.2.6'), 'e', 'eth0', 0))
  op((s) => s.reserve(ip('10.1.2.7'), 'f', 'eth0', 0))

  // A corrupt record in the middle: the commit after it is lost, so the stamp no longer matches
  // the directory and the store rescans.
  const buf = fs.readFileSync(journal)
  buf[16 + 8] ^= 0xff
  fs.writeFileSync(journal, buf)
  const s = openStore(t, dataDir)
  t.equal(
    countScans(dir, () =>
      s.withLock(() => {
        t.same(s.getByID('e', 'eth0').map(String), ['10.1.2.6'])
        t.same(s.getByID('f', 'eth0').map(String), ['10.1.2.7'])
      }),
    ),
    1,
    'rescanned',
  )

  // The journal vanishes under a Store that still holds its state in memory (another process
  // wrote a snapshot): it writes a snapshot rather than a journal without a header.
  s.withLock(() => s.reserve(ip('10.1.2.8'), 'g', 'eth0', 0))
  t.ok(fs.existsSync(journal))
  fs.unlinkSync(journal)
  s.withLock(() => s.reserve(ip('10.1.2.9'), 'h', 'eth0', 0))
  t.notOk(fs.existsSync(journal), 'no header-less journal created')
  const u = openStore(t, dataDir)
  t.equal(
    countScans(dir, () => u.withLock(() => t.same(u.getByID('h', 'eth0').map(String), ['10.1.2.9']))),
    0,
    'the snapshot is current',
  )
})

// ---- opening: Go's MkdirAll semantics and texts ----

t.test('Store.open makes missing parents and fails like Go\'s MkdirAll, without hanging', async (t) => {
  const dataDir = tmpDataDir(t)
  const deep = path.join(dataDir, 'a', 'b', 'c')
  const s = Store.open(deep, 'net1')
  s.close()
  t.ok(fs.statSync(path.join(deep, 'net1')).isDirectory(), 'parents created')
  t.equal(mode(path.join(dataDir, 'a')), 0o755 & ~umask)
  const file = path.join(dataDir, 'file')
  fs.writeFileSync(file, '')
  t.throws(() => Store.open(file, 'net1'), { message: `mkdir ${file}: not a directory`, code: 'ENOTDIR' })
  t.throws(() => Store.open(path.join(file, 'x'), 'net1'), { message: `mkdir ${file}: not a directory` })
  // Node 20's recursive mkdirSync spins for ever here (mkdir(2) says ENOENT under /proc).
  t.throws(() => Store.open('/proc/tscni-t-nope', 'net1'), { message: 'mkdir /proc/tscni-t-nope: no such file or directory' })
  t.throws(() => Store.open('/proc/self', 'net1'), { code: 'ENOENT' }, 'under an existing /proc directory')
  fs.mkdirSync(path.join(dataDir, 'net2'))
  fs.mkdirSync(path.join(dataDir, 'net2', 'lock'))
  t.throws(() => Store.open(dataDir, 'net2'), { message: `open ${path.join(dataDir, 'net2', 'lock')}: is a directory` })
})
