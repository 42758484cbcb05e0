import type { Case } from '../harness/case'
import { bridgeCases } from './bridge'
import { chainedCases } from './chained'
import { hostLocalCases } from './host-local'
import { lifecycleCases } from './lifecycle'
import { loopbackCases } from './loopback'
import { protocolCases } from './protocol'

/** Every case, in report order. */
export const ALL_CASES: readonly Case[] = [
  ...protocolCases,
  ...lifecycleCases,
  ...loopbackCases,
  ...hostLocalCases,
  ...bridgeCases,
  ...chainedCases,
]
