/**
 * A private podman for the podman test: podman 4.3.1 (Debian 12) on its CNI backend, run inside a
 * fake host network namespace (nsenter --net), with every piece of its configuration and state in
 * one root-owned directory `/run/tscni-test-podman-<pid>-<hex>` (mode 0700):
 *
 *   containers.conf   CONTAINERS_CONF: network_backend "cni", cni_plugin_dirs = [the plugin dir],
 *                     network_config_dir, tmp_dir, static_dir, volume_path here; runc; cgroupfs;
 *                     file locks (not the shared /dev/shm/libpod_lock); no events (no journald);
 *                     hooks_dir and default_mounts_file here (no host OCI hooks or mounts apply)
 *   storage.conf      CONTAINERS_STORAGE_CONF: vfs, graphroot and runroot here
 *   registries.conf   CONTAINERS_REGISTRIES_CONF: empty (nothing is pulled)
 *   rootfs/           busybox-static and its applet links: the containers' root (`--rootfs`)
 *   plugins/          only with the developer override below
 *
 * Nothing in /etc/containers or /etc/cni is written, and nothing there is read: strace shows podman
 * only probing fixed paths (/etc/containers/podman-machine, storage.conf, mounts.conf; absent on
 * Debian); outside this directory it reads /usr/share/containers/seccomp.json (the default
 * profile). What podman, runc and the plugins still put outside it, all named after this run's
 * network, containers or cgroup parent, is
 * removed by cleanup(): the container netns files (/run/netns/netns-*), runc's state
 * (/run/runc/<id>), the result cache (/var/lib/cni/results/<network>-*), host-local's store
 * (/var/lib/cni/networks/<network>, the conflist sets no dataDir), our firewall's records
 * (/var/lib/cni/firewall/<network>) and the cgroups under
 * /sys/fs/cgroup/<controller>/<cgroup parent>. cleanup() also kills every process whose command line
 * names the private directory (conmon, `podman container cleanup`) and the containers' processes.
 * A run killed before its teardown is swept by the next one (state.json records what it made).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { NETNS_PREFIX, type TestNetns, deleteNetns, pidAlive } from '../helpers/netns'
import { BIN_DIR, NSENTER } from '../helpers/plugin'

export const PODMAN = '/usr/bin/podman'
export const BUSYBOX = '/usr/bin/busybox'
const RUNC = '/usr/sbin/runc'
const PRIVATE_PREFIX = 'tscni-test-podman-'
/** PATH for podman and the plugins it runs: iptables lives in /usr/sbin; no node on it. */
const PODMAN_PATH = '/usr/sbin:/sbin'

/** The plugins podman's generated conflist chains, plus host-local (bridge's IPAM). */
/** Where our firewall records attachments when the conflist names no dataDir (podman's does not). */
const FIREWALL_RECORDS = '/var/lib/cni/firewall'

export const PODMAN_PLUGINS = ['bridge', 'host-local', 'portmap', 'firewall', 'tuning']

export interface PodmanState {
  dir: string
  network: string
  cgroupParent: string
  hostNetns?: string
  containerIds: string[]
  sandboxes: string[]
  /** /var/lib/cni/firewall did not exist before this run (our firewall's default records dir). */
  firewallDirMade?: boolean
}

export interface Podman {
  state: PodmanState
  dir: string
  pluginDir: string
  host: TestNetns
  /** podman with the private configuration, in the fake host; never throws on a non-zero exit. */
  run(args: string[], timeoutMs?: number): { code: number; stdout: string; stderr: string }
  /** Like run, throwing with podman's stderr on a non-zero exit; returns stdout. */
  must(args: string[], timeoutMs?: number): string
  /** Records a container's id and netns path for cleanup (call right after `podman run`). */
  track(id: string): void
  /** Records the current state in state.json (for the sweep of a killed run). */
  save(): void
}

export function missingTools(): string[] {
  return [PODMAN, RUNC, BUSYBOX, '/usr/bin/conmon'].filter((f) => !fs.existsSync(f))
}

/**
 * The CNI plugin directory podman is given. The product's: dist/bin, nothing else.
 *
 * DEVELOPER-ONLY overrides (never set in CI):
 * - TSCNI_PODMAN_EXTRA_PLUGIN_DIR=/usr/lib/cni: a private directory of symlinks, everything in
 *   dist/bin plus the conflist's plugins dist/bin lacks (firewall, tuning until they land) taken
 *   from that directory. For proving the test before every plugin podman chains is ours.
 * - TSCNI_PODMAN_PLUGIN_DIR=/usr/lib/cni: that directory instead of dist/bin (the reference alone:
 *   is podman itself healthy here?).
 */
