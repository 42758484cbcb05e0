// host-local run as an executable, the way a runtime (or bridge, delegating) runs it: every spec
// version's result shape, DEL, CHECK, GC, STATUS, requested addresses, rollback and errors.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { FAKE_NETNS, hlConf, ipFiles, runHL, type Tap, tmpDir } from '../../helpers/host-local'

const umask = process.umask()
const mode = (p: string) => fs.statSync(p).mode & 0o7777

t.test('ADD for every spec version answers in that version\'s shape', async (t) => {
  const dataDir = tmpDir(t)
  const resolv = path.join(dataDir, 'resolv.conf')
  fs.writeFileSync(resolv, 'nameserver 10.1.0.53\nsearch a.example\n')
  const ipam = {
    ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: 'fd00:1::/64' }]],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '10.2.0.0/16', gw: '10.1.0.9', priority: 7, table: 100, scope: 0 }, { dst: '::/0', gw: 'fd00:1::1' }],
    resolvConf: resolv,
  }
  const dns = { nameservers: ['10.1.0.53'], search: ['a.example'] }
  const routes = ipam.routes
  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0', undefined]) {
    const label = v ?? 'no cniVersion'
    const conf = hlConf(dataDir, ipam, {}, v ?? null)
    const r = runHL({ command: 'ADD', conf, containerID: `ctr-${label.replace(/[^0-9a-z]/g, '')}` })
    t.equal(r.code, 0, `${label}: exit 0 ${r.stdout}`)
    const j = r.json
    t.equal(j.cniVersion, v ?? '0.1.0', `${label}: cniVersion`)
    t.notOk('interfaces' in j, `${label}: no interfaces (abbreviated IPAM result)`)
    if (v === undefined || v === '0.1.0' || v === '0.2.0') {
      t.same(
        j,
        {
          cniVersion: v ?? '0.1.0',
          ip4: { ip: '10.1.0.2/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }, { dst: '10.2.0.0/16', gw: '10.1.0.9' }] },
          ip6: { ip: 'fd00:1::2/64', gateway: 'fd00:1::1', routes: [{ dst: '::/0', gw: 'fd00:1::1' }] },
          dns,
        },
        `${label}: 0.2.0 shape, routes split by family`,
      )
    } else if (v.startsWith('0.')) {
      t.same(
        j,
        {
          cniVersion: v,
          ips: [
            { version: '4', address: '10.1.0.2/24', gateway: '10.1.0.1' },
            { version: '6', address: 'fd00:1::2/64', gateway: 'fd00:1::1' },
          ],
          routes,
          dns,
        },
        `${label}: 0.4.0 shape with ips[].version`,
      )
    } else {
      t.same(
        j,
        {
          cniVersion: v,
          ips: [
            { address: '10.1.0.2/24', gateway: '10.1.0.1' },
            { address: 'fd00:1::2/64', gateway: 'fd00:1::1' },
          ],
          routes,
          dns,
        },
        `${label}: 1.x shape, no version, no interface`,
      )
    }
    t.same(ipFiles(path.join(dataDir, 'hlnet')), ['10.1.0.2', 'fd00:1::2'], `${label}: one file per address`)
    const d = runHL({ command: 'DEL', conf, containerID: `ctr-${label.replace(/[^0-9a-z]/g, '')}` })
    t.equal(d.code, 0, `${label}: DEL ${d.stdout}`)
    t.equal(d.stdout, '', `${label}: DEL prints nothing`)
    t.same(ipFiles(path.join(dataDir, 'hlnet')), [], `${label}: DEL released both`)
    // The next ADD would continue after last_reserved_ip: start every version afresh.
    for (const f of ['last_reserved_ip.0', 'last_reserved_ip.1']) fs.rmSync(path.join(dataDir, 'hlnet', f), { force: true })
  }
})

