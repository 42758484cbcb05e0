import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import {
  allocate,
  allocationCIDR,
  hasFreeAddress,
  canonicalizeRangeSet,
  iterate,
  iterationSegments,
  release,
  type Allocation,
  type AllocatorStore,
  type RangeConfig,
  type RangeSet,
} from '../../../plugins/host-local/allocator'
import { type Family, IP, parseIP } from '../../../lib/ipam/range'
import { Store } from '../../../plugins/host-local/store'

const ip = (s: string): IP => {
  const v = parseIP(s)
  if (!v) throw new Error(`bad test address ${s}`)
  return v
}

/** The reference's FakeStore: a map ip -> "id\r\nifname", plus last_reserved_ip per range set. */
class FakeStore implements AllocatorStore {
  files = new Map<string, string>()
  last = new Map<number, string>()
  reserveCalls = 0
  locked = 0
  lock(): void {
    this.locked++
  }
  unlock(): void {
    this.locked--
  }
  reserve(a: IP, id: string, ifname: string, idx: number): boolean {
    this.reserveCalls++
    if (this.files.has(a.toString())) return false
    this.files.set(a.toString(), `${id.trim()}\r\n${ifname}`)
    this.last.set(idx, a.toString())
    return true
  }
  lastReservedIP(idx: number): IP | null {
    const s = this.last.get(idx)
    return s === undefined ? null : parseIP(s)
  }
  getByID(id: string, ifname: string): IP[] {
    const keys = [`${id.trim()}\r\n${ifname}`, id.trim()]
    return [...this.files].filter(([, v]) => keys.includes(v.trim())).map(([k]) => ip(k))
  }
  releaseByID(id: string, ifname: string): IP[] {
    const out: IP[] = []
    for (const key of [`${id.trim()}\r\n${ifname}`, id.trim()]) {
      for (const [k, v] of this.files) {
        if (v.trim() === key) {
          this.files.delete(k)
          out.push(ip(k))
        }
      }
      if (out.length) break
    }
    return out
  }
}

/** A real Store on a temporary directory, counting reservation attempts. */
class CountingStore extends Store {
  reserveCalls = 0
  override reserve(a: IP, id: string, ifname: string, idx: number): boolean {
    this.reserveCalls++
    return super.reserve(a, id, ifname, idx)
  }
}

function tmpDataDir(t: Tap): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-hl-alloc-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}
/** What the helpers need of a (sub)test. */
type Tap = { teardown(fn: () => void): void }

const set = (...ranges: RangeConfig[]): RangeSet => canonicalizeRangeSet(ranges)

interface Kind {
  name: string
  make(t: Tap): AllocatorStore & { reserveCalls: number }
  /** Pre-reserve an address as if another container held it. */
  take(s: AllocatorStore, a: string): void
  setLast(s: AllocatorStore, idx: number, content: string): void
}

const kinds: Kind[] = [
  {
    name: 'FakeStore',
    make: () => new FakeStore(),
    take: (s, a) => (s as FakeStore).files.set(a, 'other\r\neth0'),
    setLast: (s, idx, c) => (s as FakeStore).last.set(idx, c),
  },
  {
    name: 'disk Store',
    make: (t) => {
      const s = new CountingStore(tmpDataDir(t), 'net1')
      t.teardown(() => s.close())
      return s
    },
    take: (s, a) => fs.writeFileSync(path.join((s as unknown as Store).dir, a), 'other\r\neth0'),
    setLast: (s, idx, c) => fs.writeFileSync(path.join((s as unknown as Store).dir, `last_reserved_ip.${idx}`), c),
  },
]

const get = (s: AllocatorStore, rs: RangeSet, id = 'c1', opts: { ifname?: string; idx?: number; requested?: string } = {}): Allocation =>
  allocate(s, rs, {
    containerID: id,
    ifname: opts.ifname ?? 'eth0',
    rangeSetIndex: opts.idx ?? 0,
    requestedIP: opts.requested ? ip(opts.requested) : null,
  })

