// Faults: a member SIGKILLed during a burst of ADDs (three members), the plugin SIGKILLed at every
// point of an ADD, and every member stopped.
//
// Killing the plugin "at each step" uses no hook in the product: the test sweeps SIGKILL over the
// whole life of an ADD process (a kill every few ms from its start to its end), and freezes etcd
// with SIGSTOP so that a kill also lands while a request is in flight. What etcd holds afterwards
// tells which step was hit: nothing, a block claimed but no allocation, or a whole allocation.
// A hook (an environment variable that pauses the plugin) was rejected: the environment of a
// plugin running as root must not change what it does.
import { spawn } from 'node:child_process'
import t from 'tap'
import { consistency, dump, ETCD_IPAM, HAVE_ETCD, hintDir, ipamConf, runIpam, sleep, startCluster } from '../../helpers/etcd'
import { BIN_DIR, RUNTIME_PATH } from '../../helpers/plugin'

const BASE = '/tscni/ipam/etcdnet/'

/** Starts an ADD and SIGKILLs it after `ms` (or lets it finish first). Resolves with its exit. */
function addKilledAfter(conf: object, containerID: string, ms: number): Promise<{ killed: boolean; code: number | null }> {
  const env = { PATH: RUNTIME_PATH, CNI_COMMAND: 'ADD', CNI_CONTAINERID: containerID, CNI_IFNAME: 'eth0', CNI_NETNS: '/var/run/netns/tscni-t-etcd-unused', CNI_PATH: BIN_DIR }
  return new Promise((resolve) => {
    const child = spawn(ETCD_IPAM, [], { env, stdio: ['pipe', 'ignore', 'ignore'] })
    child.stdin.on('error', () => {})
    child.stdin.end(JSON.stringify(conf))
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.on('exit', (code, sig) => {
      clearTimeout(timer)
      resolve({ killed: sig === 'SIGKILL', code })
    })
  })
}

/** The index of the member that is the leader. */
async function leaderOf(eps: string[]): Promise<number> {
  const st = await Promise.all(eps.map(async (ep) => (await (await fetch(`${ep}/v3/maintenance/status`, { method: 'POST', body: '{}' })).json()) as any))
  const i = st.findIndex((s) => s.leader === s.header.member_id)
  if (i < 0) throw new Error('no leader')
  return i
}

