/**
 * etcd-ipam: one address pool shared by every node, kept in etcd (README.md). Nodes claim blocks
 * of the pool with a create-if-absent txn and allocate inside their own blocks; one key per
 * address and one handle per attachment are created together in one txn that succeeds only if
 * all are absent. No lock, no read of the whole pool: the common ADD is one txn, guided by the
 * node's hint file. etcd-ipam never enters a namespace (CNI_NETNS is not used), so every await
 * happens in the namespace the plugin started in.
 */
import { EtcdClient, EtcdRequestError, EtcdTLSError, EtcdUnavailableError, type Op, prefixEnd, type RangeResult } from '../../lib/etcd/client'
import { IP, parseIP, type Range, type RangeSet } from '../../lib/ipam/range'
import { CniError, ErrorCode } from '../../lib/skel/errors'
import type { CmdArgs, PluginFuncs } from '../../lib/skel/dispatch'
import type { Result } from '../../lib/skel/result/types'
import { type EtcdIPAMConfig, loadConfig } from './config'
import { type Hint, loadHint, saveHint } from './hint'
import {
  type Block,
  blockEnd,
  blockLen,
  blockOf,
  blockOwner,
  blockValue,
  freeIn,
  type HandleValue,
  hexOf,
  Keys,
  segmentsIn,
  sizeOf,
} from './model'

const RESULT_VERSION = '1.1.0'
/** Rounds of "pick, txn, learn" before ADD gives up (each failed round teaches a whole block). */
const MAX_ROUNDS = 40

export function clientOf(conf: EtcdIPAMConfig): EtcdClient {
  const tls = conf.caFile || conf.certFile ? { caFile: conf.caFile, certFile: conf.certFile, keyFile: conf.keyFile } : undefined
  return new EtcdClient({ endpoints: conf.endpoints, tls, requestTimeoutMs: conf.requestTimeoutMs, totalTimeoutMs: conf.timeoutMs })
}

/** etcd's failures as CNI errors: unreachable is 11 (try again later) naming every endpoint. */
async function withEtcd<T>(fn: () => Promise<T>, unavailableCode: number = ErrorCode.TryAgainLater): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof EtcdUnavailableError) throw new CniError(unavailableCode, 'etcd-ipam: etcd is not reachable', err.message)
    if (err instanceof EtcdTLSError) {
      throw new CniError(unavailableCode === ErrorCode.NotAvailable ? unavailableCode : ErrorCode.Internal, 'etcd-ipam: TLS with etcd failed: check ipam.caFile, ipam.certFile and ipam.keyFile', err.message)
    }
    if (err instanceof EtcdRequestError) throw new CniError(unavailableCode, 'etcd-ipam: etcd refused the request', err.message)
    throw err
  }
}

interface Candidate {
  ip: IP
  range: Range
  /** The block the address is in (its key range is read back when the txn fails). */
  block: Block
  /** Set when the block is this node's: the txn checks it still is. */
  own: boolean
  requested: boolean
}

interface SetState {
  set: RangeSet
  idx: number
  mine: Block[]
  last?: bigint
  /** Every claim on the set's blocks, when read in this run. */
  claims?: Array<{ block: Block; node: string }>
  requested?: IP
}

function ipOf(s: string): IP {
  const ip = parseIP(s)
  if (!ip) throw new Error(`etcd-ipam: ${JSON.stringify(s)} in etcd is not an IP address`)
  return ip
}