t.test('iteration order', async (t) => {
  const rs = set({ subnet: '10.0.0.0/29' })
  const order = (last: string | null) => [...iterate(rs, last ? ip(last) : null)].map(String)
  t.same(order(null), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'], 'fresh: from rangeStart, gateway skipped')
  t.same(order('10.0.0.4'), ['10.0.0.5', '10.0.0.6', '10.0.0.2', '10.0.0.3', '10.0.0.4'], 'after last, last tried last')
  t.same(order('10.0.0.6'), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'], 'last = rangeEnd wraps')
  t.same(order('10.0.0.1'), ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'], 'last = gateway (in range)')
  t.same(order('10.0.0.7'), order(null), 'last outside the set: restart at range 0')
  t.same(order('fd00::1'), order(null), 'last of another family: restart at range 0')

  const multi = set(
    { subnet: '192.168.1.0/30' },
    { subnet: '192.168.2.0/29', rangeStart: '192.168.2.4', rangeEnd: '192.168.2.5' },
    { subnet: '192.168.3.0/30', gateway: '192.168.3.2' },
  )
  const mo = (last: string | null) => [...iterate(multi, last ? ip(last) : null)].map(String)
  t.same(mo(null), ['192.168.1.2', '192.168.2.4', '192.168.2.5', '192.168.3.1'])
  t.same(mo('192.168.2.4'), ['192.168.2.5', '192.168.3.1', '192.168.1.2', '192.168.2.4'])
  t.same(mo('192.168.3.2'), ['192.168.1.2', '192.168.2.4', '192.168.2.5', '192.168.3.1'], 'roll over from the last range')
  t.same(
    iterationSegments(multi, ip('192.168.1.1')).map((s) => [s.from, s.to]),
    [
      [ip('192.168.1.2').value, ip('192.168.1.2').value],
      [ip('192.168.2.4').value, ip('192.168.2.5').value],
      [ip('192.168.3.1').value, ip('192.168.3.2').value],
      [ip('192.168.1.1').value, ip('192.168.1.1').value],
    ],
  )
  const single = set({ subnet: '10.0.0.0/24', rangeStart: '10.0.0.9', rangeEnd: '10.0.0.9' })
  t.same([...iterate(single, ip('10.0.0.9'))].map(String), ['10.0.0.9'], 'one-address range')
  const gwOnly = set({ subnet: '10.0.0.0/24', rangeStart: '10.0.0.1', rangeEnd: '10.0.0.1' })
  t.same([...iterate(gwOnly, null)], [], 'a range holding only its gateway yields nothing')
})

for (const kind of kinds) {
  t.test(`round robin tables (${kind.name})`, async (t) => {
    t.test('a fresh /24 gives .2', async (t) => {
      const s = kind.make(t)
      const a = get(s, set({ subnet: '10.1.2.0/24' }))
      t.equal(allocationCIDR(a), '10.1.2.2/24')
      t.equal(a.gateway.toString(), '10.1.2.1')
      t.equal(a.prefix, 24)
      t.equal(s.lastReservedIP(0)?.toString(), '10.1.2.2')
    })

    t.test('rangeStart .2, rangeEnd .5, gateway .3: .2, .4, .5, then exhausted; release .4 gives .4', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '10.1.2.0/24', rangeStart: '10.1.2.2', rangeEnd: '10.1.2.5', gateway: '10.1.2.3' })
      t.equal(get(s, rs, 'c1').ip.toString(), '10.1.2.2')
      t.equal(get(s, rs, 'c2').ip.toString(), '10.1.2.4')
      t.equal(get(s, rs, 'c3').ip.toString(), '10.1.2.5')
      t.throws(() => get(s, rs, 'c4'), { message: 'no IP addresses available in range set: 10.1.2.2-10.1.2.5' })
      t.same(release(s, 'c2', 'eth0').map(String), ['10.1.2.4'])
      t.equal(get(s, rs, 'c5').ip.toString(), '10.1.2.4', 'wraps to the released address')
      t.throws(() => get(s, rs, 'c6'), { message: 'no IP addresses available in range set: 10.1.2.2-10.1.2.5' })
    })

    t.test('a /30 gives only .2', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '192.168.1.0/30' })
      t.equal(get(s, rs, 'c1').ip.toString(), '192.168.1.2')
      t.throws(() => get(s, rs, 'c2'), { message: 'no IP addresses available in range set: 192.168.1.1-192.168.1.2' })
    })

    t.test('a full /29 except last gives last', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '10.0.0.0/29' })
      for (const a of ['10.0.0.2', '10.0.0.3', '10.0.0.5', '10.0.0.6']) kind.take(s, a)
      kind.setLast(s, 0, '10.0.0.4')
      t.equal(get(s, rs).ip.toString(), '10.0.0.4')
    })

    t.test('the broadcast address is never handed out', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '10.0.0.0/29' })
      const got = ['a', 'b', 'c', 'd', 'e'].map((id) => get(s, rs, id).ip.toString())
      t.same(got, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'])
      t.throws(() => get(s, rs, 'f'), { message: 'no IP addresses available in range set: 10.0.0.1-10.0.0.6' })
    })

    t.test('round robin continues after the last reserved address, skipping taken ones', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '10.1.2.0/24' })
      kind.setLast(s, 0, '10.1.2.10')
      kind.take(s, '10.1.2.11')
      kind.take(s, '10.1.2.12')
      t.equal(get(s, rs, 'c1').ip.toString(), '10.1.2.13')
      t.equal(get(s, rs, 'c2').ip.toString(), '10.1.2.14')
    })

    t.test('last_reserved_ip is read without trimming: a trailing newline restarts at rangeStart', async (t) => {
      const s = kind.make(t)
      kind.setLast(s, 0, '10.1.2.10\n')
      t.equal(get(s, set({ subnet: '10.1.2.0/24' })).ip.toString(), '10.1.2.2')
    })

    t.test('last_reserved_ip is per range set index', async (t) => {
      const s = kind.make(t)
      kind.setLast(s, 1, '10.1.2.10')
      t.equal(get(s, set({ subnet: '10.1.2.0/24' }), 'c1', { idx: 0 }).ip.toString(), '10.1.2.2')
      t.equal(get(s, set({ subnet: '10.1.2.0/24' }), 'c2', { idx: 1 }).ip.toString(), '10.1.2.11')
    })

    t.test('multiple ranges: roll over to the next range, and wrap to the first', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '192.168.1.0/30' }, { subnet: '192.168.2.0/30' })
      t.equal(get(s, rs, 'c1').ip.toString(), '192.168.1.2')
      const b = get(s, rs, 'c2')
      t.equal(b.ip.toString(), '192.168.2.2', 'next range')
      t.equal(b.gateway.toString(), '192.168.2.1', "the gateway of the address's own range")
      t.equal(allocationCIDR(b), '192.168.2.2/30')
      t.throws(() => get(s, rs, 'c3'), {
        message: 'no IP addresses available in range set: 192.168.1.1-192.168.1.2,192.168.2.1-192.168.2.2',
      })
      release(s, 'c1', 'eth0')
      t.equal(get(s, rs, 'c4').ip.toString(), '192.168.1.2', 'wraps to range 0')
    })

    t.test('IPv6 /126 allocates up to the last address', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: 'fd00:250::100/126' })
      t.equal(allocationCIDR(get(s, rs, 'c1')), 'fd00:250::102/126')
      t.equal(allocationCIDR(get(s, rs, 'c2')), 'fd00:250::103/126')
      t.throws(() => get(s, rs, 'c3'), { message: 'no IP addresses available in range set: fd00:250::101-fd00:250::103' })
    })

    t.test('IPv6 /64 fresh and after last', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '2001:db8:1::/64' })
      t.equal(allocationCIDR(get(s, rs, 'c1')), '2001:db8:1::2/64')
      kind.setLast(s, 0, '2001:db8:1::ffff:ffff')
      t.equal(get(s, rs, 'c2').ip.toString(), '2001:db8:1::1:0:0')
      kind.setLast(s, 0, '2001:db8:1:0:ffff:ffff:ffff:ffff')
      t.equal(get(s, rs, 'c3').ip.toString(), '2001:db8:1::3', 'wraps past the last address')
    })

    t.test('requested IP', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '10.1.2.0/24' })
      const a = get(s, rs, 'c1', { requested: '10.1.2.50' })
      t.equal(allocationCIDR(a), '10.1.2.50/24')
      t.equal(a.gateway.toString(), '10.1.2.1')
      t.equal(s.lastReservedIP(0)?.toString(), '10.1.2.50', 'a requested reservation moves last_reserved_ip')
      t.equal(get(s, rs, 'c2').ip.toString(), '10.1.2.51', 'and the round robin follows it')
      t.throws(() => get(s, rs, 'c3', { requested: '10.1.2.1' }), { message: "requested ip 10.1.2.1 is subnet's gateway" })
      t.throws(() => get(s, rs, 'c3', { requested: '10.1.2.50' }), {
        message: 'requested IP address 10.1.2.50 is not available in range set 10.1.2.1-10.1.2.254',
      })
      t.throws(() => get(s, rs, 'c3', { requested: '10.1.3.5' }), { message: '10.1.3.5 not in range set 10.1.2.1-10.1.2.254' })
      // No duplicate check on the requested path: c1 gets a second address.
      t.equal(get(s, rs, 'c1', { requested: '10.1.2.60' }).ip.toString(), '10.1.2.60')
    })

    t.test('duplicate allocation', async (t) => {
      const s = kind.make(t)
      const v4 = set({ subnet: '10.1.2.0/24' })
      const v6 = set({ subnet: 'fd00::/64' })
      get(s, v4, 'c1')
      t.throws(() => get(s, v4, 'c1'), { message: '10.1.2.2 has been allocated to c1, duplicate allocation is not allowed' })
      t.throws(() => get(s, v4, ' c1\n'), {
        message: '10.1.2.2 has been allocated to  c1\n, duplicate allocation is not allowed',
      }, 'IDs are trimmed for the match, printed as given')
      t.equal(get(s, v4, 'c1', { ifname: 'eth1' }).ip.toString(), '10.1.2.3', 'another ifname is another attachment')
      t.equal(get(s, v6, 'c1', { idx: 1 }).ip.toString(), 'fd00::2', 'an address in another range set does not count')
      kind.take(s, '10.1.2.77')
      if (s instanceof FakeStore) s.files.set('10.1.2.77', 'legacy')
      else fs.writeFileSync(path.join((s as unknown as Store).dir, '10.1.2.77'), 'legacy')
      t.throws(() => get(s, v4, 'legacy'), { message: '10.1.2.77 has been allocated to legacy, duplicate allocation is not allowed' }, 'legacy id-only files count')
    })

    t.test('exhaustion of a /24', async (t) => {
      const s = kind.make(t)
      const rs = set({ subnet: '10.9.0.0/24' })
      const seen = new Set<string>()
      for (let i = 0; i < 253; i++) seen.add(get(s, rs, `c${i}`).ip.toString())
      t.equal(seen.size, 253)
      t.notOk(seen.has('10.9.0.1') || seen.has('10.9.0.0') || seen.has('10.9.0.255'))
      t.throws(() => get(s, rs, 'x'), { message: 'no IP addresses available in range set: 10.9.0.1-10.9.0.254' })
    })

    t.test('the lock is held during allocation and released after, also on error', async (t) => {
      const calls: string[] = []
      const s = kind.make(t)
      const wrapped: AllocatorStore = {
        lock: () => (calls.push('lock'), s.lock()),
        unlock: () => (calls.push('unlock'), s.unlock()),
        reserve: (...a) => (calls.push('reserve'), s.reserve(...a)),
        lastReservedIP: (i) => s.lastReservedIP(i),
        getByID: (i, n) => s.getByID(i, n),
        releaseByID: (i, n) => s.releaseByID(i, n),
      }
      get(wrapped, set({ subnet: '10.1.2.0/24' }))
      t.same(calls, ['lock', 'reserve', 'unlock'])
      calls.length = 0
      t.throws(() => get(wrapped, set({ subnet: '10.1.2.0/24' })))
      t.same(calls, ['lock', 'unlock'])
    })
  })
}

