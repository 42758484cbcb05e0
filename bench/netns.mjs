// Namespaces for benchmarks: same naming rule as the tests (a prefix, removed on exit and on signals).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

const made = []

export function makeNetns(label) {
  const name = `tscni-b-${label}-${randomBytes(3).toString('hex')}`
  execFileSync('ip', ['netns', 'add', name])
  made.push(name)
  return { name, path: `/run/netns/${name}` }
}

export function removeAllNetns() {
  while (made.length) {
    const name = made.pop()
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }) } catch { /* already gone */ }
  }
}

process.on('exit', removeAllNetns)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { removeAllNetns(); process.exit(130) })
