// `npm test`: runs every test with tap and ends with one plain line `N passed, M failed[, K skipped]`
// counting the tests (t.test blocks) inside each test file.
//
// Two lanes run at once, each a tap run of its own with files one at a time (.taprc jobs: 1):
//   lane 1: the strict side-by-side files (test/plugins/*/reference*.test.ts), tuning's tests and
//           the run of every example conflist (test/plugins/bridge/examples.test.ts);
//   lane 2: everything else.
// Every kernel test works in namespaces of its own, so files of the two lanes never meet. The lanes
// are drawn where the few machine-wide things are: tuning's allowlist test writes the fixed
// /etc/cni/tuning/allowlist.conf for a moment, so every file that runs tuning with sysctls (its own
// tests, the examples, side by side and through cnitool) is in lane 1, one at a time. The side-by-side files are mostly
// waiting (IPv6 DAD, the kernel's link watch), which is why two lanes on 2 cores take about half
// the time of one.
//
// While running, each file's result line is printed as it comes ("[1] ok 3 - test/..."); each
// lane's complete tap output is printed when both are done, then the count.
// `npm test -- <tap args>` (e.g. some files) runs one plain tap run instead.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// Never run inside a tap run: that would start tap again, and again.
if (process.env.TAP === '1') process.exit(0)

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tap = join(root, 'node_modules', '.bin', 'tap')

/** Every test file under test/, sorted (tap's own order). */
function testFiles(dir = join(root, 'test')) {
  const out = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...testFiles(p))
    else if (e.name.endsWith('.test.ts')) out.push(relative(root, p))
  }
  return out.sort()
}

const LANE_1 = (f) =>
  /^test\/plugins\/[^/]+\/reference[^/]*\.test\.ts$/.test(f) || f.startsWith('test/plugins/tuning/') || f === 'test/plugins/bridge/examples.test.ts'

/** Counts one tap stream's tests: depth-1 results, plus a file that failed without a failing test. */
function counter() {
  const c = { passed: 0, failed: 0, skipped: 0, fileFailedChildren: 0 }
  c.line = (line) => {
    const m = /^( *)(not ok|ok) \d+/.exec(line)
    if (!m) return
    const depth = m[1].length / 4
    const ok = m[2] === 'ok'
    const skip = /# (SKIP|TODO)\b/i.test(line)
    if (depth === 1) {
      if (skip) c.skipped++
      else if (ok) c.passed++
      else (c.failed++, c.fileFailedChildren++)
    } else if (depth === 0) {
      // A file that failed without a failing test inside it crashed or timed out: count it once.
      if (!ok && c.fileFailedChildren === 0) c.failed++
      c.fileFailedChildren = 0
    }
  }
  return c
}

/** One tap run; `onLine` sees every line; resolves with its exit code. */
function runTap(args, onLine) {
  return new Promise((resolve) => {
    const child = spawn(tap, ['--reporter=tap', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let buffered = ''
    child.stdout.on('data', (chunk) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop()
      lines.forEach(onLine)
    })
    child.on('close', (code) => {
      if (buffered) onLine(buffered)
      resolve(code ?? 1)
    })
  })
}

function finish(counters, codes) {
  const sum = (k) => counters.reduce((n, c) => n + c[k], 0)
  let failed = sum('failed')
  if (failed === 0 && codes.some((code) => code !== 0)) failed = 1
  const skipped = sum('skipped')
  console.log(`\n${sum('passed')} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(failed > 0 ? 1 : 0)
}

const extra = process.argv.slice(2)
if (extra.length > 0) {
  const c = counter()
  const code = await runTap(extra, (line) => {
    process.stdout.write(line + '\n')
    c.line(line)
  })
  finish([c], [code])
} else {
  const files = testFiles()
  const lanes = [files.filter(LANE_1), files.filter((f) => !LANE_1(f))]
  const outputs = lanes.map(() => [])
  const counters = lanes.map(() => counter())
  const started = Date.now()
  const codes = await Promise.all(
    lanes.map((list, i) =>
      runTap(list, (line) => {
        outputs[i].push(line)
        counters[i].line(line)
        if (/^(not ok|ok) \d+ - /.test(line)) process.stdout.write(`[${i + 1}] ${line}\n`)
      }),
    ),
  )
  for (const [i, out] of outputs.entries()) {
    process.stdout.write(`\n== lane ${i + 1}: ${lanes[i].length} files\n${out.join('\n')}\n`)
  }
  console.log(`\nboth lanes took ${Math.round((Date.now() - started) / 1000)} s`)
  finish(counters, codes)
}