t.test('skipping taken runs gives the same order as trying every address', async (t) => {
  // Random taken sets on small multi-range sets: the disk store (index + firstUntaken) must pick
  // exactly what the FakeStore (one reserve per candidate, the reference's way) picks.
  let seed = 12345
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed % n
  }
  const rs = set(
    { subnet: '10.5.0.0/28', gateway: '10.5.0.7' },
    { subnet: '10.5.1.0/29' },
    { subnet: '10.5.2.0/28', rangeStart: '10.5.2.3', rangeEnd: '10.5.2.12', gateway: '10.5.1.3' },
  )
  const all = [...iterate(rs, null)].map(String)
  for (let round = 0; round < 25; round++) {
    const fake = new FakeStore()
    const disk = new Store(tmpDataDir(t), 'net')
    t.teardown(() => disk.close())
    for (const a of all) {
      if (rnd(3) === 0) continue
      fake.files.set(a, 'x\r\neth0')
      fs.writeFileSync(path.join(disk.dir, a), 'x\r\neth0')
    }
    if (rnd(2)) {
      const last = all[rnd(all.length)]
      fake.last.set(0, last)
      fs.writeFileSync(path.join(disk.dir, 'last_reserved_ip.0'), last)
    }
    const seqFake: string[] = []
    const seqDisk: string[] = []
    for (let i = 0; i < all.length + 1; i++) {
      const id = `n${i}`
      let f: string
      let d: string
      try {
        f = get(fake, rs, id).ip.toString()
      } catch (e) {
        f = (e as Error).message
      }
      try {
        d = get(disk, rs, id).ip.toString()
      } catch (e) {
        d = (e as Error).message
      }
      seqFake.push(f)
      seqDisk.push(d)
      if (rnd(4) === 0 && i > 0) {
        const victim = `n${rnd(i)}`
        release(fake, victim, 'eth0')
        release(disk, victim, 'eth0')
      }
    }
    t.same(seqDisk, seqFake, `round ${round}`)
  }
})

