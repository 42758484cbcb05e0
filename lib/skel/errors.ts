/** Well-known CNI error codes (spec 1.1.0 §"Error"); 999 is the reference's catch-all for plugin errors. */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  NotAvailableLimitedConnectivity: 51,
  Internal: 999,
} as const

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | number

/** The error object a plugin prints on stdout: {code, msg, details}. */
export interface CniErrorObject {
  cniVersion?: string
  code: number
  msg: string
  details?: string
}

/** An error that reaches stdout as it is. Anything else becomes code 999 in lib/skel. */
export class CniError extends Error {
  override readonly name = 'CniError'
  constructor(
    readonly code: ErrorCodeValue,
    readonly msg: string,
    readonly details?: string,
  ) {
    super(details ? `${msg}; ${details}` : msg)
  }

  toJSON(): CniErrorObject {
    const out: CniErrorObject = { code: this.code, msg: this.msg }
    if (this.details) out.details = this.details
    return out
  }

  /** Accepts what a delegated plugin printed, keeping its code and texts. */
  static fromObject(obj: CniErrorObject): CniError {
    return new CniError(obj.code, obj.msg, obj.details)
  }
}

/** Turns anything thrown into the CniError that gets printed: the one place unknown errors become 999. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err
  if (err instanceof Error) return new CniError(ErrorCode.Internal, err.message)
  return new CniError(ErrorCode.Internal, String(err))
}