/** The first usable address (gateways excepted) above `after` in the segments. */
function firstUsable(segs: ReturnType<typeof segmentsIn>, after: bigint): { value: bigint; range: Range } | undefined {
  for (const sg of segs) {
    const gw = sg.range.gateway.family === sg.range.family ? sg.range.gateway.value : -1n
    for (let v = sg.from > after ? sg.from : after + 1n; v <= sg.to; v++) if (v !== gw) return { value: v, range: sg.range }
  }
  return undefined
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

class Allocator {
  readonly keys: Keys
  /** What this run learnt of a block: its taken (allocated or cooling) addresses. */
  private readonly taken = new Map<string, Set<bigint>>()
  readonly states: SetState[]

  constructor(
    readonly c: EtcdClient,
    readonly conf: EtcdIPAMConfig,
    hint: Hint | null,
  ) {
    this.keys = new Keys(conf.prefix, conf.name)
    const pending = [...conf.requestedIPs]
    this.states = conf.rangeSets.map((set, idx) => {
      const hs = hint?.sets[idx]
      const mine: Block[] = []
      for (const k of hs?.blocks ?? []) {
        const b = this.keys.parseBlock(k)
        if (b && b.family === set.family) mine.push(b)
      }
      const st: SetState = { set, idx, mine: this.sortBlocks(mine) }
      if (hs?.last) st.last = BigInt('0x' + hs.last)
      const i = pending.findIndex((ip) => set.contains(ip))
      if (i >= 0) st.requested = pending.splice(i, 1)[0]
      return st
    })
    if (pending.length > 0) throw new Error(`failed to allocate all requested IPs: ${pending.join(' ')}`)
  }

  private sortBlocks(b: Block[]): Block[] {
    return b.sort((x, y) => (x.network < y.network ? -1 : x.network > y.network ? 1 : 0))
  }

  blockFor(range: Range, ip: IP): Block {
    const len = blockLen(range, this.conf.blockSize, this.conf.blockSizeV6)
    const network = blockOf(ip, len)
    return { family: ip.family, network, prefix: len, key: this.keys.block(ip.family, network, len) }
  }

  private segs(st: SetState, b: Block) {
    return segmentsIn(st.set, b.network, blockEnd(b.family, b.network, b.prefix))
  }

  /** A candidate in this node's blocks: after the last one given out, or a random known-free one. */
  private fromMine(st: SetState): Candidate | null {
    const blocks = st.mine
    if (blocks.length === 0) return null
    let start = 0
    if (st.last !== undefined) {
      const at = blocks.findIndex((b) => st.last! >= b.network && st.last! <= blockEnd(b.family, b.network, b.prefix))
      if (at >= 0) start = at
    }
    for (let n = 0; n < blocks.length; n++) {
      const b = blocks[(start + n) % blocks.length]
      const segs = this.segs(st, b)
      const known = this.taken.get(b.key)
      let pick: { value: bigint; range: Range } | undefined
      if (known) {
        const free = freeIn(segs, known, 256)
        if (free.length > 0) pick = free[Math.floor(Math.random() * free.length)]
      } else {
        const after = n === 0 && st.last !== undefined ? st.last : -1n
        pick = firstUsable(segs, after) ?? firstUsable(segs, -1n)
      }
      if (pick) return { ip: IP.of(b.family, pick.value), range: pick.range, block: b, own: true, requested: false }
    }
    return null
  }

  /** Every claim on the blocks of the set's ranges (one key range per range; rare: new block or no hint). */
  private async readClaims(st: SetState): Promise<Array<{ block: Block; node: string }>> {
    const out: Array<{ block: Block; node: string }> = []
    const seen = new Set<string>()
    for (const r of st.set.ranges) {
      const lo = this.blockFor(r, r.rangeStart).network
      const hi = this.blockFor(r, r.rangeEnd).network
      const of = this.keys.blocksOf(r.family)
      const res = await this.c.range(of + hexOf(r.family, lo), { rangeEnd: prefixEnd(of + hexOf(r.family, hi) + '/') })
      for (const kv of res.kvs) {
        const b = this.keys.parseBlock(kv.key)
        if (!b || seen.has(b.key)) continue
        seen.add(b.key)
        out.push({ block: b, node: blockOwner(kv.value) ?? '' })
      }
    }
    return out
  }

  /** Up to 16 unclaimed blocks with usable addresses, lowest first; one at random. */
  private gap(st: SetState, claims: Array<{ block: Block }>): Block | null {
    const claimed = new Set(claims.map((c) => c.block.key))
    const gaps: Block[] = []
    for (const r of st.set.ranges) {
      const first = this.blockFor(r, r.rangeStart)
      const step = 1n << BigInt(r.network.bits - first.prefix)
      for (let net = first.network; net <= r.rangeEnd.value && gaps.length < 16; net += step) {
        const key = this.keys.block(r.family, net, first.prefix)
        if (claimed.has(key)) continue
        const b: Block = { family: r.family, network: net, prefix: first.prefix, key }
        if (sizeOf(this.segs(st, b)) > 0n) gaps.push(b)
      }
    }
    return gaps.length > 0 ? gaps[Math.floor(Math.random() * gaps.length)] : null
  }

  private async claim(b: Block): Promise<boolean> {
    const mine = blockValue(this.conf.nodeName)
    const r = await this.c.txn(
      [{ key: b.key, target: 'CREATE', result: 'EQUAL', createRevision: 0 }],
      [{ put: { key: b.key, value: mine } }],
      [{ range: { key: b.key } }],
    )
    // A re-sent claim (the first answer was lost) finds our own value.
    return r.succeeded || r.responses[0]?.kvs[0]?.value === mine
  }

  /** Reads a block's taken addresses (allocated and cooling) in one txn. */
  private async learn(b: Block): Promise<Set<bigint>> {
    const end = blockEnd(b.family, b.network, b.prefix)
    const r = await this.c.txn([], [
      { range: { ...this.keys.addrRange(this.keys.ipsOf(b.family), b.family, b.network, end), keysOnly: true } },
      { range: { ...this.keys.addrRange(this.keys.releasedOf(b.family), b.family, b.network, end), keysOnly: true } },
    ])
    return this.record(b, r.responses[0], r.responses[1])
  }

  private record(b: Block, ips: RangeResult | null, released: RangeResult | null): Set<bigint> {
    const set = new Set<bigint>()
    for (const res of [ips, released]) {
      for (const kv of res?.kvs ?? []) {
        const v = this.keys.parseAddr(kv.key)
        if (v !== null) set.add(v)
      }
    }
    this.taken.set(b.key, set)
    return set
  }

  private exhausted(st: SetState): Error {
    return new Error(`failed to allocate for range ${st.idx}: no IP addresses available in range set: ${st.set}`)
  }

  /** One candidate for the set: own blocks, then a new block, then another node's free space. */
  async pick(st: SetState): Promise<Candidate> {
    if (st.requested) {
      const ip = st.requested
      const range = st.set.rangeFor(ip)
      if (ip.equals(range.gateway)) throw new Error(`failed to allocate for range ${st.idx}: requested ip ${ip} is subnet's gateway`)
      return { ip, range, block: this.blockFor(range, ip), own: false, requested: true }
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const c = this.fromMine(st)
      if (c) return c
      if (!st.claims) {
        st.claims = await this.readClaims(st)
        const known = new Set(st.mine.map((b) => b.key))
        for (const cl of st.claims) if (cl.node === this.conf.nodeName && !known.has(cl.block.key)) st.mine.push(cl.block)
        this.sortBlocks(st.mine)
        continue
      }
      const g = this.gap(st, st.claims)
      if (g) {
        if (await this.claim(g)) {
          st.mine.push(g)
          this.sortBlocks(st.mine)
        }
        st.claims = undefined
        continue
      }
      return this.borrow(st)
    }
    throw this.exhausted(st)
  }

  /** Every block is claimed: free space in other nodes' blocks, blocks in random order. */
  private async borrow(st: SetState): Promise<Candidate> {
    for (const cl of shuffle((st.claims ?? []).filter((c) => c.node !== this.conf.nodeName))) {
      const b = cl.block
      const taken = this.taken.get(b.key) ?? (await this.learn(b))
      const free = freeIn(this.segs(st, b), taken, 256)
      if (free.length === 0) continue
      const f = free[Math.floor(Math.random() * free.length)]
      return { ip: IP.of(b.family, f.value), range: f.range, block: b, own: false, requested: false }
    }
    throw this.exhausted(st)
  }

  /**
   * The ADD: pick one candidate per set, then one txn that creates every address key, the handle
   * and the node's index key only if none exists (and own blocks are still ours). On failure the
   * same txn reads back the handle and each candidate's block, so the next round knows more.
   */
  async allocate(containerID: string, ifname: string): Promise<Array<{ ip: IP; range: Range }>> {
    const k = this.keys
    const node = this.conf.nodeName
    const handleKey = k.handle(containerID, ifname)
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const cands: Candidate[] = []
      for (const st of this.states) cands.push(await this.pick(st))
      const handle: HandleValue = { containerID, ifname, node, ips: cands.map((c) => c.ip.toString()) }
      const handleText = JSON.stringify(handle)
      const ipValue = JSON.stringify({ containerID, ifname, node })
      const compare: Parameters<EtcdClient['txn']>[0] = [{ key: handleKey, target: 'CREATE', result: 'EQUAL', createRevision: 0 }]
      const success: Op[] = [{ put: { key: handleKey, value: handleText } }, { put: { key: k.node(node, containerID, ifname), value: handleText } }]
      const failure: Op[] = [{ range: { key: handleKey } }]
      for (const c of cands) {
        compare.push({ key: k.ip(c.ip), target: 'CREATE', result: 'EQUAL', createRevision: 0 })
        compare.push({ key: k.released(c.ip), target: 'CREATE', result: 'EQUAL', createRevision: 0 })
        if (c.own) compare.push({ key: c.block.key, target: 'VALUE', result: 'EQUAL', value: blockValue(node) })
        success.push({ put: { key: k.ip(c.ip), value: ipValue } })
        const end = blockEnd(c.block.family, c.block.network, c.block.prefix)
        failure.push({ range: { ...k.addrRange(k.ipsOf(c.ip.family), c.ip.family, c.block.network, end), keysOnly: true } })
        failure.push({ range: { ...k.addrRange(k.releasedOf(c.ip.family), c.ip.family, c.block.network, end), keysOnly: true } })
        failure.push({ range: { key: c.block.key } })
      }
      const r = await this.c.txn(compare, success, failure)
      if (r.succeeded) {
        cands.forEach((c, i) => (this.states[i].last = c.ip.value))
        return cands.map((c) => ({ ip: c.ip, range: c.range }))
      }
      const existing = r.responses[0]?.kvs[0]
      if (existing) return this.fromHandle(existing.value)
      cands.forEach((c, i) => {
        const taken = this.record(c.block, r.responses[1 + 3 * i], r.responses[2 + 3 * i])
        const owner = blockOwner(r.responses[3 + 3 * i]?.kvs[0]?.value ?? '')
        const st = this.states[i]
        if (c.own && owner !== node) {
          st.mine = st.mine.filter((b) => b.key !== c.block.key)
          st.claims = undefined
        }
        if (c.requested && taken.has(c.ip.value)) {
          throw new Error(`failed to allocate for range ${i}: requested IP address ${c.ip} is not available in range set ${st.set}`)
        }
      })
    }
    throw new CniError(ErrorCode.TryAgainLater, 'etcd-ipam: too much contention, no address could be reserved', `${MAX_ROUNDS} rounds`)
  }

  /** A retried ADD: the addresses the handle already holds, with their ranges from the config. */
  fromHandle(value: string): Array<{ ip: IP; range: Range }> {
    const h = JSON.parse(value) as HandleValue
    return h.ips.map((s) => {
      const ip = ipOf(s)
      const range = this.conf.rangeSets.map((set) => set.findRange(ip)).find((r) => r !== undefined)
      if (!range) throw new Error(`etcd-ipam: ${s} is already allocated to this attachment but is in none of the configured ranges`)
      return { ip, range }
    })
  }

  hint(): Hint {
    return {
      prefix: this.conf.prefix,
      sets: this.states.map((st) => ({ blocks: st.mine.map((b) => b.key), ...(st.last !== undefined ? { last: hexOf(st.set.family, st.last) } : {}) })),
    }
  }
}

