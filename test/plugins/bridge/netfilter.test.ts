// ipMasq (iptables and nftables) and macspoofchk, read back from the fake host's netfilter, with the
// reference's chain names, rules and comments.
import { createHash } from 'node:crypto'
import t from 'tap'
import { ipIn } from '../../helpers/netns'
import { addrSettled, bridgeConf, inNetns, natRules, nftRuleset, ping, runBridge, withPrev, world } from './fixture'

const sha = (s: string, n: number) => createHash('sha512').update(s).digest('hex').slice(0, n)
const chain = (net: string, id: string) => `CNI-${sha(net + id, 24)}`

t.test('iptables masquerade: the reference’s chain and rules, per family; DEL removes only its own', async (t) => {
  const w = world(t, 'masq')
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: ['10.80.1.0/24', 'fd00:80:1::/64'], isGateway: true, ipMasq: true })
  const a = runBridge(w, 'ADD', conf, { netns: w.container('a').path, containerID: 'ctr-a' })
  t.equal(a.code, 0, a.stdout)
  const ca = chain('tnet', 'ctr-a')
  t.equal(chain('rs-net1', 'ctr1'), 'CNI-33221c4e59c78a66e31b2f00', 'the naming rule matches the reference’s observed chain')
  const comment = '"name: \\"tnet\\" id: \\"ctr-a\\""'
  t.same(natRules(w.host).filter((l) => l.includes('CNI-')), [
    `-N ${ca}`,
    `-A POSTROUTING -s 10.80.1.2/32 -m comment --comment ${comment} -j ${ca}`,
    `-A ${ca} -d 10.80.1.0/24 -m comment --comment ${comment} -j ACCEPT`,
    `-A ${ca} ! -d 224.0.0.0/4 -m comment --comment ${comment} -j MASQUERADE`,
  ])
  t.same(natRules(w.host, 6).filter((l) => l.includes('CNI-')), [
    `-N ${ca}`,
    `-A POSTROUTING -s fd00:80:1::2/128 -m comment --comment ${comment} -j ${ca}`,
    `-A ${ca} -d fd00:80:1::/64 -m comment --comment ${comment} -j ACCEPT`,
    `-A ${ca} ! -d ff00::/8 -m comment --comment ${comment} -j MASQUERADE`,
  ])
  const bNs = w.container('b')
  const b = runBridge(w, 'ADD', conf, { netns: bNs.path, containerID: 'ctr-b' })
  t.equal(b.code, 0, b.stdout)
  t.equal(natRules(w.host).filter((l) => l.startsWith('-N CNI-')).length, 2, 'one chain per container')
  t.equal(runBridge(w, 'DEL', conf, { netns: bNs.path, containerID: 'ctr-b' }).code, 0)
  t.same(natRules(w.host).filter((l) => l.startsWith('-N CNI-')), [`-N ${ca}`], 'ctr-a’s chain stays')
  t.equal(natRules(w.host, 6).filter((l) => l.includes(ca)).length, 4)
})

