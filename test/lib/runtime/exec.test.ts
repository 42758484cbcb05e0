import * as fs from 'node:fs'
import * as path from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { execPlugin, findInPath, type CniEnv } from '../../../lib/runtime/exec'
import { decodeVersionInfo, probeVersion } from '../../../lib/runtime/version-info'
import { makeStubWorld, makeTempDir } from '../../helpers/stubs'

const cniEnv = (command: string): CniEnv => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_ARGS: '', CNI_IFNAME: 'eth0', CNI_PATH: '/p' })

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  return { stream, text: () => Buffer.concat(chunks).toString() }
}

t.test('findInPath: first regular file in CNI_PATH order, libcni errors', async (t) => {
  const dir = makeTempDir(t, 'exec')
  for (const d of ['one', 'two']) fs.mkdirSync(path.join(dir, d))
  fs.writeFileSync(path.join(dir, 'two', 'p'), '')
  fs.mkdirSync(path.join(dir, 'one', 'p'))
  fs.symlinkSync(path.join(dir, 'two', 'p'), path.join(dir, 'one', 'link'))
  t.equal(findInPath('p', [path.join(dir, 'one'), path.join(dir, 'two')]), path.join(dir, 'two', 'p'), 'a directory of that name is skipped')
  t.equal(findInPath('link', [path.join(dir, 'one')]), path.join(dir, 'one', 'link'), 'symlinks are followed')
  t.throws(() => findInPath('p', []), { message: 'no paths provided' })
  t.throws(() => findInPath('', ['/x']), { message: 'no plugin name provided' })
  t.throws(() => findInPath('a/b', ['/x']), { message: 'invalid plugin name: a/b' })
  t.throws(() => findInPath('nope', ['/x', '/y']), { message: 'failed to find plugin "nope" in path [/x /y]' })
})

t.test('execPlugin: env = ours + CNI_*, stdin passed, stdout returned, stderr copied on success', async (t) => {
  const w = makeStubWorld(t, 'exec')
  w.plugins('p')
  w.answer('p', 'DEL', { stdout: 'ignored', stderr: 'a log line\n' })
  const err = collect()
  const out = await execPlugin(path.join(w.binDir, 'p'), '{"x":1}', cniEnv('DEL'), { env: { PATH: process.env.PATH, STUB_DIR: w.dir, CNI_IFNAME: 'overridden' }, stderr: err.stream })
  t.equal(out.toString(), 'ignored')
  t.equal(err.text(), 'a log line\n')
  const [call] = w.calls()
  t.equal(call?.stdin, '{"x":1}')
  t.same(call?.env, { ...cniEnv('DEL') }, 'the six CNI_* variables, ours win over inherited ones')
})

t.test('execPlugin: failures worded as libcni (case 95)', async (t) => {
  const w = makeStubWorld(t, 'exec')
  w.plugins('p')
  const run = async (answer: object, message: string | RegExp, code?: number) => {
    w.answer('p', 'ADD', answer)
    const err = collect()
    await t.rejects(execPlugin(path.join(w.binDir, 'p'), '{}', cniEnv('ADD'), { env: w.env, stderr: err.stream }), { message, ...(code === undefined ? {} : { code }) }, JSON.stringify(answer))
    t.equal(err.text(), '', 'a failed plugin\'s stderr is only in the message')
  }
  await run({ exit: 1, stdout: '{"code":7,"msg":"m","details":"d"}' }, 'm; d', 7)
  await run({ exit: 1, stdout: '{"cniVersion":"1.1.0","code":50,"msg":"not ready"}', stderr: 'x' }, 'not ready', 50)
  await run({ exit: 1, stderr: 'boom' }, 'netplugin failed: "boom": exit status 1', 0)
  await run({ exit: 3 }, 'netplugin failed with no error message: exit status 3')
  await run({ exit: 1, stdout: 'not json' }, 'netplugin failed but error parsing its diagnostic message "not json": invalid character \'o\' in literal null (expecting \'u\')')
  await run({ exit: 1, stdout: '{"code":"x"}' }, 'netplugin failed but error parsing its diagnostic message "{\\"code\\":\\"x\\"}": json: cannot unmarshal string into Go struct field Error.code of type uint')
})

t.test('execPlugin: a file that cannot be executed', async (t) => {
  const dir = makeTempDir(t, 'exec')
  const file = path.join(dir, 'noexec')
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 })
  await t.rejects(execPlugin(file, '{}', cniEnv('ADD')), { message: `netplugin failed with no error message: fork/exec ${file}: permission denied` })
})

t.test('execPlugin: retries while the executable is busy being written (ETXTBSY)', async (t) => {
  const dir = makeTempDir(t, 'exec')
  const file = path.join(dir, 'busy')
  const fd = fs.openSync(file, 'w', 0o755)
  fs.writeSync(fd, '#!/bin/sh\necho \'{"cniVersion":"1.0.0"}\'\n')
  const started = Date.now()
  setTimeout(() => fs.closeSync(fd), 150)
  const out = await execPlugin(file, '{}', cniEnv('ADD'), { retryDelayMs: 100 })
  t.equal(out.toString().trim(), '{"cniVersion":"1.0.0"}')
  t.ok(Date.now() - started >= 100, 'it waited for the writer')
})

t.test('VERSION probe (case 101): dummy env, {"cniVersion":"1.1.0"} on stdin, libcni decoding', async (t) => {
  const w = makeStubWorld(t, 'exec')
  w.plugins('p')
  const info = await probeVersion(path.join(w.binDir, 'p'), { env: { STUB_DIR: w.dir } })
  t.same(info.supportedVersions, ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])
  const [call] = w.calls()
  t.same(call?.env, { CNI_COMMAND: 'VERSION', CNI_CONTAINERID: '', CNI_NETNS: 'dummy', CNI_ARGS: '', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' })
  t.equal(call?.stdin, '{"cniVersion":"1.1.0"}')
  w.answer('p', 'VERSION', { exit: 1, stdout: '{"code":4,"msg":"unknown CNI_COMMAND: VERSION"}' })
  t.same((await probeVersion(path.join(w.binDir, 'p'), { env: w.env })).supportedVersions, ['0.1.0'], 'a plugin older than VERSION: 0.1.0')
  t.same(decodeVersionInfo('{"cniVersion":"0.2.0"}').supportedVersions, ['0.1.0', '0.2.0'])
  t.throws(() => decodeVersionInfo('{"cniVersion":"1.0.0"}'), { message: 'decoding version info: missing field supportedVersions' })
  t.throws(() => decodeVersionInfo('{}'), { message: 'decoding version info: missing field cniVersion' })
})
