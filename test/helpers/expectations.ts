/**
 * The deliberate differences of test/helpers/deliberate.ts as the side-by-side tests apply them to
 * what they observe: transforms of the reference's stdout into what ours must print
 * (StdoutExpectation) and allowances over observation paths (Allowance). Shared by the bridge,
 * host-local and loopback side-by-side files, so each difference is expressed once.
 */
import { type Allowance, allow } from './deliberate'
import { type GoValue, fromPlain, goLeaf, member } from './go-json'
import { ABSENT, type StdoutExpectation } from './side-by-side'

/** The versions ours speaks; the reference's list stops at 1.0.0. */
export const OUR_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']

function withMember(v: GoValue, key: string, value: GoValue | undefined): GoValue {
  if (v.t !== 'object') return v
  const entries = v.entries.filter(([k]) => k !== key || value !== undefined).map(([k, x]): [string, GoValue] => [k, k === key ? value! : x])
  if (value !== undefined && !entries.some(([k]) => k === key)) entries.push([key, value])
  return { t: 'object', entries }
}

/**
 * VERSION: ours answers the version that was sent when it knows it, else its newest (1.1.0), and
 * lists 1.1.0; the reference always answers 1.0.0 and stops its list there.
 */
export function versionAnswer(sent: string | undefined): StdoutExpectation[] {
  const echo = sent !== undefined && OUR_VERSIONS.includes(sent)
  return [
    {
      id: echo && sent !== '1.1.0' ? 'versionEcho' : 'spec110',
      apply: (ref) => (member(ref, 'cniVersion') ? withMember(ref, 'cniVersion', goLeaf(echo ? sent! : '1.1.0')) : undefined),
    },
    {
      id: 'spec110',
      apply: (ref) => {
        const list = member(ref, 'supportedVersions')
        if (list?.t !== 'array') return undefined
        return withMember(ref, 'supportedVersions', { t: 'array', items: [...list.items, goLeaf('1.1.0')] })
      },
    },
  ]
}

/** Version errors list the supported versions: ours has 1.1.0 at the end. */
export const VERSION_LIST_DETAILS: Allowance = allow('spec110', /^stdout\.json\.details$/, {
  ours: (v: unknown) => typeof v === 'string' && v.endsWith(' "1.0.0" "1.1.0"]'),
  reference: (v: unknown) => typeof v === 'string' && v.endsWith(' "1.0.0"]'),
})

/** 1.x results: the reference's empty `"dns": {}` is absent in ours (HEAD's shape). */
export const NO_EMPTY_DNS: Allowance = allow('resultShape', /^stdout\.json\.dns$/, { ours: ABSENT, reference: {} })

/** Errors: ours names the request's cniVersion (spec 1.1.0), the reference's types.Error has none. */
export const ERROR_VERSION: Allowance = allow('errorVersion', /^stdout\.json\.cniVersion$/, {
  ours: (v: unknown) => typeof v === 'string',
  reference: ABSENT,
  optional: true,
})

/** HEAD's route fields in a result: ours keeps them, Debian's types.Route has only dst and gw. */
export const ROUTE_FIELDS: Allowance = allow('headKeys', /^stdout\.json\.routes\[\d+\]\.(priority|table|scope|mtu|advmss)$/, {
  reference: ABSENT,
  optional: true,
})

/** The reference's `dns` replaced by IPAM's (bridge passes it through when its config has none). */
export function ipamDns(dns: object): StdoutExpectation {
  return {
    id: 'ipamDns',
    apply: (ref) => (member(ref, 'dns') ? withMember(ref, 'dns', fromPlain(dns)) : undefined),
  }
}

/**
 * A wrongly typed field: ours is code 7 with a message naming `field`, the reference 999 with Go's
 * decoder text.
 */
export function typeError(field: string, kind: string): Allowance[] {
  const msg = `failed to load netconf: "${field}" must be ${kind}`
  return [
    allow('typeErrorCode7', /^stdout\.json\.code$/, { ours: 7, reference: 999 }),
    allow('typeErrorCode7', /^stdout\.json\.msg$/, { ours: msg, reference: /json: cannot unmarshal/ }),
  ]
}

