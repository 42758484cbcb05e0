/**
 * Result types for every CNI spec version a plugin can be asked to answer in.
 * The shapes mirror the JSON on the wire; the reference's Go types (pkg/types/{020,040,100})
 * define which fields exist per version.
 */

/** Every spec version the plugins accept, oldest first (the order VERSION reports them in). */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const

export type SpecVersion = (typeof SUPPORTED_VERSIONS)[number]

/**
 * Versions whose results share one JSON shape: 0.1.0/0.2.0 ('020'), 0.3.x/0.4.0 ('040'),
 * 1.0.0/1.1.0 ('100'). Named after the reference's Go packages.
 */
export type ResultFamily = '020' | '040' | '100'

// ---- current (1.x) shape: what plugins build and what parseResult returns ----

export interface Interface {
  name: string
  mac?: string
  mtu?: number
  sandbox?: string
  /** 1.1.0 */
  socketPath?: string
  /** 1.1.0 */
  pciID?: string
}

export interface IPConfig {
  /** Index into `interfaces`; 0 is a real index and is printed. */
  interface?: number
  /** CIDR with the host bits kept, e.g. "10.1.0.5/16". */
  address: string
  gateway?: string
}

export interface Route {
  /** CIDR. */
  dst: string
  gw?: string
  /** Printed only when non-zero. */
  mtu?: number
  /** Printed only when non-zero. */
  advmss?: number
  /** Printed only when non-zero. */
  priority?: number
  /** Printed whenever set, 0 included. */
  table?: number
  /** Printed whenever set, 0 included (0 global, 253 link, 254 host). */
  scope?: number
}

export interface DNS {
  nameservers?: string[]
  domain?: string
  search?: string[]
  options?: string[]
}

/** The 1.0.0/1.1.0 result. `cniVersion` may carry any version label (see parseResult). */
export interface Result {
  cniVersion: string
  interfaces?: Interface[]
  ips?: IPConfig[]
  routes?: Route[]
  dns?: DNS
}

// ---- 0.3.0 / 0.3.1 / 0.4.0 ----

/** 0.x interfaces have no mtu/socketPath/pciID. */
export interface Interface040 {
  name: string
  mac?: string
  sandbox?: string
}

export interface IPConfig040 extends IPConfig {
  version: '4' | '6'
}

export interface Result040 {
  cniVersion: string
  interfaces?: Interface040[]
  ips?: IPConfig040[]
  /** The reference copies 1.x routes verbatim, so the 1.x route fields can appear here. */
  routes?: Route[]
  dns?: DNS
}

// ---- 0.1.0 / 0.2.0 ----

export interface Route020 {
  dst: string
  gw?: string
}

export interface IPConfig020 {
  /** CIDR with the host bits kept. */
  ip: string
  gateway?: string
  routes?: Route020[]
}

export interface Result020 {
  cniVersion: string
  ip4?: IPConfig020
  ip6?: IPConfig020
  dns?: DNS
}

export type AnyResult = Result | Result040 | Result020