/** ADD: one address per range set; a retried ADD returns what the attachment already holds. */
export async function cmdAdd(args: CmdArgs): Promise<Result> {
  const conf = loadConfig(args.conf, args.args)
  const c = clientOf(conf)
  const hint = loadHint(conf.dataDir, conf.name, conf.nodeName, conf.prefix)
  const alloc = new Allocator(c, conf, hint)
  const got = await withEtcd(() => alloc.allocate(args.containerID, args.ifName))
  saveHint(conf.dataDir, conf.name, conf.nodeName, alloc.hint())
  const result: Result = {
    cniVersion: RESULT_VERSION,
    ips: got.map((a) => ({ address: `${a.ip}/${a.range.prefix}`, gateway: a.range.gateway.toString() })),
  }
  if (conf.routes.length > 0) result.routes = conf.routes
  return result
}

/**
 * Releases one attachment: the handle, the node's index key and every address key, in one txn
 * that holds only if the handle is unchanged since it was read. With reuseCooldown the addresses
 * get a `released/` key on a lease of that many seconds. Succeeds when nothing is held.
 */
export async function release(c: EtcdClient, conf: EtcdIPAMConfig, containerID: string, ifname: string, nodeKey?: string): Promise<boolean> {
  const k = new Keys(conf.prefix, conf.name)
  const handleKey = k.handle(containerID, ifname)
  for (let round = 0; round < 10; round++) {
    const r = await c.range(handleKey)
    const kv = r.kvs[0]
    if (!kv) {
      if (nodeKey) await c.txn([], [{ deleteRange: { key: nodeKey } }])
      return false
    }
    const h = JSON.parse(kv.value) as HandleValue
    const lease = conf.reuseCooldown > 0 ? await c.leaseGrant(conf.reuseCooldown) : undefined
    const ops: Op[] = [{ deleteRange: { key: handleKey } }, { deleteRange: { key: k.node(h.node, containerID, ifname) } }]
    if (nodeKey && nodeKey !== k.node(h.node, containerID, ifname)) ops.push({ deleteRange: { key: nodeKey } })
    for (const s of h.ips) {
      const ip = ipOf(s)
      ops.push({ deleteRange: { key: k.ip(ip) } })
      if (lease) ops.push({ put: { key: k.released(ip), value: JSON.stringify({ node: conf.nodeName }), lease } })
    }
    const t = await c.txn([{ key: handleKey, target: 'MOD', result: 'EQUAL', modRevision: kv.modRevision }], ops)
    if (t.succeeded) return true
  }
  throw new CniError(ErrorCode.TryAgainLater, `etcd-ipam: the allocation of ${containerID}/${ifname} kept changing while being released`)
}

