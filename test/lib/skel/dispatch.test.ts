import t from 'tap'
import { dispatch, type CmdArgs, type DispatchIO, type PluginFuncs } from '../../../lib/skel/dispatch'
import { CniError } from '../../../lib/skel/errors'
import type { Result } from '../../../lib/skel/result'

const info = { name: 'fake', version: '9.9.9-test' }
const attach = { CNI_CONTAINERID: 'ctr-1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' }

function io(env: NodeJS.ProcessEnv, stdin: string | object = { cniVersion: '1.1.0', name: 'net1', type: 'fake' }): DispatchIO {
  const text = typeof stdin === 'string' ? stdin : JSON.stringify(stdin)
  return {
    env,
    readStdin: () => Buffer.from(text),
    peekStdin: async () => text,
  }
}

const result: Result = {
  cniVersion: '1.1.0',
  interfaces: [{ name: 'eth0', mac: '0a:58:0a:01:00:02', sandbox: '/run/netns/x' }],
  ips: [{ interface: 0, address: '10.1.0.2/24', gateway: '10.1.0.1' }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
}

function recorder() {
  const calls: CmdArgs[] = []
  const funcs: PluginFuncs = {
    add: async (a) => (calls.push(a), result),
    del: async (a) => void calls.push(a),
    check: async (a) => void calls.push(a),
    status: async (a) => void calls.push(a),
    gc: async (a) => void calls.push(a),
  }
  return { calls, funcs }
}

const errorOf = (stdout: string) => JSON.parse(stdout) as { code: number; msg: string; details?: string; cniVersion?: string }

t.test('no CNI_COMMAND: about text on stderr, exit 0, nothing on stdout', async (t) => {
  const out = await dispatch({}, info, io({}))
  t.equal(out.exitCode, 0)
  t.equal(out.stdout, '')
  t.match(out.stderr, /^CNI fake plugin tscni 9\.9\.9-test\nCNI protocol versions supported: 0\.1\.0, 0\.2\.0, 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0, 1\.1\.0\n$/)
})

t.test('VERSION', async (t) => {
  const all = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']
  const v = await dispatch({}, info, io({ CNI_COMMAND: 'VERSION' }, { cniVersion: '0.4.0' }))
  t.equal(v.exitCode, 0)
  t.same(JSON.parse(v.stdout), { cniVersion: '0.4.0', supportedVersions: all }, 'echoes the version asked (spec)')
  for (const stdin of ['', '}{', '{"cniVersion":"9.9.9"}', '{"cniVersion":1}']) {
    const o = await dispatch({}, info, io({ CNI_COMMAND: 'VERSION' }, stdin))
    t.equal(o.exitCode, 0, `stdin ${JSON.stringify(stdin)}`)
    t.equal(JSON.parse(o.stdout).cniVersion, '1.1.0')
  }
  const stdinRead = { n: 0 }
  await dispatch({}, info, { ...io({ CNI_COMMAND: 'VERSION' }), readStdin: () => (stdinRead.n++, Buffer.from('')) })
  t.equal(stdinRead.n, 0, 'VERSION never blocks on reading stdin to EOF')
})

t.test('ADD converts the result to the config version', async (t) => {
  const { calls, funcs } = recorder()
  const out = await dispatch(funcs, info, io({ CNI_COMMAND: 'ADD', ...attach }, { cniVersion: '0.4.0', name: 'net1' }))
  t.equal(out.exitCode, 0)
  const r = JSON.parse(out.stdout)
  t.equal(r.cniVersion, '0.4.0')
  t.equal(r.ips[0].version, '4')
  t.equal(calls[0]?.cniVersion, '0.4.0')
  t.equal(calls[0]?.conf.name, 'net1')
  t.equal(calls[0]?.containerID, 'ctr-1')
  t.notOk(out.stdout.endsWith('\n'), 'no trailing newline, like the reference')
  const old = await dispatch(funcs, info, io({ CNI_COMMAND: 'ADD', ...attach }, { name: 'net1' }))
  t.same(JSON.parse(old.stdout), {
    cniVersion: '0.1.0', ip4: { ip: '10.1.0.2/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] }, dns: {},
  }, 'no cniVersion means 0.1.0')
})

t.test('stdin errors', async (t) => {
  const { funcs, calls } = recorder()
  const cases: Array<[string, number, RegExp]> = [
    ['{"cniVersion":"1.1.0","name":', 6, /^error unmarshall network config/],
    ['', 6, /^error unmarshall network config/],
    ['[]', 6, /^error unmarshall network config/],
    ['{"cniVersion":"1.1.0","name":5}', 6, /name/],
    ['{"cniVersion":"1.1.0"}', 7, /^missing network name$/],
    ['{"cniVersion":"1.1.0","name":""}', 7, /^missing network name$/],
    ['{"cniVersion":"1.1.0","name":"bad/name"}', 7, /^invalid characters found in network name$/],
    ['{"cniVersion":"1.1.0","name":"-net"}', 7, /^invalid characters found in network name$/],
    ['{"cniVersion":1.1,"name":"n"}', 6, /cniVersion/],
  ]
  for (const [stdin, code, msg] of cases) {
    const out = await dispatch(funcs, info, io({ CNI_COMMAND: 'ADD', ...attach }, stdin))
    t.equal(out.exitCode, 1, stdin)
    t.equal(errorOf(out.stdout).code, code, stdin)
    t.match(errorOf(out.stdout).msg, msg, stdin)
  }
  t.equal(calls.length, 0, 'no verb ran')
  const io5 = { ...io({ CNI_COMMAND: 'ADD', ...attach }), readStdin: () => { throw new Error('EIO') } }
  t.equal(errorOf((await dispatch(funcs, info, io5)).stdout).code, 5, 'a failed stdin read is code 5')
})

t.test('environment errors come before stdin is read', async (t) => {
  let read = 0
  const out = await dispatch({}, info, { ...io({ CNI_COMMAND: 'ADD' }), readStdin: () => (read++, Buffer.from('{}')) })
  t.same(errorOf(out.stdout), { code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing' })
  t.equal(read, 0)
})

t.test('unknown commands are code 4, after the config is checked', async (t) => {
  for (const cmd of ['FOO', 'add']) {
    const out = await dispatch({}, info, io({ CNI_COMMAND: cmd, ...attach }))
    t.same(errorOf(out.stdout), { code: 4, msg: `unknown CNI_COMMAND: ${cmd}` })
  }
  const bad = await dispatch({}, info, io({ CNI_COMMAND: 'FOO', ...attach }, '{'))
  t.equal(errorOf(bad.stdout).code, 6)
})

t.test('version negotiation', async (t) => {
  const { funcs, calls } = recorder()
  const run = (command: string, cniVersion: unknown) =>
    dispatch(funcs, info, io({ CNI_COMMAND: command, ...attach }, { cniVersion, name: 'n' }))
  const e1 = errorOf((await run('ADD', '9.9.9')).stdout)
  t.same(e1, {
    cniVersion: '9.9.9', code: 1, msg: 'incompatible CNI versions',
    details: 'config is "9.9.9", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]',
  })
  t.equal(errorOf((await run('ADD', '1.1')).stdout).code, 1, 'versions must match exactly')
  t.same(errorOf((await run('CHECK', '0.3.1')).stdout).msg, 'config version does not allow CHECK')
  t.equal(errorOf((await run('CHECK', '0.3.1')).stdout).code, 1)
  t.equal(errorOf((await run('CHECK', '1.a.0')).stdout).code, 6, 'an unparsable version at a gate is code 6')
  t.equal(errorOf((await run('CHECK', '1.1')).stdout).code, 1, '"1.1" passes the gate as 1.1.0, then fails the exact match')
  t.same(errorOf((await run('GC', '1.0.0')).stdout), { cniVersion: '1.0.0', code: 1, msg: 'config version does not allow GC' })
  t.same(errorOf((await run('STATUS', '1.0.0')).stdout), { cniVersion: '1.0.0', code: 1, msg: 'config version does not allow STATUS' })
  t.equal(calls.length, 0)
  for (const cmd of ['CHECK', 'DEL', 'GC', 'STATUS']) {
    const out = await run(cmd, '1.1.0')
    t.equal(out.exitCode, 0, cmd)
    t.equal(out.stdout, '', `${cmd} prints nothing on success`)
  }
  t.same(calls.map((c) => c.command), ['CHECK', 'DEL', 'GC', 'STATUS'])
})

t.test('errors from verbs', async (t) => {
  const funcs: PluginFuncs = {
    add: async () => { throw new CniError(11, 'busy', 'try later') },
    del: async () => { throw new Error('boom') },
    check: async () => { throw 'a string' },
  }
  const run = (command: string) => dispatch(funcs, info, io({ CNI_COMMAND: command, ...attach }))
  const add = await run('ADD')
  t.equal(add.exitCode, 1)
  t.same(errorOf(add.stdout), { cniVersion: '1.1.0', code: 11, msg: 'busy', details: 'try later' }, 'a CniError keeps its code')
  t.same(errorOf((await run('DEL')).stdout), { cniVersion: '1.1.0', code: 999, msg: 'boom' }, 'anything else is 999')
  t.same(errorOf((await run('CHECK')).stdout), { cniVersion: '1.1.0', code: 999, msg: 'a string' })
  t.match(add.stdout, /^\{\n {4}"cniVersion"/, '4-space indent')
})

t.test('verbs a plugin leaves out succeed with no output', async (t) => {
  for (const cmd of ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC']) {
    const out = await dispatch({}, info, io({ CNI_COMMAND: cmd, ...attach }))
    t.same(out, { stdout: '', stderr: '', exitCode: 0 }, cmd)
  }
})
