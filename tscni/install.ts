/**
 * `tscni install [--dir DIR] [--force]` and `tscni uninstall [--dir DIR]`: put this executable into
 * a CNI bin directory with one symlink per plugin, and take exactly that away again.
 *
 * Install decides everything before it changes anything: a file under one of our names that is not
 * tscni's stops the whole install (unless --force). Every file goes into place by rename(2), so a
 * runtime executing a plugin at that moment runs either the old file or the new one, never a torn
 * one, and a plugin still running from the old executable is never in the way (no ETXTBSY).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { version } from '../package.json'
import { PLUGINS } from './entries'
import {
  EXECUTABLE,
  InstallError,
  MANIFEST,
  type ManifestEntry,
  checkDirIsSafe,
  ensureDir,
  isTscniExecutable,
  lstatOrNull,
  manifestText,
  placeExecutable,
  placeSymlink,
  placeText,
  pointsAtExecutable,
  readManifest,
  sameContent,
  syncDir,
} from './install-files'

const DEFAULT_DIR = '/opt/cni/bin'
const INSTALL_USAGE = `usage: tscni install [--dir DIR] [--force]   (DIR defaults to ${DEFAULT_DIR})`
const UNINSTALL_USAGE = `usage: tscni uninstall [--dir DIR]   (DIR defaults to ${DEFAULT_DIR})`

class UsageError extends Error {
  override readonly name = 'UsageError'
}

// Output is written synchronously: each line is on screen before the next file is touched, and
// nothing is lost when the process exits right after.
const say = (line: string): void => void fs.writeSync(1, `${line}\n`)
const complain = (line: string): void => void fs.writeSync(2, `${line}\n`)

/** Runs a command body; every failure ends as one line on stderr (never a stack trace). */
function exitAfter(command: string, usage: string, body: () => void): void {
  let code = 0
  try {
    body()
  } catch (err) {
    if (err instanceof UsageError) {
      complain(`tscni ${command}: ${err.message}`)
      complain(usage)
      code = 2
    } else {
      const text = err instanceof Error ? err.message : String(err)
      complain(`tscni ${command}: ${text.replace(/\s*\n\s*/g, ' ')}`)
      code = 1
    }
  }
  process.exit(code)
}

interface Options {
  dir: string
  force: boolean
}

/** The command line, or null when it asked for help (and got it). */
function parseOptions(args: string[], usage: string, allowForce: boolean): Options | null {
  let values: { dir?: string; force?: boolean; help?: boolean }
  try {
    ;({ values } = parseArgs({
      args,
      options: {
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(allowForce ? { force: { type: 'boolean' } } : {}),
      },
      strict: true,
      allowPositionals: false,
    }) as { values: { dir?: string; force?: boolean; help?: boolean } })
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'bad arguments')
  }
  if (values.help) {
    say(usage)
    return null
  }
  if (values.dir === '') throw new UsageError('--dir needs a directory')
  return { dir: path.resolve(values.dir ?? DEFAULT_DIR), force: values.force === true }
}

/** What is at one of our names now, as far as install is concerned. */
type Found =
  | 'absent'
  | 'current' // exactly what install would put there
  | 'ours' // tscni's, but not the current file or link (an older tscni, an absolute link)
  | 'foreign' // anyone else's: replaced only with --force

interface Placement {
  name: string
  file: string
  type: ManifestEntry['type']
  found: Found
}

function findExecutable(dir: string, source: string): Placement {
  const file = path.join(dir, EXECUTABLE)
  const st = lstatOrNull(file)
  let found: Found
  if (st === null) found = 'absent'
  else if (st.isFile() && sameContent(source, file)) found = 'current'
  else if (isTscniExecutable(file)) found = 'ours'
  else found = 'foreign'
  return { name: EXECUTABLE, file, type: 'executable', found }
}

function findSymlink(dir: string, name: string): Placement {
  const file = path.join(dir, name)
  const st = lstatOrNull(file)
  let found: Found
  if (st === null) found = 'absent'
  else if (st.isSymbolicLink() && fs.readlinkSync(file) === EXECUTABLE) found = 'current'
  else if (pointsAtExecutable(dir, file)) found = 'ours'
  else found = 'foreign'
  return { name, file, type: 'symlink', found }
}

/** The executable first: the links are created only once what they point at is in place. */
function planInstall(dir: string, source: string): Placement[] {
  return [findExecutable(dir, source), ...Object.keys(PLUGINS).map((name) => findSymlink(dir, name))]
}

/** Stops the install, before anything changed, when it would replace something it must not. */
function refuseConflicts(plan: Placement[], force: boolean): void {
  const foreign = plan.filter((p) => p.found === 'foreign')
  // rename(2) cannot put a file over a directory, and deleting a directory tree is no installer's call.
  const dirs = foreign.filter((p) => lstatOrNull(p.file)?.isDirectory())
  if (dirs.length > 0) {
    throw new InstallError(`not replacing directories, even with --force: ${dirs.map((p) => p.file).join(', ')}`)
  }
  if (foreign.length > 0 && !force) {
    throw new InstallError(`these are not tscni's files; nothing was changed (use --force to replace them): ${foreign.map((p) => p.file).join(', ')}`)
  }
}

