/**
 * THE list of deliberate differences from the reference plugins (Debian's containernetworking-plugins
 * 1.1.1 in /usr/lib/cni; "HEAD" is upstream's current code, see shared/reference-plugins.md).
 *
 * The side-by-side tests (test/plugins/{bridge,host-local,loopback}/reference*.test.ts) compare
 * stdout byte for byte (key order aside), the complete `ip -d -j` state of every namespace, sysctls,
 * iptables, nftables and the host-local store. The only things they forgive are random values
 * (MACs, interface indexes, host veth names, kernel timers: test/helpers/kernel-state.ts) and the
 * entries below, each used by name where it applies (`allow(id, ...)`), so a difference that is not
 * here fails. An entry that a test claims but does not see fails too: the list cannot go stale.
 *
 * The README's "How the plugins behave" lists the same entries by title
 * (test/deliberate.test.ts keeps the two equal).
 */
export interface Deliberate {
  /** The README's bold title for it. */
  title: string
  /** What ours does. */
  ours: string
  /** What the reference does. */
  reference: string
  /** Why ours differs. */
  why: string
}

export const DELIBERATE = {
  versionEcho: {
    title: 'VERSION',
    ours: 'answers with the cniVersion the runtime sent (and lists 1.1.0 among the supported versions)',
    reference: 'always answers "cniVersion": "1.0.0", its newest',
    why: 'the spec: VERSION reports the version of the request; stdin is read for at most 100 ms so an open stdin never hangs it',
  },
  spec110: {
    title: 'Spec 1.1.0',
    ours: 'accept cniVersion 1.1.0 and know the GC and STATUS verbs (refused with code 1 below 1.1.0, like HEAD); host-local implements GC (releases allocations not in cni.dev/valid-attachments) and STATUS (code 50 when the data directory is unusable or a range set is exhausted)',
    reference: 'Debian 1.1.1 stops at spec 1.0.0: cniVersion 1.1.0 is code 1 "incompatible CNI versions"; it does not know GC and STATUS (code 3 "missing containerID" when they come without a container ID, as runtimes send them, else code 4 "unknown CNI_COMMAND"); HEAD knows the verbs but its host-local does nothing for them',
    why: 'the runtimes of a current node (containerd 2, CRI-O, podman) send 1.1.0 and call GC/STATUS',
  },
  resultShape: {
    title: '1.x results',
    ours: 'print 1.0.0/1.1.0 results like HEAD (libcni 1.3): keys sorted alphabetically, an empty "dns" omitted',
    reference: 'Debian 1.1.1 prints Go struct key order and always "dns": {}',
    why: 'the shape the current reference prints; the key order is forgiven by every comparison, the absent empty dns is this entry',
  },
  errorVersion: {
    title: 'Errors carry cniVersion',
    ours: 'an error object names the cniVersion of the request when the config\'s version is known: {"cniVersion":"1.0.0","code":7,...}',
    reference: 'prints only code, msg and details (Go\'s types.Error has no version field)',
    why: 'spec 1.1.0 lists cniVersion in the error object ("the protocol version in use"); runtimes ignore unknown keys, so nothing reading the reference\'s errors breaks',
  },
  loopbackOldShapes: {
    title: 'loopback at 0.1.0–0.4.0',
    ours: 'answers in that version\'s shape (0.3.x/0.4.0: ips carry "version"; 0.1.0/0.2.0: ip4/ip6 and "dns": {})',
    reference: 'prints the 1.x shape under the older cniVersion label',
    why: 'the spec requires the result in the config\'s version; a runtime of that version cannot read the 1.x shape',
  },
  checkL2: {
    title: 'CHECK of an L2 bridge',
    ours: 'passes when the bridge, the veth pair and the MACs are as prevResult says',
    reference: 'fails with "no plugin name provided" (it always asks the empty IPAM type first)',
    why: 'an L2 attachment has nothing for IPAM to check; the reference can never pass CHECK for one',
  },
  checkGatewayLessRoute: {
    title: 'CHECK of a route without a gateway',
    ours: 'passes when the route is in the table',
    reference: 'Debian 1.1.1 fails "Expected Route {Dst:... GW:<nil>} not found in routing table" for an IPAM route without gw that it installed itself',
    why: 'the route is in the table; Debian\'s lookup with a nil gateway does not find the route it added itself (its bug), so CHECK could never pass for such a config',
  },
  typeErrorCode7: {
    title: 'A wrongly typed config field',
    ours: 'is code 7 naming the field: failed to load netconf: "mtu" must be integer',
    reference: 'code 999 with Go\'s decoder text: json: cannot unmarshal string into Go struct field NetConf.mtu of type int',
    why: 'code 7 is the spec\'s "invalid network configuration"; the field name is what an operator needs',
  },
  failedAddUndone: {
    title: 'A failed ADD removes its veth',
    ours: 'undoes everything it did: masquerade rules, IPAM allocation, spoof check, the veth pair (with the container\'s addresses and routes)',
    reference: 'releases IPAM and the spoof check only; its veth stays in the container and a retried ADD fails with "already exists" until the runtime calls DEL',
    why: 'the spec: a failed ADD must leave nothing behind; runtimes retry ADD',
  },
  delWithoutNetnsCleansHost: {
    title: 'DEL without a namespace',
    ours: 'still removes the masquerade rules (and the spoof-check chains): the chain names come from network and container ID',
    reference: 'with CNI_NETNS empty or gone only calls IPAM DEL; its masquerade chain and rules stay for ever',
    why: 'a runtime whose container died calls DEL without a namespace; the host must still be cleaned',
  },
  delCreatesNoStore: {
    title: 'DEL of what was never added',
    ours: 'creates no store directory (host-local DEL and GC do not create <dataDir>/<network>)',
    reference: 'creates <dataDir>/<network> and its lock file (and fails DEL when it cannot)',
    why: 'DEL must succeed when there is nothing to delete, and leave nothing either',
  },
  ipamDns: {
    title: 'bridge passes IPAM\'s DNS through',
    ours: 'when the bridge config has no "dns", the result carries the DNS that IPAM returned (host-local\'s resolvConf)',
    reference: 'Debian 1.1.1 always replaces it with the config\'s (empty) dns; HEAD passes IPAM\'s through',
    why: 'upstream fixed it after 1.1.1: the container\'s resolver needs it',
  },
  keepAddrOnDown: {
    title: 'IPv6 addresses survive a link down',
    ours: 'sets net.ipv6.conf.<ifname>.keep_addr_on_down=1 in the container before adding its first IPv6 address, as HEAD does',
    reference: 'Debian 1.1.1 leaves it 0: a link down in the container drops its IPv6 addresses for good',
    why: 'upstream fixed it after 1.1.1: an address the runtime was told about must not vanish when the link flaps',
  },
  headKeys: {
    title: 'Keys Debian 1.1.1 does not know',
    ours: 'ipMasqBackend, vlanTrunk, preserveDefaultVlan (default false), disableContainerInterface and portIsolation take effect, as at HEAD; so do the IPAM route fields priority, table, scope, mtu and advmss (and the result keeps them)',
    reference: 'Debian 1.1.1 ignores them (always iptables, no trunk, the default VLAN kept, the interface up, the port not isolated; every route in main with no metric, and the result drops the fields)',
    why: 'conflists written for current upstream use them (examples/netconf/20-bridge-masquerade and 60-bridge-isolated do)',
  },
  portmapCheckFamily: {
    title: 'portmap CHECK looks at each address\'s own family',
    ours: 'checks the IPv4 rules for IPv4 container addresses and the IPv6 rules for IPv6 ones',
    reference: 'Debian 1.1.1 always checks the IPv6 side too, looking for the IPv4 rules there: CHECK fails with "could not check ipv6 dnat: ... not found" for every container, IPv4-only or dual-stack',
    why: 'CHECK must pass for a healthy IPv4-only container (the fact sheet\'s quirk 8); the reference can never pass it',
  },
  portmapNoEmptyIp6Nat: {
    title: 'portmap DEL makes no empty ip6 nat table',
    ours: 'DEL of an IPv4-only container leaves ip6tables\' nat table as it was',
    reference: 'Debian 1.1.1 runs ip6tables on DEL even with no IPv6 address, which creates an empty ip6 nat table (and its built-in chains)',
    why: 'DEL must not create what ADD never made (the fact sheet\'s quirk 13)',
  },
  storeIndex: {
    title: 'host-local\'s index',
    ours: 'keeps <dataDir>/<network>/.tscni/ (an index of the allocations) beside the reference\'s files',
    reference: 'has only the address files, last_reserved_ip.N and lock',
    why: 'decided in shared/ARCHITECTURE.md: ADD on a network with 60,000 allocations must not read 60,000 files; the reference reads the index files and matches nothing in them',
  },
  tuningChecksFirst: {
    title: 'tuning checks everything before it changes anything',
    ours: 'validates the MAC, every sysctl name (allowlist included) and the backup directory first; a failed ADD puts back sysctls, link attributes and the backup file; a second ADD keeps the first one\'s saved originals; args.cni.sysctl without sysctl works',
    reference: 'Debian 1.1.1 writes sysctls and link attributes as it goes, so a failed ADD leaves part of the config applied; a second ADD overwrites the saved originals with the already-changed values; args.cni.sysctl without sysctl panics',
    why: 'a failed ADD must leave nothing behind, and DEL must restore the values from before the first ADD',
  },
  tuningCheckIfname: {
    title: 'tuning CHECK understands IFNAME',
    ours: 'replaces IFNAME in sysctl names in CHECK as in ADD (after the dots, so eth0.100 works)',
    reference: 'Debian 1.1.1 replaces it in ADD only: CHECK fails with "open /proc/sys/net/ipv4/conf/IFNAME/arp_notify: no such file or directory"; it also replaces it before the dots',
    why: 'upstream fixed both (v1.2.0, v1.3.0): CHECK of a config its own ADD applied must pass',
  },
  firewallRecords: {
    title: 'firewall records each attachment',
    ours: 'ADD writes the attachment\'s addresses to <dataDir>/<network>/<containerID>:<ifName> (default /var/lib/cni/firewall), DEL removes it; a failed ADD removes the rules it added',
    reference: 'keeps no state: its per-address rules carry no comment, so nothing tells which attachment they belong to; a failed ADD leaves its rules',
    why: 'GC (spec 1.1.0) must remove the rules of attachments the runtime no longer has, and DEL without a prevResult must still find them',
  },
} as const satisfies Record<string, Deliberate>

export type DeliberateId = keyof typeof DELIBERATE

/** A difference a test forgives at `path` (a regular expression over the diff path), by entry. */
export interface Allowance {
  id: DeliberateId
  path: RegExp
  /**
   * When set, ours must have this value there (the deliberate behaviour, not just any difference):
   * a JSON value (raw stdout leaves decoded), a RegExp for a string, a predicate over the decoded
   * value, or ABSENT (side-by-side.ts).
   */
  ours?: unknown
  /** The same for the reference's value. */
  reference?: unknown
  /** Applies to a family of cases where it is not always seen (never claimed by a single case). */
  optional?: boolean
}

export function allow(id: DeliberateId, path: RegExp, values: { ours?: unknown; reference?: unknown; optional?: boolean } = {}): Allowance {
  return { id, path, ...values }
}

/** How a test message names an entry. */
export function deliberate(id: DeliberateId): string {
  return `deliberate: ${DELIBERATE[id].title}`
}