export function pluginDirFor(dir: string): string {
  const only = process.env.TSCNI_PODMAN_PLUGIN_DIR
  if (only) return only
  const extra = process.env.TSCNI_PODMAN_EXTRA_PLUGIN_DIR
  if (!extra) return BIN_DIR
  const mixed = path.join(dir, 'plugins')
  fs.mkdirSync(mixed, { mode: 0o700 })
  const ours = new Set(fs.readdirSync(BIN_DIR))
  for (const name of ours) fs.symlinkSync(path.join(BIN_DIR, name), path.join(mixed, name))
  for (const name of PODMAN_PLUGINS) if (!ours.has(name)) fs.symlinkSync(path.join(extra, name), path.join(mixed, name))
  return mixed
}

/** Which of podman's plugins a plugin dir lacks (dist/bin before firewall and tuning landed). */
export function missingPlugins(pluginDir: string): string[] {
  return PODMAN_PLUGINS.filter((p) => !fs.existsSync(path.join(pluginDir, p)))
}

/** The busybox rootfs: the static binary and the applets the test uses, as symlinks. */
function makeRootfs(dir: string): void {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'run', 'tmp']) fs.mkdirSync(path.join(dir, d), { recursive: true })
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin', 'busybox'))
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755)
  for (const applet of ['sh', 'httpd', 'wget', 'timeout', 'ping', 'ip', 'sleep', 'cat', 'hostname']) fs.symlinkSync('busybox', path.join(dir, 'bin', applet))
}

/**
 * Makes the private directory and configuration; `host` is the fake host namespace podman runs in.
 * The caller registers cleanup(p.state) as teardown right away.
 */
export function makePodman(host: TestNetns): Podman {
  sweepStale()
  const dir = fs.mkdtempSync(`/run/${PRIVATE_PREFIX}${process.pid}-`)
  fs.chmodSync(dir, 0o700)
  const hex = crypto.randomBytes(3).toString('hex')
  const state: PodmanState = {
    dir,
    network: `tscni-pod-${hex}`,
    cgroupParent: `/${PRIVATE_PREFIX}${hex}`,
    hostNetns: host.name,
    containerIds: [],
    sandboxes: [],
    firewallDirMade: !fs.existsSync(FIREWALL_RECORDS),
  }
  const save = () => fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state))
  save()
  const pluginDir = pluginDirFor(dir)
  const netd = path.join(dir, 'net.d')
  fs.mkdirSync(netd)
  makeRootfs(path.join(dir, 'rootfs'))
  const q = JSON.stringify
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    [
      '[containers]',
      'default_sysctls = ["net.ipv4.ping_group_range=0 0"]',
      // runc on this kernel needs explicit limits (crun does not start containers here at all).
      'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]',
      // No host's OCI hooks or default mounts (/usr/share and /etc/containers) reach the containers.
      `default_mounts_file = ${q(path.join(dir, 'mounts.conf'))}`,
      '[network]',
      'network_backend = "cni"',
      `cni_plugin_dirs = [${q(pluginDir)}]`,
      `network_config_dir = ${q(netd)}`,
      '[engine]',
      'runtime = "runc"',
      `hooks_dir = [${q(path.join(dir, 'hooks.d'))}]`,
      'cgroup_manager = "cgroupfs"',
      'events_logger = "none"',
      'lock_type = "file"',
      `tmp_dir = ${q(path.join(dir, 'tmp'))}`,
      `static_dir = ${q(path.join(dir, 'storage', 'libpod'))}`,
      `volume_path = ${q(path.join(dir, 'storage', 'volumes'))}`,
      '',
    ].join('\n'),
  )
  fs.writeFileSync(
    path.join(dir, 'storage.conf'),
    ['[storage]', 'driver = "vfs"', `graphroot = ${q(path.join(dir, 'storage'))}`, `runroot = ${q(path.join(dir, 'runroot'))}`, ''].join('\n'),
  )
  fs.writeFileSync(path.join(dir, 'registries.conf'), 'unqualified-search-registries = []\n')
  const env = {
    PATH: PODMAN_PATH,
    HOME: dir,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(dir, 'registries.conf'),
  }
  const run = (args: string[], timeoutMs = 30_000) => {
    const r = spawnSync(NSENTER, [`--net=${host.path}`, '--', PODMAN, ...args], { env, encoding: 'utf8', timeout: timeoutMs })
    if (r.error) throw r.error
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
  }
  const p: Podman = {
    state,
    dir,
    pluginDir,
    host,
    run,
    must(args, timeoutMs) {
      const r = run(args, timeoutMs)
      if (r.code !== 0) throw new Error(`podman ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`)
      return r.stdout
    },
    track(id) {
      state.containerIds.push(id)
      const r = run(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', id])
      const sandbox = r.stdout.trim()
      if (r.code === 0 && sandbox.startsWith('/run/netns/')) state.sandboxes.push(sandbox)
      save()
    },
    save,
  }
  return p
}

