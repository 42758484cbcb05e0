/**
 * File-system errors worded like Go's *os.PathError ("mkdir /x: not a directory",
 * "open /etc/x: no such file or directory"), which is what the reference plugins print.
 * Node's own text ("ENOTDIR: not a directory, mkdir '/x'") carries the same facts in another
 * order, and sometimes without the path.
 */

// libuv's descriptions that differ from Go's (glibc's strerror, lower-cased).
const GO_TEXT: Record<string, string> = {
  EEXIST: 'file exists',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
}

/** The errno's text as Go prints it, e.g. "no such file or directory"; any other error's message. */
export function goErrnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined
  const code = typeof e?.code === 'string' ? e.code : ''
  if (GO_TEXT[code]) return GO_TEXT[code]
  const message = typeof e?.message === 'string' ? e.message : String(err)
  // Node: "<CODE>: <description>, <syscall> '<path>'".
  const m = /^[A-Z0-9]+: (.*?)(?:, [a-z_]+(?: '.*')?)?$/s.exec(message)
  return m ? m[1] : message
}

/** `<op> <path>: <errno text>`, or the error unchanged when it is not an errno error. */
export function goPathError(op: string, path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException
  if (!(e instanceof Error) || typeof e.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code)) return e as Error
  const out = new Error(`${op} ${path}: ${goErrnoText(e)}`) as NodeJS.ErrnoException
  out.code = e.code
  return out
}