t.test('two IPv4 range sets: an error at 0.2.0, two ips at 0.3.1', async (t) => {
  const dataDir = tmpDir(t)
  const ipam = { ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/24' }]] }
  const r = runHL({ command: 'ADD', conf: hlConf(dataDir, ipam, {}, '0.2.0') })
  t.equal(r.code, 1)
  t.equal(r.json.code, 999)
  t.equal(r.json.msg, 'CNI version 0.2.0 does not support more than 1 address per family')
  t.same(ipFiles(path.join(dataDir, 'hlnet')), [], 'nothing allocated')
  const ok = runHL({ command: 'ADD', conf: hlConf(dataDir, ipam, {}, '0.3.1') })
  t.same(ok.json.ips.map((i: { address: string }) => i.address), ['10.1.0.2/24', '10.2.0.2/24'])
})

t.test('the store on disk after ADD is the reference\'s', async (t) => {
  const dataDir = tmpDir(t)
  const conf = hlConf(dataDir, { subnet: '10.99.0.0/24', routes: [{ dst: '0.0.0.0/0' }] })
  const r = runHL({ command: 'ADD', conf, containerID: 'ctr-1' })
  t.same(r.json, { cniVersion: '1.0.0', ips: [{ address: '10.99.0.2/24', gateway: '10.99.0.1' }], routes: [{ dst: '0.0.0.0/0' }] })
  const dir = path.join(dataDir, 'hlnet')
  t.equal(fs.readFileSync(path.join(dir, '10.99.0.2'), 'latin1'), 'ctr-1\r\neth0')
  t.equal(fs.readFileSync(path.join(dir, 'last_reserved_ip.0'), 'latin1'), '10.99.0.2')
  t.equal(mode(dir), 0o755 & ~umask)
  t.equal(mode(path.join(dir, '10.99.0.2')), 0o644 & ~umask, 'the reference\'s mode')
  t.equal(mode(path.join(dir, 'lock')), 0o750 & ~umask)
  t.same(fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-')), [], 'no temp files')

  const again = runHL({ command: 'ADD', conf, containerID: 'ctr-1' })
  t.equal(again.code, 1)
  t.equal(again.json.msg, 'failed to allocate for range 0: 10.99.0.2 has been allocated to ctr-1, duplicate allocation is not allowed')
  t.equal(fs.readFileSync(path.join(dir, '10.99.0.2'), 'latin1'), 'ctr-1\r\neth0', 'the first allocation is unchanged')
  const eth1 = runHL({ command: 'ADD', conf, containerID: 'ctr-1', ifName: 'eth1' })
  t.equal(eth1.json.ips[0].address, '10.99.0.3/24', 'another ifname is another attachment')
  const odd = runHL({ command: 'ADD', conf, containerID: 'a.b_c-D9' })
  t.equal(odd.code, 0, 'container ID with . _ -')
})

t.test('requested addresses and runtime ranges', async (t) => {
  const dataDir = tmpDir(t)
  const base = { subnet: '10.99.0.0/24' }
  const add = (id: string, extra: object = {}, args?: string) => runHL({ command: 'ADD', conf: hlConf(dataDir, base, extra), containerID: id, args })
  t.equal(add('c1', {}, 'IP=10.99.0.50').json.ips[0].address, '10.99.0.50/24', 'CNI_ARGS IP')
  t.equal(add('c2', {}, 'IP=10.99.0.50').json.msg, 'failed to allocate for range 0: requested IP address 10.99.0.50 is not available in range set 10.99.0.1-10.99.0.254')
  t.equal(add('c3', {}, 'IP=10.99.0.1').json.msg, "failed to allocate for range 0: requested ip 10.99.0.1 is subnet's gateway")
  t.equal(add('c4', {}, 'IP=10.99.1.5').json.msg, 'failed to allocate all requested IPs: 10.99.1.5')
  t.equal(add('c5', {}, 'IP=10.99.0.255').json.msg, 'failed to allocate all requested IPs: 10.99.0.255', 'the broadcast is in no range')
  t.equal(add('c6', { runtimeConfig: { ips: ['10.99.0.60/24'] } }).json.ips[0].address, '10.99.0.60/24', 'runtimeConfig.ips')
  t.equal(add('c7', { args: { cni: { ips: ['10.99.0.61'] } } }).json.ips[0].address, '10.99.0.61/24', 'args.cni.ips')
  t.equal(add('c8', {}, 'FOO=bar').json.msg, 'ARGS: unknown args ["FOO=bar"]')
  t.equal(add('c9', {}, 'IgnoreUnknown=1;FOO=bar').code, 0)
  t.equal(add('c10', {}, 'FOO').json.msg, 'ARGS: invalid pair "FOO"')
  const prepended = add('c11', { runtimeConfig: { ipRanges: [[{ subnet: '10.98.0.0/24' }]] } })
  t.same(
    prepended.json.ips.map((i: { address: string }) => i.address),
    ['10.98.0.2/24', '10.99.0.2/24'],
    'runtimeConfig.ipRanges is prepended, not a replacement',
  )
  t.equal(fs.readFileSync(path.join(dataDir, 'hlnet', 'last_reserved_ip.0'), 'latin1'), '10.98.0.2', 'its index shifts the others')
  t.equal(fs.readFileSync(path.join(dataDir, 'hlnet', 'last_reserved_ip.1'), 'latin1'), '10.99.0.2', 'the legacy range is set 1 now')
})

t.test('a failed ADD releases what it reserved; last_reserved_ip stays moved', async (t) => {
  const dataDir = tmpDir(t)
  const dir = path.join(dataDir, 'hlnet')
  const ipam = { ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/30' }]] }
  t.equal(runHL({ command: 'ADD', conf: hlConf(dataDir, ipam), containerID: 'c1' }).code, 0)
  const r = runHL({ command: 'ADD', conf: hlConf(dataDir, ipam), containerID: 'c2' })
  t.equal(r.code, 1)
  t.equal(r.json.msg, 'failed to allocate for range 1: no IP addresses available in range set: 10.2.0.1-10.2.0.2')
  t.same(ipFiles(dir), ['10.1.0.2', '10.2.0.2'], "c2's address in set 0 was released again")
  t.equal(fs.readFileSync(path.join(dir, 'last_reserved_ip.0'), 'latin1'), '10.1.0.3', 'never rolled back, like the reference')
  const leftover = runHL({ command: 'ADD', conf: hlConf(dataDir, { ...ipam, ranges: ipam.ranges.slice(0, 1) }), containerID: 'c3', args: 'IP=10.1.0.77' })
  t.equal(leftover.code, 0)
  const r2 = runHL({ command: 'ADD', conf: hlConf(dataDir, ipam), containerID: 'c4', args: 'IP=10.1.0.78;IgnoreUnknown=1' })
  t.equal(r2.code, 1)
  t.notOk(fs.existsSync(path.join(dir, '10.1.0.78')), 'a requested address is released too')
})

t.test('exhaustion', async (t) => {
  const dataDir = tmpDir(t)
  const conf = hlConf(dataDir, { subnet: '10.99.0.0/30' })
  t.equal(runHL({ command: 'ADD', conf, containerID: 'c1' }).json.ips[0].address, '10.99.0.2/30')
  const r = runHL({ command: 'ADD', conf, containerID: 'c2' })
  t.equal(r.json.msg, 'failed to allocate for range 0: no IP addresses available in range set: 10.99.0.1-10.99.0.2')
})

t.test('DEL', async (t) => {
  const dataDir = tmpDir(t)
  const dir = path.join(dataDir, 'hlnet')
  const conf = hlConf(dataDir, { subnet: '10.99.0.0/24' })
  const run = (command: string, id: string, ifName = 'eth0', noNetns = false) => runHL({ command, conf, containerID: id, ifName, noNetns })

  t.test('idempotent, and fine for a container never added', async (t) => {
    t.equal(run('ADD', 'd1').code, 0)
    t.equal(run('DEL', 'd1').code, 0)
    t.equal(run('DEL', 'd1').code, 0, 'second DEL')
    t.equal(run('DEL', 'never').code, 0, 'unknown container')
    t.same(ipFiles(dir), [])
  })
  t.test('without CNI_NETNS', async (t) => {
    t.equal(run('ADD', 'd2').code, 0)
    const r = run('DEL', 'd2', 'eth0', true)
    t.equal(r.code, 0, r.stdout)
    t.same(ipFiles(dir), [], 'the address is released')
  })
  t.test('only the ifname asked for', async (t) => {
    run('ADD', 'd3', 'eth0')
    run('ADD', 'd3', 'eth1')
    t.equal(ipFiles(dir).length, 2)
    t.equal(run('DEL', 'd3', 'eth0').code, 0)
    const left = ipFiles(dir)
    t.equal(left.length, 1)
    t.equal(fs.readFileSync(path.join(dir, left[0]), 'latin1'), 'd3\r\neth1', "eth1's address stays")
    run('DEL', 'd3', 'eth1')
  })
  t.test('legacy files holding only the container ID', async (t) => {
    fs.writeFileSync(path.join(dir, '10.99.0.200'), 'old-ctr')
    fs.writeFileSync(path.join(dir, '10.99.0.201'), '  old-ctr\n')
    t.equal(run('DEL', 'old-ctr', 'eth7').code, 0)
    t.same(ipFiles(dir), [], 'released (any ifname)')
    // With files of both forms, one range set releases the current ones first, the next DEL the
    // legacy ones; with two range sets one DEL does both (the reference's loop per set).
    run('ADD', 'both')
    fs.writeFileSync(path.join(dir, '10.99.0.210'), 'both')
    run('DEL', 'both')
    t.same(ipFiles(dir), ['10.99.0.210'])
    run('DEL', 'both')
    t.same(ipFiles(dir), [])
    const two = hlConf(dataDir, { ranges: [[{ subnet: '10.99.0.0/24' }], [{ subnet: 'fd00:99::/64' }]] })
    runHL({ command: 'ADD', conf: two, containerID: 'both2' })
    fs.writeFileSync(path.join(dir, '10.99.0.211'), 'both2')
    t.equal(runHL({ command: 'DEL', conf: two, containerID: 'both2' }).code, 0)
    t.same(ipFiles(dir), [])
  })
  t.test('a network never used: nothing to release, nothing created', async (t) => {
    const fresh = tmpDir(t)
    const r = runHL({ command: 'DEL', conf: hlConf(fresh, { subnet: '10.99.0.0/24' }) })
    t.equal(r.code, 0)
    t.same(fs.readdirSync(fresh), [])
    const gone = runHL({ command: 'DEL', conf: hlConf('/proc/tscni-t-nope', { subnet: '10.99.0.0/24' }) })
    t.equal(gone.code, 0, 'a data directory that cannot exist holds nothing')
  })
  t.test('config errors fail DEL, like the reference', async (t) => {
    const r = runHL({ command: 'DEL', conf, containerID: 'x', args: 'MAC=aa' })
    t.equal(r.code, 1)
    t.equal(r.json.msg, 'ARGS: unknown args ["MAC=aa"]')
  })
})

t.test('CHECK', async (t) => {
  const dataDir = tmpDir(t)
  const conf = hlConf(dataDir, { subnet: '10.99.0.0/24' })
  const run = (command: string, id = 'k1', c: object = conf) => runHL({ command, conf: c, containerID: id })
  const before = run('CHECK')
  t.equal(before.code, 1)
  t.same(before.json, { cniVersion: '1.0.0', code: 999, msg: 'host-local: Failed to find address added by container k1' })
  t.equal(run('ADD').code, 0)
  const after = run('CHECK')
  t.equal(after.code, 0, after.stdout)
  t.equal(after.stdout, '', 'CHECK prints nothing')
  t.equal(runHL({ command: 'CHECK', conf, containerID: 'k1', ifName: 'eth1' }).code, 1, 'another ifname is not ours')
  t.equal(run('DEL').code, 0)
  t.equal(run('CHECK').json.msg, 'host-local: Failed to find address added by container k1')
  fs.writeFileSync(path.join(dataDir, 'hlnet', '10.99.0.99'), 'legacy')
  t.equal(run('CHECK', 'legacy').code, 0, 'a legacy file counts')
  const old = run('CHECK', 'k1', hlConf(dataDir, { subnet: '10.99.0.0/24' }, {}, '0.3.1'))
  t.same([old.code, old.json.code, old.json.msg], [1, 1, 'config version does not allow CHECK'])
})

t.test('GC', async (t) => {
  const setup = (t: Tap & { equal(a: unknown, b: unknown): unknown }) => {
    const dataDir = tmpDir(t)
    const dir = path.join(dataDir, 'hlnet')
    const ipam = { subnet: '10.99.0.0/24' }
    for (const [id, ifName] of [['ctr-1', 'eth0'], ['ctr-2', 'eth0'], ['ctr-3', 'eth0'], ['ctr-2', 'eth1']]) {
      t.equal(runHL({ command: 'ADD', conf: hlConf(dataDir, ipam, {}, '1.1.0'), containerID: id, ifName }).code, 0)
    }
    fs.writeFileSync(path.join(dir, '10.99.0.100'), 'ctr-2') // legacy, owned by a valid container
    fs.writeFileSync(path.join(dir, '10.99.0.101'), 'ctr-9') // legacy, stale
    const gc = (extra: object) => runHL({ command: 'GC', conf: hlConf(dataDir, ipam, extra, '1.1.0') })
    const owners = () => ipFiles(dir).map((f) => fs.readFileSync(path.join(dir, f), 'latin1').replace('\r\n', '/')).sort()
    return { dataDir, dir, gc, owners }
  }

  t.test('keeps the valid attachments and releases the rest', async (t) => {
    const { dir, gc, owners } = setup(t)
    const r = gc({ 'cni.dev/valid-attachments': [{ containerID: 'ctr-2', ifname: 'eth0' }] })
    t.equal(r.code, 0, r.stdout)
    t.equal(r.stdout, '', 'GC prints nothing')
    t.same(owners(), ['ctr-2', 'ctr-2/eth0'], 'ctr-2/eth0 and the legacy file of ctr-2 stay')
    t.ok(fs.existsSync(path.join(dir, 'lock')), 'lock kept')
    t.ok(fs.existsSync(path.join(dir, 'last_reserved_ip.0')), 'last_reserved_ip kept')
    t.equal(runHL({ command: 'CHECK', conf: hlConf(path.dirname(dir), { subnet: '10.99.0.0/24' }, {}, '1.1.0'), containerID: 'ctr-2' }).code, 0)
  })
  t.test('cni.dev/attachments when valid-attachments is absent', async (t) => {
    const { gc, owners } = setup(t)
    t.equal(gc({ 'cni.dev/attachments': [{ containerID: 'ctr-1', ifname: 'eth0' }, { containerID: 'ctr-2', ifname: 'eth1' }] }).code, 0)
    t.same(owners(), ['ctr-1/eth0', 'ctr-2', 'ctr-2/eth1'])
  })
  t.test('valid-attachments wins over attachments', async (t) => {
    const { gc, owners } = setup(t)
    t.equal(gc({ 'cni.dev/valid-attachments': [{ containerID: 'ctr-3', ifname: 'eth0' }], 'cni.dev/attachments': [{ containerID: 'ctr-1', ifname: 'eth0' }] }).code, 0)
    t.same(owners(), ['ctr-3/eth0'])
  })
  t.test('null is an empty list: everything is released', async (t) => {
    const { gc, owners } = setup(t)
    t.equal(gc({ 'cni.dev/valid-attachments': null }).code, 0)
    t.same(owners(), [])
  })
  t.test('an empty list releases everything', async (t) => {
    const { gc, owners } = setup(t)
    t.equal(gc({ 'cni.dev/valid-attachments': [], 'cni.dev/attachments': [] }).code, 0)
    t.same(owners(), [])
  })
  t.test('neither key: nothing is released', async (t) => {
    const { gc, owners } = setup(t)
    const before = owners()
    t.equal(gc({}).code, 0)
    t.same(owners(), before)
    t.equal(before.length, 6)
  })
  t.test('a malformed list releases nothing (code 7)', async (t) => {
    const { gc, owners } = setup(t)
    const r = gc({ 'cni.dev/valid-attachments': [{ containerID: 'ctr-2' }] })
    t.same([r.code, r.json.code], [1, 7])
    t.equal(owners().length, 6)
  })
  t.test('needs cniVersion 1.1.0; a network never used is fine', async (t) => {
    const dataDir = tmpDir(t)
    const old = runHL({ command: 'GC', conf: hlConf(dataDir, { subnet: '10.99.0.0/24' }, { 'cni.dev/valid-attachments': [] }, '1.0.0') })
    t.same([old.code, old.json.code, old.json.msg], [1, 1, 'config version does not allow GC'])
    const fresh = runHL({ command: 'GC', conf: hlConf(dataDir, { subnet: '10.99.0.0/24' }, { 'cni.dev/valid-attachments': [] }, '1.1.0') })
    t.equal(fresh.code, 0)
    t.same(fs.readdirSync(dataDir), [], 'nothing created')
  })
})

t.test('STATUS', async (t) => {
  t.test('ok while addresses are free: empty stdout', async (t) => {
    const dataDir = tmpDir(t)
    const r = runHL({ command: 'STATUS', conf: hlConf(dataDir, { subnet: '10.99.0.0/24' }, {}, '1.1.0') })
    t.same([r.code, r.stdout], [0, ''])
  })
  t.test('50 when a range set is exhausted', async (t) => {
    const dataDir = tmpDir(t)
    const conf = hlConf(dataDir, { ranges: [[{ subnet: '10.98.0.0/24' }], [{ subnet: '10.99.0.0/30' }]] }, {}, '1.1.0')
    t.equal(runHL({ command: 'STATUS', conf }).code, 0)
    t.equal(runHL({ command: 'ADD', conf, containerID: 's1' }).code, 0)
    const r = runHL({ command: 'STATUS', conf })
    t.same([r.code, r.json.code], [1, 50])
    t.equal(r.json.msg, 'host-local: no IP addresses available in range set 1: 10.99.0.1-10.99.0.2')
    t.equal(runHL({ command: 'ADD', conf, containerID: 's2' }).code, 1, 'ADD indeed fails')
    t.equal(runHL({ command: 'DEL', conf, containerID: 's1' }).code, 0)
    t.equal(runHL({ command: 'STATUS', conf }).code, 0, 'ok again after DEL')
  })
  t.test('a range whose only address is its gateway has nothing to give', async (t) => {
    const dataDir = tmpDir(t)
    const conf = hlConf(dataDir, { ranges: [[{ subnet: '10.99.0.0/24', rangeStart: '10.99.0.1', rangeEnd: '10.99.0.1' }]] }, {}, '1.1.0')
    t.equal(runHL({ command: 'STATUS', conf }).json.code, 50)
  })
  t.test('50 when the data directory is unusable', async (t) => {
    const dataDir = tmpDir(t)
    const file = path.join(dataDir, 'regular-file')
    fs.writeFileSync(file, '')
    const r = runHL({ command: 'STATUS', conf: hlConf(file, { subnet: '10.99.0.0/24' }, {}, '1.1.0') })
    t.same([r.code, r.json.code, r.json.msg], [1, 50, 'host-local: data directory is not usable'])
    t.equal(r.json.details, `mkdir ${file}: not a directory`)
    const proc = runHL({ command: 'STATUS', conf: hlConf('/proc/tscni-t-nope', { subnet: '10.99.0.0/24' }, {}, '1.1.0') })
    t.same([proc.code, proc.json.code], [1, 50], 'not creatable (and no hang: Node 20 recursive mkdir spins here)')
    t.equal(proc.json.details, 'mkdir /proc/tscni-t-nope: no such file or directory')
    const sys = runHL({ command: 'STATUS', conf: hlConf('/sys/kernel', { subnet: '10.99.0.0/24' }, {}, '1.1.0') })
    t.same([sys.code, sys.json.code], [1, 50], 'not writable')
  })
  t.test('needs cniVersion 1.1.0', async (t) => {
    const r = runHL({ command: 'STATUS', conf: hlConf(tmpDir(t), { subnet: '10.99.0.0/24' }, {}, '1.0.0') })
    t.same([r.code, r.json.code], [1, 1])
  })
})

t.test('errors through the executable: type errors are code 7, the rest 999', async (t) => {
  const dataDir = tmpDir(t)
  const typeErr = runHL({ command: 'ADD', conf: hlConf(dataDir, { subnet: 5 }) })
  t.same(typeErr.json, { cniVersion: '1.0.0', code: 7, msg: 'failed to load netconf: "ipam.subnet" must be string' })
  const semantic = runHL({ command: 'ADD', conf: hlConf(dataDir, { subnet: '10.0.0.0/31' }) })
  t.same(semantic.json, { cniVersion: '1.0.0', code: 999, msg: 'invalid range set 0: Network 10.0.0.0/31 too small to allocate from' })
  const noIpam = runHL({ command: 'ADD', conf: { cniVersion: '1.0.0', name: 'x' } })
  t.equal(noIpam.json.msg, "IPAM config missing 'ipam' key")
  const file = path.join(dataDir, 'f')
  fs.writeFileSync(file, '')
  const notDir = runHL({ command: 'ADD', conf: hlConf(file, { subnet: '10.0.0.0/24' }) })
  t.equal(notDir.json.msg, `mkdir ${file}: not a directory`)
  t.equal(FAKE_NETNS.startsWith('/var/run/netns/'), true)
})
