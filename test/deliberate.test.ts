// The deliberate differences from the reference live in one place, test/helpers/deliberate.ts, and
// the README lists the same ones: this keeps the two equal, entry for entry.
import * as fs from 'node:fs'
import * as path from 'node:path'
import t from 'tap'
import { DELIBERATE } from './helpers/deliberate'

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')

t.test('the README lists exactly the entries of test/helpers/deliberate.ts', async (t) => {
  const start = README.indexOf('## How the plugins behave')
  t.ok(start >= 0, 'the README has its section')
  const section = README.slice(start, README.indexOf('\n## ', start + 1))
  const listed = [...section.matchAll(/^- \*\*(.+?)\*\*/gm)].map((m) => m[1])
  t.same(listed, Object.values(DELIBERATE).map((d) => d.title), 'same titles, same order')
})

t.test('every entry says what ours does, what the reference does and why', async (t) => {
  for (const [id, d] of Object.entries(DELIBERATE)) {
    t.ok(d.ours.length > 10 && d.reference.length > 10 && d.why.length > 10, id)
  }
})

t.test('every entry is claimed by a side-by-side test', async (t) => {
  const dir = path.join(__dirname, '..', 'test')
  const files: string[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (p.endsWith('.ts') && !p.endsWith('deliberate.ts')) files.push(fs.readFileSync(p, 'utf8'))
    }
  }
  walk(dir)
  const text = files.join('\n')
  for (const id of Object.keys(DELIBERATE)) t.ok(new RegExp(`'${id}'`).test(text), `${id} is used`)
})
