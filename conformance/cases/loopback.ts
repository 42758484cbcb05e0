// loopback specifics (checklist §7.5, §7.8 case 70, §7.9 case 77).
import type { Case } from '../harness/case'
import { addOk, links, scenario } from './setup'

const LO = ['loopback'] as const

const loUp = (ctx: Parameters<Case['run']>[0], netns: string): boolean =>
  links(ctx, netns).find((l) => l.ifname === 'lo')?.flags.includes('UP') ?? false

export const loopbackCases: Case[] = [
  {
    id: 'lo.add', title: 'ADD sets lo up', level: 'MUST', section: 'SPEC §2 ADD', plugins: LO,
    async run(ctx) {
      const s = scenario(ctx)
      await addOk(ctx, s)
      ctx.expect(loUp(ctx, s.attach.netns!), 'lo is not up after ADD')
    },
  },
  {
    id: 'lo.result', title: 'the result names lo with its addresses', level: 'REF', section: 'REF loopback', plugins: LO,
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      if (r.ip4) {
        ctx.expect(r.ip4.ip === '127.0.0.1/8', `ip4.ip is ${r.ip4.ip}`)
        return
      }
      ctx.expect(r.interfaces?.[0]?.name === 'lo' && r.interfaces[0].sandbox === s.attach.netns, 'interfaces[0] is not lo in the sandbox', r.interfaces)
      ctx.expect(r.ips?.some((ip: any) => ip.address === '127.0.0.1/8' && ip.interface === 0), 'ips lacks 127.0.0.1/8 on interface 0', r.ips)
    },
  },
  {
    id: 'lo.prevresult', title: 'with a prevResult, ADD outputs it unchanged', level: 'MUST', section: 'SPEC §5 (chained plugins)', plugins: LO, minVersion: '0.3.0',
    async run(ctx) {
      const s = scenario(ctx)
      const v = ctx.version
      const prev = v.startsWith('0.')
        ? { cniVersion: v, interfaces: [{ name: 'eth0', sandbox: s.attach.netns }], ips: [{ version: '4', interface: 0, address: '10.1.0.2/24', gateway: '10.1.0.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} }
        : { cniVersion: v, interfaces: [{ name: 'eth0', sandbox: s.attach.netns }], ips: [{ interface: 0, address: '10.1.0.2/24', gateway: '10.1.0.1' }], routes: [{ dst: '0.0.0.0/0' }] }
      const e = await s.run('ADD', { conf: { ...s.conf, prevResult: prev } })
      ctx.expectSuccess(e, 'ADD with prevResult')
      const norm = (x: any): string => JSON.stringify(x, (_k, val) => (val && typeof val === 'object' && !Array.isArray(val) && Object.keys(val).length === 0 ? undefined : val), 0)
      const sorted = (x: any): any => (Array.isArray(x) ? x.map(sorted) : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])])) : x)
      ctx.expect(norm(sorted(e.json)) === norm(sorted(prev)), 'the output differs from prevResult', e.stdout)
    },
  },
  {
    id: 'lo.ifname-ignored', title: 'CNI_IFNAME is ignored: lo is configured', level: 'REF', section: 'REF loopback', plugins: LO,
    async run(ctx) {
      const s = scenario(ctx, { ifName: 'foo' })
      await addOk(ctx, s)
      ctx.expect(loUp(ctx, s.attach.netns!), 'lo is not up')
    },
  },
  {
    id: 'lo.del-down', title: 'DEL sets lo down', level: 'REF', section: 'REF loopback', plugins: LO,
    async run(ctx) {
      const s = scenario(ctx)
      await addOk(ctx, s)
      ctx.expectSuccess(await s.run('DEL'), 'DEL')
      ctx.expect(!loUp(ctx, s.attach.netns!), 'lo is still up after DEL')
    },
  },
]
