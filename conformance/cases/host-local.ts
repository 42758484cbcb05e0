// host-local specifics (checklist §7.6, §7.8 case 69, §7.9 case 75).
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Case } from '../harness/case'
import { SUBNET, addOk, scenario } from './setup'

const HL = ['host-local'] as const
const first = (r: any): string => String(r?.ips?.[0]?.address ?? r?.ip4?.ip ?? '')

export const hostLocalCases: Case[] = [
  {
    id: 'hl.add', title: 'ADD returns an address of the subnet, not the gateway', level: 'MUST', section: 'SPEC §4 IPAM', plugins: HL,
    async run(ctx) {
      const r = await addOk(ctx, scenario(ctx))
      const [ip] = first(r).split('/')
      ctx.expect(ip?.startsWith(`${SUBNET}.`) && ip !== `${SUBNET}.1`, `address ${first(r)} is not a host of ${SUBNET}.0/24 other than .1`)
      ctx.expect(r.interfaces === undefined, 'an IPAM result carries interfaces')
    },
  },
  {
    id: 'hl.store', title: 'the store holds <id>\\r\\n<ifname> under the IP, routes and gateway as configured', level: 'REF', section: 'REF host-local disk store', plugins: HL,
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      const ip = first(r).split('/')[0]!
      const content = fs.readFileSync(path.join(s.dataDir!, 'hlnet', ip), 'utf8')
      ctx.expect(content === 'ctr-1\r\neth0', `file content ${JSON.stringify(content)}`)
      if (r.ips) {
        ctx.expect(r.ips[0].gateway === `${SUBNET}.1`, `gateway ${r.ips[0].gateway}`)
        ctx.expect(JSON.stringify(r.routes) === JSON.stringify([{ dst: '0.0.0.0/0' }]), 'routes differ from the config', r.routes)
      }
    },
  },
  {
    id: 'hl.duplicate', title: 'a second ADD of the same attachment fails and keeps the first', level: 'REF', section: 'REF host-local', plugins: HL,
    async run(ctx) {
      const s = scenario(ctx)
      await addOk(ctx, s)
      const before = s.allocations()
      ctx.expectError(await s.run('ADD'), 'second ADD')
      ctx.expect(JSON.stringify(s.allocations()) === JSON.stringify(before), 'the store changed', s.allocations())
    },
  },
  {
    id: 'hl.second-ifname', title: 'the same container on another interface gets another address', level: 'MUST', section: 'SPEC §2 ADD', plugins: HL,
    async run(ctx) {
      const a = scenario(ctx)
      const ra = await addOk(ctx, a)
      const rb = await addOk(ctx, scenario(ctx, { ifName: 'eth1', like: a }), 'ADD eth1')
      ctx.expect(first(ra) !== first(rb), 'both interfaces got the same address', [first(ra), first(rb)])
    },
  },
  {
    id: 'hl.exhausted', title: 'a full /30 refuses the second container', level: 'REF', section: 'REF host-local allocator', plugins: HL,
    async run(ctx) {
      const a = scenario(ctx, { ipam: { subnet: `${SUBNET}.0/30` } })
      ctx.expect(first(await addOk(ctx, a)).startsWith(`${SUBNET}.2/`), 'the first address of a /30 is not .2')
      ctx.expectError(await scenario(ctx, { containerID: 'ctr-2', like: a, ipam: { subnet: `${SUBNET}.0/30` } }).run('ADD'), 'ADD into a full /30')
    },
  },
  {
    id: 'hl.exhausted-status', title: 'STATUS reports a full network as not available (50)', level: 'SHOULD', section: 'SPEC §2 STATUS', plugins: HL, minVersion: '1.1.0',
    async run(ctx) {
      const a = scenario(ctx, { ipam: { subnet: `${SUBNET}.0/30` } })
      await addOk(ctx, a)
      ctx.expectError(await a.run('STATUS'), 'STATUS of a full network', 50)
    },
  },
  {
    id: 'hl.too-small', title: 'a /31 is refused', level: 'SHOULD', section: 'SPEC §5 Error (7)', plugins: HL,
    async run(ctx) {
      ctx.expectError(await scenario(ctx, { ipam: { subnet: `${SUBNET}.0/31` } }).run('ADD'), 'ADD on a /31')
    },
  },
  {
    id: 'hl.cni-args-ip', title: 'CNI_ARGS IP= picks the address; taken or gateway ones fail', level: 'REF', section: 'CONVENTIONS CNI_ARGS', plugins: HL,
    async run(ctx) {
      const a = scenario(ctx)
      ctx.expect(first(await (async () => { const e = await a.run('ADD', { attach: { args: `IP=${SUBNET}.50` } }); ctx.expectSuccess(e, 'ADD IP=.50'); return e.json })()).startsWith(`${SUBNET}.50/`), 'did not get .50')
      ctx.expectError(await scenario(ctx, { containerID: 'ctr-2', like: a }).run('ADD', { attach: { containerID: 'ctr-2', args: `IP=${SUBNET}.50` } }), 'ADD IP=.50 again')
      ctx.expectError(await scenario(ctx, { containerID: 'ctr-3', like: a }).run('ADD', { attach: { containerID: 'ctr-3', args: `IP=${SUBNET}.1` } }), 'ADD IP=gateway')
    },
  },
  {
    id: 'hl.cni-args-unknown', title: 'unknown CNI_ARGS fail unless IgnoreUnknown', level: 'REF', section: 'REF types.LoadArgs', plugins: HL,
    async run(ctx) {
      ctx.expectError(await scenario(ctx).run('ADD', { attach: { args: 'FOO=bar' } }), 'ADD CNI_ARGS=FOO=bar')
      ctx.expectError(await scenario(ctx).run('ADD', { attach: { args: 'FOO' } }), 'ADD CNI_ARGS=FOO')
      ctx.expectSuccess(await scenario(ctx).run('ADD', { attach: { args: 'IgnoreUnknown=1;FOO=bar' } }), 'ADD with IgnoreUnknown=1')
    },
  },
  {
    id: 'hl.requested-ips', title: 'runtimeConfig.ips and args.cni.ips pick the address', level: 'REF', section: 'CONVENTIONS ips', plugins: HL,
    async run(ctx) {
      const a = scenario(ctx, { conf: { runtimeConfig: { ips: [`${SUBNET}.60/24`] } } })
      ctx.expect(first(await addOk(ctx, a)).startsWith(`${SUBNET}.60/`), 'runtimeConfig.ips was not honoured')
      const b = scenario(ctx, { containerID: 'ctr-2', like: a, conf: { args: { cni: { ips: [`${SUBNET}.61`] } } } })
      ctx.expect(first(await addOk(ctx, b)).startsWith(`${SUBNET}.61/`), 'args.cni.ips was not honoured')
    },
  },
  {
    id: 'hl.del-ifname', title: 'DEL releases only the interface it names', level: 'REF', section: 'REF host-local', plugins: HL,
    async run(ctx) {
      const a = scenario(ctx)
      await addOk(ctx, a)
      const b = scenario(ctx, { ifName: 'eth1', like: a })
      const rb = await addOk(ctx, b)
      ctx.expectSuccess(await a.run('DEL'), 'DEL eth0')
      ctx.expect(JSON.stringify(a.allocations()) === JSON.stringify([first(rb).split('/')[0]]), "eth1's address did not survive", a.allocations())
    },
  },
  {
    id: 'hl.two-sets-old-version', title: 'two IPv4 range sets: error at 0.2.0, two ips at 0.3.1', level: 'REF', section: 'REF host-local config', plugins: HL,
    async run(ctx) {
      if (!ctx.supports('0.2.0') || !ctx.supports('0.3.1')) ctx.skip('needs spec 0.2.0 and 0.3.1')
      const ranges = [[{ subnet: `${SUBNET}.0/24` }], [{ subnet: '10.98.0.0/24' }]]
      const ipam = { subnet: undefined, ranges }
      ctx.expectError(await scenario(ctx, { version: '0.2.0', ipam }).run('ADD'), 'ADD at 0.2.0 with two IPv4 range sets')
      const r = await addOk(ctx, scenario(ctx, { version: '0.3.1', ipam }), 'ADD at 0.3.1')
      ctx.expect(r.ips?.length === 2, `expected two ips, got ${r.ips?.length}`, r.ips)
    },
  },
  {
    id: 'hl.ip-ranges', title: 'runtimeConfig.ipRanges is prepended as its own range set', level: 'REF', section: 'CONVENTIONS ipRanges', plugins: HL,
    async run(ctx) {
      const r = await addOk(ctx, scenario(ctx, { conf: { runtimeConfig: { ipRanges: [[{ subnet: '10.98.0.0/24' }]] } } }))
      const ips: string[] = (r.ips ?? []).map((ip: any) => ip.address)
      ctx.expect(ips[0]?.startsWith('10.98.0.'), `ips[0] is ${ips[0]}, not from the ipRanges subnet`, ips)
      ctx.expect(ips[1]?.startsWith(`${SUBNET}.`), 'the configured range set is not kept after it', ips)
    },
  },
]
