/**
 * The one place cnitool ends with an error: the message on one line of stderr (libcni's text,
 * as the reference cnitool prints it), exit status 1. Usage errors end the same way, with a hint.
 */

/** The command line itself is wrong (missing argument, unknown option). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  constructor(
    message: string,
    /** The sub-command whose --help to point at. */
    readonly command?: string,
  ) {
    super(message)
  }
}

export function exitWithError(err: unknown): void {
  let text: string
  if (err instanceof UsageError) {
    text = `${err.message} (see: cnitool ${err.command ? `${err.command} ` : ''}--help)`
  } else if (err instanceof Error) {
    text = err.message
  } else {
    text = String(err)
  }
  process.stderr.write(`${text}\n`)
  process.exitCode = 1
}
