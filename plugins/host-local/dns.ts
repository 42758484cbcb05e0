/**
 * `ipam.resolvConf`: a resolv.conf file read into the result's `dns`, line by line as the
 * reference does (reference-plugins.md §2.1): trimmed; empty lines and lines starting with `#` or
 * `;` skipped; fields split on white space; lines with fewer than two fields skipped; `nameserver`
 * appends its first argument, `domain` sets it (the last wins), `search` and `options` append all
 * their arguments. Anything else is ignored; nameservers are not checked to be addresses.
 */
import { fs } from '../../lib/native/fs'
import type { DNS } from '../../lib/skel/result/types'
import { goPathError } from '../../lib/util/go-errors'
import { goTrimSpace } from './store/format'

/** Go's bufio.Scanner refuses a line longer than this (its default buffer). */
const MAX_LINE = 64 * 1024

// Go's strings.Fields: split on Unicode White_Space.
const FIELD_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/

export function parseResolvConf(file: string): DNS {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    // Go opens first, then reads: a directory opens fine and fails on read.
    throw goPathError((err as NodeJS.ErrnoException).syscall === 'read' ? 'read' : 'open', file, err)
  }
  const dns: DNS = {}
  for (const raw of text.split('\n')) {
    if (raw.length > MAX_LINE) throw new Error('bufio.Scanner: token too long')
    const line = goTrimSpace(raw)
    if (line === '' || line[0] === '#' || line[0] === ';') continue
    const fields = line.split(FIELD_SPACE)
    if (fields.length < 2) continue
    switch (fields[0]) {
      case 'nameserver':
        ;(dns.nameservers ??= []).push(fields[1])
        break
      case 'domain':
        dns.domain = fields[1]
        break
      case 'search':
        ;(dns.search ??= []).push(...fields.slice(1))
        break
      case 'options':
        ;(dns.options ??= []).push(...fields.slice(1))
        break
    }
  }
  return dns
}