t.test('nftables masquerade: the shared table, one rule per address, found again by comment', async (t) => {
  const w = world(t, 'nft')
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: ['10.80.2.0/24', 'fd00:80:2::/64'], ipMasq: true, ipMasqBackend: 'nftables' })
  const aNs = w.container('a')
  const a = runBridge(w, 'ADD', conf, { netns: aNs.path, containerID: 'ctr-a' })
  t.equal(a.code, 0, a.stdout)
  const b = runBridge(w, 'ADD', conf, { netns: w.container('b').path, containerID: 'ctr-b' })
  t.equal(b.code, 0, b.stdout)
  t.same(natRules(w.host).filter((l) => l.includes('CNI-')), [], 'nothing in iptables')
  const table = inNetns(w.host, ['nft', 'list', 'table', 'inet', 'cni_plugins_masquerade']).stdout
  const commentA = `${sha('tnet', 16)}-${sha('eth0:ctr-a', 16)}, net: tnet, if: eth0, id: ctr-a`
  t.equal(sha('unit-test', 16), '6fd94d501e58f0aa', 'H() as in the reference')
  t.match(table, 'comment "Masquerading for plugins from github.com/containernetworking/plugins"')
  t.match(table, 'comment "Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet"')
  t.match(table, /chain postrouting \{\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip daddr 224\.0\.0\.0\/4 return\n\t\tip6 daddr ff00::\/8 return\n\t\tgoto masq_checks\n/)
  t.match(table, `ip saddr 10.80.2.2 ip daddr != 10.80.2.0/24 masquerade comment "${commentA}"`)
  t.match(table, `ip6 saddr fd00:80:2::2 ip6 daddr != fd00:80:2::/64 masquerade comment "${commentA}"`)
  t.match(table, 'ip saddr 10.80.2.3 ip daddr != 10.80.2.0/24 masquerade comment')
  t.equal(runBridge(w, 'DEL', conf, { netns: aNs.path, containerID: 'ctr-a' }).code, 0)
  const after = inNetns(w.host, ['nft', 'list', 'table', 'inet', 'cni_plugins_masquerade']).stdout
  t.notMatch(after, 'id: ctr-a"')
  t.match(after, 'id: ctr-b"', 'ctr-b’s rules stay')
})

t.test('an unknown ipMasqBackend is refused before anything is made', async (t) => {
  const w = world(t, 'bk')
  const ctr = w.container()
  const r = runBridge(w, 'ADD', bridgeConf({ dataDir: w.dataDir, ipMasq: true, ipMasqBackend: 'pf' }), { netns: ctr.path })
  t.match(r.json, { code: 999, msg: 'unknown ipmasq backend "pf"' })
})

t.test('macspoofchk: the reference’s chains and rules; frames with another source MAC are dropped', async (t) => {
  const w = world(t, 'spoof')
  const ctr = w.container()
  const conf = bridgeConf({ dataDir: w.dataDir, subnet: '10.80.3.0/24', isGateway: true, macspoofchk: true })
  const add = runBridge(w, 'ADD', conf, { netns: ctr.path })
  t.equal(add.code, 0, add.stdout)
  const veth = add.json.interfaces[1].name
  const mac = add.json.interfaces[2].mac
  const nat = inNetns(w.host, ['nft', 'list', 'table', 'bridge', 'nat']).stdout
  t.match(nat, 'type filter hook prerouting priority dstnat; policy accept;')
  t.match(nat, `iifname "${veth}" jump cni-br-iface-ctr-1-eth0 comment "macspoofchk-ctr-1-eth0"`)
  t.match(nat, /chain cni-br-iface-ctr-1-eth0 \{\n\t\tjump cni-br-iface-ctr-1-eth0-mac comment "macspoofchk-ctr-1-eth0"\n\t\}/)
  t.match(nat, `ether saddr ${mac} return comment "macspoofchk-ctr-1-eth0"\n\t\tdrop comment "macspoofchk-ctr-1-eth0"`)

  await addrSettled(w.hostRtnl, 'tbr0', '10.80.3.1')
  t.ok(ping(ctr, '10.80.3.1'), 'the real MAC passes')
  ipIn(ctr, ['link', 'set', 'eth0', 'address', '02:de:ad:be:ef:01'])
  ipIn(ctr, ['neigh', 'flush', 'dev', 'eth0'])
  t.notOk(ping(ctr, '10.80.3.1'), 'a spoofed MAC is dropped')

  t.equal(runBridge(w, 'DEL', withPrev(conf, add.json), { netns: ctr.path }).code, 0)
  const after = nftRuleset(w.host)
  t.notMatch(after, 'macspoofchk')
  t.notMatch(after, 'cni-br-iface')
  t.match(after, 'table bridge nat', 'the table and base chain stay, as with the reference')
})
