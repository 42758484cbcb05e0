/**
 * `cnitool ipam <network>`: how full the network's address pools are, read straight from the
 * IPAM's store: etcd-ipam's keys in etcd (per range, per block, per node) or host-local's files
 * on this host (per range; host-local has no blocks and one node). Read-only.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Range, RangeSet } from '../../lib/ipam/range'
import { loadIPAMConfig } from '../../plugins/host-local/config'
import { ipOfFileName } from '../../plugins/host-local/store/format'
import { loadConfig } from '../../plugins/etcd-ipam/config'
import { clientOf } from '../../plugins/etcd-ipam/index'
import { blockEnd, blockLen, blockOf, blockOwner, hexOf, Keys, segmentsIn, sizeOf } from '../../plugins/etcd-ipam/model'
import { IP } from '../../lib/ipam/range'
import { prefixEnd } from '../../lib/etcd/client'
import type { BaseNetConf } from '../../lib/skel/netconf'
import type { CommandArgs } from '../cli'
import { loadNetwork } from '../setup'
import { UsageError } from '../errors'
import { table } from './table'

interface RangeUse {
  set: number
  range: string
  subnet: string
  size: number
  used: number
  cooling: number
}
interface BlockUse {
  block: string
  node: string
  size: number
  used: number
}
interface NodeUse {
  node: string
  blocks: number
  addresses: number
}
interface Report {
  network: string
  ipam: string
  store: string
  ranges: RangeUse[]
  blocks: BlockUse[]
  nodes: NodeUse[]
}

const pct = (used: number, size: number) => (size > 0 ? `${((100 * used) / size).toFixed(1)}%` : '-')

function rangeSize(r: Range): number {
  return Number(sizeOf([{ range: r, from: r.rangeStart.value, to: r.rangeEnd.value }]))
}

async function etcdReport(name: string, conf: BaseNetConf): Promise<Report> {
  const c = loadConfig(conf, '')
  const client = clientOf(c)
  const k = new Keys(c.prefix, c.name)
  const ranges: RangeUse[] = []
  const blocks = new Map<string, BlockUse>()
  const nodes = new Map<string, NodeUse>()
  const nodeOf = (n: string) => nodes.get(n) ?? (nodes.set(n, { node: n, blocks: 0, addresses: 0 }), nodes.get(n)!)
  const seenBlocks = new Set<string>()
  for (const [si, set] of c.rangeSets.entries() as IterableIterator<[number, RangeSet]>) {
    for (const r of set.ranges) {
      const fam = r.family
      const ips = await client.range(k.addrRange(k.ipsOf(fam), fam, r.rangeStart.value, r.rangeEnd.value).key, {
        rangeEnd: k.addrRange(k.ipsOf(fam), fam, r.rangeStart.value, r.rangeEnd.value).rangeEnd,
      })
      const cooling = await client.range(k.addrRange(k.releasedOf(fam), fam, r.rangeStart.value, r.rangeEnd.value).key, {
        rangeEnd: k.addrRange(k.releasedOf(fam), fam, r.rangeStart.value, r.rangeEnd.value).rangeEnd,
        countOnly: true,
      })
      ranges.push({ set: si, range: r.toString(), subnet: r.subnet, size: rangeSize(r), used: ips.kvs.length, cooling: cooling.count })
      const len = blockLen(r, c.blockSize, c.blockSizeV6)
      const of = k.blocksOf(fam)
      const lo = blockOf(r.rangeStart, len)
      const hi = blockOf(r.rangeEnd, len)
      const claims = await client.range(of + hexOf(fam, lo), { rangeEnd: prefixEnd(of + hexOf(fam, hi) + '/') })
      const byBlock = new Map<bigint, BlockUse>()
      for (const kv of claims.kvs) {
        const b = k.parseBlock(kv.key)
        if (!b) continue
        const label = `${IP.of(fam, b.network)}/${b.prefix}`
        const use: BlockUse = blocks.get(label) ?? { block: label, node: blockOwner(kv.value) ?? '?', size: 0, used: 0 }
        use.size += Number(sizeOf(segmentsIn(set, b.network, blockEnd(fam, b.network, b.prefix))))
        blocks.set(label, use)
        byBlock.set(b.network, use)
        if (!seenBlocks.has(label)) {
          seenBlocks.add(label)
          nodeOf(use.node).blocks++
        }
      }
      for (const kv of ips.kvs) {
        const v = k.parseAddr(kv.key)
        if (v === null) continue
        const use = byBlock.get(blockOf(IP.of(fam, v), len))
        if (use) use.used++
        let holder = '?'
        try {
          holder = (JSON.parse(kv.value) as { node?: string }).node ?? '?'
        } catch {
          // shown as '?'
        }
        nodeOf(holder).addresses++
      }
    }
  }
  return { network: name, ipam: 'etcd-ipam', store: `${c.endpoints.join(',')} ${k.base}`, ranges, blocks: [...blocks.values()], nodes: [...nodes.values()] }
}

function hostLocalReport(name: string, conf: BaseNetConf): Report {
  const c = loadIPAMConfig(conf, '')
  const dir = path.join(c.dataDir, c.name)
  let files: string[] = []
  try {
    files = fs.readdirSync(dir)
  } catch {
    // nothing allocated yet
  }
  const ips = files.map(ipOfFileName).filter((ip): ip is IP => ip !== null)
  const ranges: RangeUse[] = []
  c.rangeSets.forEach((set, si) => {
    for (const r of set.ranges) {
      ranges.push({ set: si, range: r.toString(), subnet: r.subnet, size: rangeSize(r), used: ips.filter((ip) => r.contains(ip)).length, cooling: 0 })
    }
  })
  const node = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()
  return { network: name, ipam: 'host-local', store: dir, ranges, blocks: [], nodes: [{ node, blocks: 0, addresses: ips.length }] }
}

export async function run(args: CommandArgs): Promise<void> {
  const name = String(args.network)
  const list = loadNetwork(name)
  const reports: Report[] = []
  for (const p of list.plugins) {
    const ipam = (p.conf as { ipam?: { type?: string } }).ipam
    const type = p.type === 'etcd-ipam' || p.type === 'host-local' ? p.type : ipam?.type
    // The IPAM reads the whole config, as when bridge delegates to it: the list's name and version.
    const conf = { ...p.conf, name: list.name, cniVersion: list.cniVersion } as unknown as BaseNetConf
    if (type === 'etcd-ipam') reports.push(await etcdReport(name, conf))
    else if (type === 'host-local') reports.push(hostLocalReport(name, conf))
  }
  if (reports.length === 0) throw new UsageError(`network ${JSON.stringify(name)} uses neither etcd-ipam nor host-local`, 'ipam')
  if (args.json) {
    process.stdout.write(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`)
    return
  }
  for (const r of reports) {
    process.stdout.write(`network ${r.network}: ${r.ipam}, ${r.store}\n\n`)
    process.stdout.write(
      table(['SET', 'RANGE', 'SUBNET', 'USED', 'SIZE', 'USE', 'COOLING'],
        r.ranges.map((x) => [String(x.set), x.range, x.subnet, String(x.used), String(x.size), pct(x.used + x.cooling, x.size), String(x.cooling)])),
    )
    if (r.blocks.length > 0) {
      process.stdout.write('\n')
      process.stdout.write(table(['BLOCK', 'NODE', 'USED', 'SIZE', 'USE'], r.blocks.map((b) => [b.block, b.node, String(b.used), String(b.size), pct(b.used, b.size)])))
    }
    process.stdout.write('\n')
    process.stdout.write(table(['NODE', 'BLOCKS', 'ADDRESSES'], r.nodes.map((n) => [n.node, String(n.blocks), String(n.addresses)])))
  }
}
