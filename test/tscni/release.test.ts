/**
 * `npm run release`: the archive is reproducible, its checksum file checks out, and what it
 * unpacks to is a working CNI bin directory on its own: the plugins answer and run a full
 * bridge + host-local ADD / CHECK / DEL with the unpacked directory as CNI_PATH and no node on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { type HasTeardown, type TestNetns, ipJson, makeNetns } from '../helpers/netns'
import { NSENTER, RUNTIME_PATH } from '../helpers/plugin'

const ROOT = path.join(__dirname, '..', '..')
const RELEASE = path.join(ROOT, 'scripts', 'release.mjs')
const VERSION: string = require('../../package.json').version
const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch]
const EPOCH = '1700000000' // fixed, so two runs agree even if HEAD moves in between

function release(args: string[] = []): { archive: string; checksum: string } {
  const out = execFileSync(process.execPath, [RELEASE, ...args], {
    cwd: ROOT,
    env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 110_000,
  })
  const [archive, checksum] = out.trim().split('\n').slice(-2) // the build prints its own line first
  return { archive: archive!, checksum: checksum! }
}

function tempDir(t: HasTeardown, label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tscni-t-${label}-`))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')

interface Run {
  code: number
  stdout: string
  stderr: string
  json: any
}

/** A plugin run the way a runtime runs it: minimal environment, config on stdin. */
function runPlugin(argv: string[], env: Record<string, string>, stdin: string): Run {
  const [file, ...args] = argv
  const r = spawnSync(file!, args, { env: { PATH: RUNTIME_PATH, ...env }, input: stdin, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  let json: unknown
  try {
    json = JSON.parse(r.stdout)
  } catch {
    json = undefined
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json }
}

/** eth0's IPv4 addresses in a namespace, as `ip -j addr` reports them. */
function eth0Addrs(ns: TestNetns): string[] {
  const links = ipJson<any[]>(ns, ['addr', 'show'])
  const eth0 = links.find((l) => l.ifname === 'eth0')
  return eth0 ? eth0.addr_info.filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`) : []
}

t.test('release archive: name, checksum, reproducible, 0:0, a working bin directory', async (t) => {
  t.ok(ARCH, `a release name for ${process.arch}`)
  const name = `tscni-${VERSION}-linux-${ARCH}.tar.gz`
  const { archive, checksum } = release()
  t.equal(archive, path.join(ROOT, 'dist', 'release', name))
  t.equal(checksum, `${archive}.sha256`)

  // The checksum file: sha256sum's format, and sha256sum agrees.
  const hex = sha256(archive)
  t.equal(fs.readFileSync(checksum, 'utf8'), `${hex}  ${name}\n`)
  const check = spawnSync('sha256sum', ['-c', path.basename(checksum)], { cwd: path.dirname(checksum), encoding: 'utf8' })
  t.equal(check.status, 0, check.stderr)
  t.equal(check.stdout, `${name}: OK\n`)

  // Same inputs, same bytes (the second run packs the same dist/bin).
  release(['--no-build'])
  t.equal(sha256(archive), hex, 'reproducible: a second run writes the identical archive')

  const plugins = execFileSync(path.join(ROOT, 'dist', 'bin', 'tscni'), ['plugins'], { encoding: 'utf8' }).split('\n').filter(Boolean)
  const listing = execFileSync('tar', ['--list', '--verbose', '--numeric-owner', '--full-time', '-z', '-f', archive], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' }, // tar prints times in local time
  })
    .trim()
    .split('\n')
  const names = ['tscni', ...plugins].sort()
  t.equal(listing.length, names.length, 'one entry per file, no directory entry')
  listing.forEach((line, i) => {
    const [perm, owner, , , , entry] = line.split(/\s+/)
    t.equal(entry, names[i], `entry ${i} is ${names[i]} (sorted, at the root)`)
    t.equal(owner, '0/0', `${entry} owned 0:0`)
    t.equal(perm, entry === 'tscni' ? '-rwxr-xr-x' : 'lrwxrwxrwx', `${entry} mode`)
    t.match(line, new Date(Number(EPOCH) * 1000).toISOString().slice(0, 19).replace('T', ' '), `${entry} has the fixed mtime`)
  })

  // Unpacked into an empty directory: exactly tscni and one relative symlink per plugin.
  const dir = tempDir(t, 'rel-unpack')
  execFileSync('tar', ['-xzf', archive, '-C', dir])
  t.same(fs.readdirSync(dir).sort(), names)
  t.ok(fs.lstatSync(path.join(dir, 'tscni')).isFile())
  t.equal(fs.statSync(path.join(dir, 'tscni')).mode & 0o7777, 0o755)
  for (const p of plugins) t.equal(fs.readlinkSync(path.join(dir, p)), 'tscni', `${p} -> tscni`)

  await t.test('loopback answers VERSION with no node on PATH', async (t) => {
    const r = runPlugin([path.join(dir, 'loopback')], { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}')
    t.equal(r.code, 0, r.stderr)
    t.match(r.json, { cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] })
  })

  await t.test('bridge + host-local ADD, CHECK, DEL from the unpacked directory', async (t) => {
    // Helper-made names (tscni-t-rel-h-<pid>-<hex>) so the helpers' stale sweep knows them as live.
    const host = makeNetns(t, 'rel-h')
    const ctr = makeNetns(t, 'rel-c')
    const dataDir = path.join(tempDir(t, 'rel-ipam'), 'ipam')
    const conf = {
      cniVersion: '1.1.0',
      name: 'tscni-rel',
      type: 'bridge',
      bridge: 'trel0',
      isGateway: true,
      ipam: { type: 'host-local', subnet: '10.123.0.0/24', dataDir },
    }
    // The fake host is where the bridge plugin runs; nothing happens in the real host namespace.
    const bridge = [NSENTER, `--net=${host.path}`, '--', path.join(dir, 'bridge')]
    const env = (command: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'rel1', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: dir })

    const add = runPlugin(bridge, env('ADD'), JSON.stringify(conf))
    t.equal(add.code, 0, `ADD: ${add.stdout}${add.stderr}`)
    t.match(add.json, { cniVersion: '1.1.0', ips: [{ address: '10.123.0.2/24', gateway: '10.123.0.1' }] })
    t.same(eth0Addrs(ctr), ['10.123.0.2/24'], 'ip -n <container> addr: eth0 has 10.123.0.2/24')

    const check = runPlugin(bridge, env('CHECK'), JSON.stringify({ ...conf, prevResult: add.json }))
    t.equal(check.code, 0, `CHECK: ${check.stdout}${check.stderr}`)

    const del = runPlugin(bridge, env('DEL'), JSON.stringify({ ...conf, prevResult: add.json }))
    t.equal(del.code, 0, `DEL: ${del.stdout}${del.stderr}`)
    t.notOk(ipJson<any[]>(ctr, ['link', 'show']).some((l) => l.ifname === 'eth0'), "the container's eth0 is gone")
    t.notOk(fs.existsSync(path.join(dataDir, 'tscni-rel', '10.123.0.2')), 'the address is released')
  })
})
