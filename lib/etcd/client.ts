/**
 * A minimal etcd v3 client over etcd's JSON gateway (grpc-gateway: POST /v3/kv/range, /v3/kv/txn,
 * /v3/lease/grant, JSON bodies, keys and values base64, int64 as strings), on the runtime's
 * built-in fetch: no dependency, nothing to load at start-up (see plugins/etcd-ipam/README.md for
 * the measurement against the `etcd3` gRPC package).
 *
 * Endpoints are tried in order; a transport failure (refused, reset, timed out) moves to the next
 * one and re-sends the same request. Every request the IPAM makes is safe to re-send: a txn's
 * compares make a second application fail instead of writing twice. When no endpoint answers,
 * EtcdUnavailableError names each endpoint and what went wrong with it.
 */
import { fs } from '../native/fs'

export interface EtcdTLS {
  /** PEM file of the CA that signed the members' certificates. */
  caFile?: string
  /** PEM client certificate and key (both or neither). */
  certFile?: string
  keyFile?: string
}

export interface EtcdClientOptions {
  /** `http://host:port` or `https://host:port`, tried in order. */
  endpoints: string[]
  tls?: EtcdTLS
  /** Per request and endpoint, ms. */
  requestTimeoutMs: number
  /** For the whole client (every request of one plugin run), ms. */
  totalTimeoutMs: number
}

export interface KeyValue {
  key: string
  value: string
  createRevision: number
  modRevision: number
}

export interface RangeOptions {
  /** Exclusive end of the key range; prefixEnd(key) for a prefix. */
  rangeEnd?: string
  keysOnly?: boolean
  countOnly?: boolean
  limit?: number
}

export interface RangeResult {
  kvs: KeyValue[]
  count: number
  revision: number
}

