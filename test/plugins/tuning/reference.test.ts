// Side by side with the Go reference tuning (Debian's containernetworking-plugins 1.1.1 in
// /usr/lib/cni). Each implementation gets a container namespace of its own, set up identically
// (eth0 with the same MAC), a dataDir of its own, the same container ID and the same inputs
// (prevResult included). Compared: exit code, stdout (byte for byte in the 0.4.0 shape; 1.x results
// are printed like upstream HEAD, so there the JSON is compared), eth0 as `ip -d -j link` shows it,
// the sysctls, and the backup file byte for byte. Then each implementation's DEL undoes the other's
// ADD. Errors: the same code and message, except the deliberate differences asserted here.
import t, { type Test } from 'tap'
import { type Ctr, HAVE_REF_TUNING, REF_TUNING, TUNING, backupText, container, dataRoot, ipLink, readSysctlIn, runTuning } from '../../helpers/tuning'
import type { PluginRun } from '../../helpers/plugin'
import { deliberate } from '../../helpers/deliberate'

interface Side {
  c: Ctr
  dir: string
  file: string
}

interface Pair {
  ours: Side
  ref: Side
}

function pair(t: Test, label: string): Pair {
  return {
    ours: { c: container(t, `${label}o`), dir: dataRoot(t), file: TUNING },
    ref: { c: container(t, `${label}r`), dir: dataRoot(t), file: REF_TUNING },
  }
}

/** The same prevResult for both sides (the sandbox is only data to tuning). */
function prev(v: string): Record<string, unknown> {
  const old = v.startsWith('0.')
  return {
    cniVersion: v,
    interfaces: [{ name: 'br0', mac: '02:61:00:00:00:01' }, { name: 'eth0', mac: '02:61:00:00:00:aa', sandbox: '/run/netns/tun-ref' }],
    ips: [{ ...(old ? { version: '4' } : {}), address: '10.61.0.2/24', gateway: '10.61.0.1', interface: 1 }],
  }
}

function conf(v: string, dir: string, keys: Record<string, unknown>, withPrev = true): Record<string, unknown> {
  return { cniVersion: v, name: 'tunref', type: 'tuning', dataDir: dir, ...keys, ...(withPrev ? { prevResult: prev(v) } : {}) }
}

function run(s: Side, command: string, v: string, keys: Record<string, unknown>, opts: { args?: string; file?: string; withPrev?: boolean; netns?: string } = {}): PluginRun {
  return runTuning(command, conf(v, s.dir, keys, opts.withPrev ?? true), s.c.ns, { args: opts.args, netns: opts.netns }, opts.file ?? s.file)
}

const SYSCTLS = ['net/ipv4/conf/eth0/arp_notify', 'net/core/somaxconn', 'net/ipv4/conf/all/arp_ignore']

function state(s: Side): Record<string, unknown> {
  return { link: ipLink(s.c), sysctls: SYSCTLS.map((n) => readSysctlIn(s.c.ns, n)), backup: backupText(s.dir) }
}

const withoutEmptyDns = (r: any) => {
  if (!r || typeof r !== 'object') return r
  const { dns, ...rest } = r
  return dns && Object.keys(dns).length ? r : rest
}

function sameRun(t: Test, ours: PluginRun, ref: PluginRun, v: string, what: string): void {
  t.equal(ours.code, ref.code, `${what}: exit code (ref stdout ${ref.stdout})`)
  if (ref.code === 0 && v.startsWith('0.')) t.equal(ours.stdout, ref.stdout, `${what}: stdout byte for byte`)
  else if (ref.code === 0) t.same(withoutEmptyDns(ours.json), withoutEmptyDns(ref.json), `${what}: the same result`)
  else t.same({ code: ours.json?.code, msg: ours.json?.msg }, { code: ref.json?.code, msg: ref.json?.msg }, `${what}: the same error`)
}

const ALL = {
  sysctl: { 'net.ipv4.conf.eth0.arp_notify': '1', 'net.core.somaxconn': '999', 'net.ipv4.conf.all.arp_ignore': '2' },
  mac: '02:61:00:00:10:01',
  mtu: 1400,
  promisc: true,
  allmulti: true,
}

