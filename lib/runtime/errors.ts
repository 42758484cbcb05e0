import { CniError } from '../skel/errors'

/**
 * An error of the runtime side: libcni's text (e.g. `plugin type="bridge" failed (add): ...`),
 * the CNI code of the plugin error underneath when there is one, and that error as `cause`.
 */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError'
  constructor(
    message: string,
    /** The plugin's CNI error code, when a plugin's error is the reason. */
    readonly cniCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** `prefix: <err>` keeping err's CNI code and err as the cause (Go's fmt.Errorf("...: %w")). */
export function wrapError(prefix: string, err: unknown): RuntimeError {
  return new RuntimeError(`${prefix}: ${messageOf(err)}`, cniCodeOf(err), { cause: err })
}

/** Several errors reported together, one per line (Go's errors.Join): what GC returns. */
export class JoinedError extends RuntimeError {
  constructor(readonly errors: Error[]) {
    super(errors.map((e) => e.message).join('\n'), cniCodeOf(errors[0]))
  }
}

/** The CNI code carried by an error or its causes, if any. */
export function cniCodeOf(err: unknown): number | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof CniError) return e.code
    if (e instanceof RuntimeError && e.cniCode !== undefined) return e.cniCode
  }
  return undefined
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
