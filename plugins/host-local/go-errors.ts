/**
 * File-system errors worded like Go's *os.PathError ("mkdir /x: not a directory",
 * "open /etc/x: no such file or directory"), which is what the reference host-local prints.
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

/** The errno's text as Go prints it, e.g. "no such file or directory". */
export function goErrnoText(err: NodeJS.ErrnoException): string {
  const code = err.code ?? ''
  if (GO_TEXT[code]) return GO_TEXT[code]
  // Node: "<CODE>: <description>, <syscall> '<path>'".
  const m = /^[A-Z0-9]+: (.*?)(?:, [a-z_]+(?: '.*')?)?$/s.exec(err.message)
  return m ? m[1] : err.message
}

/** `<op> <path>: <errno text>`, or the error unchanged when it is not an errno error. */
export function goPathError(op: string, path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException
  if (!(e instanceof Error) || typeof e.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code)) return e as Error
  const out = new Error(`${op} ${path}: ${goErrnoText(e)}`) as NodeJS.ErrnoException
  out.code = e.code
  return out
}