t.test('every key, side by side; then each DEL undoes the other ADD', { skip: !HAVE_REF_TUNING && 'no /usr/lib/cni/tuning' }, async (t) => {
  for (const v of ['0.4.0', '1.0.0']) {
    const p = pair(t, `a${v[0]}`)
    const start = state(p.ours)
    t.same(state(p.ref), start, `${v}: both start alike`)
    sameRun(t, run(p.ours, 'ADD', v, ALL), run(p.ref, 'ADD', v, ALL), v, `${v} ADD`)
    const after = state(p.ref)
    t.same(state(p.ours), after, `${v}: the same link attributes, sysctls and backup file`)
    t.match(after, { link: { address: '02:61:00:00:10:01', mtu: 1400, promiscuity: 1, allmulti: 1 }, sysctls: ['1', '999', '2'] })
    t.equal(after.backup, '{\n "mac": "02:61:00:00:00:aa",\n "promisc": false,\n "mtu": 1500,\n "allmulti": false\n}')

    sameRun(t, run(p.ours, 'CHECK', v, ALL), run(p.ref, 'CHECK', v, ALL), v, `${v} CHECK`)
    t.equal(run(p.ours, 'CHECK', v, ALL, { file: REF_TUNING }).code, 0, `${v}: the reference's CHECK passes on our ADD`)
    t.equal(run(p.ref, 'CHECK', v, ALL, { file: TUNING }).code, 0, `${v}: our CHECK passes on the reference's ADD`)

    // Cross DEL: ours undoes the reference's ADD and the other way round.
    const delOurs = run(p.ref, 'DEL', v, ALL, { file: TUNING, withPrev: false })
    const delRef = run(p.ours, 'DEL', v, ALL, { file: REF_TUNING, withPrev: false })
    t.equal(delOurs.code, 0, delOurs.stdout)
    t.equal(delRef.code, 0, delRef.stdout)
    t.equal(delOurs.stdout, delRef.stdout)
    const end = { ...start, sysctls: after.sysctls }
    t.same(state(p.ref), end, `${v}: our DEL restored what the reference ADD changed (sysctls stay: neither restores them)`)
    t.same(state(p.ours), end, `${v}: the reference DEL restored what our ADD changed`)
    sameRun(t, run(p.ours, 'DEL', v, ALL), run(p.ref, 'DEL', v, ALL), v, `${v} DEL again`)
  }
})

t.test('MAC sources side by side: capability, CNI_ARGS, args.cni, and each alone', { skip: !HAVE_REF_TUNING && 'no /usr/lib/cni/tuning' }, async (t) => {
  const p = pair(t, 'mac')
  const v = '1.0.0'
  const cases: Array<[Record<string, unknown>, string | undefined]> = [
    [{ mac: '02:61:00:00:11:01', runtimeConfig: { mac: '02:61:00:00:11:03' }, args: { cni: { mac: '02:61:00:00:11:04' } } }, 'IgnoreUnknown=1;MAC=02:61:00:00:11:02'],
    [{ mac: '02:61:00:00:11:01', runtimeConfig: { mac: '02:61:00:00:11:03' } }, 'IgnoreUnknown=1;MAC=02:61:00:00:11:02'],
    [{ mac: '02:61:00:00:11:01' }, 'MAC=02:61:00:00:11:02'],
    [{ MAC: '02:61:00:00:11:05', MTU: 1420 }, undefined],
  ]
  for (const [keys, args] of cases) {
    sameRun(t, run(p.ours, 'ADD', v, keys, { args }), run(p.ref, 'ADD', v, keys, { args }), v, `ADD ${JSON.stringify(keys)} ${args}`)
    t.same(state(p.ours), state(p.ref), 'the same state')
    sameRun(t, run(p.ours, 'DEL', v, keys, { args }), run(p.ref, 'DEL', v, keys, { args }), v, 'DEL')
    t.same(state(p.ours), state(p.ref), 'the same state after DEL')
  }
})

