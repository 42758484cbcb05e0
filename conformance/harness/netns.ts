import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/** Namespaces the harness makes: `cnit-<pid>-<random>`, deleted by the case that made them. */
export const NETNS_PREFIX = 'cnit-'

export function createNetns(): { name: string; path: string } {
  const name = `${NETNS_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`
  execFileSync('ip', ['netns', 'add', name], { stdio: ['ignore', 'ignore', 'pipe'] })
  return { name, path: `/run/netns/${name}` }
}

export function deleteNetns(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
  } catch {
    // already gone
  }
}

/** Runs a command inside a namespace and returns its stdout (iproute2, iptables, nft for state checks). */
export function runIn(netnsPath: string, cmd: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${netnsPath}`, '--', cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}
