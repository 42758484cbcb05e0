/**
 * Runtime test fixtures: a temp directory (`tscni-t-*`, removed in teardown) holding
 * - bin/: stub plugins (test/fixtures/stub-plugin.js under each plugin name), a CNI_PATH;
 * - net.d/: network configs (NETCONFPATH);
 * - cache/: the result cache;
 * - calls.jsonl: every stub invocation, in order (see stub-plugin.js).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { HasTeardown } from './netns'

const STUB = path.join(__dirname, '..', 'fixtures', 'stub-plugin.js')

export interface StubCall {
  type: string
  command: string
  env: Record<string, string>
  stdin: string
  /** stdin parsed. */
  conf: any
}

export interface StubAnswer {
  exit?: number
  /** Sleep this long before answering. */
  sleepMs?: number
  stdout?: string
  stderr?: string
}

export interface StubWorld {
  dir: string
  binDir: string
  confDir: string
  cacheDir: string
  /** The environment for a runtime or cnitool run against this world. */
  env: NodeJS.ProcessEnv
  /** Installs stub plugins under these names. */
  plugins(...types: string[]): void
  /** Makes stub `type` answer `command` this way. */
  answer(type: string, command: string, answer: StubAnswer): void
  /** Writes a file under net.d/ (an object is JSON-encoded). */
  conf(name: string, content: object | string): string
  /** The stub calls so far. */
  calls(): StubCall[]
  clearCalls(): void
}

export function makeTempDir(t: HasTeardown, label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tscni-t-${label}-`))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function makeStubWorld(t: HasTeardown, label = 'rt'): StubWorld {
  const dir = makeTempDir(t, label)
  const binDir = path.join(dir, 'bin')
  const confDir = path.join(dir, 'net.d')
  const cacheDir = path.join(dir, 'cache')
  fs.mkdirSync(binDir)
  fs.mkdirSync(confDir)
  const callsFile = path.join(dir, 'calls.jsonl')
  const answers: Record<string, Record<string, StubAnswer>> = {}
  return {
    dir,
    binDir,
    confDir,
    cacheDir,
    env: { ...process.env, STUB_DIR: dir, CNI_PATH: binDir, NETCONFPATH: confDir, CNI_CACHE_DIR: cacheDir },
    plugins(...types) {
      for (const type of types) {
        const file = path.join(binDir, type)
        fs.writeFileSync(file, `#!${process.execPath}\nrequire(${JSON.stringify(STUB)})\n`, { mode: 0o755 })
      }
    },
    answer(type, command, answer) {
      answers[type] = { ...answers[type], [command]: answer }
      fs.writeFileSync(path.join(dir, `${type}.json`), JSON.stringify(answers[type]))
    },
    conf(name, content) {
      const file = path.join(confDir, name)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
      return file
    },
    calls() {
      if (!fs.existsSync(callsFile)) return []
      return fs
        .readFileSync(callsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const call = JSON.parse(line) as StubCall
          try {
            call.conf = JSON.parse(call.stdin)
          } catch {
            call.conf = undefined
          }
          return call
        })
    },
    clearCalls() {
      fs.rmSync(callsFile, { force: true })
    },
  }
}
