/**
 * The file-level pieces of `tscni install` / `tscni uninstall`: telling our files from anyone
 * else's, placing files atomically, the directory's safety check and the manifest.
 *
 * Synchronous on purpose: install is a short, one-shot job, and sync calls keep the order of what
 * happens on disk exactly the order of the lines printed.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'

/** The executable's file name in the bin directory; the plugin symlinks point at it. */
export const EXECUTABLE = 'tscni'
/** What install placed, so uninstall removes that and nothing else. */
export const MANIFEST = '.tscni-install.json'
const MANIFEST_FORMAT = 'tscni-install/1'

/**
 * How a tscni executable is recognised: this string is compiled into every tscni executable,
 * because this module is (Bun embeds the bundle's source text in the binary), and it is in no
 * other program. Looking for it reads the file instead of running it: the alternative, executing
 * `DIR/tscni version`, would run whatever program happens to sit there, as root, just to find out
 * whether it may be replaced. Install checks that its own executable holds the marker before it
 * relies on it, so a Bun release that stopped embedding the source fails loudly instead of making
 * every installed tscni look foreign.
 */
export const EXECUTABLE_MARKER = 'tscni:multi-call-executable:marker/1'

/** An operational failure with a message fit for one line of stderr. */
export class InstallError extends Error {
  override readonly name = 'InstallError'
}

const CHUNK = 4 << 20

