// Ours and the Go reference host-local on ONE data directory, as on a node switching
// implementations: each sees, respects, checks and releases the other's allocations, and their
// flock(2) locks exclude each other. The reference speaks spec <= 1.0.0, so both use 1.0.0.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { HAVE_REF, hlConf, ipFiles, OURS, REF, runHL, runHLAsync, tmpDir, type HlRun } from '../../helpers/host-local'

const IMPLS = { ours: OURS, theirs: REF } as const
type Impl = keyof typeof IMPLS

function network(t: Parameters<typeof tmpDir>[0], ipam: object = { subnet: '10.70.0.0/24' }) {
  const dataDir = tmpDir(t, 'hl-interop')
  const conf = hlConf(dataDir, ipam)
  const dir = path.join(dataDir, 'hlnet')
  const run = (impl: Impl, o: Omit<HlRun, 'conf'>) => runHL({ ...o, conf }, IMPLS[impl])
  return { dataDir, conf, dir, run }
}

function interop(): void {
  for (const [first, second] of [['ours', 'theirs'], ['theirs', 'ours']] as const) {
    t.test(`${first} then ${second}`, async (t) => {
      const { dir, run } = network(t)
      const a = run(first, { command: 'ADD', containerID: 'c1' })
      const b = run(second, { command: 'ADD', containerID: 'c2' })
      t.same([a.code, b.code], [0, 0], `${a.stdout} ${b.stdout}`)
      t.equal(a.json.ips[0].address, '10.70.0.2/24')
      t.equal(b.json.ips[0].address, '10.70.0.3/24', `${second} continues after ${first}'s last_reserved_ip`)
      const c = run(first, { command: 'ADD', containerID: 'c3' })
      t.equal(c.json.ips[0].address, '10.70.0.4/24', `and ${first} after ${second}'s`)
      t.equal(fs.readFileSync(path.join(dir, '10.70.0.3'), 'latin1'), 'c2\r\neth0', 'the same file format')

      t.equal(run(second, { command: 'ADD', containerID: 'c1' }).code, 1, `${second} refuses a duplicate of ${first}'s allocation`)
      t.equal(run(first, { command: 'CHECK', containerID: 'c2' }).code, 0, `${first} CHECKs ${second}'s allocation`)
      t.equal(run(second, { command: 'CHECK', containerID: 'c1' }).code, 0, `${second} CHECKs ${first}'s allocation`)

      t.equal(run(second, { command: 'DEL', containerID: 'c1' }).code, 0)
      t.notOk(fs.existsSync(path.join(dir, '10.70.0.2')), `${second} released ${first}'s allocation`)
      t.equal(run(first, { command: 'DEL', containerID: 'c2' }).code, 0)
      t.notOk(fs.existsSync(path.join(dir, '10.70.0.3')), `${first} released ${second}'s allocation`)
      t.equal(run(first, { command: 'CHECK', containerID: 'c1' }).code, 1, `${first} sees the release by ${second}`)
      t.equal(run(second, { command: 'CHECK', containerID: 'c2' }).code, 1, `${second} sees the release by ${first}`)
      t.same(ipFiles(dir), ['10.70.0.4'])

      // Wrapping around: each skips what the other holds.
      const d = run(second, { command: 'ADD', containerID: 'c4', args: 'IP=10.70.0.254' })
      t.equal(d.json.ips[0].address, '10.70.0.254/24')
      const e = run(first, { command: 'ADD', containerID: 'c5' })
      t.equal(e.json.ips[0].address, '10.70.0.2/24', 'wrapped past the end to the first free address')
    })
  }

  t.test('a nearly full network: ours skips the reference\'s allocations, theirs skips ours', async (t) => {
    const { dir, run } = network(t, { subnet: '10.70.0.0/28' })
    const got: string[] = []
    for (let i = 0; i < 13; i++) {
      const r = run(i % 2 ? 'ours' : 'theirs', { command: 'ADD', containerID: `n${i}` })
      t.equal(r.code, 0, r.stdout)
      got.push(r.json.ips[0].address)
    }
    t.equal(new Set(got).size, 13, '13 distinct addresses')
    t.equal(run('ours', { command: 'ADD', containerID: 'x' }).json.msg, 'failed to allocate for range 0: no IP addresses available in range set: 10.70.0.1-10.70.0.14')
    t.equal(run('theirs', { command: 'ADD', containerID: 'y' }).json.msg, 'failed to allocate for range 0: no IP addresses available in range set: 10.70.0.1-10.70.0.14')
    t.equal(run('theirs', { command: 'DEL', containerID: 'n6' }).code, 0)
    t.equal(run('ours', { command: 'ADD', containerID: 'z' }).json.ips[0].address, got[6], 'ours finds the one address the reference freed')
    t.equal(ipFiles(dir).length, 13)
  })

  t.test('40 parallel ADDs, half ours, half the reference: the locks exclude each other', async (t) => {
    const { conf, dir } = network(t, { ranges: [[{ subnet: '10.70.0.0/24' }], [{ subnet: 'fd00:70::/120' }]] })
    const jobs = Array.from({ length: 40 }, (_, i) => runHLAsync({ command: 'ADD', conf, containerID: `p${i}` }, i % 2 ? OURS : REF))
    const runs = await Promise.all(jobs)
    t.same(runs.filter((r) => r.code !== 0).map((r) => r.stdout), [], 'all succeeded')
    const v4 = runs.map((r) => r.json.ips[0].address)
    const v6 = runs.map((r) => r.json.ips[1].address)
    t.equal(new Set(v4).size, 40, '40 distinct IPv4 addresses')
    t.equal(new Set(v6).size, 40, '40 distinct IPv6 addresses')
    t.equal(ipFiles(dir).length, 80, 'files == results')
    runs.forEach((r, i) => t.equal(fs.readFileSync(path.join(dir, r.json.ips[0].address.split('/')[0]), 'latin1'), `p${i}\r\neth0`))
    const dels = await Promise.all(runs.map((_, i) => runHLAsync({ command: 'DEL', conf, containerID: `p${i}` }, i % 2 ? REF : OURS)))
    t.same(dels.filter((r) => r.code !== 0).map((r) => r.stdout), [], 'each DELs the other\'s')
    t.same(ipFiles(dir), [])
  })
}

if (!HAVE_REF) {
  t.pass(`skipped: no reference host-local at ${REF} (apt-get install containernetworking-plugins)`, { skip: true })
} else {
  interop()
}
