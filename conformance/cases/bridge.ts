// bridge specifics (checklist §7.7, §7.9 cases 72–76, §7.10 case 79, no leftovers after DEL).
import type { Case } from '../harness/case'
import { SUBNET, addOk, addrs, links, scenario, withPrev } from './setup'

const BR = ['bridge'] as const

export const bridgeCases: Case[] = [
  {
    id: 'br.add', title: 'ADD: eth0 in the sandbox with the address, gateway on the bridge', level: 'MUST', section: 'SPEC §2 ADD', plugins: BR,
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      const ifaces: any[] = r.interfaces ?? []
      const i = ifaces.findIndex((x) => x.name === 'eth0' && x.sandbox === s.attach.netns)
      ctx.expect(i >= 0, 'interfaces lacks eth0 in the sandbox', r.interfaces)
      ctx.expect((r.ips ?? []).length > 0 && r.ips.every((ip: any) => ip.interface === i), 'ips do not point at eth0', r.ips)
      const have = addrs(ctx, s.attach.netns!, 'eth0')
      ctx.expect(have.includes(r.ips[0].address), `eth0 holds ${have.join(', ')}, not ${r.ips[0].address}`)
      const onBridge = addrs(ctx, s.hostNetns!, s.conf.bridge as string)
      ctx.expect(onBridge.includes(`${SUBNET}.1/24`), `the bridge holds ${onBridge.join(', ')}, not the gateway`)
      ctx.expect(s.allocations().length === 1, 'no reservation in the store')
    },
  },
  {
    id: 'br.ifname-exists', title: 'ADD fails when CNI_IFNAME already exists in the container', level: 'MUST', section: 'SPEC §2 ADD', plugins: BR,
    async run(ctx) {
      const s = scenario(ctx)
      ctx.inNetns(s.attach.netns!, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'cnitpeer0'])
      ctx.expectError(await s.run('ADD'), 'ADD with eth0 already there')
      ctx.expect(s.allocations().length === 0, 'an address stayed reserved after the failed ADD', s.allocations())
    },
  },
  {
    id: 'br.add-twice', title: 'a second ADD of the same attachment fails and the first survives', level: 'MUST', section: 'SPEC §2 ADD', plugins: BR, minVersion: '0.4.0',
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      ctx.expectError(await s.run('ADD'), 'second ADD')
      ctx.expectSuccess(await s.run('CHECK', { conf: withPrev(s, r) }), 'CHECK of the first ADD')
    },
  },
  {
    id: 'br.ifname-15', title: 'a 15-byte interface name works', level: 'REF', section: 'REF utils.ValidateInterfaceName', plugins: BR,
    async run(ctx) {
      const s = scenario(ctx, { ifName: 'abcdefghijklmno' })
      await addOk(ctx, s)
      ctx.expect(links(ctx, s.attach.netns!).some((l) => l.ifname === 'abcdefghijklmno'), 'the link is not there')
    },
  },
  {
    id: 'br.ipam-missing', title: 'a missing IPAM plugin fails ADD, CHECK and STATUS', level: 'MUST', section: 'SPEC §4 Delegation', plugins: BR,
    async run(ctx) {
      const s = scenario(ctx, { ipam: { type: 'cnit-nope' } })
      const e = await s.run('ADD')
      ctx.expectError(e, 'ADD with ipam.type cnit-nope')
      if (ctx.atLeast('0.4.0')) ctx.expectError(await s.run('CHECK', { conf: withPrev(s, { cniVersion: ctx.version }) }), 'CHECK with a missing IPAM plugin')
      if (ctx.supports('1.1.0')) ctx.expectError(await s.run('STATUS'), 'STATUS with a missing IPAM plugin')
    },
  },
  {
    id: 'br.config-errors', title: 'bad bridge configs are refused', level: 'REF', section: 'REF bridge loadNetConf', plugins: BR,
    async run(ctx) {
      for (const conf of [{ mtu: 'abc' }, { vlan: 5000 }, { hairpinMode: true, promiscMode: true }]) {
        ctx.expectError(await scenario(ctx, { conf }).run('ADD'), `ADD with ${JSON.stringify(conf)}`)
      }
    },
  },
  {
    id: 'br.mac', title: 'runtimeConfig.mac sets the container MAC', level: 'REF', section: 'CONVENTIONS mac', plugins: BR,
    async run(ctx) {
      const mac = 'c2:11:22:33:44:55'
      const s = scenario(ctx, { conf: { runtimeConfig: { mac } } })
      const r = await addOk(ctx, s)
      const eth0 = JSON.parse(ctx.inNetns(s.attach.netns!, 'ip', ['-j', 'link', 'show', 'eth0']))[0]
      ctx.expect(eth0?.address === mac, `eth0 has MAC ${eth0?.address}`)
      ctx.expect((r.interfaces ?? []).some((x: any) => x.name === 'eth0' && x.mac === mac), 'the result does not report the MAC', r.interfaces)
    },
  },
  {
    id: 'br.ipam-failure-del', title: 'after an IPAM failure, DEL succeeds and keeps other allocations', level: 'REF', section: 'SPEC §3 (DEL after a failed ADD)', plugins: BR,
    async run(ctx) {
      const a = scenario(ctx, { ipam: { subnet: `${SUBNET}.0/30` } })
      await addOk(ctx, a)
      const b = scenario(ctx, { containerID: 'ctr-2', like: a, ipam: { subnet: `${SUBNET}.0/30` } })
      ctx.expectError(await b.run('ADD'), 'ADD into a full /30')
      ctx.expectSuccess(await b.run('DEL'), 'DEL of the failed attachment')
      ctx.expect(!links(ctx, b.attach.netns!).some((l) => l.ifname === 'eth0'), 'eth0 of the failed attachment is still there')
      ctx.expect(a.allocations().length === 1, "the first container's reservation is gone", a.allocations())
    },
  },
  {
    id: 'br.check-no-prev', title: 'CHECK without prevResult fails', level: 'REF', section: 'REF bridge cmdCheck', plugins: BR, minVersion: '0.4.0',
    async run(ctx) {
      const s = scenario(ctx)
      await addOk(ctx, s)
      ctx.expectError(await s.run('CHECK'), 'CHECK without prevResult')
    },
  },
  {
    id: 'br.check-tampered', title: 'CHECK fails after the address or the link was removed', level: 'SHOULD', section: 'SPEC §2 CHECK', plugins: BR, minVersion: '0.4.0',
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      ctx.inNetns(s.attach.netns!, 'ip', ['addr', 'flush', 'dev', 'eth0'])
      ctx.expectError(await s.run('CHECK', { conf: withPrev(s, r) }), 'CHECK after the address was flushed')
      ctx.inNetns(s.attach.netns!, 'ip', ['link', 'del', 'eth0'])
      ctx.expectError(await s.run('CHECK', { conf: withPrev(s, r) }), 'CHECK after eth0 was deleted')
    },
  },
  {
    id: 'br.check-sandbox', title: 'CHECK fails when prevResult names another sandbox', level: 'REF', section: 'REF bridge cmdCheck', plugins: BR, minVersion: '0.4.0',
    async run(ctx) {
      const s = scenario(ctx)
      const r = await addOk(ctx, s)
      const other = JSON.parse(JSON.stringify(r))
      for (const i of other.interfaces ?? []) if (i.sandbox) i.sandbox = '/run/netns/cnit-elsewhere'
      ctx.expectError(await s.run('CHECK', { conf: withPrev(s, other) }), 'CHECK with another sandbox')
    },
  },
  {
    id: 'br.no-leftovers', title: 'DEL removes the veth pair, the reservation and the masquerade rules', level: 'MUST', section: 'SPEC §2 DEL', plugins: BR,
    async run(ctx) {
      const s = scenario(ctx, { conf: { ipMasq: true } })
      const r = await addOk(ctx, s)
      const hostLinksAfterAdd = links(ctx, s.hostNetns!).map((l) => l.ifname)
      ctx.expectSuccess(await s.run('DEL', { conf: withPrev(s, r) }), 'DEL')
      const veths = links(ctx, s.hostNetns!).filter((l) => l.linkinfo?.info_kind === 'veth').map((l) => l.ifname)
      ctx.expect(veths.length === 0, `veths left in the host: ${veths.join(', ')} (after ADD: ${hostLinksAfterAdd.join(', ')})`)
      ctx.expect(s.allocations().length === 0, 'the reservation is left', s.allocations())
      let nat = ''
      try { nat = ctx.inNetns(s.hostNetns!, 'iptables', ['-t', 'nat', '-S']) } catch { /* no iptables: nothing to leak */ }
      const leftover = nat.split('\n').filter((l) => l.includes('ctr-1') || /^-N CNI-/.test(l))
      ctx.expect(leftover.length === 0, `iptables nat rules left: ${leftover.join(' | ')}`)
      let nft = ''
      try { nft = ctx.inNetns(s.hostNetns!, 'nft', ['list', 'ruleset']) } catch { /* no nft */ }
      ctx.expect(!/ctr-1/.test(nft), 'nftables rules for the container are left')
    },
  },
  {
    id: 'br.gc-forwarded', title: 'GC is forwarded to IPAM: stale reservations go', level: 'MUST', section: 'SPEC §2 GC (delegation)', plugins: BR, minVersion: '1.1.0',
    async run(ctx) {
      const a = scenario(ctx, { containerID: 'ctr-1' })
      await addOk(ctx, a)
      const b = scenario(ctx, { containerID: 'ctr-2', like: a })
      const rb = await addOk(ctx, b)
      ctx.expectSuccess(await a.run('GC', { conf: { ...a.conf, 'cni.dev/valid-attachments': [{ containerID: 'ctr-2', ifname: 'eth0' }] } }), 'GC')
      ctx.expect(JSON.stringify(a.allocations()) === JSON.stringify([String(rb.ips[0].address).split('/')[0]]), 'GC did not release the stale reservation', a.allocations())
    },
  },
  {
    id: 'br.l2-old-version', title: 'an L2 bridge (no IPAM) cannot answer at 0.2.0; DEL still works', level: 'REF', section: 'REF types020 conversion', plugins: BR,
    async run(ctx) {
      if (!ctx.supports('0.2.0')) ctx.skip('needs spec 0.2.0')
      const s = scenario(ctx, { version: '0.2.0' })
      const { ipam: _, ...conf } = s.conf
      ctx.expectError(await s.run('ADD', { conf }), 'L2 ADD at 0.2.0')
      ctx.expectSuccess(await s.run('DEL', { conf }), 'DEL after it')
    },
  },
  {
    id: 'br.cni-args', title: 'CNI_ARGS reach IPAM; unknown keys need IgnoreUnknown', level: 'REF', section: 'SPEC §4 (same environment)', plugins: BR,
    async run(ctx) {
      ctx.expectError(await scenario(ctx).run('ADD', { attach: { args: `IP=${SUBNET}.70` } }), 'ADD with CNI_ARGS IP= (unknown to bridge)')
      const s = scenario(ctx, { containerID: 'ctr-3' })
      const e = await s.run('ADD', { attach: { args: `IgnoreUnknown=1;IP=${SUBNET}.70` } })
      ctx.expectSuccess(e, 'ADD with IgnoreUnknown=1;IP=')
      ctx.expect(String(e.json?.ips?.[0]?.address).startsWith(`${SUBNET}.70/`), `got ${e.json?.ips?.[0]?.address}, not .70`)
    },
  },
]
