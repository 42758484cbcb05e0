import t from 'tap'
import { readCmdEnv } from '../../../lib/skel/env'
import { CniError } from '../../../lib/skel/errors'

const full = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'ctr-1',
  CNI_NETNS: '/run/netns/x',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
}

function codeAndMsg(fn: () => unknown): { code: number; msg: string; details?: string } {
  try {
    fn()
  } catch (err) {
    if (err instanceof CniError) return { code: err.code, msg: err.msg, ...(err.details ? { details: err.details } : {}) }
    throw err
  }
  throw new Error('expected a CniError')
}

t.test('a complete ADD environment is read as given', async (t) => {
  const env = readCmdEnv({ ...full, CNI_ARGS: 'IgnoreUnknown=1' })
  t.same(env, {
    command: 'ADD', containerID: 'ctr-1', netns: '/run/netns/x', ifName: 'eth0',
    args: 'IgnoreUnknown=1', path: ['/opt/cni/bin', '/usr/lib/cni'],
  })
})

t.test('missing variables are listed in the reference order with code 4', async (t) => {
  t.same(codeAndMsg(() => readCmdEnv({ CNI_COMMAND: 'ADD', CNI_PATH: '/x' })), {
    code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing',
  })
  t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_NETNS: '' })), {
    code: 4, msg: 'required env variables [CNI_NETNS] missing',
  }, 'an empty value counts as missing')
  t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_PATH: undefined })), {
    code: 4, msg: 'required env variables [CNI_PATH] missing',
  })
  t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_COMMAND: 'CHECK', CNI_NETNS: undefined })).msg,
    'required env variables [CNI_NETNS] missing')
})

t.test('per-verb requirements', async (t) => {
  t.doesNotThrow(() => readCmdEnv({ ...full, CNI_COMMAND: 'DEL', CNI_NETNS: undefined }), 'DEL without netns')
  t.doesNotThrow(() => readCmdEnv({ CNI_COMMAND: 'VERSION' }), 'VERSION needs only the command')
  t.doesNotThrow(() => readCmdEnv({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }), 'STATUS without attachment vars')
  t.doesNotThrow(() => readCmdEnv({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }), 'GC without attachment vars')
  t.same(codeAndMsg(() => readCmdEnv({ CNI_COMMAND: 'GC' })), { code: 4, msg: 'required env variables [CNI_PATH] missing' })
  t.doesNotThrow(() => readCmdEnv({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x', CNI_CONTAINERID: 'bad id' }),
    'attachment vars are not validated where they are not used')
})

t.test('container ID rules', async (t) => {
  for (const id of ['ctr 1', '-ctr', 'ctr/1', '.a', 'a\nb']) {
    t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_CONTAINERID: id })), {
      code: 4, msg: 'invalid characters in containerID', details: id,
    }, JSON.stringify(id))
  }
  t.doesNotThrow(() => readCmdEnv({ ...full, CNI_CONTAINERID: 'a.b_c-D9' }))
})

t.test('interface name rules', async (t) => {
  t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_IFNAME: 'abcdefghijklmnop' })), {
    code: 4, msg: 'interface name is too long', details: 'interface name should be less than 16 characters',
  })
  t.doesNotThrow(() => readCmdEnv({ ...full, CNI_IFNAME: 'abcdefghijklmno' }), '15 bytes is fine')
  t.equal(codeAndMsg(() => readCmdEnv({ ...full, CNI_IFNAME: 'äbcdefghijklmno' })).msg, 'interface name is too long',
    'the limit is in bytes')
  t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_IFNAME: '..' })), { code: 4, msg: 'interface name is . or ..' })
  t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_IFNAME: '.' })), { code: 4, msg: 'interface name is . or ..' })
  for (const name of ['eth/0', 'eth:0', 'eth 0', 'eth\t0', 'eth\u00a00']) {
    t.same(codeAndMsg(() => readCmdEnv({ ...full, CNI_IFNAME: name })), {
      code: 4, msg: 'interface name contains / or : or whitespace characters',
    }, JSON.stringify(name))
  }
})