function quiet(cmd: string, args: string[], timeoutMs = 30_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env: { PATH: PODMAN_PATH } })
}

/** Pids of live processes whose command line contains `needle`. */
function pidsMentioning(needle: string): number[] {
  const pids: number[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(needle)) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

/** The cgroup directories under our parent in every v1 controller and the v2 tree, deepest first. */
function cgroupDirs(parent: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name))
    out.push(d)
  }
  let controllers: string[] = []
  try {
    controllers = fs.readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c))
  } catch {
    return []
  }
  for (const root of ['/sys/fs/cgroup', ...controllers]) {
    const d = path.join(root, parent)
    if (fs.existsSync(path.join(d, 'cgroup.procs'))) walk(d)
  }
  return out
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Mount points at or under `dir` in our mount namespace, deepest first. */
function mountsUnder(dir: string): string[] {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  const points = lines.map((l) => l.split(' ')[4]).filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
  return points.sort((a, b) => b.length - a.length)
}

/**
 * Removes everything a run made, whatever state it got to: containers (podman rm, when the fake
 * host still exists), the network, leftover processes, runc state, mounts, netns files, cgroups, the
 * CNI cache and store entries of the network, and the private directory. Never throws; returns what
 * went wrong, for the test to report.
 */
export function cleanup(state: PodmanState, host?: TestNetns): string[] {
  const problems: string[] = []
  const step = (what: string, fn: () => void) => {
    try {
      fn()
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`)
    }
  }
  const env = {
    PATH: PODMAN_PATH,
    HOME: state.dir,
    CONTAINERS_CONF: path.join(state.dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(state.dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(state.dir, 'registries.conf'),
  }
  // podman rm runs the plugins' DEL: only inside a fake host, never in the real host's namespace.
  // When the run's own fake host is gone already (a killed run, swept), a scratch one stands in:
  // DEL there finds nothing to undo, and podman still removes its netns files, runc state, cgroups.
  let hostPath = host?.path ?? (state.hostNetns ? `/run/netns/${state.hostNetns}` : undefined)
  let scratch: string | undefined
  if (fs.existsSync(env.CONTAINERS_CONF) && !(hostPath && fs.existsSync(hostPath))) {
    step('scratch namespace', () => {
      const name = `${NETNS_PREFIX}pod-sweep-${process.pid}-${crypto.randomBytes(3).toString('hex')}`
      if (quiet('/usr/bin/ip', ['netns', 'add', name]).status !== 0) throw new Error(`ip netns add ${name} failed`)
      scratch = name
      hostPath = `/run/netns/${name}`
    })
  }
  if (hostPath && fs.existsSync(hostPath) && fs.existsSync(env.CONTAINERS_CONF)) {
    step('podman rm', () => {
      spawnSync(NSENTER, [`--net=${hostPath}`, '--', PODMAN, 'rm', '--force', '--all', '--time', '0'], { env, encoding: 'utf8', timeout: 30_000 })
    })
    step('podman network rm', () => {
      spawnSync(NSENTER, [`--net=${hostPath}`, '--', PODMAN, 'network', 'rm', '--force', state.network], { env, encoding: 'utf8', timeout: 30_000 })
    })
  }
  if (scratch) step('scratch namespace', () => deleteNetns(scratch!))
  step('kill processes', () => {
    const inCgroups = cgroupDirs(state.cgroupParent).flatMap((d) => {
      try {
        return fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
      } catch {
        return []
      }
    })
    killPids([...new Set([...pidsMentioning(state.dir), ...inCgroups])])
  })
  for (const id of state.containerIds) {
    // A killed container's init may take a moment to die; runc delete waits for nothing.
    for (let i = 0; i < 20 && fs.existsSync(`/run/runc/${id}`); i++) {
      step(`runc delete ${id}`, () => void quiet(RUNC, ['delete', '--force', id]))
      if (fs.existsSync(`/run/runc/${id}`)) sleep(50)
    }
    if (fs.existsSync(`/run/runc/${id}`)) problems.push(`runc delete ${id}: state still there`)
  }
  step('unmount', () => {
    for (const m of [...mountsUnder(state.dir), ...state.sandboxes.flatMap((s) => mountsUnder(s))]) quiet('/usr/bin/umount', ['--lazy', m])
  })
  for (const s of state.sandboxes) step(`remove ${s}`, () => fs.rmSync(s, { force: true }))
  step('cgroups', () => {
    // A cgroup is removable once its processes are reaped; give the kernel a moment.
    for (let i = 0; i < 20; i++) {
      for (const d of cgroupDirs(state.cgroupParent)) {
        try {
          fs.rmdirSync(d)
        } catch {
          // busy: retried
        }
      }
      if (cgroupDirs(state.cgroupParent).length === 0) return
      sleep(50)
    }
    throw new Error(`still there: ${cgroupDirs(state.cgroupParent).join(', ')}`)
  })
  step('CNI store and cache', () => {
    fs.rmSync(path.join('/var/lib/cni/networks', state.network), { recursive: true, force: true })
    fs.rmSync(path.join(FIREWALL_RECORDS, state.network), { recursive: true, force: true })
    if (state.firewallDirMade) {
      try {
        fs.rmdirSync(FIREWALL_RECORDS) // only when empty: records of anything else stay
      } catch {
        // not empty, or gone
      }
    }
    const results = '/var/lib/cni/results'
    if (fs.existsSync(results)) for (const f of fs.readdirSync(results)) if (f.startsWith(`${state.network}-`)) fs.rmSync(path.join(results, f), { force: true })
  })
  step('private dir', () => fs.rmSync(state.dir, { recursive: true, force: true }))
  return problems
}

/** Cleans up after earlier runs that were killed before their teardown (their pid is gone). */
function sweepStale(): void {
  let entries: string[]
  try {
    entries = fs.readdirSync('/run')
  } catch {
    return
  }
  for (const name of entries) {
    const m = new RegExp(`^${PRIVATE_PREFIX}(\\d+)-`).exec(name)
    if (!m || pidAlive(Number(m[1]))) continue
    const dir = path.join('/run', name)
    let state: PodmanState
    try {
      state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'))
    } catch {
      continue
    }
    if (state.dir !== dir) continue
    cleanup(state)
    if (state.hostNetns) deleteNetns(state.hostNetns)
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}


// --- reading the fake host back ---------------------------------------------------------------

/** Runs a command in a namespace (test side: iptables-save, busybox wget as the fake host's client). */
export function inNs(ns: TestNetns, cmd: string[], timeoutMs = 15_000) {
  const r = spawnSync(NSENTER, [`--net=${ns.path}`, '--', ...cmd], { encoding: 'utf8', timeout: timeoutMs, env: { PATH: '/usr/sbin:/sbin' } })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** Every table's rules in the fake host, IPv4 and IPv6, without comments and counters. */
export function rules(ns: TestNetns): string[] {
  const out: string[] = []
  for (const tool of ['/usr/sbin/iptables-save', '/usr/sbin/ip6tables-save']) {
    const r = inNs(ns, [tool])
    if (r.code !== 0) throw new Error(`${tool}: ${r.stderr}`)
    let table = ''
    for (const line of r.stdout.split('\n')) {
      if (line === '' || line.startsWith('#') || line === 'COMMIT') continue
      if (line.startsWith('*')) table = line
      else out.push(`${path.basename(tool, '-save')} ${table} ${line.replace(/ \[\d+:\d+\]$/, '')}`)
    }
  }
  return out
}

/**
 * What stays in the fake host by design once every container is gone, as with the reference: the
 * shared chains portmap and firewall make on first use (chained-plugins.md: portmap §1.6; firewall
 * §2.4, DEL keeps CNI-FORWARD, CNI-ADMIN and their jumps). Empty built-in chains and tables of `before`
 * are already in `before`.
 */
export const SHARED = new Set([
  'iptables *nat :CNI-HOSTPORT-DNAT -',
  'iptables *nat :CNI-HOSTPORT-MASQ -',
  'iptables *nat :CNI-HOSTPORT-SETMARK -',
  'iptables *nat -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
  'iptables *nat -A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
  'iptables *nat -A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
  'iptables *nat -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
  'iptables *nat -A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000',
  'iptables *filter :CNI-ADMIN -',
  'iptables *filter :CNI-FORWARD -',
  'iptables *filter -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD',
  'iptables *filter -A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN',
])
/** Lines iptables-save prints for a table that exists, whether or not anything is in it. */
export const BUILTIN = /^ip6?tables \*\w+ :[A-Z]+ (ACCEPT|DROP)$/


/** Lines of `nft list ruleset` in a namespace that name a 10.63 address (iptables-nft's included). */
export function nftLinesWith10_63(ns: TestNetns): string[] {
  const r = inNs(ns, ['/usr/sbin/nft', 'list', 'ruleset'])
  if (r.code !== 0) throw new Error(`nft: ${r.stderr}`)
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.includes('10.63.'))
}
