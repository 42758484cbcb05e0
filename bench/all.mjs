// `npm run bench`: every benchmark in turn (each prints its own section), the profile, then one
// table of all targets. BENCH_ROUNDS sets the rounds of every interleaved benchmark (each has its own
// default); BENCH_PARALLEL_ROUNDS the rounds of the parallel one (default 3). Run as root after
// `npm run build`; about 3-4 minutes on 2 cores at the defaults.
import { benchBridge } from './bridge.mjs'
import { benchHostLocal } from './host-local.mjs'
import { printResults, printRss } from './measure.mjs'
import { benchParallel } from './parallel.mjs'
import { profile } from './profile.mjs'
import { benchStartup } from './startup.mjs'

const t0 = Date.now()
const startup = benchStartup()
const hostLocal = benchHostLocal()
const bridge = benchBridge()
const parallel = await benchParallel()
profile()

const rows = [...bridge.rows, ...startup.rows, ...hostLocal.rows, ...parallel.rows]
console.log(`\n${'='.repeat(100)}`)
printResults(`all targets (medians; ratio = ours / Go, same interleaved run; ${((Date.now() - t0) / 1000).toFixed(0)} s in all)`, rows)
printRss([...startup.rss, ...hostLocal.rss, ...bridge.rss])
const missed = rows.filter((r) => !r.met).length
console.log(`\n${rows.length - missed} of ${rows.length} targets met`)
