// lib/ipam delegation: finding the plugin, what it gets (env, stdin), how its answers and errors come
// back, and when a delegate may run in-process. Stub plugins are small shell scripts.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import {
  delegateAdd,
  delegateDel,
  execDelegate,
  findInPath,
  inProcessDelegateFor,
  registerInProcessDelegate,
  unregisterInProcessDelegate,
} from '../../../lib/ipam/delegate'
import { CniError, type CmdArgs } from '../../../lib/skel'

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tscni-t-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function stub(dir: string, name: string, body: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  return file
}

t.test('findInPath: the first regular file in CNI_PATH order; the reference’s errors', async (t) => {
  const a = tempDir()
  const b = tempDir()
  stub(b, 'ipam', 'exit 0')
  fs.mkdirSync(path.join(a, 'ipam')) // a directory of that name is skipped
  t.equal(findInPath('ipam', [a, b]), path.join(b, 'ipam'))
  stub(a, 'other', 'exit 0')
  fs.symlinkSync(path.join(a, 'other'), path.join(a, 'linked'))
  t.equal(findInPath('linked', [a, b]), path.join(a, 'linked'), 'symlinks are followed')
  t.throws(() => findInPath('', [a]), { message: 'no plugin name provided' })
  t.throws(() => findInPath('../x', [a]), { message: 'invalid plugin name: ../x' })
  t.throws(() => findInPath('ipam', []), { message: 'no paths provided' })
  t.throws(() => findInPath('nope', [a, b]), { message: `failed to find plugin "nope" in path [${a} ${b}]` })
})

t.test('the delegate gets our environment with CNI_COMMAND replaced, and the same stdin bytes', async (t) => {
  const dir = tempDir()
  const out = path.join(dir, 'seen')
  stub(dir, 'ipam', `env > ${out}.env\ncat > ${out}.stdin\necho '{"cniVersion":"1.0.0","ips":[{"address":"10.1.2.3/24","gateway":"10.1.2.1"}]}'`)
  const stdin = Buffer.from('{"cniVersion":"1.0.0","name":"n", "ipam":{"type":"ipam"},  "x":"\u00e9"}')
  const r = await delegateAdd('ipam', stdin, '1.0.0', { paths: [dir], env: { CNI_COMMAND: 'DEL', CNI_ARGS: 'IP=1.2.3.4', PATH: '/usr/bin:/bin', OTHER: 'kept' } })
  t.same(r, { cniVersion: '1.0.0', ips: [{ address: '10.1.2.3/24', gateway: '10.1.2.1' }] })
  const env = fs.readFileSync(`${out}.env`, 'utf8')
  t.match(env, /^CNI_COMMAND=ADD$/m)
  t.match(env, /^CNI_ARGS=IP=1\.2\.3\.4$/m)
  t.match(env, /^OTHER=kept$/m)
  t.ok(fs.readFileSync(`${out}.stdin`).equals(stdin), 'byte for byte')
})

t.test('a result without cniVersion is read as the config’s version', async (t) => {
  const dir = tempDir()
  stub(dir, 'ipam', `echo '{"ip4":{"ip":"10.1.2.3/24","gateway":"10.1.2.1"}}'`)
  const r = await delegateAdd('ipam', Buffer.from('{}'), '0.2.0', { paths: [dir] })
  t.same(r, { cniVersion: '0.2.0', ips: [{ address: '10.1.2.3/24', gateway: '10.1.2.1' }] })
  stub(dir, 'bad', `echo 'not json'`)
  await t.rejects(delegateAdd('bad', Buffer.from('{}'), '1.0.0', { paths: [dir] }), { message: /^failed to unmarshal raw result: / })
})

t.test('delegate errors keep their code, msg and details; other failures read like libcni', async (t) => {
  const dir = tempDir()
  stub(dir, 'err', `echo '{"code":11,"msg":"try later","details":"busy"}'; exit 1`)
  stub(dir, 'nocode', `echo '{"msg":"no code"}'; exit 1`)
  stub(dir, 'stderr', `echo 'it broke' >&2; exit 2`)
  stub(dir, 'silent', `exit 3`)
  stub(dir, 'garbage', `echo 'oops'; exit 1`)
  const fail = async (name: string): Promise<CniError> => {
    try {
      await delegateDel(name, Buffer.from('{}'), { paths: [dir] })
    } catch (err) {
      return err as CniError
    }
    throw new Error('no error')
  }
  const e = await fail('err')
  t.type(e, CniError)
  t.match(e, { code: 11, msg: 'try later', details: 'busy' })
  t.match(await fail('nocode'), { code: 999, msg: 'no code' })
  t.match(await fail('stderr'), { code: 999, msg: 'netplugin failed: "it broke\\n"' })
  t.match(await fail('silent'), { code: 999, msg: 'netplugin failed with no error message: exit status 3' })
  t.match(await fail('garbage'), { code: 999, msg: /^netplugin failed but error parsing its diagnostic message "oops\\n": / })
  const out = await execDelegate('err', 'STATUS', Buffer.from('{}'), { paths: [dir] }).catch((x: unknown) => x)
  t.match(out, { code: 11 })
})

/**
 * Makes this Node process look like the compiled executable at `file` for the rest of the test:
 * lib/ipam takes the running executable to be process.execPath when process.versions.bun is set.
 */
