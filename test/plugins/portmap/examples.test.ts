// The example conflists with portmap (examples/netconf/70-containerd-default.conflist and
// 80-podman-bridge-portmap.conflist) run as they are through dist/cnitool, inside a fake host (via
// nsenter), with CNI_PATH=dist/bin and the capability args and CNI_ARGS each runtime passes
// (CAP_ARGS): two containers attach, a client reaches the mapped ports, CHECK passes, and DEL
// leaves nothing. Only the IPAM dataDir is redirected to a temp dir (and the result cache).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { isIP } from 'node:net'
import * as path from 'node:path'
import t, { type Test } from 'tap'
import { ipJson, type TestNetns } from '../../helpers/netns'
import { BIN_DIR, NSENTER, RUNTIME_PATH } from '../../helpers/plugin'
import { dadSettled, flows, natSave, nftRuleset, request, startServers, tempDir, world } from './fixture'

const ROOT = path.join(__dirname, '..', '..', '..')
const CNITOOL = path.join(ROOT, 'dist', 'cnitool')
const DIR = path.join(ROOT, 'examples', 'netconf')

interface Example {
  file: string
  /** What the runtime passes: capability args (CAP_ARGS) and CNI_ARGS. */
  capArgs: Record<string, unknown>
  cniArgs: string
  /** [protocol, host address, host port, what the server answers]. */
  requests: (gw: { v4: string; v6?: string }) => ['tcp' | 'udp', string, number, RegExp][]
}

const EXAMPLES: Example[] = [
  {
    file: '70-containerd-default.conflist',
    // containerd's CRI: Go struct field names as keys, "HostIP" always there; K8S_* args.
    capArgs: {
      portMappings: [
        { HostPort: 8080, ContainerPort: 80, Protocol: 'tcp', HostIP: '' },
        { HostPort: 8053, ContainerPort: 53, Protocol: 'udp', HostIP: '' },
      ],
    },
    cniArgs: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=0123456789abcdef;K8S_POD_UID=4b1d1f2e;IgnoreUnknown=1',
    requests: (gw) => [
      ['tcp', gw.v4, 8080, /^tcp:80:/],
      ['udp', gw.v4, 8053, /^udp:53:/],
      ['tcp', gw.v6!, 8080, /^tcp:80:/],
      ['udp', gw.v6!, 8053, /^udp:53:/],
      ['tcp', '127.0.0.1', 8080, /^tcp:80:/],
    ],
  },
  {
    file: '80-podman-bridge-portmap.conflist',
    // podman: lower-case keys, hostIP left out when empty; IgnoreUnknown and the container name.
    capArgs: {
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 8053, containerPort: 53, protocol: 'udp' },
        { hostPort: 8443, containerPort: 443, protocol: 'tcp', hostIP: '10.138.100.1' },
      ],
    },
    cniArgs: 'IgnoreUnknown=1;K8S_POD_NAME=web',
    requests: (gw) => [
      ['tcp', gw.v4, 8080, /^tcp:80:/],
      ['udp', gw.v4, 8053, /^udp:53:/],
      ['tcp', gw.v4, 8443, /^tcp:443:/],
      ['tcp', '127.0.0.1', 8080, /^tcp:80:/],
    ],
  },
]

const SHARED = [
  ':CNI-HOSTPORT-DNAT -',
  ':CNI-HOSTPORT-MASQ -',
  ':CNI-HOSTPORT-SETMARK -',
  '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
  '-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
  '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
  '-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
  '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000',
]

/**
 * The conflist as it is, with host-local's dataDir moved into a temp dir, and portmap told to use
 * `backend` when one is given (what an operator adds to the conflist to choose nftables).
 */
function install(file: string, netconfDir: string, dataDir: string, backend?: string): any {
  const list = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))
  for (const p of list.plugins) if (p.ipam) p.ipam.dataDir = dataDir
  if (backend) for (const p of list.plugins) if (p.type === 'portmap') p.backend = backend
  fs.writeFileSync(path.join(netconfDir, file), JSON.stringify(list, null, 2))
  return list
}

