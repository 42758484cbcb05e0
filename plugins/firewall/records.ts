/**
 * What ADD allowed, per attachment, so GC (and a DEL without prevResult) can find the addresses.
 * The per-address rules carry no comment (they must be the reference's, byte for byte), and
 * CNI-FORWARD is shared by every network, so the rules alone cannot tell whose they are.
 *
 *   <dataDir>/<network>/<containerID>:<ifName>    {"containerID":…,"ifName":…,"ips":["10.0.0.2/32"],"backend":"iptables"}
 *
 * containerID and ifName are validated by skel before a verb runs (no `/`, no `:`), so the name is
 * unambiguous and stays inside the directory. Written atomically (temp file + rename), mode 0600.
 * The reference keeps no such record: attachments it made are invisible to GC here.
 */
import { fs } from '../../lib/native/fs'

export interface AttachmentRecord {
  containerID: string
  ifName: string
  ips: string[]
  /** The backend that ADD used (GC removes the addresses there). */
  backend?: 'iptables' | 'firewalld'
}

const dirOf = (dataDir: string, network: string): string => `${dataDir.replace(/\/+$/, '')}/${network}`
const fileName = (containerID: string, ifName: string): string => `${containerID}:${ifName}`
const errCode = (err: unknown): string | undefined => (err as { code?: string }).code

function mkdirs(dir: string): void {
  let path = ''
  for (const part of dir.split('/')) {
    if (part === '') continue
    path += `/${part}`
    try {
      fs.mkdirSync(path, { mode: 0o700 })
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw err
    }
  }
}

export function writeRecord(dataDir: string, network: string, r: AttachmentRecord): void {
  const dir = dirOf(dataDir, network)
  const final = `${dir}/${fileName(r.containerID, r.ifName)}`
  const tmp = `${dir}/.${fileName(r.containerID, r.ifName)}.${process.pid}.tmp`
  // A concurrent DEL of the network's last attachment may remove the directory between our mkdir
  // and our write (removeRecord): make it again, once.
  for (let attempt = 0; ; attempt++) {
    mkdirs(dir)
    try {
      fs.writeFileSync(tmp, JSON.stringify(r), { mode: 0o600 })
      break
    } catch (err) {
      if (errCode(err) !== 'ENOENT' || attempt > 0) throw err
    }
  }
  try {
    fs.renameSync(tmp, final)
  } catch (err) {
    removeQuietly(tmp)
    throw err
  }
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file)
  } catch {
    // already gone
  }
}

function parse(text: string): AttachmentRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<AttachmentRecord>
    if (typeof r.containerID !== 'string' || typeof r.ifName !== 'string' || !Array.isArray(r.ips)) return undefined
    const out: AttachmentRecord = { containerID: r.containerID, ifName: r.ifName, ips: r.ips.filter((ip): ip is string => typeof ip === 'string') }
    if (r.backend === 'iptables' || r.backend === 'firewalld') out.backend = r.backend
    return out
  } catch {
    return undefined
  }
}

export function readRecord(dataDir: string, network: string, containerID: string, ifName: string): AttachmentRecord | undefined {
  try {
    return parse(fs.readFileSync(`${dirOf(dataDir, network)}/${fileName(containerID, ifName)}`, 'utf8') as string)
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return undefined
    throw err
  }
}

/** Removes the record, and the network's directory with its last one (DEL leaves nothing behind). */
export function removeRecord(dataDir: string, network: string, containerID: string, ifName: string): void {
  const dir = dirOf(dataDir, network)
  removeQuietly(`${dir}/${fileName(containerID, ifName)}`)
  try {
    fs.rmdirSync(dir)
  } catch {
    // not empty (other attachments), or gone already
  }
}

/** Every record of a network (none when its directory is missing). */
export function listRecords(dataDir: string, network: string): AttachmentRecord[] {
  const dir = dirOf(dataDir, network)
  let names: string[]
  try {
    names = fs.readdirSync(dir) as string[]
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return []
    throw err
  }
  const out: AttachmentRecord[] = []
  for (const name of names) {
    if (name.startsWith('.')) continue
    try {
      const r = parse(fs.readFileSync(`${dir}/${name}`, 'utf8') as string)
      if (r && name === fileName(r.containerID, r.ifName)) out.push(r)
    } catch {
      // vanished meanwhile (a concurrent DEL)
    }
  }
  return out
}

/** The networks that have records (GC keeps addresses any other network's records still hold). */
export function listNetworks(dataDir: string): string[] {
  try {
    return (fs.readdirSync(dataDir.replace(/\/+$/, '') || '/') as string[]).filter((n) => !n.startsWith('.'))
  } catch {
    return []
  }
}
