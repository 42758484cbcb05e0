/**
 * The one D-Bus exchange on every auto-detecting call: whether a name has an owner on the bus
 * (`org.freedesktop.DBus.GetNameOwner`), spoken on the socket directly. Spawning dbus-send for it
 * cost ~15 ms a call on a node whose bus has no firewalld (measured: CHECK 46 ms against 31 ms
 * without a bus; the reference, in-process, ~4 ms); this costs about a millisecond.
 *
 * The exchange: `\0AUTH EXTERNAL <hex uid>` -> `OK <guid>`, `BEGIN`, then Hello (serial 1) and
 * GetNameOwner (serial 2) in one write; the answer is the message whose REPLY_SERIAL is 2: a method
 * return (owned) or an error (NameHasNoOwner). Messages are little-endian D-Bus 1 (the spec lets
 * either side pick its own byte order; replies in either are read).
 */
import { connectUnix } from '../../lib/native/unix-socket'

const HEADER_PATH = 1
const HEADER_INTERFACE = 2
const HEADER_MEMBER = 3
const HEADER_ERROR_NAME = 4
const HEADER_REPLY_SERIAL = 5
const HEADER_DESTINATION = 6
const HEADER_SIGNATURE = 8
const METHOD_CALL = 1
const METHOD_RETURN = 2
const ERROR = 3

/** A growing little-endian buffer whose alignment counts from the message start. */
class Writer {
  private bytes: number[] = []
  get length(): number {
    return this.bytes.length
  }
  align(n: number): void {
    while (this.bytes.length % n !== 0) this.bytes.push(0)
  }
  u8(v: number): void {
    this.bytes.push(v & 0xff)
  }
  u32(v: number): void {
    this.align(4)
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff)
  }
  setU32(at: number, v: number): void {
    this.bytes.splice(at, 4, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff)
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8')
    this.u32(b.length)
    for (const x of b) this.bytes.push(x)
    this.bytes.push(0)
  }
  signature(s: string): void {
    this.u8(s.length)
    for (const c of s) this.bytes.push(c.charCodeAt(0))
    this.bytes.push(0)
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes)
  }
}

/** A method call to the bus itself, with string arguments. */
export function methodCall(serial: number, member: string, args: string[]): Uint8Array {
  const body = new Writer()
  for (const a of args) body.string(a)
  const m = new Writer()
  m.u8(0x6c) // 'l'
  m.u8(METHOD_CALL)
  m.u8(0)
  m.u8(1)
  m.u32(body.length)
  m.u32(serial)
  const lengthAt = m.length
  m.u32(0)
  const start = m.length
  const field = (code: number, sig: string, value: string): void => {
    m.align(8)
    m.u8(code)
    m.signature(sig)
    if (sig === 'g') m.signature(value)
    else m.string(value)
  }
  field(HEADER_PATH, 'o', '/org/freedesktop/DBus')
  field(HEADER_INTERFACE, 's', 'org.freedesktop.DBus')
  field(HEADER_MEMBER, 's', member)
  field(HEADER_DESTINATION, 's', 'org.freedesktop.DBus')
  if (args.length) field(HEADER_SIGNATURE, 'g', 's'.repeat(args.length))
  m.setU32(lengthAt, m.length - start)
  m.align(8)
  const head = m.done()
  const out = new Uint8Array(head.length + body.length)
  out.set(head)
  out.set(body.done(), head.length)
  return out
}

interface Message {
  type: number
  replySerial?: number
  errorName?: string
}

/** The first whole message in `buf`, and its length; undefined while it is incomplete. */
export function readMessage(buf: Uint8Array): { msg: Message; length: number } | undefined {
  if (buf.length < 16) return undefined
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const le = buf[0] === 0x6c
  const bodyLength = dv.getUint32(4, le)
  const fieldsLength = dv.getUint32(12, le)
  const headerEnd = 16 + fieldsLength
  const total = Math.ceil(headerEnd / 8) * 8 + bodyLength
  if (buf.length < total) return undefined
  const msg: Message = { type: buf[1] }
  let at = 16
  const align = (n: number): void => {
    at = Math.ceil(at / n) * n
  }
  while (at < headerEnd) {
    align(8)
    const code = buf[at++]
    const sigLength = buf[at++]
    const sig = Buffer.from(buf.subarray(at, at + sigLength)).toString('latin1')
    at += sigLength + 1
    if (sig === 'u') {
      align(4)
      const v = dv.getUint32(at, le)
      at += 4
      if (code === HEADER_REPLY_SERIAL) msg.replySerial = v
    } else if (sig === 's' || sig === 'o') {
      align(4)
      const n = dv.getUint32(at, le)
      const v = Buffer.from(buf.subarray(at + 4, at + 4 + n)).toString('utf8')
      at += 4 + n + 1
      if (code === HEADER_ERROR_NAME) msg.errorName = v
    } else if (sig === 'g') {
      at += buf[at] + 2
    } else {
      throw new Error(`unexpected header field signature ${JSON.stringify(sig)}`)
    }
  }
  return { msg, length: total }
}

/**
 * Whether `name` has an owner on the bus at `socketPath`. Rejects when the bus cannot be reached or
 * answers nonsense; resolves false on NameHasNoOwner (or any other error reply).
 */
export function nameHasOwner(socketPath: string, name: string, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let text = ''
    let authed = false
    let buf: Uint8Array = new Uint8Array(0)
    let settled = false
    let conn: { write(d: Uint8Array): void; close(): void } | undefined
    const finish = (err: Error | undefined, owned?: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      conn?.close()
      if (err) reject(err)
      else resolve(owned === true)
    }
    const timer = setTimeout(() => finish(new Error(`no answer from the bus at ${socketPath} in ${timeoutMs} ms`)), timeoutMs)
    const onData = (chunk: Uint8Array): void => {
      if (!authed) {
        text += Buffer.from(chunk).toString('latin1')
        const eol = text.indexOf('\r\n')
        if (eol < 0) return
        if (!text.startsWith('OK ')) return finish(new Error(`bus authentication failed: ${text.slice(0, eol)}`))
        authed = true
        const rest = Buffer.from(text.slice(eol + 2), 'latin1')
        text = ''
        conn!.write(Buffer.concat([Buffer.from('BEGIN\r\n'), methodCall(1, 'Hello', []), methodCall(2, 'GetNameOwner', [name])]))
        if (rest.length === 0) return
        chunk = rest
      }
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
      try {
        for (let m = readMessage(buf); m; m = readMessage(buf)) {
          buf = buf.subarray(m.length)
          if (m.msg.replySerial !== 2) continue
          if (m.msg.type === METHOD_RETURN) return finish(undefined, true)
          if (m.msg.type === ERROR) return finish(undefined, false)
        }
      } catch (err) {
        finish(err as Error)
      }
    }
    connectUnix(socketPath, { data: onData, closed: (err) => finish(err ?? new Error('the bus closed the connection')) })
      .then((c) => {
        conn = c
        if (settled) return c.close()
        const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex')
        c.write(Buffer.from(`\0AUTH EXTERNAL ${uid}\r\n`))
      })
      .catch((err: unknown) => finish(err as Error))
  })
}
