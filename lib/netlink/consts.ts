/**
 * Kernel numbers from <linux/rtnetlink.h>, <linux/if_link.h>, <linux/if_addr.h>, <linux/if_bridge.h>,
 * <linux/neighbour.h> and <linux/socket.h> that this layer needs. Plain objects, not `const enum`,
 * because the sources are transpiled file by file (ts-node transpile-only in the tests).
 */

export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10 } as const

/** rtnetlink message types. */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const

export type RtmType = (typeof RTM)[keyof typeof RTM]

/** Names for messages, used in error texts: RTM_NEWLINK etc. */
export const RTM_NAME: Record<number, string> = {
  16: 'RTM_NEWLINK',
  17: 'RTM_DELLINK',
  18: 'RTM_GETLINK',
  19: 'RTM_SETLINK',
  20: 'RTM_NEWADDR',
  21: 'RTM_DELADDR',
  22: 'RTM_GETADDR',
  24: 'RTM_NEWROUTE',
  25: 'RTM_DELROUTE',
  26: 'RTM_GETROUTE',
}

/** nlmsghdr flags. */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  // GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
} as const

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const

/** Attribute type flags (struct nlattr). */
export const NLA_F_NESTED = 0x8000

/** net_device flags (ifi_flags). */
export const IFF = { UP: 0x1, LOOPBACK: 0x8, PROMISC: 0x100, ALLMULTI: 0x200 } as const

export const IFLA = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  PROTINFO: 12,
  TXQLEN: 13,
  OPERSTATE: 16,
  LINKINFO: 18,
  AF_SPEC: 26,
  NET_NS_FD: 28,
  EXT_MASK: 29,
  LINK_NETNSID: 37,
} as const

export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const

export const VETH_INFO_PEER = 1

/** IFLA_BR_* (bridge IFLA_INFO_DATA). */
export const IFLA_BR = { VLAN_FILTERING: 7 } as const

/** IFLA_BRPORT_* (bridge port: IFLA_PROTINFO with AF_BRIDGE, or IFLA_INFO_SLAVE_DATA). */
export const IFLA_BRPORT = { STATE: 1, MODE: 4, ISOLATED: 33 } as const

/** IFLA_BRIDGE_* (inside IFLA_AF_SPEC with AF_BRIDGE). */
export const IFLA_BRIDGE = { FLAGS: 0, VLAN_INFO: 2 } as const
export const BRIDGE_FLAGS = { MASTER: 1, SELF: 2 } as const
export const BRIDGE_VLAN_INFO = { MASTER: 0x1, PVID: 0x2, UNTAGGED: 0x4, RANGE_BEGIN: 0x8, RANGE_END: 0x10 } as const

/** IFLA_EXT_MASK values. */
export const RTEXT_FILTER = { VF: 1, BRVLAN: 2, BRVLAN_COMPRESSED: 4, SKIP_STATS: 8 } as const

/** RFC 2863 operational states (IFLA_OPERSTATE), named like Go's netlink LinkOperState.String(). */
export const OPER_STATE = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const

export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const

export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const

export const RTA = {
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  TABLE: 15,
} as const

export const RTAX = { MTU: 2, ADVMSS: 8 } as const

/** rtm_flags */
export const RTM_F_CLONED = 0x200

export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const

export const RT_SCOPE = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const
export type ScopeName = keyof typeof RT_SCOPE

export const RTPROT = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  ra: 9,
  dhcp: 16,
} as const
export type ProtocolName = keyof typeof RTPROT

export const RTN = {
  unspec: 0,
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
} as const
export type RouteTypeName = keyof typeof RTN

/** Reverse lookup in one of the name tables above; unknown values come back as numbers. */
export function nameOf<T extends Record<string, number>>(table: T, value: number): keyof T | number {
  for (const key in table) if (table[key] === value) return key
  return value
}
