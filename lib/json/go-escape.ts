/**
 * Go's encoding/json escapes <, >, & and U+2028/U+2029 inside strings (HTML-safe output, its
 * default); JSON.stringify does not. Everything a plugin prints goes through this so stdout is
 * the reference's byte for byte: an error text like `IP <nil>` reads `IP \u003cnil\u003e` there.
 * Those characters can only occur inside JSON strings, so replacing them in the text is exact.
 */
export function escapeLikeGo(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