t.test('a dense /16: one reservation attempt, however long the taken run', async (t) => {
  const dataDir = tmpDataDir(t)
  const rs = set({ subnet: '10.7.0.0/16' })
  // 20,000 addresses taken right after the cursor, written the way the Go plugin writes them.
  fs.mkdirSync(path.join(dataDir, 'dense'))
  for (let i = 3; i < 20003; i++) {
    fs.writeFileSync(path.join(dataDir, 'dense', formatV4((10 << 24) | (7 << 16) | i)), `seed${i}\r\neth0`)
  }
  fs.writeFileSync(path.join(dataDir, 'dense', 'last_reserved_ip.0'), '10.7.0.2')
  const s = new CountingStore(dataDir, 'dense')
  t.teardown(() => s.close())
  const a = get(s, rs, 'fresh')
  t.equal(a.ip.toString(), formatV4((10 << 24) | (7 << 16) | 20003))
  t.equal(s.reserveCalls, 1, 'the run of 20,000 taken addresses was skipped without trying them')
  // A foreign writer (the Go plugin) takes the next free address behind our back: the link(2)
  // reservation still decides, and the allocator moves on.
  const s2 = new CountingStore(dataDir, 'dense')
  t.teardown(() => s2.close())
  s2.lock()
  s2.firstUntaken(4, 0n, 1n) // load and validate the index under the lock
  fs.writeFileSync(path.join(dataDir, 'dense', formatV4((10 << 24) | (7 << 16) | 20004)), 'go\r\neth0')
  t.equal(get(s2, rs, 'fresh2').ip.toString(), formatV4((10 << 24) | (7 << 16) | 20005))
  t.equal(s2.reserveCalls, 2, 'one EEXIST, one success')
  s2.unlock()
  const s3 = new Store(dataDir, 'dense')
  t.teardown(() => s3.close())
  s3.lock()
  t.same(s3.getByID('go', 'eth0').map(String), ['10.7.78.36'], 'the foreign file is known to the next process')
  s3.unlock()
})

function formatV4(n: number): string {
  return IP.v4(n >>> 0).toString()
}

t.test('Family type is exported for the config layer', async (t) => {
  const f: Family = 6
  t.equal(f, 6)
})

t.test('hasFreeAddress (STATUS): the gateway does not count, any free address does', async (t) => {
  const s = new Store(tmpDataDir(t), 'net1')
  t.teardown(() => s.close())
  const rs = set({ subnet: '10.1.2.0/29', rangeStart: '10.1.2.1', rangeEnd: '10.1.2.3' }, { subnet: '10.1.3.0/30', gateway: '10.1.3.2' })
  const free = () => s.withLock(() => hasFreeAddress(s, rs))
  t.equal(free(), true)
  for (const a of ['10.1.2.2', '10.1.2.3', '10.1.3.1']) fs.writeFileSync(path.join(s.dir, a), 'x\r\neth0')
  t.equal(free(), false, 'only gateways left (10.1.2.1 and 10.1.3.2)')
  fs.unlinkSync(path.join(s.dir, '10.1.3.1'))
  t.equal(free(), true, 'a freed address in the second range')
  const v6 = set({ subnet: 'fd00::/126' })
  t.equal(s.withLock(() => hasFreeAddress(s, v6)), true)
})
