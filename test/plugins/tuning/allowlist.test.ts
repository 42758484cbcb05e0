// The sysctl allowlist, through the executable. Its path is fixed in the plugin
// (/etc/cni/tuning/allowlist.conf, upstream's): nothing in the environment or the config can point
// the plugin at another file, so the test uses the real one. It runs only when the host has no
// allowlist of its own, creates the file (and /etc/cni/tuning if missing) and removes exactly what
// it created at teardown. tap runs test files one at a time (.taprc jobs: 1), so no other tuning
// test sees the file. Its first line is a marker, so a file left by a killed run is recognised
// (and replaced) by the next one; as a pattern it matches no sysctl name.
import * as fs from 'node:fs'
import t, { type Test } from 'tap'
import { ALLOWLIST_FILE } from '../../../plugins/tuning/sysctl'
import { HAVE_REF_TUNING, REF_TUNING, container, dataRoot, errorOf, readSysctlIn, runTuning, tuningConf } from './fixture'

const DIR = '/etc/cni/tuning'
const MARKER = '^tscni-test-allowlist-marker$'

function leftOver(): boolean {
  try {
    return fs.readFileSync(ALLOWLIST_FILE, 'utf8').startsWith(`${MARKER}\n`)
  } catch {
    return false
  }
}

const hostHasOne = fs.existsSync(ALLOWLIST_FILE) && !leftOver()

/** Writes the allowlist for this test; removes it (and the directory, if made here) at teardown. */
function allowlist(t: Test, lines: string[]): void {
  const madeDir = !fs.existsSync(DIR)
  if (madeDir) fs.mkdirSync(DIR, { recursive: true, mode: 0o755 })
  fs.writeFileSync(ALLOWLIST_FILE, [MARKER, ...lines].join('\n') + '\n', { mode: 0o644 })
  t.teardown(() => {
    if (leftOver()) fs.rmSync(ALLOWLIST_FILE, { force: true })
    if (madeDir) fs.rmSync(DIR, { recursive: true, force: true })
  })
}

t.test('with an allowlist, ADD refuses sysctls no line matches, before changing anything', { skip: hostHasOne && `the host has ${ALLOWLIST_FILE}` }, async (t) => {
  t.equal(ALLOWLIST_FILE, '/etc/cni/tuning/allowlist.conf', "upstream's path")
  allowlist(t, ['^net\\.core\\.somaxconn$', '  ^net\\.ipv4\\.conf\\.IFNAME\\.arp_notify$  ', ''])
  const c = container(t, 'allow')
  const dir = dataRoot(t)
  const allowedList = `[${MARKER} ^net\\.core\\.somaxconn$ ^net\\.ipv4\\.conf\\.IFNAME\\.arp_notify$]`

  const ok = tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '555', 'net.ipv4.conf.IFNAME.arp_notify': '1' } })
  let r = runTuning('ADD', ok, c.ns)
  t.equal(r.code, 0, r.stdout)
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), '555')

  for (const sysctl of [{ 'net.core.somaxconn': '556', 'net.ipv4.ip_forward': '1' }, { 'net.ipv4.conf.eth0.arp_notify': '1' }]) {
    const bad = Object.keys(sysctl).at(-1)!
    r = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl, mtu: 1400 }), c.ns)
    t.match(errorOf(r), { code: 999, msg: `Sysctl ${bad} is not allowed. Only the following sysctls are allowed: ${allowedList}` }, bad)
  }
  t.equal(readSysctlIn(c.ns, 'net/core/somaxconn'), '555', 'nothing written')
  r = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '557' }, args: { cni: { sysctl: { 'net.ipv4.ip_forward': '1' } } } }), c.ns)
  t.match(errorOf(r), { msg: /^Sysctl net\.ipv4\.ip_forward is not allowed/ }, 'args.cni.sysctl is checked too')

  const check = runTuning('CHECK', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.ipv4.ip_forward': readSysctlIn(c.ns, 'net/ipv4/ip_forward') } }), c.ns)
  t.equal(check.code, 0, 'CHECK does not consult the allowlist (upstream)')
  t.equal(runTuning('DEL', ok, c.ns).code, 0, 'nor does DEL')

  if (HAVE_REF_TUNING) {
    const ref = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '558', 'net.ipv4.ip_forward': '0' } }), c.ns, {}, REF_TUNING)
    t.equal(ref.code, 0, "Debian's 1.1.1 has no allowlist (upstream added it in v1.2.0)")
  }
})

t.test('an empty allowlist allows no sysctl, and ADDs without sysctls still work', { skip: hostHasOne && `the host has ${ALLOWLIST_FILE}` }, async (t) => {
  allowlist(t, [])
  const c = container(t, 'allow0')
  const dir = dataRoot(t)
  t.match(errorOf(runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { sysctl: { 'net.core.somaxconn': '559' } }), c.ns)), {
    msg: `Sysctl net.core.somaxconn is not allowed. Only the following sysctls are allowed: [${MARKER}]`,
  })
  const r = runTuning('ADD', tuningConf('1.0.0', c.ns, dir, { mtu: 1400 }), c.ns)
  t.equal(r.code, 0, r.stdout)
  t.equal(runTuning('DEL', tuningConf('1.0.0', c.ns, dir), c.ns).code, 0)
})
