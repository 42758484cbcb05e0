// `npm test`: runs every test with tap, shows tap's report, and ends with one plain line
// `N passed, M failed[, K skipped]` counting the tests (t.test blocks) inside each test file.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Never run inside a tap run: that would start tap again, and again.
if (process.env.TAP === '1') process.exit(0)

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tap = join(root, 'node_modules', '.bin', 'tap')
const child = spawn(tap, ['--reporter=tap', ...process.argv.slice(2)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })

let passed = 0
let failed = 0
let skipped = 0
let fileFailedChildren = 0
let buffered = ''

function onLine(line) {
  process.stdout.write(line + '\n')
  const m = /^( *)(not ok|ok) \d+/.exec(line)
  if (!m) return
  const depth = m[1].length / 4
  const ok = m[2] === 'ok'
  const skip = /# (SKIP|TODO)\b/i.test(line)
  if (depth === 1) {
    if (skip) skipped++
    else if (ok) passed++
    else (failed++, fileFailedChildren++)
  } else if (depth === 0) {
    // A file that failed without a failing test inside it crashed or timed out: count it once.
    if (!ok && fileFailedChildren === 0) failed++
    fileFailedChildren = 0
  }
}

child.stdout.on('data', (chunk) => {
  buffered += chunk
  const lines = buffered.split('\n')
  buffered = lines.pop()
  lines.forEach(onLine)
})
child.on('close', (code) => {
  if (buffered) onLine(buffered)
  if (code !== 0 && failed === 0) failed++
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(failed > 0 ? 1 : 0)
})