/** DEL: idempotent; succeeds when nothing is held. */
export async function cmdDel(args: CmdArgs): Promise<void> {
  const conf = loadConfig(args.conf, args.args)
  const c = clientOf(conf)
  await withEtcd(() => release(c, conf, args.containerID, args.ifName))
}

/** CHECK: the handle exists and every address it names is held by it. */
export async function cmdCheck(args: CmdArgs): Promise<void> {
  const conf = loadConfig(args.conf, args.args)
  const c = clientOf(conf)
  const k = new Keys(conf.prefix, conf.name)
  await withEtcd(async () => {
    const r = await c.range(k.handle(args.containerID, args.ifName))
    const kv = r.kvs[0]
    if (!kv) throw new Error(`etcd-ipam: Failed to find address added by container ${args.containerID}`)
    const h = JSON.parse(kv.value) as HandleValue
    const t = await c.txn([], h.ips.map((s) => ({ range: { key: k.ip(ipOf(s)) } })))
    h.ips.forEach((s, i) => {
      const v = t.responses[i]?.kvs[0]?.value
      let owner: { containerID?: string; ifname?: string } = {}
      try {
        owner = v ? JSON.parse(v) : {}
      } catch {
        // reported below
      }
      if (owner.containerID !== args.containerID || owner.ifname !== args.ifName) {
        throw new Error(`etcd-ipam: ${s} of container ${args.containerID} is not recorded as held by it`)
      }
    })
  })
}

