/**
 * The `sysctl` key: names, the allowlist, and reading and writing the files.
 *
 * A name is dotted (`net.ipv4.conf.IFNAME.arp_notify`) or slashed (`net/ipv4/conf/eth0/arp_notify`):
 * every `.` becomes `/` first, then the first `IFNAME` becomes CNI_IFNAME (upstream's order since
 * v1.2.0, so an interface called `eth0.100` stays one path element; Debian's 1.1.1 did it the other
 * way round). The result must stay inside /proc/sys/net: a name that starts with `/`, has a `.` or
 * `..` element, a control character, or does not start with `net/` is refused before anything is
 * written, with the reference's message.
 *
 * Everything here that touches /proc/sys is synchronous: it runs inside the container's namespace.
 */
import { goErrnoText } from '../../lib/util/go-errors'
import { fs } from '../../lib/native/fs'

export const ALLOWLIST_FILE = '/etc/cni/tuning/allowlist.conf'

/** One sysctl of the config: its name as written, its file, the value to write. */
export interface Sysctl {
  key: string
  file: string
  value: string
}

/**
 * The file of one configured name, or the reference's `invalid net sysctl key: "<key>"` (the key as
 * written, `IFNAME` replaced) when it would leave /proc/sys/net.
 */
export function sysctlPath(key: string, ifName: string): string {
  const shown = key.replace('IFNAME', ifName)
  const refuse = (): never => {
    throw new Error(`invalid net sysctl key: ${JSON.stringify(shown)}`)
  }
  // eslint-disable-next-line no-control-regex
  if (key.startsWith('/') || /[\u0000-\u001f\u007f]/.test(key)) refuse()
  // Dots become slashes below, so `..` could never climb out; a slashed `..` or `.` is refused
  // anyway rather than silently read as empty elements.
  if (key.split('/').some((p) => p === '.' || p === '..')) refuse()
  const rel = key.replace(/\./g, '/').replace('IFNAME', ifName)
  const parts = rel.split('/').filter((p) => p !== '') // Go's filepath.Join drops empty elements too
  if (parts.length < 2 || parts[0] !== 'net') refuse()
  return `/proc/sys/${parts.join('/')}`
}

/** The config's sysctls with their files, all checked before any is written. */
export function resolveSysctls(sysctl: Map<string, string>, ifName: string): Sysctl[] {
  return [...sysctl].map(([key, value]) => ({ key, file: sysctlPath(key, ifName), value }))
}

/**
 * Upstream's allowlist (v1.2.0): when /etc/cni/tuning/allowlist.conf exists, every non-blank line
 * (trimmed) is a regular expression, matched unanchored against each configured name as written;
 * a name no line matches is refused with upstream's text. No file: every name is allowed. The
 * path is fixed on purpose: nothing in the environment or the config may point it elsewhere.
 */
export function checkAllowlist(keys: Iterable<string>, file = ALLOWLIST_FILE): void {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8') as string
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new Error(`reading ${file}: ${goErrnoText(err)}`)
  }
  checkAllowlistText(keys, text, file)
}

/** The allowlist rule on the file's text (separate for unit tests). */
export function checkAllowlistText(keys: Iterable<string>, text: string, file = ALLOWLIST_FILE): void {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  const patterns = lines.map((line) => {
    try {
      return new RegExp(line)
    } catch (err) {
      throw new Error(`error parsing regexp ${JSON.stringify(line)} in ${file}: ${(err as Error).message}`)
    }
  })
  for (const key of keys) {
    if (!patterns.some((p) => p.test(key))) {
      throw new Error(`Sysctl ${key} is not allowed. Only the following sysctls are allowed: [${lines.join(' ')}]`)
    }
  }
}

/** The current value, one trailing newline removed (what CHECK compares, as the reference does). */
export function readSysctlFile(file: string): string {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8') as string
  } catch (err) {
    throw new Error(`open ${file}: ${goErrnoText(err)}`)
  }
  return text.endsWith('\n') ? text.slice(0, -1) : text
}

/**
 * Writes the value's bytes with no newline. Never creates a file (procfs cannot anyway). Errors
 * read like Go's: `open /proc/sys/net/ipv4/nonexist: no such file or directory`.
 */
export function writeSysctlFile(file: string, value: string): void {
  const { O_WRONLY, O_TRUNC } = fs.constants
  let fd: number
  try {
    fd = fs.openSync(file, O_WRONLY | O_TRUNC)
  } catch (err) {
    throw new Error(`open ${file}: ${goErrnoText(err)}`)
  }
  try {
    const data = Buffer.from(value, 'utf8')
    // One write(2): a sysctl takes the whole value at once.
    if (data.length > 0) fs.writeSync(fd, data)
  } catch (err) {
    throw new Error(`write ${file}: ${goErrnoText(err)}`)
  } finally {
    fs.closeSync(fd)
  }
}
