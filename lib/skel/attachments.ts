import { CniError, ErrorCode } from './errors'

/** One attachment a GC call names as still valid. */
export interface Attachment {
  containerID: string
  ifName: string
}

/**
 * The still-valid attachments of a GC call (spec 1.1.0): `cni.dev/valid-attachments`, else the
 * older `cni.dev/attachments`; null or absent means none (libcni's reading). A malformed list is
 * code 7 naming the key.
 */
export function validAttachments(conf: Record<string, unknown>): Attachment[] {
  const key = 'cni.dev/valid-attachments' in conf ? 'cni.dev/valid-attachments' : 'cni.dev/attachments'
  const raw = conf[key]
  if (raw === undefined || raw === null) return []
  const bad = (): CniError => new CniError(ErrorCode.InvalidNetworkConfig, `"${key}" must be an array of {"containerID", "ifname"} objects`)
  if (!Array.isArray(raw)) throw bad()
  return raw.map((a: unknown) => {
    const o = a as { containerID?: unknown; ifname?: unknown } | null
    if (typeof o !== 'object' || o === null || typeof o.containerID !== 'string' || typeof o.ifname !== 'string') throw bad()
    return { containerID: o.containerID, ifName: o.ifname }
  })
}
