import { convertResult, formatResult, type Result } from '../skel/result'
import type { NetworkConfigList, PluginConfig } from './conf'
import { GoRaw, goMarshal } from './go-json'

/**
 * Request configs: what a plugin reads on stdin (spec 1.1.0 §"Deriving request configuration from
 * plugin configuration"), built as libcni builds them so the bytes match:
 * - the plugin object, with `name` and `cniVersion` set to the list's (overriding its own);
 * - ADD/DEL/CHECK: `prevResult` when there is one, and `runtimeConfig` from the capability args
 *   the plugin asked for; `capabilities` is passed through as written (libcni does not strip it);
 * - GC: `cni.dev/valid-attachments` (and the legacy `cni.dev/attachments`) when given;
 * - STATUS: nothing more.
 * Unknown fields pass through unchanged. Keys come out sorted (libcni goes through a Go map).
 */

/** One attachment's parameters: libcni's RuntimeConf. */
export interface RuntimeConf {
  containerId: string
  /** Namespace path (CNI_NETNS). */
  netns: string
  ifName: string
  /** CNI_ARGS as pairs, e.g. [["IP", "10.1.0.5"]]. */
  args?: [string, string][]
  /** Capability args (e.g. {"mac": "..."}); each plugin gets the ones its `capabilities` enables. */
  capabilityArgs?: Record<string, unknown>
}

/** A container's attachment that GC must keep (spec: {containerID, ifname}). */
export interface GcAttachment {
  containerID: string
  ifname: string
}

/**
 * The `runtimeConfig` a plugin gets: every capability it enables (`capabilities[k] === true`)
 * that the runtime has an arg for, value passed verbatim. Undefined when nothing matches, and then
 * the key is absent from the request (any `runtimeConfig` written in the file stays as it is).
 */
export function runtimeConfigFor(plugin: PluginConfig, capabilityArgs: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!capabilityArgs) return undefined
  const rc: Record<string, unknown> = {}
  for (const [capability, enabled] of Object.entries(plugin.capabilities)) {
    if (enabled === true && Object.hasOwn(capabilityArgs, capability)) rc[capability] = capabilityArgs[capability]
  }
  return Object.keys(rc).length > 0 ? rc : undefined
}

/** The stdin of an ADD, DEL or CHECK. */
export function attachmentRequest(list: NetworkConfigList, plugin: PluginConfig, prevResult: Result | undefined, rt: RuntimeConf): string {
  const conf: Record<string, unknown> = { ...plugin.conf, name: list.name, cniVersion: list.cniVersion }
  const runtimeConfig = runtimeConfigFor(plugin, rt.capabilityArgs)
  if (prevResult) {
    const printed = resultJson(prevResult)
    // libcni injects prevResult as a Go struct (its field order), then re-decodes the whole config
    // into a map when it adds runtimeConfig, which sorts prevResult's keys too.
    conf.prevResult = runtimeConfig ? JSON.parse(printed) : new GoRaw(printed)
  }
  if (runtimeConfig) conf.runtimeConfig = runtimeConfig
  return goMarshal(conf)
}

/** The stdin of a GC: the plugin object, name, cniVersion and (when given) the attachments to keep. */
export function gcRequest(list: NetworkConfigList, plugin: PluginConfig, validAttachments?: GcAttachment[]): string {
  const conf: Record<string, unknown> = { ...plugin.conf, name: list.name, cniVersion: list.cniVersion }
  if (validAttachments) {
    const valid = validAttachments.map((a) => ({ containerID: a.containerID, ifname: a.ifname }))
    conf['cni.dev/valid-attachments'] = valid
    // The key in the spec text of 2024 (libcni #1101): still sent, for plugins that read it.
    conf['cni.dev/attachments'] = valid
  }
  return goMarshal(conf)
}

/** The stdin of a STATUS: the plugin object with the list's name and cniVersion. */
export function statusRequest(list: NetworkConfigList, plugin: PluginConfig): string {
  return goMarshal({ ...plugin.conf, name: list.name, cniVersion: list.cniVersion })
}

/**
 * A result as Go's json.Marshal prints it (compact, in its version's shape and field order).
 * The result is in the 1.x shape labelled with its version; it is converted to that label's shape.
 */
export function resultJson(result: Result): string {
  return JSON.stringify(JSON.parse(formatResult(convertResult(result, result.cniVersion))))
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