/** Does `file` contain `needle`? Reads in chunks (the executable is ~110 MB). */
function fileContains(file: string, needle: Buffer): boolean {
  const fd = fs.openSync(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(CHUNK + needle.length)
    let kept = 0 // bytes carried over from the last chunk, so a marker across a boundary is found
    for (;;) {
      const n = fs.readSync(fd, buf, kept, CHUNK, null)
      if (n === 0) return false
      const end = kept + n
      if (buf.subarray(0, end).includes(needle)) return true
      kept = Math.min(needle.length - 1, end)
      buf.copy(buf, 0, end - kept, end)
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** A regular file (not a symlink to one) that carries the tscni marker. */
export function isTscniExecutable(file: string): boolean {
  const st = lstatOrNull(file)
  return st !== null && st.isFile() && fileContains(file, Buffer.from(EXECUTABLE_MARKER, 'latin1'))
}

/** Byte-for-byte equality of two regular files. */
export function sameContent(a: string, b: string): boolean {
  const sa = fs.statSync(a)
  const sb = fs.statSync(b)
  if (sa.size !== sb.size) return false
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true
  const fa = fs.openSync(a, 'r')
  const fb = fs.openSync(b, 'r')
  try {
    const ba = Buffer.allocUnsafe(CHUNK)
    const bb = Buffer.allocUnsafe(CHUNK)
    for (;;) {
      const na = fs.readSync(fa, ba, 0, CHUNK, null)
      const nb = fs.readSync(fb, bb, 0, CHUNK, null)
      if (na !== nb) return false
      if (na === 0) return true
      if (!ba.subarray(0, na).equals(bb.subarray(0, nb))) return false
    }
  } finally {
    fs.closeSync(fa)
    fs.closeSync(fb)
  }
}

export function lstatOrNull(file: string): fs.Stats | null {
  try {
    return fs.lstatSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/**
 * Is `link` a symlink to `DIR/tscni`? Either its target names that file (relative to DIR or
 * absolute), or it resolves to the same real file (e.g. DIR reached through another symlink).
 */
export function pointsAtExecutable(dir: string, link: string): boolean {
  const st = lstatOrNull(link)
  if (!st?.isSymbolicLink()) return false
  const exe = path.join(dir, EXECUTABLE)
  if (path.resolve(dir, fs.readlinkSync(link)) === exe) return true
  try {
    return fs.realpathSync(link) === fs.realpathSync(exe)
  } catch {
    return false // dangling, or DIR/tscni is missing
  }
}

/** A name for a temporary file beside `file`, unique per process (dot-prefixed: no runtime runs it). */
function tempBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`)
}

/** Makes a directory entry durable: rename(2) is only on disk once the directory is synced. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Copies `source` to `dest` (mode 0755) through a temporary file and rename(2). Never writes into
 * an existing `dest`: a plugin running from it keeps its old inode, so nobody hits ETXTBSY and
 * no runtime ever executes a half-written file.
 */
export function placeExecutable(source: string, dest: string): void {
  const tmp = tempBeside(dest)
  fs.rmSync(tmp, { force: true })
  try {
    fs.copyFileSync(source, tmp, fs.constants.COPYFILE_EXCL)
    const fd = fs.openSync(tmp, 'r+')
    try {
      fs.fchmodSync(fd, 0o755) // copyFileSync keeps the source's mode, and the umask may have trimmed it
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, dest)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
}

/** Makes `link` a symlink to `target` via a temporary symlink and rename(2): never a moment without it. */
export function placeSymlink(target: string, link: string): void {
  const tmp = tempBeside(link)
  fs.rmSync(tmp, { force: true })
  try {
    fs.symlinkSync(target, tmp)
    fs.renameSync(tmp, link)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
}

/** Writes a small file through a temporary file, fsync and rename(2). */
export function placeText(file: string, text: string): void {
  const tmp = tempBeside(file)
  fs.rmSync(tmp, { force: true })
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644)
    try {
      fs.writeSync(fd, text)
      fs.fchmodSync(fd, 0o644)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
}

/**
 * `mkdir -p` with every directory it creates set to 0755 (mkdir's own mode goes through the
 * umask). Returns the directories it created, outermost first.
 */
export function ensureDir(dir: string): string[] {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new InstallError(`${dir} is not a directory`)
  const first = fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
  if (first === undefined) return []
  const created: string[] = []
  for (let d = dir; ; d = path.dirname(d)) {
    created.unshift(d)
    if (d === first || d === path.dirname(d)) break
  }
  for (const d of created) fs.chmodSync(d, 0o755)
  return created
}

/**
 * The plugins run as root: whoever can write their directory can make root run anything. So the
 * directory must be root's and writable by nobody else. (Only DIR itself is checked, as the brief
 * for install asks; its parents are the administrator's business.)
 */
export function checkDirIsSafe(dir: string): void {
  const st = fs.statSync(dir)
  if (!st.isDirectory()) throw new InstallError(`${dir} is not a directory`)
  if (st.uid !== 0) {
    throw new InstallError(`refusing to use ${dir}: owned by uid ${st.uid}, not root (the plugins run as root)`)
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0')
    throw new InstallError(`refusing to use ${dir}: group- or world-writable (mode ${mode}; the plugins run as root)`)
  }
}

/** One file install placed. */
export interface ManifestEntry {
  name: string
  type: 'executable' | 'symlink'
  /** Set for symlinks: what the link says (always "tscni"). */
  target?: string
  /** Install replaced a file that was not tscni's (with --force) to put this one there. */
  replacedForeign: boolean
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT
  /** The tscni version that last wrote the manifest. */
  version: string
  files: ManifestEntry[]
}

export function manifestText(version: string, files: ManifestEntry[]): string {
  const manifest: Manifest = { format: MANIFEST_FORMAT, version, files }
  return `${JSON.stringify(manifest, null, 2)}\n`
}

/**
 * A plain file name: uninstall unlinks `DIR/<name>` for names read from the manifest, so a name
 * must never reach outside DIR.
 */
function isPlainName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0')
}

function isEntry(e: unknown): e is ManifestEntry {
  if (typeof e !== 'object' || e === null) return false
  const x = e as Record<string, unknown>
  return isPlainName(x.name) && (x.type === 'executable' || x.type === 'symlink') && typeof x.replacedForeign === 'boolean'
}

/**
 * The manifest in `dir`, or null when there is none. A manifest that cannot be read as ours (bad
 * JSON, unknown format, odd entries) counts as none: every caller then falls back to checking
 * each file for itself, which is always safe.
 */
export function readManifest(dir: string): Manifest | null {
  const file = path.join(dir, MANIFEST)
  const st = lstatOrNull(file)
  if (!st?.isFile()) return null
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Manifest>
    if (m.format !== MANIFEST_FORMAT || !Array.isArray(m.files) || !m.files.every(isEntry)) return null
    return { format: MANIFEST_FORMAT, version: String(m.version), files: m.files }
  } catch {
    return null
  }
}