function runAsExecutable(t: { teardown(fn: () => void): void }, file: string): void {
  const execPath = process.execPath
  Object.defineProperty(process.versions, 'bun', { value: 'test', configurable: true, enumerable: true })
  process.execPath = file
  t.teardown(() => {
    delete (process.versions as Record<string, string | undefined>).bun
    process.execPath = execPath
  })
}

t.test('in-process delegates: only the registered type, only when CNI_PATH finds the running executable', async (t) => {
  // An install: the executable and one symlink per plugin beside it.
  const install = tempDir()
  const self = path.join(install, 'tscni')
  fs.writeFileSync(self, '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  fs.symlinkSync('tscni', path.join(install, 'host-local'))
  fs.symlinkSync('tscni', path.join(install, 'static'))
  // /opt/cni/bin style: symlinks elsewhere pointing at the install's symlinks.
  const cniBin = tempDir()
  fs.symlinkSync(path.join(install, 'host-local'), path.join(cniBin, 'host-local'))
  // Another executable with the very same bytes is still another file.
  const elsewhere = tempDir()
  fs.copyFileSync(self, path.join(elsewhere, 'host-local'))
  fs.writeFileSync(path.join(elsewhere, 'tscni'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  fs.symlinkSync(path.join(elsewhere, 'tscni'), path.join(elsewhere, 'other-link'))

  const hl = path.join(install, 'host-local')
  t.equal(inProcessDelegateFor('host-local', hl, self), undefined, 'nothing registered yet')
  const delegate = { funcs: {}, info: { name: 'host-local', version: '0' } }
  registerInProcessDelegate('host-local', delegate)
  t.teardown(() => unregisterInProcessDelegate('host-local'))
  t.equal(inProcessDelegateFor('host-local', hl, self), delegate, 'a symlink to the running executable')
  t.equal(inProcessDelegateFor('host-local', path.join(cniBin, 'host-local'), self), delegate, 'through a chain of symlinks')
  t.equal(inProcessDelegateFor('host-local', self, self), delegate, 'the executable itself')
  t.equal(
    inProcessDelegateFor('host-local', hl, path.join(install, 'host-local')),
    delegate,
    'self is compared by its real path too',
  )
  t.equal(inProcessDelegateFor('host-local', path.join(elsewhere, 'host-local'), self), undefined, 'a copy is another file')
  t.equal(inProcessDelegateFor('host-local', path.join(elsewhere, 'other-link'), self), undefined, 'a symlink to another file')
  t.equal(inProcessDelegateFor('host-local', hl, path.join(elsewhere, 'tscni')), undefined, 'another running executable')
  t.equal(inProcessDelegateFor('static', path.join(install, 'static'), self), undefined, 'a type nobody registered')
  t.equal(inProcessDelegateFor('host-local', path.join(install, 'missing'), self), undefined, 'a path that does not resolve')
  t.equal(inProcessDelegateFor('host-local', hl, path.join(install, 'missing')), undefined, 'a self that does not resolve')
  t.equal(inProcessDelegateFor('host-local', hl), undefined, 'under Node there is no running executable: never in-process')
  unregisterInProcessDelegate('host-local')
  t.equal(inProcessDelegateFor('host-local', hl, self), undefined, 'unregistered again')
})

t.test('in-process delegation: executed under Node, dispatched in-process when CNI_PATH finds the running executable', async (t) => {
  const install = tempDir()
  const self = path.join(install, 'tscni')
  // Executed, the "plugin" answers with 10.1.1.1; in-process, the registered funcs answer with 10.9.9.9.
  fs.writeFileSync(self, `#!/bin/sh\ncat > /dev/null\necho '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.1.1/24"}]}'\n`, { mode: 0o755 })
  fs.symlinkSync('tscni', path.join(install, 'fake'))
  const seen: CmdArgs[] = []
  registerInProcessDelegate('fake', {
    info: { name: 'fake', version: '0' },
    funcs: {
      add: async (args) => {
        seen.push(args)
        return { cniVersion: args.cniVersion, ips: [{ address: '10.9.9.9/24' }] }
      },
      del: async () => {
        throw new CniError(11, 'later')
      },
    },
  })
  t.teardown(() => unregisterInProcessDelegate('fake'))
  const env = { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'c1', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: install, PATH: '/usr/bin:/bin' }
  const stdin = Buffer.from('{"cniVersion":"0.4.0","name":"n"}')

  const executed = await delegateAdd('fake', stdin, '0.4.0', { paths: [install], env })
  t.same(executed, { cniVersion: '0.4.0', ips: [{ address: '10.1.1.1/24' }] }, 'under Node the plugin is executed')
  t.equal(seen.length, 0, 'the registered funcs were not called')

  runAsExecutable(t, self)
  const r = await delegateAdd('fake', stdin, '0.4.0', { paths: [install], env })
  t.same(r, { cniVersion: '0.4.0', ips: [{ address: '10.9.9.9/24' }] }, 'in-process: the result went through print and parse')
  t.equal(seen.length, 1)
  t.equal(seen[0].command, 'ADD', 'CNI_COMMAND replaced, as for an exec')
  t.equal(seen[0].containerID, 'c1')
  t.ok(seen[0].stdinData.equals(stdin), 'the same stdin bytes')
  await t.rejects(delegateDel('fake', stdin, { paths: [install], env }), { code: 11, msg: 'later' })
})
