export * from './types'
export { compareVersions, isSupportedVersion, versionFamily } from './version'
export { convertResult, parsePrevResult, parseResult } from './convert'
export { formatResult } from './format'