export type Compare =
  | { key: string; target: 'CREATE'; result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL'; createRevision: number }
  | { key: string; target: 'MOD'; result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL'; modRevision: number }
  | { key: string; target: 'VALUE'; result: 'EQUAL' | 'NOT_EQUAL'; value: string }

export type Op =
  | { put: { key: string; value: string; lease?: string } }
  | { range: { key: string } & RangeOptions }
  | { deleteRange: { key: string; rangeEnd?: string } }

/** One response per op, in order: a RangeResult for a range op, null for the others. */
export interface TxnResult {
  succeeded: boolean
  responses: Array<RangeResult | null>
  revision: number
}

/** No endpoint could be reached or none answered in time: the caller reports code 11 (or 50). */
export class EtcdUnavailableError extends Error {
  override readonly name = 'EtcdUnavailableError'
}

/** Every endpoint failed the TLS handshake (unknown CA, missing client certificate): a config problem. */
export class EtcdTLSError extends Error {
  override readonly name = 'EtcdTLSError'
}

/** etcd answered with an error (e.g. a bad request, a missing lease, authentication). */
export class EtcdRequestError extends Error {
  override readonly name = 'EtcdRequestError'
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')
const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '')

/** The first key after every key starting with `prefix` (etcd's prefix range end). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix, 'utf8')
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1))
      out[i]++
      return out.toString('latin1')
    }
  }
  return '\0'
}

function encodeRange(r: { key: string } & RangeOptions): Record<string, unknown> {
  const o: Record<string, unknown> = { key: b64(r.key) }
  if (r.rangeEnd !== undefined) o.range_end = b64(r.rangeEnd)
  if (r.keysOnly) o.keys_only = true
  if (r.countOnly) o.count_only = true
  if (r.limit) o.limit = String(r.limit)
  return o
}

function decodeRange(r: any): RangeResult {
  const kvs: KeyValue[] = (r?.kvs ?? []).map((kv: any) => ({
    key: unb64(kv.key),
    value: unb64(kv.value),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
  }))
  return { kvs, count: Number(r?.count ?? kvs.length), revision: Number(r?.header?.revision ?? 0) }
}

function encodeCompare(c: Compare): Record<string, unknown> {
  const o: Record<string, unknown> = { key: b64(c.key), target: c.target, result: c.result }
  if (c.target === 'CREATE') o.create_revision = String(c.createRevision)
  else if (c.target === 'MOD') o.mod_revision = String(c.modRevision)
  else o.value = b64(c.value)
  return o
}

function encodeOp(op: Op): Record<string, unknown> {
  if ('put' in op) {
    const p: Record<string, unknown> = { key: b64(op.put.key), value: b64(op.put.value) }
    if (op.put.lease) p.lease = op.put.lease
    return { request_put: p }
  }
  if ('range' in op) return { request_range: encodeRange(op.range) }
  const d: Record<string, unknown> = { key: b64(op.deleteRange.key) }
  if (op.deleteRange.rangeEnd !== undefined) d.range_end = b64(op.deleteRange.rangeEnd)
  return { request_delete_range: d }
}

declare const Bun: unknown

const ENV_OVERRIDES = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy',
  'NODE_TLS_REJECT_UNAUTHORIZED',
]

export class EtcdClient {
  private readonly deadline: number
  private tlsOpts: { ca?: string; cert?: string; key?: string } | undefined
  /** The endpoint that answered last: tried first next time. */
  private preferred = 0

  constructor(private readonly opts: EtcdClientOptions) {
    this.deadline = Date.now() + opts.totalTimeoutMs
    // The runtime's fetch obeys these from the environment, and runtimes pass theirs on to plugins
    // (a containerd with HTTP_PROXY for image pulls is common): etcd traffic would go through a
    // proxy, and TLS checks could be switched off. Where etcd is comes from the config only.
    for (const k of ENV_OVERRIDES) delete process.env[k]
  }

  get endpoints(): readonly string[] {
    return this.opts.endpoints
  }

  private tls(): { ca?: string; cert?: string; key?: string } | undefined {
    if (this.tlsOpts !== undefined || !this.opts.tls) return this.tlsOpts
    const read = (field: string, file: string | undefined): string | undefined => {
      if (!file) return undefined
      try {
        return fs.readFileSync(file, 'utf8') as string
      } catch (err) {
        throw new EtcdRequestError(`cannot read ${field} ${file}: ${(err as Error).message}`)
      }
    }
    this.tlsOpts = {
      ca: read('caFile', this.opts.tls.caFile),
      cert: read('certFile', this.opts.tls.certFile),
      key: read('keyFile', this.opts.tls.keyFile),
    }
    return this.tlsOpts
  }

  /**
   * POSTs `body` to `path` on the first endpoint that answers. When every endpoint failed and at
   * least one of them is up but busy (no leader during an election, a raft timeout), the round is
   * repeated after a short pause until the deadline; when none is up (refused, unreachable) the
   * error comes at once.
   */
  async call(path: string, body: unknown): Promise<any> {
    const text = JSON.stringify(body)
    for (let pause = 50; ; pause = Math.min(pause * 2, 400)) {
      const { json, failures, busy, tlsFailed } = await this.round(path, text)
      if (json !== undefined) return json
      if (tlsFailed === failures.length) throw new EtcdTLSError(failures.join('; '))
      if (!busy || this.deadline - Date.now() <= pause) throw new EtcdUnavailableError(failures.join('; '))
      await new Promise((r) => setTimeout(r, pause))
    }
  }

  private async round(path: string, text: string): Promise<{ json?: any; failures: string[]; busy: boolean; tlsFailed: number }> {
    const eps = this.opts.endpoints
    const failures: string[] = []
    let busy = false
    let tlsFailed = 0
    for (let n = 0; n < eps.length; n++) {
      const i = (this.preferred + n) % eps.length
      const ep = eps[i]
      const left = this.deadline - Date.now()
      if (left <= 0) {
        failures.push(`${ep}: not tried, the plugin's timeout has passed`)
        continue
      }
      let res: Response
      try {
        res = await this.fetchOnce(ep + path, text, Math.min(left, this.opts.requestTimeoutMs))
      } catch (err) {
        const why = transportText(err)
        if (why === 'timed out') busy = true
        if (/certificate|TLS|SSL|EPROTO|handshake/i.test(why)) tlsFailed++
        failures.push(`${ep}: ${why}`)
        continue
      }
      const raw = await res.text().catch(() => '')
      let json: any
      try {
        json = raw ? JSON.parse(raw) : {}
      } catch {
        json = { error: raw.slice(0, 200) }
      }
      if (!res.ok) {
        const msg = String(json?.error ?? json?.message ?? `HTTP ${res.status}`)
        // A member without a leader or timing out inside raft: another member may do better.
        if (res.status >= 500) {
          busy = true
          failures.push(`${ep}: ${msg}`)
          continue
        }
        throw new EtcdRequestError(`${ep}${path}: ${msg}`)
      }
      this.preferred = i
      return { json, failures, busy, tlsFailed }
    }
    return { failures, busy, tlsFailed }
  }

  private async fetchOnce(url: string, body: string, timeoutMs: number): Promise<Response> {
    const init: Record<string, unknown> = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    }
    if (url.startsWith('https:')) {
      const tls = this.tls()
      if (typeof Bun !== 'undefined') {
        init.tls = tls
      } else {
        return nodeHttpsPost(url, body, timeoutMs, tls ?? {})
      }
    }
    return fetch(url, init as RequestInit)
  }

  async range(key: string, o: RangeOptions = {}): Promise<RangeResult> {
    return decodeRange(await this.call('/v3/kv/range', encodeRange({ key, ...o })))
  }

  async txn(compare: Compare[], success: Op[], failure: Op[] = []): Promise<TxnResult> {
    const json = await this.call('/v3/kv/txn', {
      compare: compare.map(encodeCompare),
      success: success.map(encodeOp),
      failure: failure.map(encodeOp),
    })
    const responses = (json.responses ?? []).map((r: any) => (r.response_range ? decodeRange(r.response_range) : null))
    // The gateway leaves out empty range responses' fields: {"response_range":{"header":...}}.
    const ops = json.succeeded ? success : failure
    ops.forEach((op, i) => {
      if ('range' in op && !responses[i]) responses[i] = { kvs: [], count: 0, revision: 0 }
    })
    return { succeeded: json.succeeded === true, responses, revision: Number(json.header?.revision ?? 0) }
  }

  /** A lease of `ttl` seconds; its ID as the decimal string etcd uses. */
  async leaseGrant(ttl: number): Promise<string> {
    const json = await this.call('/v3/lease/grant', { TTL: String(ttl) })
    if (!json.ID) throw new EtcdRequestError(`lease grant: ${json.error ?? 'no ID in the answer'}`)
    return String(json.ID)
  }
}

/** A transport error in words: "connection refused", "timed out after 3000 ms", a TLS reason. */
function transportText(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out'
  const code = e?.code ?? e?.cause?.code
  const msg = e?.cause?.message ?? e?.message ?? String(err)
  if (code === 'ConnectionRefused' || code === 'ECONNREFUSED') return 'connection refused'
  return code && !msg.includes(code) ? `${msg} (${code})` : msg
}

/** Under Node (tests of lib/ only): https with client certificates through node:https. */
function nodeHttpsPost(url: string, body: string, timeoutMs: number, tls: { ca?: string; cert?: string; key?: string }): Promise<Response> {
  const https = require('node:https') as typeof import('node:https')
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, ...tls, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })))
    req.on('error', reject)
    req.end(body)
  })
}
