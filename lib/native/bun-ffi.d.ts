// The little of bun:ffi that lib/native/ffi.ts uses (the project does not depend on bun-types).
declare module 'bun:ffi' {
  export const FFIType: {
    readonly i32: number
    readonly u32: number
    readonly i64: number
    readonly u64: number
    readonly ptr: number
    readonly void: number
  }
  export function dlopen(
    path: string,
    symbols: Record<string, { args: readonly number[]; returns: number }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown>; close(): void }
  export const read: { i32(ptr: unknown, offset: number): number }
  export function toArrayBuffer(ptr: number, byteOffset: number, byteLength: number): ArrayBuffer
  export class CString {
    constructor(ptr: number, byteOffset?: number, byteLength?: number)
    toString(): string
  }
}