/** The reference's answer to spec 1.1.0 and its verbs (Debian 1.1.1 stops at 1.0.0). */
export const REFUSED_VERSION = (v: any) => v?.code === 1 && v?.msg === 'incompatible CNI versions'
/** Debian's skel answers GC/STATUS without a container ID (as runtimes send them) with this. */
export const MISSING_CONTAINER_ID = (v: any) => v?.code === 3 && v?.msg === 'missing containerID'

/**
 * Where ours answers spec 1.1.0 (or its GC/STATUS) and the reference refuses with `refError`:
 * ours prints nothing (`empty`) or a result (`result`).
 */
export function refusesSpec110(ours: 'empty' | 'result' = 'empty', refError: (v: any) => boolean = REFUSED_VERSION): Allowance[] {
  const exit = allow('spec110', /^exit$/, { ours: 0, reference: 1 })
  if (ours === 'empty') {
    return [
      exit,
      allow('spec110', /^stdout\.layout$/, { ours: 'empty', reference: 'indented, no newline' }),
      allow('spec110', /^stdout\.json$/, { ours: ABSENT, reference: refError }),
    ]
  }
  return [
    exit,
    allow('spec110', /^stdout\.json\.(code|msg|details)$/, { ours: ABSENT }),
    allow('spec110', /^stdout\.json\.(cniVersion|ips|routes|dns|interfaces)$/, { reference: ABSENT, optional: true }),
  ]
}

/** GC/STATUS below 1.1.0: ours refuses like HEAD (code 1), Debian does not know the verb. */
export function verbBelow110(verb: string, refError: 'unknown' | 'missing containerID'): Allowance[] {
  return [
    allow('spec110', /^stdout\.json\.code$/, { ours: 1, reference: refError === 'unknown' ? 4 : 3 }),
    allow('spec110', /^stdout\.json\.msg$/, { ours: `config version does not allow ${verb}`, reference: refError === 'unknown' ? `unknown CNI_COMMAND: ${verb}` : 'missing containerID' }),
  ]
}

/**
 * loopback at 0.x: the reference prints its 1.x-shaped result under the old label; ours converts
 * it: 0.3.x/0.4.0 add `"version"` to each IP (first, in struct order), 0.1.0/0.2.0 print
 * `ip4`/`ip6` with `"dns": {}`.
 */
export function loopbackOldShape(version: string): StdoutExpectation {
  return {
    id: 'loopbackOldShapes',
    apply: (ref) => {
      const ips = member(ref, 'ips')
      if (ref.t !== 'object' || ips?.t !== 'array') return undefined
      const ipVersion = (ip: GoValue) => (String(JSON.parse((member(ip, 'address') as any)?.raw ?? '""')).includes(':') ? '6' : '4')
      if (version.startsWith('0.3') || version === '0.4.0') {
        const items = ips.items.map((ip): GoValue => (ip.t === 'object' ? { t: 'object', entries: [['version', goLeaf(ipVersion(ip))], ...ip.entries] } : ip))
        const entries = ref.entries.map(([k, v]): [string, GoValue] => [k, k === 'ips' ? { t: 'array', items } : v])
        if (!entries.some(([k]) => k === 'dns')) entries.push(['dns', { t: 'object', entries: [] }])
        return { t: 'object', entries }
      }
      const out: [string, GoValue][] = [['cniVersion', member(ref, 'cniVersion')!]]
      for (const fam of ['4', '6']) {
        const ip = ips.items.find((x) => ipVersion(x) === fam)
        if (!ip) continue
        const e: [string, GoValue][] = [['ip', member(ip, 'address')!]]
        const gw = member(ip, 'gateway')
        if (gw) e.push(['gateway', gw])
        out.push([`ip${fam}`, { t: 'object', entries: e }])
      }
      out.push(['dns', { t: 'object', entries: [] }])
      return { t: 'object', entries: out }
    },
  }
}
