import * as fs from 'node:fs'

/**
 * ADD and CHECK need the namespace to exist. The reference cnitool leaves that to each plugin,
 * whose error is less direct; DEL does not check (the namespace may be gone, DEL still cleans up).
 */
export function requireNetns(netns: string): void {
  if (!fs.existsSync(netns)) {
    throw new Error(`netns ${JSON.stringify(netns)} does not exist (create it first, e.g. ip netns add NAME)`)
  }
}
