// Writes the release archive of the bin directory:
//   dist/release/tscni-<version>-linux-<arch>.tar.gz          tscni + one symlink per plugin, at its root
//   dist/release/tscni-<version>-linux-<arch>.tar.gz.sha256   `sha256sum` format
// named like the reference plugins' releases (cni-plugins-linux-amd64-v1.x.y.tgz: amd64/arm64).
//
// It always builds first: the archive is labelled with package.json's version, and a dist/bin left
// over from another checkout would ship old code under the new label. The build takes seconds; the
// compression takes longer.
//
// Reproducible: the same dist/bin gives the same bytes. Entries are sorted, owned 0:0 by number,
// stamped with one fixed mtime (SOURCE_DATE_EPOCH if set, else the HEAD commit's time); gzip -n
// leaves the name and time out of its header. Usage: node scripts/release.mjs [--no-build]
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const binDir = join(root, 'dist', 'bin')
const releaseDir = join(root, 'dist', 'release')

/** Release names use Go's architecture names, like the reference plugins. */
const GO_ARCH = { x64: 'amd64', arm64: 'arm64' }

function goArch() {
  const arch = GO_ARCH[process.arch]
  if (!arch) throw new Error(`no release name for architecture ${process.arch}`)
  return arch
}

/** The one mtime every entry gets. */
function fixedMtime() {
  const fromEnv = process.env.SOURCE_DATE_EPOCH
  if (fromEnv !== undefined) {
    if (!/^\d+$/.test(fromEnv)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds, not ${JSON.stringify(fromEnv)}`)
    return Number(fromEnv)
  }
  try {
    return Number(execFileSync('git', ['-C', root, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim())
  } catch {
    return 0 // not a git checkout: still fixed, if not very telling
  }
}

function build() {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' })
}

/**
 * The archive's entries: tscni and the symlinks to it for the plugins it serves. Asked of the
 * executable itself, like the build does, rather than listing dist/bin (which may hold a
 * concurrent build's temp files). Also checks the executable reports the version we label it with.
 */
function binEntries(version) {
  const exe = join(binDir, 'tscni')
  const reported = execFileSync(exe, ['version'], { encoding: 'utf8' })
  if (!reported.startsWith(`tscni ${version} `)) {
    throw new Error(`dist/bin/tscni says ${JSON.stringify(reported.trim())}, package.json says ${version}`)
  }
  const plugins = execFileSync(exe, ['plugins'], { encoding: 'utf8' }).split('\n').filter(Boolean)
  for (const p of plugins) {
    const link = join(binDir, p)
    if (!lstatSync(link).isSymbolicLink() || readlinkSync(link) !== 'tscni') throw new Error(`${link} is not a symlink to tscni: rebuild`)
  }
  // Sorted here: tar's --sort=name orders what it finds in directories, not its own arguments.
  return ['tscni', ...plugins].sort()
}

/** tar, then gzip -n into `out`: two processes, argument arrays, a temp file between them. */
function writeArchive(entries, out) {
  const tarFile = `${out}.tar-${process.pid}`
  const tmp = `${out}.tmp-${process.pid}`
  try {
    execFileSync('tar', [
      '--create', '--file', tarFile, '--directory', binDir,
      '--format=gnu', '--sort=name', '--owner=0', '--group=0', '--numeric-owner',
      `--mtime=@${fixedMtime()}`, '--no-acls', '--no-xattrs', '--no-selinux',
      '--', ...entries,
    ], { stdio: ['ignore', 'ignore', 'inherit'] })
    const fd = openSync(tmp, 'w', 0o644)
    try {
      // gzip's default level: -9 takes twice as long for 0.3 % less.
      execFileSync('gzip', ['-n', '-c', tarFile], { stdio: ['ignore', fd, 'inherit'] })
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, out)
  } finally {
    rmSync(tarFile, { force: true })
    rmSync(tmp, { force: true })
  }
}

/** `<hex>  <name>\n`, what `sha256sum -c` reads (run from the archive's directory). */
function writeChecksum(archive) {
  const hex = createHash('sha256').update(readFileSync(archive)).digest('hex')
  const file = `${archive}.sha256`
  writeFileSync(`${file}.tmp-${process.pid}`, `${hex}  ${archive.slice(releaseDir.length + 1)}\n`)
  renameSync(`${file}.tmp-${process.pid}`, file)
  return file
}

function main(args) {
  const unknown = args.filter((a) => a !== '--no-build')
  if (unknown.length > 0) {
    process.stderr.write(`release: unknown argument ${JSON.stringify(unknown[0])}\nusage: node scripts/release.mjs [--no-build]\n`)
    process.exit(2)
  }
  if (!args.includes('--no-build')) build()
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const entries = binEntries(version)
  mkdirSync(releaseDir, { recursive: true })
  const archive = join(releaseDir, `tscni-${version}-linux-${goArch()}.tar.gz`)
  writeArchive(entries, archive)
  const checksum = writeChecksum(archive)
  console.log(archive)
  console.log(checksum)
}

try {
  main(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`release: ${err.message}\n`)
  process.exit(1)
}
