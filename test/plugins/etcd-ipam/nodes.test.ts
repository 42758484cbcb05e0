// 10 simulated nodes, 1000 ADDs of the executable (100 per node, up to 50 at once) on one pool:
// every address distinct, every key consistent, and DEL of all 1000 leaves nothing.
import t from 'tap'
import { consistency, dump, HAVE_ETCD, hintDir, ipamConf, type Run, runIpam, startCluster } from '../../helpers/etcd'

const NODES = 10
const PER_NODE = 100
const PARALLEL = 50

async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length)
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++
        out[i] = await jobs[i]()
      }
    }),
  )
  return out
}

t.test('1000 ADDs across 10 nodes, 50 at once', { skip: !HAVE_ETCD && 'etcd is not installed', timeout: 170_000 }, async (t) => {
  const cluster = await startCluster(t, { base: 23800 })
  const ep = cluster.endpoints[0]
  const hints = hintDir(t, 'nodes')
  const base = '/tscni/ipam/etcdnet/'
  const confOf = (node: number) => ipamConf([ep], hints, { nodeName: `node${node}`, ranges: [[{ subnet: '10.64.0.0/16' }]] })
  const jobs: Array<() => Promise<Run & { id: string }>> = []
  // Interleave the nodes so that every node is busy at the same time.
  for (let i = 0; i < PER_NODE; i++) {
    for (let n = 0; n < NODES; n++) {
      const id = `n${n}-c${i}`
      jobs.push(async () => ({ ...(await runIpam('ADD', confOf(n), { containerID: id })), id }))
    }
  }
  const started = Date.now()
  const runs = await pool(jobs, PARALLEL)
  const wall = Date.now() - started
  t.comment(`1000 ADDs in ${wall} ms`)
  const failed = runs.filter((r) => r.code !== 0)
  t.same(failed.map((r) => r.stdout), [], 'every ADD succeeded')
  const addrs = runs.map((r) => r.json?.ips?.[0]?.address)
  t.equal(new Set(addrs).size, 1000, '1000 distinct addresses')

  const kv = await dump(ep, base)
  const { problems, handles } = consistency(kv, base)
  t.same(problems, [], 'every key consistent')
  t.equal(handles.size, 1000, '1000 handles')
  t.equal([...kv.keys()].filter((k) => k.includes('/ips/')).length, 1000, '1000 address keys')
  // Each result is what etcd holds for that attachment.
  const mismatched = runs.filter((r) => handles.get(`${r.id}/eth0`)?.ips[0] !== r.json.ips[0].address.split('/')[0])
  t.equal(mismatched.length, 0, 'results match the handles')
  // Locality: each node allocates in its own blocks (a /26 per 64 addresses; 100 need two).
  const blocks = [...kv.entries()].filter(([k]) => k.includes('/blocks/'))
  const perNode = new Map<string, number>()
  for (const [, v] of blocks) perNode.set(JSON.parse(v).node, (perNode.get(JSON.parse(v).node) ?? 0) + 1)
  t.equal(perNode.size, NODES, 'every node claimed blocks')
  t.ok(blocks.length <= NODES * 3, `${blocks.length} blocks for 1000 addresses`)

  const dels = await pool(
    runs.map((r, i) => () => runIpam('DEL', confOf(i % NODES), { containerID: r.id })),
    PARALLEL,
  )
  t.same(dels.filter((d) => d.code !== 0).map((d) => d.stdout), [], 'every DEL succeeded')
  const left = [...(await dump(ep, base)).keys()].filter((k) => !k.includes('/blocks/'))
  t.same(left, [], 'DEL of all 1000 leaves nothing (the block claims stay with their nodes)')
})