/** Puts one file in place and says what it did. */
function place(p: Placement, source: string): string {
  const replaced = `replaced ${p.file} (was not tscni's)`
  if (p.type === 'executable') {
    if (p.found === 'current') return `unchanged ${p.file}`
    placeExecutable(source, p.file)
    return p.found === 'foreign' ? replaced : `installed ${p.file}`
  }
  if (p.found === 'current') return `unchanged ${p.file} -> ${EXECUTABLE}`
  placeSymlink(EXECUTABLE, p.file)
  return p.found === 'foreign' ? replaced : `linked ${p.file} -> ${EXECUTABLE}`
}

/**
 * Links an earlier install made for plugins this executable no longer serves: they would start
 * tscni under a name it does not know. Removed when they still point at tscni.
 */
function removeDroppedLinks(dir: string, previous: ManifestEntry[]): void {
  for (const e of previous) {
    if (e.type !== 'symlink' || e.name in PLUGINS) continue
    const file = path.join(dir, e.name)
    if (!pointsAtExecutable(dir, file)) continue
    fs.unlinkSync(file)
    say(`removed ${file} (tscni no longer serves it)`)
  }
}

/** The manifest: what is in place now, remembering a foreign file replaced by an earlier run. */
function writeManifest(dir: string, plan: Placement[], previous: ManifestEntry[]): void {
  const files: ManifestEntry[] = plan.map((p) => {
    const before = previous.find((e) => e.name === p.name && e.type === p.type)
    const replacedForeign = p.found === 'foreign' || (before?.replacedForeign ?? false)
    return p.type === 'symlink'
      ? { name: p.name, type: p.type, target: EXECUTABLE, replacedForeign }
      : { name: p.name, type: p.type, replacedForeign }
  })
  const file = path.join(dir, MANIFEST)
  const text = manifestText(version, files)
  const now = lstatOrNull(file)?.isFile() ? fs.readFileSync(file, 'utf8') : undefined
  if (now === text) {
    say(`unchanged ${file}`)
    return
  }
  placeText(file, text)
  say(`wrote ${file}`)
}

function install({ dir, force }: Options): void {
  const source = fs.realpathSync(process.execPath)
  // Also proves that the marker test works for this build (see EXECUTABLE_MARKER).
  if (!isTscniExecutable(source)) {
    throw new InstallError(`${source} is not a tscni executable: run install from the tscni executable`)
  }
  for (const created of ensureDir(dir)) say(`created ${created}`)
  checkDirIsSafe(dir)
  const previous = readManifest(dir)?.files ?? []
  const plan = planInstall(dir, source)
  refuseConflicts(plan, force)
  for (const p of plan) say(place(p, source))
  removeDroppedLinks(dir, previous)
  writeManifest(dir, plan, previous)
  syncDir(dir)
}

/** Removes `file` when `isOurs(file)`, else says it stays. Quiet when there is nothing there. */
function removeIfOurs(file: string, isOurs: (file: string) => boolean): void {
  if (lstatOrNull(file) === null) return
  if (isOurs(file)) {
    fs.unlinkSync(file)
    say(`removed ${file}`)
  } else {
    say(`left ${file} alone (not tscni's)`)
  }
}

function uninstall({ dir }: Options): void {
  if (lstatOrNull(dir) === null) {
    say(`nothing to do: ${dir} does not exist`)
    return
  }
  const manifestFile = path.join(dir, MANIFEST)
  const manifest = readManifest(dir)
  let links: string[]
  if (manifest) {
    links = manifest.files.filter((e) => e.type === 'symlink').map((e) => e.name)
  } else {
    say(`no manifest ${manifestFile}: removing only the plugin links that point at tscni, and tscni itself`)
    links = Object.keys(PLUGINS)
  }
  for (const name of links) removeIfOurs(path.join(dir, name), (f) => pointsAtExecutable(dir, f))
  removeIfOurs(path.join(dir, EXECUTABLE), isTscniExecutable)
  if (manifest) {
    fs.unlinkSync(manifestFile)
    say(`removed ${manifestFile}`)
  } else if (lstatOrNull(manifestFile) !== null) {
    say(`left ${manifestFile} alone (not a manifest tscni can read)`)
  }
  syncDir(dir)
}

export function installMain(args: string[]): void {
  exitAfter('install', INSTALL_USAGE, () => {
    const opts = parseOptions(args, INSTALL_USAGE, true)
    if (opts) install(opts)
  })
}

export function uninstallMain(args: string[]): void {
  exitAfter('uninstall', UNINSTALL_USAGE, () => {
    const opts = parseOptions(args, UNINSTALL_USAGE, false)
    if (opts) uninstall(opts)
  })
}
