// TLS: a CA, a server certificate for 127.0.0.1 and a client certificate made here with openssl;
// etcd requires client certificates. A wrong CA and a missing client certificate are clear errors.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import t from 'tap'
import { HAVE_ETCD, hintDir, ipamConf, runIpam, startCluster } from '../../helpers/etcd'

const OPENSSL = '/usr/bin/openssl'

function makePki(dir: string): Record<string, string> {
  const f = (n: string) => `${dir}/${n}`
  const ssl = (...args: string[]) => execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const ca = (name: string) => {
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`))
  }
  const leaf = (name: string, signer: string, ext: string) => {
    fs.writeFileSync(f(`${name}.ext`), ext)
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`))
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${signer}.crt`), '-CAkey', f(`${signer}.key`), '-CAcreateserial',
      '-days', '1', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`))
  }
  ca('ca')
  ca('wrong-ca')
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n')
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n')
  return { ca: f('ca.crt'), wrongCa: f('wrong-ca.crt'), cert: f('server.crt'), key: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') }
}

t.test('TLS with client certificates', { skip: (!HAVE_ETCD || !fs.existsSync(OPENSSL)) && 'etcd or openssl is not installed' }, async (t) => {
  const pkiDir = hintDir(t, 'pki')
  const pki = makePki(pkiDir)
  const cluster = await startCluster(t, { base: 23820, tls: { cert: pki.cert, key: pki.key, ca: pki.ca, clientCert: pki.clientCert, clientKey: pki.clientKey } })
  const ep = cluster.endpoints[0]
  t.match(ep, /^https:/)
  const hints = hintDir(t, 'tls')
  const good = ipamConf([ep], hints, { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey })

  const add = await runIpam('ADD', good, { containerID: 'tls1' })
  t.equal(add.code, 0, add.stdout)
  t.match(add.json, { ips: [{ address: /^10\.64\.0\.\d+\/24$/ }] })
  t.equal((await runIpam('CHECK', good, { containerID: 'tls1' })).code, 0)
  t.equal((await runIpam('STATUS', good)).code, 0)
  t.equal((await runIpam('DEL', good, { containerID: 'tls1' })).code, 0)

  const wrong = await runIpam('ADD', { ...good, ipam: { ...(good.ipam as object), caFile: pki.wrongCa } }, { containerID: 'tls2' })
  t.equal(wrong.code, 1)
  t.equal(wrong.json?.code, 999, wrong.stdout)
  t.match(wrong.json?.msg, 'TLS with etcd failed: check ipam.caFile')
  t.match(wrong.json?.details, ep, 'names the endpoint')
  t.match(wrong.json?.details, /certificate|verify|issuer|self.signed/i, `says it is the certificate: ${wrong.json?.details}`)
  // The environment a runtime passes on cannot switch the check off.
  const insecure = await runIpam('ADD', { ...good, ipam: { ...(good.ipam as object), caFile: pki.wrongCa } }, { containerID: 'tls2', env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } })
  t.equal(insecure.code, 1, `NODE_TLS_REJECT_UNAUTHORIZED=0 changes nothing: ${insecure.stdout}`)
  const noClient = await runIpam('ADD', { ...good, ipam: { ...(good.ipam as object), certFile: undefined, keyFile: undefined } }, { containerID: 'tls3' })
  t.equal(noClient.code, 1, `without a client certificate: ${noClient.stdout}`)
  const noCa = await runIpam('ADD', { ...good, ipam: { ...(good.ipam as object), caFile: undefined } }, { containerID: 'tls4' })
  t.equal(noCa.json?.code, 7)
  t.match(noCa.json?.msg, 'ipam.caFile')
  const missing = await runIpam('ADD', { ...good, ipam: { ...(good.ipam as object), caFile: `${pkiDir}/nope.crt` } }, { containerID: 'tls5' })
  t.equal(missing.code, 1)
  t.match(missing.json?.msg + (missing.json?.details ?? ''), /caFile .*nope\.crt/)
})
