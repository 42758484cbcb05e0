/**
 * sha512 as hex, for the names the reference derives by hashing (chains, comments). Bun's native
 * hasher in the executable; node:crypto under Node. (node:crypto costs ~4.5 ms to load under Bun,
 * a quarter of a plugin's whole run.)
 */
declare const Bun: { CryptoHasher: new (algorithm: string) => { update(data: string): void; digest(enc: 'hex'): string } } | undefined

export function sha512Hex(text: string): string {
  if (typeof Bun !== 'undefined') {
    const h = new Bun.CryptoHasher('sha512')
    h.update(text)
    return h.digest('hex')
  }
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha512').update(text, 'utf8').digest('hex')
}

/** `n` random bytes from the runtime's CSPRNG (Web Crypto, a global in both runtimes: nothing to load). */
export function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}
