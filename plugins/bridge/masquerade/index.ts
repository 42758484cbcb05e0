/**
 * bridge's `ipMasq` (the reference's SetupIPMasqForNetworks and friends): a backend choice, and
 * teardown/GC that always cover both backends, because an attachment may have been made by another
 * version or configuration. The rule sets are in iptables.ts and nftables.ts beside this file; the
 * tools are run by lib/netfilter.
 */
import type { Prefix } from '../../../lib/ip/prefix'
import { ToolMissingError } from '../../../lib/netfilter/exec'
import { type Family, iptablesUsable } from '../../../lib/netfilter/iptables'
import { nftUsable } from '../../../lib/netfilter/nftables'
import { gcIptablesMasq, setupIptablesMasq, teardownIptablesMasq } from './iptables'
import { gcNftMasq, setupNftMasq, teardownNftMasq } from './nftables'

export const IPMASQ_BACKENDS = ['iptables', 'nftables'] as const
export type IPMasqBackend = (typeof IPMASQ_BACKENDS)[number]

/** Throws the reference's `unknown ipmasq backend "x"` for anything but iptables/nftables. */
export function checkIPMasqBackend(backend: string | undefined): asserts backend is IPMasqBackend | undefined {
  if (backend !== undefined && !(IPMASQ_BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`unknown ipmasq backend ${JSON.stringify(backend)}`)
  }
}

/**
 * Masquerades traffic from `addrs` (each `ip/prefix`) leaving their subnet. Without a backend:
 * iptables, unless iptables is unusable and nftables is usable (the reference's rule; asked only
 * after iptables failed, so the common path spawns nothing extra).
 */
export async function setupIPMasq(
  backend: string | undefined,
  addrs: readonly Prefix[],
  network: string,
  ifName: string,
  containerID: string,
): Promise<void> {
  checkIPMasqBackend(backend)
  if (backend === 'nftables') return setupNftMasq(addrs, network, ifName, containerID)
  if (backend === 'iptables') return setupIptablesMasq(addrs, network, containerID)
  try {
    await setupIptablesMasq(addrs, network, containerID)
  } catch (err) {
    if (!(await iptablesUsable()) && (await nftUsable())) return setupNftMasq(addrs, network, ifName, containerID)
    throw err
  }
}

/**
 * Both backends' teardown. A failure counts only when its backend is usable here (a host without
 * nft is not an error). `families` limits the iptables side to the families the attachment had.
 */
export async function teardownIPMasq(network: string, ifName: string, containerID: string, families: Iterable<Family> = [4, 6]): Promise<void> {
  await bothBackends(
    () => teardownIptablesMasq(network, containerID, families),
    () => teardownNftMasq(network, ifName, containerID),
  )
}

/** Removes the masquerade rules of `network` whose attachment is not in `valid`, in both backends. */
export async function gcIPMasq(network: string, valid: readonly { containerID: string; ifName: string }[]): Promise<void> {
  await bothBackends(
    () => gcIptablesMasq(network, new Set(valid.map((a) => a.containerID))),
    () => gcNftMasq(network, valid),
  )
}

async function bothBackends(iptables: () => Promise<void>, nft: () => Promise<void>): Promise<void> {
  const [ipt, nf] = await Promise.allSettled([iptables(), nft()])
  const errors: string[] = []
  if (ipt.status === 'rejected' && !(ipt.reason instanceof ToolMissingError) && (await iptablesUsable())) {
    errors.push((ipt.reason as Error).message)
  }
  if (nf.status === 'rejected' && !(nf.reason instanceof ToolMissingError) && (await nftUsable())) {
    errors.push((nf.reason as Error).message)
  }
  if (errors.length) throw new Error(errors.join('\n'))
}
