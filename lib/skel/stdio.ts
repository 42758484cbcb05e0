import { fs } from '../native/fs'
import { sleepSync } from '../util/sleep'

// Synchronous I/O on purpose: a plugin reads one config and writes one answer, and sync calls keep
// the answer on stdout even when the process exits right after.


/** Reads stdin to EOF. Copes with a non-blocking stdin (EAGAIN), which some parents hand down. */
export function readStdinSync(): Buffer {
  const chunks: Buffer[] = []
  const buf = Buffer.allocUnsafe(16384)
  for (;;) {
    let n: number
    try {
      n = fs.readSync(0, buf, 0, buf.length, null)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EAGAIN') {
        sleepSync(1)
        continue
      }
      if (code === 'EOF') break
      throw err
    }
    if (n === 0) break
    chunks.push(Buffer.from(buf.subarray(0, n)))
  }
  return Buffer.concat(chunks)
}

/**
 * Reads stdin for at most `ms`, for VERSION: the spec says the runtime sends {"cniVersion"}, but the
 * reference ignores stdin, so callers may leave it open or attach a terminal. Never hangs.
 */
export async function readStdinBriefly(ms: number): Promise<string> {
  let st: ReturnType<typeof fs.fstatSync>
  try {
    st = fs.fstatSync(0)
  } catch {
    return ''
  }
  if (st.isCharacterDevice()) return '' // a terminal or /dev/null: nobody is sending a config
  // A socket (Node parents give children socketpairs) cannot be reopened: read it as a stream.
  return st.isSocket() ? readStreamBriefly(ms) : readReopenedBriefly(ms)
}

/**
 * Pipes and files (what Go's exec and shells give): reopening fd 0 through /proc with O_NONBLOCK
 * gives a bounded synchronous read without Node's stream stack (~8 ms of start-up).
 */
function readReopenedBriefly(ms: number): string {
  let fd: number
  try {
    fd = fs.openSync('/proc/self/fd/0', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch {
    return ''
  }
  const deadline = Date.now() + ms
  const chunks: Buffer[] = []
  const buf = Buffer.allocUnsafe(16384)
  try {
    for (;;) {
      let n: number
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() >= deadline) break
        sleepSync(1)
        continue
      }
      if (n === 0) break
      chunks.push(Buffer.from(buf.subarray(0, n)))
    }
  } finally {
    fs.closeSync(fd)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function readStreamBriefly(ms: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const stdin = process.stdin
    const done = (): void => {
      clearTimeout(timer)
      stdin.removeAllListeners()
      stdin.destroy()
      resolve(Buffer.concat(chunks).toString('utf8'))
    }
    const timer = setTimeout(done, ms)
    stdin.on('data', (c: Buffer) => chunks.push(c))
    stdin.on('end', done)
    stdin.on('error', done)
  })
}

/** Writes all of `text` to a file descriptor, retrying partial and EAGAIN writes. */
export function writeAllSync(fd: number, text: string): void {
  let data = Buffer.from(text, 'utf8')
  while (data.length > 0) {
    try {
      const n = fs.writeSync(fd, data)
      data = data.subarray(n)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
      sleepSync(1)
    }
  }
}