t.test('faults', { skip: !HAVE_ETCD && 'etcd is not installed', timeout: 170_000 }, async (t) => {
  const cluster = await startCluster(t, { base: 23810, size: 3 })
  const eps = cluster.endpoints
  const hints = hintDir(t, 'fault')

  t.test('the leader SIGKILLed during a burst of ADDs: quorum kept, nothing duplicated or lost', async (t) => {
    const conf = (n: number) => ipamConf(eps, hints, { nodeName: `node${n % 4}`, ranges: [[{ subnet: '10.64.0.0/22' }]] })
    const ids = Array.from({ length: 80 }, (_, i) => `burst-${i}`)
    let next = 0
    const results: Array<{ id: string; code: number; json: any }> = []
    const worker = async () => {
      while (next < ids.length) {
        const i = next++
        const r = await runIpam('ADD', conf(i), { containerID: ids[i] })
        results.push({ id: ids[i], code: r.code, json: r.json })
      }
    }
    const burst = Promise.all(Array.from({ length: 16 }, worker))
    await sleep(400)
    // The leader dies: an election happens in the middle of the burst.
    const leader = await leaderOf(eps)
    cluster.kill(leader)
    t.comment(`killed member ${leader}, the leader`)
    await burst
    const ok = results.filter((r) => r.code === 0)
    const failed = results.filter((r) => r.code !== 0)
    t.comment(`${ok.length} ADDs succeeded, ${failed.length} failed while the leader died`)
    t.same(failed.filter((r) => r.json?.code !== 11).map((r) => r.json), [], 'every failed ADD is code 11')
    const addrs = ok.map((r) => r.json.ips[0].address)
    t.equal(new Set(addrs).size, addrs.length, 'no address duplicated')
    const live = eps[(leader + 1) % 3]
    const survivors = eps.filter((_, i) => i !== leader)
    let kv = await dump(live, BASE)
    const other = await dump(survivors.find((e) => e !== live)!, BASE)
    t.same([...other.entries()].sort(), [...kv.entries()].sort(), 'both survivors hold the same keys')
    let { problems, handles } = consistency(kv, BASE)
    t.same(problems, [], 'keys consistent')
    for (const r of ok) t.equal(handles.get(`${r.id}/eth0`)?.ips[0], r.json.ips[0].address.split('/')[0], `${r.id} held`)
    // A failed ADD may or may not have been applied: its retry returns what it holds, or allocates.
    for (const r of failed) {
      const before = handles.get(`${r.id}/eth0`)
      const again = await runIpam('ADD', conf(0), { containerID: r.id })
      t.equal(again.code, 0, `retry of ${r.id}: ${again.stdout}`)
      if (before) t.equal(again.json.ips[0].address.split('/')[0], before.ips[0], 'the retry returns what it held')
    }
    kv = await dump(live, BASE)
    ;({ problems, handles } = consistency(kv, BASE))
    t.same(problems, [])
    t.equal(handles.size, ids.length, 'every container holds exactly one address')
    t.equal(new Set([...handles.values()].map((h) => h.ips[0])).size, ids.length, 'all distinct')
    for (const id of ids) t.equal((await runIpam('DEL', conf(0), { containerID: id })).code, 0)
    t.same([...(await dump(live, BASE)).keys()].filter((k) => !k.includes('/blocks/')), [], 'DEL leaves nothing')
  })

  t.test('the plugin SIGKILLed at every point of an ADD: the next ADD and a GC recover', async (t) => {
    const dead = cluster.members.findIndex((m) => m.proc?.exitCode !== null || m.proc?.signalCode !== null)
    const live = eps.filter((_, i) => i !== dead)
    const liveIdx = [0, 1, 2].filter((i) => i !== dead)
    const base = '/tscni/ipam/killnet/'
    // Every run is a node of its own with no hint and no block yet, so one ADD goes through all
    // its steps: read the claims, claim a block (txn), allocate (txn), write the hint, print.
    const confOf = (i: number) => ({ ...ipamConf(live, hints, { nodeName: `killer${i}`, ranges: [[{ subnet: '10.64.8.0/22' }]], blockSize: 28 }), name: 'killnet' })
    const kinds: string[] = []
    let i = 0
    const sweep = async (ms: number, freeze: boolean) => {
      const n = i++
      const id = `kill-${n}`
      const conf = confOf(n)
      if (freeze) {
        liveIdx.forEach((m) => cluster.stop(m))
      }
      const r = await addKilledAfter(conf, id, ms)
      if (freeze) {
        liveIdx.forEach((m) => cluster.cont(m))
        await sleep(300)
      }
      const kv = await dump(live[0], base)
      const { problems, handles } = consistency(kv, base)
      t.same(problems, [], `after a kill at ${ms} ms${freeze ? ' with etcd frozen' : ''}: consistent`)
      const claimed = [...kv.values()].includes(JSON.stringify({ node: `killer${n}` }))
      const kind = !r.killed ? 'finished' : handles.has(`${id}/eth0`) ? 'allocated, killed before exit' : claimed ? 'block claimed only' : 'nothing written'
      kinds.push(kind)
      // The next ADD recovers: it returns the address written, or allocates one.
      const again = await runIpam('ADD', conf, { containerID: id })
      t.equal(again.code, 0, `next ADD of ${id}: ${again.stdout}`)
      const held = handles.get(`${id}/eth0`)
      if (held) t.equal(again.json.ips[0].address.split('/')[0], held.ips[0], 'it returns what the killed ADD wrote')
    }
    for (let ms = 1; ms <= 49; ms += 2) await sweep(ms, false)
    for (const ms of [150, 250]) await sweep(ms, true)
    const counts = kinds.reduce<Record<string, number>>((a, k) => ((a[k] = (a[k] ?? 0) + 1), a), {})
    t.comment(`kill outcomes: ${JSON.stringify(counts)}`)
    t.ok(counts['nothing written'] > 0, 'some kills landed before anything was written')
    t.ok(Object.keys(counts).length >= 2, 'kills landed at different steps')
    // GC with no valid attachment releases everything each node holds.
    for (let n = 0; n < i; n++) {
      const gc = await runIpam('GC', { ...confOf(n), 'cni.dev/valid-attachments': [] })
      t.equal(gc.code, 0, gc.stdout)
    }
    const left = [...(await dump(live[0], base)).keys()].filter((k) => !k.includes('/blocks/'))
    t.same(left, [], 'GC released every allocation of the killed and retried ADDs')
  })

  t.test('every member stopped: ADD fails fast with code 11, STATUS says 50', async (t) => {
    cluster.killAll()
    await sleep(200)
    const conf = ipamConf(eps, hints, { nodeName: 'node0' })
    const r = await runIpam('ADD', conf, { containerID: 'dead' })
    t.equal(r.json?.code, 11, r.stdout)
    for (const ep of eps) t.match(r.json?.details, `${ep}: connection refused`, `names ${ep}`)
    t.ok(r.ms < 2000, `fast: ${r.ms} ms`)
    const s = await runIpam('STATUS', conf)
    t.equal(s.json?.code, 50, s.stdout)
  })
})
