/**
 * A node's hint: the blocks it claimed and the last address it gave out per range set, in
 * `<dataDir>/<network>/<node>.json`. Only a hint: every ADD's txn checks in etcd that a block is
 * still this node's and that the address is free, so a stale, missing or damaged file costs a
 * round trip, never a duplicate. It is what makes the common ADD a single round trip (no read of
 * the node's blocks first). Written with rename(2), so a killed plugin leaves the old file whole.
 */
import { fs } from '../../lib/native/fs'
import { joinPath } from '../../lib/util/path'

export interface HintSet {
  blocks: string[]
  /** The last address given out, as hex. */
  last?: string
}

export interface Hint {
  prefix: string
  sets: HintSet[]
}

function fileOf(dataDir: string, network: string, node: string): string {
  return joinPath(dataDir, network, `${node}.json`)
}

export function loadHint(dataDir: string, network: string, node: string, prefix: string): Hint | null {
  try {
    const h = JSON.parse(fs.readFileSync(fileOf(dataDir, network, node), 'utf8') as string) as Hint
    if (h?.prefix !== prefix || !Array.isArray(h.sets)) return null
    for (const s of h.sets) {
      if (!s || !Array.isArray(s.blocks) || s.blocks.some((b) => typeof b !== 'string')) return null
      if (s.last !== undefined && (typeof s.last !== 'string' || !/^[0-9a-f]{1,32}$/.test(s.last))) return null
    }
    return h
  } catch {
    return null
  }
}

function mkdirs(dir: string): void {
  const parts = dir.split('/').filter(Boolean)
  let cur = ''
  for (const p of parts) {
    cur += `/${p}`
    try {
      fs.mkdirSync(cur, { mode: 0o755 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
}

/** Best effort: a hint that cannot be written only costs the next ADD a round trip. */
export function saveHint(dataDir: string, network: string, node: string, hint: Hint): void {
  const file = fileOf(dataDir, network, node)
  const tmp = `${file}.tmp-${process.pid}`
  try {
    mkdirs(joinPath(dataDir, network))
    fs.writeFileSync(tmp, JSON.stringify(hint), { mode: 0o644 })
    fs.renameSync(tmp, file)
  } catch {
    try {
      fs.unlinkSync(tmp)
    } catch {
      // nothing was written
    }
  }
}