/**
 * GC: releases this node's allocations whose (containerID, ifname) is not in
 * `cni.dev/valid-attachments`. Without that key (and the older one) nothing is released, like
 * host-local. Reads only this node's index (`nodes/<node>/`).
 */
export async function cmdGc(args: CmdArgs): Promise<void> {
  const conf = loadConfig(args.conf, args.args)
  const valid = conf.validAttachments
  if (!valid) return
  const keep = new Set(valid.map((a) => `${a.containerID}\n${a.ifname}`))
  const c = clientOf(conf)
  const k = new Keys(conf.prefix, conf.name)
  const errors: string[] = []
  await withEtcd(async () => {
    const prefix = k.nodePrefix(conf.nodeName)
    const r = await c.range(prefix, { rangeEnd: prefixEnd(prefix) })
    for (const kv of r.kvs) {
      let h: HandleValue
      try {
        h = JSON.parse(kv.value) as HandleValue
      } catch {
        errors.push(`${kv.key}: not an etcd-ipam record`)
        continue
      }
      if (keep.has(`${h.containerID}\n${h.ifname}`)) continue
      try {
        await release(c, conf, h.containerID, h.ifname, kv.key)
      } catch (err) {
        if (err instanceof EtcdUnavailableError) throw err
        errors.push(`failed to release ${h.containerID}/${h.ifname}: ${(err as Error).message}`)
      }
    }
  })
  if (errors.length > 0) throw new Error(errors.join('; '))
}

/** STATUS: 50 when etcd cannot be reached or some range set has no free address (counted, not read). */
export async function cmdStatus(args: CmdArgs): Promise<void> {
  const conf = loadConfig(args.conf, args.args)
  const c = clientOf(conf)
  const k = new Keys(conf.prefix, conf.name)
  const ops: Op[] = []
  for (const set of conf.rangeSets) {
    for (const r of set.ranges) {
      ops.push({ range: { ...k.addrRange(k.ipsOf(r.family), r.family, r.rangeStart.value, r.rangeEnd.value), countOnly: true } })
      ops.push({ range: { ...k.addrRange(k.releasedOf(r.family), r.family, r.rangeStart.value, r.rangeEnd.value), countOnly: true } })
    }
  }
  const t = await withEtcd(() => c.txn([], ops), ErrorCode.NotAvailable)
  let i = 0
  conf.rangeSets.forEach((set, idx) => {
    let free = 0n
    for (const r of set.ranges) {
      const used = BigInt(t.responses[i]?.count ?? 0) + BigInt(t.responses[i + 1]?.count ?? 0)
      i += 2
      const size = sizeOf([{ range: r, from: r.rangeStart.value, to: r.rangeEnd.value }])
      if (size > used) free += size - used
    }
    if (free === 0n) throw new CniError(ErrorCode.NotAvailable, `etcd-ipam: no IP addresses available in range set ${idx}: ${set}`)
  })
}

export const etcdIpamFuncs: PluginFuncs = {
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: cmdStatus,
  gc: cmdGc,
}
