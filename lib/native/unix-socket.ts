/**
 * A stream connection to a unix socket (a D-Bus bus, for instance): Bun's own sockets in the
 * executable, node:net under Node (loaded only there: it costs milliseconds to load under Bun).
 * Asynchronous, never inside a namespace window.
 */

interface BunSocket {
  write(data: Uint8Array): number
  end(): void
}
interface BunSocketHandlers {
  data(socket: BunSocket, data: Uint8Array): void
  drain(socket: BunSocket): void
  close(socket: BunSocket): void
  error(socket: BunSocket, err: Error): void
}
declare const Bun: { connect(o: { unix: string; socket: BunSocketHandlers }): Promise<BunSocket> } | undefined

export interface UnixConnection {
  /** Queues bytes; they go out in order. */
  write(data: Uint8Array): void
  close(): void
}

export interface UnixHandlers {
  data(chunk: Uint8Array): void
  /** The peer closed the connection, or it failed (`err`). Called at most once. */
  closed(err?: Error): void
}

/** Connects to the socket at `path`; rejects (ENOENT, ECONNREFUSED, EACCES...) when it cannot. */
export async function connectUnix(path: string, h: UnixHandlers): Promise<UnixConnection> {
  let done = false
  const closed = (err?: Error): void => {
    if (done) return
    done = true
    h.closed(err)
  }
  if (typeof Bun !== 'undefined') {
    let pending: Uint8Array = new Uint8Array(0)
    const flush = (s: BunSocket): void => {
      if (pending.length === 0) return
      const n = s.write(pending)
      pending = n > 0 ? pending.subarray(n) : pending
    }
    const socket = await Bun.connect({
      unix: path,
      socket: {
        data: (_s, d) => h.data(d),
        drain: (s) => flush(s),
        close: () => closed(),
        error: (_s, err) => closed(err),
      },
    })
    return {
      write(data) {
        pending = pending.length ? Buffer.concat([pending, data]) : data
        flush(socket)
      },
      close() {
        done = true
        socket.end()
      },
    }
  }
  const net = require('node:net') as typeof import('node:net')
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path })
    s.once('connect', () => {
      s.on('error', (err) => closed(err))
      resolve({
        write: (data) => void s.write(data),
        close() {
          done = true
          s.destroy()
        },
      })
    })
    s.once('error', reject)
    s.on('data', (d: Buffer) => h.data(d))
    s.on('close', () => closed())
  })
}
