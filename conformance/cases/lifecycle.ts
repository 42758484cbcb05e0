// DEL, CHECK, STATUS and GC on every plugin (checklist §7.8–§7.10).
import { execFileSync } from 'node:child_process'
import type { Case } from '../harness/case'
import { addOk, links, scenario, withPrev } from './setup'

const ALL = ['loopback', 'host-local', 'bridge'] as const
const IPAM = ['host-local', 'bridge'] as const

export const lifecycleCases: Case[] = [
  {
    id: 'del.without-add', title: 'DEL of an attachment that was never added succeeds', level: 'MUST', section: 'SPEC §2 DEL', plugins: ALL,
    async run(ctx) {
      ctx.expectSuccess(await scenario(ctx).run('DEL'), 'DEL without ADD')
    },
  },
  {
    id: 'del.twice', title: 'DEL twice succeeds, and the first removes what ADD made', level: 'MUST', section: 'SPEC §2 DEL', plugins: ALL,
    async run(ctx) {
      const s = scenario(ctx)
      const result = await addOk(ctx, s)
      ctx.expectSuccess(await s.run('DEL', { conf: withPrev(s, result) }), 'first DEL')
      if (s.dataDir) ctx.expect(s.allocations().length === 0, 'the address is still reserved after DEL', s.allocations())
      if (ctx.plugin === 'bridge') {
        ctx.expect(!links(ctx, s.attach.netns!).some((l) => l.ifname === 'eth0'), 'eth0 is still in the container after DEL')
      }
      ctx.expectSuccess(await s.run('DEL', { conf: withPrev(s, result) }), 'second DEL')
    },
  },
  {
    id: 'del.no-netns', title: 'DEL without CNI_NETNS succeeds and frees the address', level: 'MUST', section: 'SPEC §2 DEL', plugins: ALL,
    async run(ctx) {
      const s = scenario(ctx)
      await addOk(ctx, s)
      ctx.expectSuccess(await s.run('DEL', { env: { CNI_NETNS: undefined } }), 'DEL without CNI_NETNS')
      if (s.dataDir) ctx.expect(s.allocations().length === 0, 'the address is still reserved', s.allocations())
    },
  },
  {
    id: 'del.netns-gone', title: 'DEL after the namespace was deleted succeeds and frees the address', level: 'SHOULD', section: 'SPEC §2 DEL', plugins: ['loopback', 'bridge'],
    async run(ctx) {
      const s = scenario(ctx)
      await addOk(ctx, s)
      const name = s.attach.netns!.split('/').pop()!
      execFileSync('ip', ['netns', 'del', name])
      ctx.expectSuccess(await s.run('DEL'), 'DEL with a vanished namespace')
      if (s.dataDir) ctx.expect(s.allocations().length === 0, 'the address is still reserved', s.allocations())
    },
  },
  {
    id: 'del.prevresult-optional', title: 'DEL succeeds with and without prevResult', level: 'SHOULD', section: 'SPEC §2 DEL', plugins: ALL, minVersion: '0.4.0',
    async run(ctx) {
      const a = scenario(ctx)
      const r = await addOk(ctx, a)
      ctx.expectSuccess(await a.run('DEL', { conf: withPrev(a, r) }), 'DEL with prevResult')
      const b = scenario(ctx, { containerID: 'ctr-2' })
      await addOk(ctx, b)
      ctx.expectSuccess(await b.run('DEL'), 'DEL without prevResult')
    },
  },
  {
    id: 'check.after-add', title: 'CHECK right after ADD succeeds with no output', level: 'MUST', section: 'SPEC §2 CHECK', plugins: ALL, minVersion: '0.4.0',
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      const e = await s.run('CHECK', { conf: withPrev(s, r) })
      ctx.expectSuccess(e, 'CHECK after ADD')
      ctx.expect(e.stdout.trim() === '', 'CHECK printed something', e.stdout)
    },
  },
  {
    id: 'check.after-del', title: 'CHECK after DEL fails', level: 'SHOULD', section: 'SPEC §2 CHECK', plugins: ALL, minVersion: '0.4.0',
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      ctx.expectSuccess(await s.run('DEL', { conf: withPrev(s, r) }), 'DEL')
      ctx.expectError(await s.run('CHECK', { conf: withPrev(s, r) }), 'CHECK after DEL')
    },
  },
  {
    id: 'status.ok', title: 'STATUS of a healthy plugin succeeds with no output', level: 'MUST', section: 'SPEC §2 STATUS', plugins: ALL, minVersion: '1.1.0',
    async run(ctx) {
      const e = await scenario(ctx).run('STATUS')
      ctx.expectSuccess(e, 'STATUS')
      ctx.expect(e.stdout.trim() === '', 'STATUS printed something', e.stdout)
    },
  },
  {
    id: 'gc.empty', title: 'GC with an empty valid list succeeds with no output', level: 'MUST', section: 'SPEC §2 GC', plugins: ALL, minVersion: '1.1.0',
    async run(ctx) {
      const s = scenario(ctx)
      const e = await s.run('GC', { conf: { ...s.conf, 'cni.dev/valid-attachments': [] } })
      ctx.expectSuccess(e, 'GC')
      ctx.expect(e.stdout.trim() === '', 'GC printed something', e.stdout)
    },
  },
  {
    id: 'gc.keys', title: 'GC accepts both key spellings and null', level: 'REF', section: 'REF libcni GCNetworkList', plugins: ALL, minVersion: '1.1.0',
    async run(ctx) {
      const s = scenario(ctx)
      const valid = [{ containerID: 'ctr-9', ifname: 'eth0' }]
      ctx.expectSuccess(await s.run('GC', { conf: { ...s.conf, 'cni.dev/valid-attachments': valid, 'cni.dev/attachments': valid } }), 'GC with both keys')
      ctx.expectSuccess(await s.run('GC', { conf: { ...s.conf, 'cni.dev/valid-attachments': null } }), 'GC with null')
    },
  },
  {
    id: 'gc.releases-stale', title: 'GC releases the addresses of attachments that are not valid', level: 'SHOULD', section: 'SPEC §2 GC', plugins: IPAM, minVersion: '1.1.0',
    async run(ctx) {
      const first = scenario(ctx, { containerID: 'ctr-1' })
      const owners = new Map<string, string>()
      for (const id of ['ctr-1', 'ctr-2', 'ctr-3']) {
        const s = id === 'ctr-1' ? first : scenario(ctx, { containerID: id, like: first })
        const r = await addOk(ctx, s, `ADD ${id}`)
        owners.set(id, String(r.ips?.[0]?.address ?? '').split('/')[0]!)
      }
      const e = await first.run('GC', { conf: { ...first.conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr-2', ifname: 'eth0' }] } })
      ctx.expectSuccess(e, 'GC')
      ctx.expect(JSON.stringify(first.allocations()) === JSON.stringify([owners.get('ctr-2')]),
        `after GC the store holds ${JSON.stringify(first.allocations())}, expected only ctr-2's ${owners.get('ctr-2')}`)
    },
  },
  {
    id: 'parallel.add', title: '20 concurrent ADDs get 20 distinct addresses', level: 'MUST', section: 'SPEC §3 Lifecycle (locking)', plugins: IPAM,
    async run(ctx) {
      const first = scenario(ctx, { containerID: 'par-0' })
      const all = [first, ...Array.from({ length: 19 }, (_, i) => scenario(ctx, { containerID: `par-${i + 1}`, like: first }))]
      const results = await Promise.all(all.map((s) => s.run('ADD')))
      results.forEach((e, i) => ctx.expectSuccess(e, `ADD par-${i}`))
      const addresses = results.map((e) => String(e.json?.ips?.[0]?.address))
      ctx.expect(new Set(addresses).size === 20, 'duplicate addresses handed out', addresses)
      ctx.expect(first.allocations().length === 20, `the store holds ${first.allocations().length} reservations, expected 20`)
    },
  },
]