function cnitool(host: TestNetns, args: string[], env: Record<string, string>) {
  const r = spawnSync(NSENTER, [`--net=${host.path}`, '--', CNITOOL, ...args], { env: { PATH: RUNTIME_PATH, ...env }, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** The fake host's state that DEL must bring back: links, portmap and bridge nat rules, nft rules. */
function hostState(host: TestNetns) {
  const cni = (lines: string[]) => lines.filter((l) => l.includes('CNI-'))
  return {
    links: ipJson(host, ['link', 'show']).map((l: any) => l.ifname).sort(),
    nat4: cni(natSave(host, 4)),
    nat6: cni(natSave(host, 6)),
    nft: nftRuleset(host).split('\n').filter((l) => l.includes('comment')),
  }
}

// Every example as written (portmap picks iptables here), and containerd's with nftables too.
const RUNS = [...EXAMPLES.map((ex) => ({ ex, backend: undefined as string | undefined })), { ex: EXAMPLES[0], backend: 'nftables' }]

for (const { ex, backend } of RUNS) {
  t.test(`${ex.file}${backend ? ` with portmap on ${backend}` : ''}`, async (t: Test) => {
    const w = world(t, 'pex')
    const netconfDir = tempDir(t)
    const list = install(ex.file, netconfDir, w.dataDir, backend)
    const env = {
      NETCONFPATH: netconfDir,
      CNI_PATH: BIN_DIR,
      CNI_CACHE_DIR: path.join(tempDir(t), 'cache'),
      CNI_ARGS: ex.cniArgs,
      CAP_ARGS: JSON.stringify(ex.capArgs),
    }
    const a = w.container('a')
    const b = w.container('b')
    const hostBefore = hostState(w.host)

    const addA = cnitool(w.host, ['add', list.name, a.path], env)
    t.equal(addA.code, 0, `cnitool add a ${addA.stderr}`)
    // The second container maps nothing (a runtime passes no portMappings then).
    const addB = cnitool(w.host, ['add', list.name, b.path], { ...env, CAP_ARGS: '{}' })
    t.equal(addB.code, 0, `cnitool add b ${addB.stderr}`)
    const ra = JSON.parse(addA.stdout)
    const bridge = list.plugins[0].bridge as string
    const gw = {
      v4: (ra.ips as any[]).find((i) => !i.address.includes(':')).gateway as string,
      v6: (ra.ips as any[]).find((i) => i.address.includes(':'))?.gateway as string | undefined,
    }
    if (backend === 'nftables') t.match(nftRuleset(w.host), /dnat to .*:80 comment/, 'portmap rules are in nftables')
    else t.ok(hostState(w.host).nat4.some((l) => l.includes('dnat name:')), 'portmap rules are there')
    await dadSettled(w.host, a, b)
    await startServers(t, a, { tcp: [80, 443], udp: [53] })

    for (const [proto, host, port, answer] of ex.requests(gw)) {
      t.match(request(w.host, proto, host, port), answer, `${proto} ${host}:${port} from the fake host`)
    }
    t.match(request(b, 'tcp', gw.v4, 8080), /^tcp:80:/, 'from the other container through the bridge address (hairpin)')

    const check = cnitool(w.host, ['check', list.name, a.path], env)
    t.equal(check.code, 0, `cnitool check ${check.stderr}`)

    for (const ns of [a, b]) {
      const del = cnitool(w.host, ['del', list.name, ns.path], env)
      t.equal(del.code, 0, `cnitool del ${del.stderr}`)
    }
    t.match(request(w.host, 'tcp', gw.v4, 8080), /^(error|timeout)/, 'the port is closed again')
    const after = hostState(w.host)
    t.same(after.links.filter((l: string) => l !== bridge), hostBefore.links, 'no veth left, only the bridge stays')
    // What the reference leaves too: the shared chains, their jumps and rules (chained-plugins.md §1.6).
    const shared = backend === 'nftables' ? [] : SHARED
    t.same(after.nat4, shared, 'iptables: only the shared CNI-HOSTPORT-* chains stay')
    t.same(after.nat6, gw.v6 ? shared : [], 'ip6tables: the same')
    t.same(after.nft.filter((l) => !l.includes('"CNI portmap plugin"')), [], 'no nft rule with a comment (the table stays, as upstream leaves it)')
    t.same(flows(w.host, 4).filter((f) => f.protocol === 17 && f.dstPort === 8053), [], 'no UDP flow to the mapped port')
    t.same(fs.readdirSync(path.join(w.dataDir, list.name)).filter((f) => isIP(f) !== 0), [], 'no address reserved')
  })
}
