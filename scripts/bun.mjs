// Where the pinned Bun is (package.json devDependencies, from the npm registry).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The Bun binary of the pinned version. Its platform package (@oven/bun-linux-<arch>) holds the
 * real binary; the `bun` package's own bin is a stub until its install script runs, and npm here
 * runs no install scripts, so the binary is taken straight from the platform package.
 */
export function findBun() {
  const arch = { x64: 'x64', arm64: 'aarch64' }[process.arch]
  const want = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.bun
  for (const variant of [`bun-linux-${arch}`, `bun-linux-${arch}-baseline`]) {
    const dir = join(root, 'node_modules', '@oven', variant)
    if (!existsSync(join(dir, 'bin', 'bun'))) continue
    const have = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
    if (have !== want) throw new Error(`@oven/${variant} is ${have}, package.json pins bun ${want}: run npm ci`)
    return join(dir, 'bin', 'bun')
  }
  throw new Error(`no Bun binary for linux-${process.arch} in node_modules/@oven: run npm ci`)
}
