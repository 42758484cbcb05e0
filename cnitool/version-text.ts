import { SUPPORTED_VERSIONS } from '../lib/skel/result/types'

/** The spec version this cnitool implements (libcni's version.Current()). */
const SPEC_VERSION = '1.1.0'

/** `cnitool version`'s text, or its JSON with --json. */
export function versionText(toolVersion: string, json: boolean): string {
  if (json) {
    return `${JSON.stringify({ version: toolVersion, cniVersion: SPEC_VERSION, supportedVersions: SUPPORTED_VERSIONS }, null, 2)}\n`
  }
  return (
    `cnitool ${toolVersion} (tscni)\n` +
    `CNI spec ${SPEC_VERSION}; runs network configs of versions ${SUPPORTED_VERSIONS.join(', ')}\n`
  )
}
