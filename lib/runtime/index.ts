/**
 * The runtime side of CNI (what libcni does for containerd, CRI-O or cnitool): find a network's
 * config, run its plugin chain for ADD/DEL/CHECK/STATUS/GC, keep the result cache. Used by
 * cnitool, the demo and the conformance harness; never by plugins.
 */
export { CniRuntime, parsePluginResult, type RuntimeOptions } from './runtime'
export { type NetworkConfigList, parseNetworkConfigList } from './conf'
export { type PluginConfig, parsePluginConfig } from './plugin-conf'
export {
  DEFAULT_NETCONF_DIR,
  loadNetworkConfigList,
  listNetworkConfigFiles,
  networkConfigListFromFile,
  NetworkNotFoundError,
  NoConfigsFoundError,
  type ConfigFileEntry,
} from './load'
export {
  type CacheEntry,
  type CachedAttachment,
  CACHE_KIND_V1,
  DEFAULT_CACHE_DIR,
  cacheFilePath,
  cachedResultOf,
  decodeCacheEntry,
  encodeCacheEntry,
  listCachedAttachments,
  readCachedResult,
} from './cache'
export { attachmentRequest, gcRequest, statusRequest, runtimeConfigFor, type GcAttachment, type RuntimeConf } from './request'
export { type CniEnv, execPlugin, type ExecOptions, findInPath } from './exec'
export { CURRENT_SPEC_VERSION, selectCniVersion } from './versions'
export { probeVersion, decodeVersionInfo, type VersionInfo } from './version-info'
export { RuntimeError, JoinedError, cniCodeOf } from './errors'
