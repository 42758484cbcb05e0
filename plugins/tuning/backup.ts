/**
 * The saved original link attributes: `<dataDir>/<containerID>_<ifname>.json`, the reference's file,
 * name and format (Go's MarshalIndent with a one-space indent, no trailing newline, keys in the
 * order mac, promisc, mtu, allmulti, txQLen, each only when saved), so either implementation's DEL
 * restores what the other's ADD changed.
 *
 * The directory is made 0600 like the reference's (root needs no search bit; nobody else can
 * enter it either way) and must be one only this user can write, and so must every directory above it be (or be sticky, like /tmp): the file is written
 * as root, so nobody else may get to swap it or a directory on the way for a symlink. The file is
 * written to a temporary name beside it and renamed, so a reader never sees half a file.
 */
import { fs } from '../../lib/native/fs'
import { goErrnoText } from '../../lib/util/go-errors'

export interface Backup {
  mac?: string
  promisc?: boolean
  mtu?: number
  allmulti?: boolean
  txQLen?: number
}

/** The reference's key order. */
const KEYS = ['mac', 'promisc', 'mtu', 'allmulti', 'txQLen'] as const

/** `<containerID>_<ifname>.json`, refused if it could name anything but a file in the directory. */
export function backupName(containerID: string, ifName: string): string {
  const name = `${containerID}_${ifName}.json`
  if (containerID === '' || ifName === '' || name.includes('/') || name.includes('\0') || name.startsWith('.') || Buffer.byteLength(name) > 255) {
    throw new Error(`cannot name a backup file after container ${JSON.stringify(containerID)} and interface ${JSON.stringify(ifName)}`)
  }
  return name
}

export function backupPath(dataDir: string, containerID: string, ifName: string): string {
  return `${dataDir === '/' ? '' : dataDir}/${backupName(containerID, ifName)}`
}

/** The file's text exactly as the reference writes it. */
export function formatBackup(b: Backup): string {
  const out: Record<string, unknown> = {}
  // Go's omitempty: an empty MAC and a zero MTU are left out.
  if (b.mac) out.mac = b.mac
  if (b.promisc !== undefined) out.promisc = b.promisc
  if (b.mtu) out.mtu = b.mtu
  if (b.allmulti !== undefined) out.allmulti = b.allmulti
  if (b.txQLen !== undefined) out.txQLen = b.txQLen
  return JSON.stringify(out, null, 1)
}

/**
 * The file's content the way the reference's DEL reads it (Go: keys case-insensitive, the last
 * wins, null = absent); undefined when it does not decode (wrong JSON or a wrongly typed value),
 * which the reference's DEL treats as "nothing to restore".
 */
export function parseBackup(text: string): Backup | undefined {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  if (v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) return undefined
  const out: Backup = {}
  const wanted = new Map(KEYS.map((k) => [k.toLowerCase(), k]))
  for (const [rawKey, value] of Object.entries(v as Record<string, unknown>)) {
    const key = wanted.get(rawKey.toLowerCase())
    if (!key) continue
    if (value === null) {
      delete out[key]
      continue
    }
    if (key === 'mac') {
      if (typeof value !== 'string') return undefined
      out.mac = value
    } else if (key === 'promisc' || key === 'allmulti') {
      if (typeof value !== 'boolean') return undefined
      out[key] = value
    } else {
      if (typeof value !== 'number' || !Number.isInteger(value)) return undefined
      out[key] = value
    }
  }
  return out
}

/** What is in the file now: undefined when there is none, 'unreadable' when it does not decode. */
export function readBackup(file: string): Backup | 'unreadable' | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8') as string
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return 'unreadable'
  }
  return parseBackup(text) ?? 'unreadable'
}

/** The raw text (to put back after a failed ADD), undefined when there is no file. */
export function readBackupText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8') as string
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`failed to read ${file}: ${goErrnoText(err)}`)
  }
}

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_ISVTX = 0o1000

function euid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0
}

/** Refuses a directory that another user could write into (or swap), unless sticky (ancestors only). */
function checkDir(dir: string, st: { mode: number; uid: number }, last: boolean): void {
  const me = euid()
  const problem =
    (st.mode & S_IFMT) !== S_IFDIR ? 'is not a directory'
    : (last ? st.uid !== me : st.uid !== me && st.uid !== 0) ? `belongs to uid ${st.uid}`
    : (st.mode & 0o022) !== 0 && (last || (st.mode & S_ISVTX) === 0) ? 'can be written by other users'
    : undefined
  if (problem) throw new Error(`failed to create backup directory: ${dir} ${problem}`)
}

/**
 * Makes `dataDir` (and what is missing above it) with mode 0600, as the reference's MkdirAll does,
 * and checks that the directory and
 * every one above it is safe to write a root-owned file into.
 */
export function ensureDataDir(dataDir: string): void {
  const parts = dataDir.split('/').filter((p) => p !== '')
  let dir = ''
  checkDir('/', fs.statSync('/'), parts.length === 0)
  for (let i = 0; i < parts.length; i++) {
    dir += `/${parts[i]}`
    const last = i === parts.length - 1
    let st
    try {
      // The last element must be a real directory; above it a symlink (/var/run -> /run) is fine.
      st = last ? fs.lstatSync(dir) : fs.statSync(dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`failed to create backup directory: stat ${dir}: ${goErrnoText(err)}`)
      try {
        fs.mkdirSync(dir, { mode: 0o600 })
      } catch (mkErr) {
        if ((mkErr as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new Error(`failed to create backup directory: mkdir ${dir}: ${goErrnoText(mkErr)}`)
        }
      }
      st = fs.lstatSync(dir)
    }
    checkDir(dir, st as { mode: number; uid: number }, last)
  }
}

/** Writes the file (mode 0600) through a temporary name and rename(2). */
export function writeBackupText(dataDir: string, file: string, text: string): void {
  ensureDataDir(dataDir)
  const tmp = `${file}.tmp-${process.pid}`
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC } = fs.constants
  const open = (): number => fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0o600)
  let fd: number
  try {
    try {
      fd = open()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      fs.unlinkSync(tmp) // left by a process with our pid that died half-way
      fd = open()
    }
    try {
      const data = Buffer.from(text, 'utf8')
      let off = 0
      while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (err) {
    try {
      fs.unlinkSync(tmp)
    } catch {
      // not there
    }
    throw new Error(`failed to save file ${file}: ${goErrnoText(err)}`)
  }
}

export function writeBackup(dataDir: string, file: string, b: Backup): void {
  writeBackupText(dataDir, file, formatBackup(b))
}

/** Removes the file; quiet when it is already gone. */
export function removeBackup(file: string): void {
  try {
    fs.unlinkSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`failed to remove file ${file}: ${goErrnoText(err)}`)
  }
}
