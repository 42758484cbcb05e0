export function installMain(_args: string[]): void {
  throw new Error('not yet')
}
export function uninstallMain(_args: string[]): void {
  throw new Error('not yet')
}