t.test('errors side by side', { skip: !HAVE_REF_TUNING && 'no /usr/lib/cni/tuning' }, async (t) => {
  const p = pair(t, 'err')
  const v = '0.4.0'
  const same = (keys: Record<string, unknown>, what: string, opts: { args?: string; withPrev?: boolean; command?: string; netns?: string } = {}) =>
    sameRun(t, run(p.ours, opts.command ?? 'ADD', v, keys, opts), run(p.ref, opts.command ?? 'ADD', v, keys, opts), v, what)
  same({ mtu: 1400 }, 'no prevResult', { withPrev: false })
  same({ sysctl: { 'kernel.hostname': 'x' } }, 'a sysctl outside net')
  same({ sysctl: { 'net.ipv4.nonexist': '1' } }, 'a sysctl that does not exist')
  same({ sysctl: { 'net.ipv4': '1' } }, 'a sysctl that is a directory')
  same({}, 'nothing to do, but no such namespace', { netns: '/run/netns/tscni-t-tun-gone-0-000000' })
  same({ mac: 'zz' }, 'a bad MAC')
  same({ mac: '02:61:00:00:12:01' }, 'unknown CNI_ARGS', { args: 'mac=02:61:00:00:12:01' })
  same({ mac: '02:61:00:00:12:01' }, 'unknown CNI_ARGS on DEL', { args: 'mac=02:61:00:00:12:01', command: 'DEL' })
  same({ mtu: 1400 }, 'CHECK without prevResult', { withPrev: false, command: 'CHECK' })
  t.same({ ...state(p.ours), backup: undefined }, { ...state(p.ref), backup: undefined }, 'no attribute changed on either side')
  t.equal(backupText(p.ref.dir), '{\n "mac": "02:61:00:00:00:aa"\n}', 'the reference wrote a backup for the ADD its bad MAC failed')
  t.equal(backupText(p.ours.dir), undefined, `ours checks the MAC before it writes anything (${deliberate('tuningChecksFirst')})`)

  // The kernel refuses the MTU: the same error, but the reference leaves the new MAC and a backup
  // file written with the values of this ADD; ours puts everything back.
  const keys = { mac: '02:61:00:00:12:02', mtu: 100000 }
  same(keys, 'the kernel refuses the MTU')
  t.equal(ipLink(p.ref.c).address, '02:61:00:00:12:02', 'the reference keeps the MAC it set')
  t.equal(ipLink(p.ours.c).address, '02:61:00:00:00:aa', `ours put it back (${deliberate('tuningChecksFirst')})`)
  t.ok(backupText(p.ref.dir), 'the reference leaves its backup file')
  t.equal(backupText(p.ours.dir), undefined, 'ours removed the one it wrote')

  // Deliberate: the reference panics on args.cni.sysctl without sysctl.
  const panicky = { args: { cni: { sysctl: { 'net.core.somaxconn': '321' } } } }
  const ref = run(p.ref, 'ADD', v, panicky)
  t.equal(ref.code, 2, 'the reference panics (exit 2)')
  t.match(ref.stderr, /assignment to entry in nil map/)
  t.equal(run(p.ours, 'ADD', v, panicky).code, 0, `ours applies it (${deliberate('tuningChecksFirst')})`)
  t.equal(readSysctlIn(p.ours.c.ns, 'net/core/somaxconn'), '321')
})

t.test('a second ADD: the reference overwrites the saved originals, ours keeps them', { skip: !HAVE_REF_TUNING && 'no /usr/lib/cni/tuning' }, async (t) => {
  const p = pair(t, 'twice')
  const v = '0.4.0'
  sameRun(t, run(p.ours, 'ADD', v, { mtu: 1400 }), run(p.ref, 'ADD', v, { mtu: 1400 }), v, 'first ADD')
  sameRun(t, run(p.ours, 'ADD', v, { mtu: 1300 }), run(p.ref, 'ADD', v, { mtu: 1300 }), v, 'second ADD')
  t.equal(backupText(p.ref.dir), '{\n "mtu": 1400\n}', 'the reference lost the original 1500')
  t.equal(backupText(p.ours.dir), '{\n "mtu": 1500\n}', `ours kept it (${deliberate('tuningChecksFirst')})`)
  // The reference DEL reading our file restores the real original.
  t.equal(run(p.ours, 'DEL', v, {}, { file: REF_TUNING }).code, 0)
  t.equal(ipLink(p.ours.c).mtu, 1500, "the reference's DEL restores the original from our file")
})

t.test('0.1.0 and 0.2.0: the old result shape, byte for byte', { skip: !HAVE_REF_TUNING && 'no /usr/lib/cni/tuning' }, async (t) => {
  const p = pair(t, 'old')
  for (const v of ['0.1.0', '0.2.0']) {
    const old = { cniVersion: v, ip4: { ip: '10.61.0.2/24', gateway: '10.61.0.1' }, dns: {} }
    const keys = { mtu: 1420, allmulti: false, prevResult: old }
    sameRun(t, run(p.ours, 'ADD', v, keys, { withPrev: false }), run(p.ref, 'ADD', v, keys, { withPrev: false }), v, `${v} ADD`)
    t.same(state(p.ours), state(p.ref), `${v}: the same state`)
    sameRun(t, run(p.ours, 'DEL', v, keys, { withPrev: false }), run(p.ref, 'DEL', v, keys, { withPrev: false }), v, `${v} DEL`)
    t.same(state(p.ours), state(p.ref), `${v}: the same state after DEL`)
  }
})
