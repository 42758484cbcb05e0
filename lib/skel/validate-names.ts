import { CniError, ErrorCode } from './errors'

// One rule for container IDs and network names (spec §"Parameters", §"Network configuration").
const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

/** CNI_CONTAINERID: alphanumeric first, then alphanumerics, `_`, `.`, `-`. */
export function validateContainerID(id: string): void {
  if (id === '') throw new CniError(ErrorCode.UnknownContainer, 'missing containerID')
  if (!ID_PATTERN.test(id)) {
    throw new CniError(ErrorCode.InvalidEnvironment, 'invalid characters in containerID', id)
  }
}

/** CNI_IFNAME: what the kernel accepts as a link name (at most 15 bytes, no `/`, `:` or spaces). */
export function validateInterfaceName(name: string): void {
  if (name === '') throw new CniError(ErrorCode.InvalidEnvironment, 'interface name is empty')
  if (Buffer.byteLength(name) > 15) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      'interface name is too long',
      'interface name should be less than 16 characters',
    )
  }
  if (name === '.' || name === '..') {
    throw new CniError(ErrorCode.InvalidEnvironment, 'interface name is . or ..')
  }
  if (/[/:\s]/u.test(name)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      'interface name contains / or : or whitespace characters',
    )
  }
}

/** The network `name`: also a file name (host-local's store, the result cache), hence the strict set. */
export function validateNetworkName(name: string): void {
  if (name === '') throw new CniError(ErrorCode.InvalidNetworkConfig, 'missing network name')
  if (!ID_PATTERN.test(name)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, 'invalid characters found in network name', name)
  }
}
