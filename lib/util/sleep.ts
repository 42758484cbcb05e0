/**
 * A synchronous pause of the calling thread. A plugin does one thing at a time, so waiting for a
 * port to come up or a lock holder to finish has nothing else to overlap with.
 */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
