// Side by side with the Go reference plugins, part 5: every conflist in examples/netconf, run the
// way libcni runs a list (each plugin with the list's name and cniVersion, prevResult chained on
// ADD, the final result on CHECK and DEL, DEL in reverse order, runtimeConfig.portMappings for
// plugins with that capability; only the IPAM, tuning and firewall dataDirs go to a temp dir). Two containers: ADD,
// ADD, CHECK, CHECK, DEL, DEL, DEL again, compared strictly after every plugin call (scenario.ts).
// Examples at cniVersion 1.1.0 run ours at 1.1.0 and the reference at its newest, 1.0.0.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { allow } from '../../helpers/deliberate'
import { NO_EMPTY_DNS } from '../../helpers/expectations'
import { BIN_DIR, REF_DIR } from '../../helpers/plugin'
import { ABSENT } from '../../helpers/side-by-side'
import { HAVE_REF_BRIDGE, kernelHasVlanFiltering } from './fixture'
import { type Ctx, type Scenario, type Step, at110, oursSucceedsWhereReferenceFails, runScenario, setHostPorts } from './scenario'

const DIR = path.join(__dirname, '..', '..', '..', 'examples', 'netconf')
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.conflist')).sort()

/** A line of HEAD's nftables masquerade table (any container of the example's subnet). */
const HEAD_MASQ_LINE =
  /^(table inet cni_plugins_masquerade \{|\tcomment "Masquerading for plugins from github\.com\/containernetworking\/plugins"|\tchain (masq_checks|postrouting) \{|\t\tcomment "Masquerade traffic from certain IPs to any \(non-multicast\) IP outside their subnet"|\t\tip daddr 224\.0\.0\.0\/4 return|\t\tip6 daddr ff00::\/8 return|\t\tgoto masq_checks|\t\tip saddr 10\.88\.1\.\d+ ip daddr != 10\.88\.1\.0\/24 masquerade comment "[0-9a-f]{16}-[0-9a-f]{16}, net: masq, if: eth0, id: ctr-[ab]"|\t*\})$/

/** Port mappings the runtime passes to plugins with the portMappings capability, per container. */
const PORTS: Record<string, object[]> = {
  a: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
  b: [{ hostPort: 18081, containerPort: 8080, protocol: 'udp' }],
}

/**
 * The config of plugin `i` of a conflist as libcni builds it for one container: the list's name and
 * cniVersion, runtimeConfig from the capabilities the runtime has arguments for (port mappings),
 * the IPAM dataDir redirected to the side's temp dir.
 */
function pluginConf(list: any, i: number, label: string): (c: Ctx) => Record<string, any> {
  const plugin = list.plugins[i]
  return (c) => {
    const conf: Record<string, any> = { ...plugin, name: list.name, cniVersion: list.cniVersion }
    if (plugin.ipam) conf.ipam = { ...plugin.ipam, dataDir: c.dataDir }
    // Chained plugins that keep files (tuning's saved originals, our firewall's records) keep them
    // in the side's own directory: the two sides run the same container IDs.
    if (plugin.type === 'tuning' || plugin.type === 'firewall') conf.dataDir = `${c.dataDir}/${plugin.type}`
    if (plugin.capabilities?.portMappings) conf.runtimeConfig = { portMappings: PORTS[label] }
    return conf
  }
}

/** Our implementation of every plugin type of the list exists in dist/bin. */
const ourTypes = (list: any) => list.plugins.map((p: any) => p.type).filter((type: string) => !fs.existsSync(path.join(BIN_DIR, type)))
/** Plugin types of the list that the reference does not have (our own plugins, e.g. etcd-ipam). */
const refMissing = (list: any) =>
  [...list.plugins.map((p: any) => p.type), ...list.plugins.map((p: any) => p.ipam?.type).filter(Boolean)].filter((type: string) => !fs.existsSync(path.join(REF_DIR, type)))

function scenario(file: string, vlanKernel: boolean): Scenario {
  const list = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))
  const first = list.plugins[0]
  const v1 = String(list.cniVersion).startsWith('1.')
  // VLANs fail alike on a kernel without bridge VLAN filtering (runScenario undoes the reference's veth).
  const fails = first.vlan !== undefined && !vlanKernel
  // An IPAM route without gw (other than a default route): Debian's CHECK cannot find it, ours can.
  const gwLess = (first.ipam?.routes ?? []).some((r: any) => !r.gw && r.dst !== '0.0.0.0/0' && r.dst !== '::/0')
  // Debian's portmap CHECK always checks the IPv6 side, with the IPv4 rules (so it never passes);
  // with IPv4 addresses only, its DEL also creates the empty ip6 nat table.
  const subnets: string[] = [first.ipam?.subnet, ...(first.ipam?.ranges ?? []).flat().map((r: any) => r.subnet)].filter(Boolean)
  const dualStack = subnets.some((s) => s.includes(':'))
  const hasPortmap = list.plugins.some((p: any) => p.type === 'portmap')
  const n = list.plugins.length
  const steps: Step[] = []
  const at = (i: number, label: string, extra: Partial<Step> = {}): Partial<Step> => ({ plugin: list.plugins[i].type, ctr: label, ...extra })
  for (const label of ['a', 'b']) {
    for (let i = 0; i < n; i++) {
      const conf = pluginConf(list, i, label)
      steps.push({
        name: `ADD ${list.plugins[i].type}`,
        command: 'ADD',
        conf: i === 0 ? conf : (c) => ({ ...conf(c), prevResult: c.prev }),
        ...at(i, label),
        ...(i === 0 && first.portIsolation ? { refFixup: { id: 'headKeys' as const, run: (s: any) => setHostPorts(s, ['isolated', 'on']) } } : {}),
        allow: v1 && !fails ? [NO_EMPTY_DNS] : [],
      })
      if (fails) break
    }
  }
  const withPrev = (i: number, label: string) => (c: Ctx) => ({ ...pluginConf(list, i, label)(c), prevResult: c.prev })
  for (const label of ['a', 'b']) {
    for (let i = 0; i < n; i++) {
      const check =
        gwLess && i === 0
          ? oursSucceedsWhereReferenceFails('checkGatewayLessRoute', { code: 999, msg: /^Expected Route .* not found in routing table$/ })
          : list.plugins[i].type === 'portmap'
            ? oursSucceedsWhereReferenceFails('portmapCheckFamily', { code: 999, msg: /^could not check ipv6 dnat: / })
            : list.plugins[i].type === 'tuning' && JSON.stringify(list.plugins[i].sysctl ?? {}).includes('IFNAME')
              ? oursSucceedsWhereReferenceFails('tuningCheckIfname', { code: 999, msg: /^open \/proc\/sys\/.*IFNAME.*: no such file or directory$/ })
              : []
      steps.push({ name: `CHECK ${list.plugins[i].type}${fails ? ' (no prevResult: the ADD failed)' : ''}`, command: 'CHECK', conf: withPrev(i, label), ...at(i, label), allow: check })
      if (fails) break
    }
  }
  for (const [label, again] of [['a', ''], ['b', ''], ['a', ' again']]) {
    for (let i = n - 1; i >= 0; i--) steps.push({ name: `DEL ${list.plugins[i].type}${again}`, command: 'DEL', conf: withPrev(i, label), ...at(i, label) })
  }
  const missing = ourTypes(list)
  const noRef = refMissing(list)
  return {
    name: file,
    containers: ['a', 'b'],
    steps: list.cniVersion === '1.1.0' ? steps.map(at110) : steps,
    allow: [
      // Our firewall's records of its attachments (the reference keeps none).
      allow('firewallRecords', /^store\.firewall\//, { reference: ABSENT, optional: true }),
      ...(hasPortmap && !dualStack
        ? [
            allow('portmapNoEmptyIp6Nat', /^host\.ip6tables\[lines\]$/, { ours: [], reference: (v: string[]) => v[0] === '*nat' && v.every((l) => /^(\*nat|:\w+ ACCEPT \[0:0\]|COMMIT)$/.test(l)), optional: true }),
            allow('portmapNoEmptyIp6Nat', /^host\.nft\[lines\]$/, { ours: [], reference: ['table ip6 nat {', '}'], optional: true }),
          ]
        : []),
      ...(first.ipMasqBackend === 'nftables'
        ? [
            // Debian ignores ipMasqBackend and uses iptables; ours puts HEAD's rules (reference-plugins.md
            // §1.3) into nftables and leaves iptables alone.
            allow('headKeys', /^host\.iptables\[lines\]$/, { ours: [] }),
            allow('headKeys', /^host\.nft\[lines\]$/, {
              ours: (v: string[]) => v.every((l) => HEAD_MASQ_LINE.test(l)) && v.includes('table inet cni_plugins_masquerade {'),
              reference: (v: string[]) => v.every((l) => !l.includes('cni_plugins_masquerade')),
            }),
          ]
        : []),
    ],
    skip: missing.length
      ? `no ${missing.join(', ')} of ours in dist/bin`
      : noRef.length
        ? `the reference has no ${noRef.join(', ')} (that example's own test runs it)`
        : first.vlan !== undefined && vlanKernel
          ? 'with VLAN filtering, Debian keeps VID 1 on the port (no preserveDefaultVlan key)'
          : undefined,
  }
}

if (!HAVE_REF_BRIDGE) t.pass('side by side', { skip: 'no reference bridge in /usr/lib/cni' })
else {
  const vlanKernel = kernelHasVlanFiltering(t)
  t.setTimeout(60_000 + FILES.length * 40_000)
  t.ok(FILES.length >= 6, `every example (${FILES.join(', ')})`)
  for (const f of FILES) {
    const sc = scenario(f, vlanKernel)
    t.test(sc.name, { skip: sc.skip }, async (t) => runScenario(t, sc))
  }
}
