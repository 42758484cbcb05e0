// Compiles lib/schemas/*.schema.json into standalone ajv validators (lib/schemas/generated/), so that
// no plugin ever loads the ajv compiler at run time (~70 ms of start-up).
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import Ajv from 'ajv'
import standaloneCode from 'ajv/dist/standalone/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const schemaDir = join(root, 'lib', 'schemas')
const outDir = join(schemaDir, 'generated')
mkdirSync(outDir, { recursive: true })

const schemas = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.schema.json'))
  .map((f) => JSON.parse(readFileSync(join(schemaDir, f), 'utf8')))

const ajv = new Ajv({ allErrors: false, strict: true, code: { source: true, esm: false } })
for (const schema of schemas) ajv.addSchema(schema)

for (const schema of schemas) {
  const base = schema.$id.replace(/\.schema\.json$/, '')
  const code = standaloneCode(ajv, ajv.getSchema(schema.$id))
  writeFileSync(join(outDir, `${base}.js`), `// Generated from ${schema.$id} by scripts/gen-validators.mjs. Do not edit.\n${code}\n`)
  writeFileSync(
    join(outDir, `${base}.d.ts`),
    `import type { GeneratedValidator } from '../check-config'\ndeclare const validate: GeneratedValidator\nexport default validate\n`,
  )
}
console.log(`validators: ${schemas.map((s) => s.$id).join(', ')}`)
