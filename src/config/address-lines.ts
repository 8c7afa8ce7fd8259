/**
 * Line syntaxes of value blocks: VIP / eVIP / static addresses (docs/keepalived-behaviour.md 2.3), virtual and
 * static routes and rules (ip-route / ip-rule like). Pure.
 */
import type { Diagnostics } from './diagnostics.js';
import type { AddressEntry, DeepReadonly, RouteEntry, RuleEntry } from './model.js';
import type { Statement } from './reader.js';
import { ipv4ToNumber, numberToIpv4 } from '../protocol/ipv4-address.js';
import { ipFamily } from './values.js';

const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
const FLAG_WORDS = new Set(['home', '-nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'use_vmac']);

export interface AddressLineOptions {
  /** static_ipaddress accepts `track_group`. */
  readonly allowTrackGroup?: boolean;
  /** Does an interface exist? undefined = don't check. */
  readonly interfaceExists?: (name: string) => boolean;
}

/** The address options that take a value (the next word); a missing value drops the entry. */
const ADDRESS_VALUE_WORDS = new Set(['dev', 'brd', 'broadcast', 'scope', 'label', 'peer', 'preferred_lft', 'track_group']);

/** One address line being parsed: the entry so far and what its options need. */
interface AddressLine {
  readonly e: AddressEntry;
  /** The line's first word, as written (messages quote it). */
  readonly first: string;
  readonly stmt: Statement;
  readonly diags: Diagnostics;
  readonly opts: AddressLineOptions;
  /** `brd`/`broadcast` as written, applied once the whole line is read (it needs the prefix). */
  brd: string | undefined;
}

/**
 * Parse one address line. Returns undefined when the entry is dropped (keepalived's
 * `VRRP parsed invalid IP ... skipping IP...` and friends).
 */
export function parseAddressLine(
  words: readonly string[],
  stmt: Statement,
  diags: Diagnostics,
  opts: AddressLineOptions = {},
): AddressEntry | undefined {
  const first = words[0];
  if (first === undefined) return undefined;
  const head = addressHead(first, stmt, diags);
  if (head === undefined) return undefined;
  const e: AddressEntry = {
    address: head.address,
    family: head.family,
    prefixLength: head.prefixLength,
    dev: null,
    broadcast: null,
    scope: 0,
    label: null,
    peer: null,
    noTrack: false,
    flags: [],
    trackGroup: null,
    origin: { file: stmt.file, line: stmt.line },
  };
  const line: AddressLine = { e, first, stmt, diags, opts, brd: undefined };
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    let v = '';
    if (ADDRESS_VALUE_WORDS.has(w)) {
      const next = words[i + 1];
      if (next === undefined) {
        diags.error(stmt, `No ${w} parameter specified for ${first}`, w);
        return undefined;
      }
      i++;
      v = next;
    }
    if (!addressOption(line, w, v)) return undefined;
  }
  if (line.brd !== undefined) applyBroadcast(line, line.brd);
  if (e.family === 6) ipv6Options(line);
  return e;
}

/** keepalived reads `scope` and `label` on an IPv6 address, then drops them with a message. */
function ipv6Options({ e, first, stmt, diags }: AddressLine): void {
  if (e.scope !== 0) {
    diags.error(stmt, `Cannot specify scope for IPv6 addresses (${first}) - ignoring scope`, 'scope');
    e.scope = 0;
  }
  if (e.label !== null) {
    diags.error(stmt, `Cannot specify label for IPv6 addresses (${first}) - ignoring label`, 'label');
    e.label = null;
  }
}

/** An address lifetime in seconds, 0..2^32-1, with keepalived's number messages (read_unsigned). */
function readLifetime(v: string, stmt: Statement, diags: Diagnostics): number | undefined {
  if (v.startsWith('-')) diags.error(stmt, `negative number '${v}'`, 'preferred_lft');
  else if (!/^\+?\d+$/.test(v)) diags.error(stmt, `invalid number '${v}'`, 'preferred_lft');
  else if (Number(v) > 4294967295) diags.error(stmt, `number '${v}' outside range [0, 4294967295]`, 'preferred_lft');
  else return Number(v);
  return undefined;
}

/** `ADDR[/LEN]`: the address, its family and its prefix length (a bad length is reported and maxed). */
function addressHead(
  first: string,
  stmt: Statement,
  diags: Diagnostics,
): { address: string; family: 4 | 6; prefixLength: number } | undefined {
  const slash = first.indexOf('/');
  const addr = slash >= 0 ? first.slice(0, slash) : first;
  const family = ipFamily(addr);
  if (family === undefined) {
    diags.error(stmt, `VRRP parsed invalid IP ${first}. skipping IP...`, first);
    return undefined;
  }
  const maxPrefix = family === 4 ? 32 : 128;
  let prefixLength = maxPrefix;
  if (slash >= 0) {
    const p = first.slice(slash + 1);
    if (/^\d+$/.test(p) && Number(p) <= maxPrefix) prefixLength = Number(p);
    else {
      diags.error(stmt, /^\d+$/.test(p) ? `number '${p}' outside range [0, ${maxPrefix}]` : `invalid number '${p}'`, first);
      diags.error(stmt, `Invalid address prefix len ${p} for address ${first} - using ${maxPrefix}`, first);
    }
  }
  return { address: addr, family, prefixLength };
}

/** One option word `w` (with its value `v` when it takes one). False: the entry is dropped. */
function addressOption(line: AddressLine, w: string, v: string): boolean {
  const { e, first, stmt, diags, opts } = line;
  const family = e.family;
  switch (w) {
    case 'dev':
      if (e.dev !== null) {
        diags.error(stmt, `Cannot specify dev more than once for ${first}`, w);
        break;
      }
      if (opts.interfaceExists && !opts.interfaceExists(v)) {
        diags.error(stmt, `WARNING - interface ${v} for ip address ${first} doesn't exist`, w);
        return false;
      }
      e.dev = v;
      break;
    case 'brd':
    case 'broadcast':
      // keepalived names the keyword, not its value, and drops the address
      if (family === 6) {
        diags.error(stmt, `VRRP is trying to assign a broadcast ${w} to the IPv6 address ${first} !!?? WTF... skipping VIP...`, w);
        return false;
      }
      line.brd = v;
      break;
    case 'scope': {
      // IPv6: read like IPv4, then refused at the end of the line (ipv6Options)
      const s = SCOPES[v] ?? (/^\d+$/.test(v) && Number(v) <= 255 ? Number(v) : undefined);
      if (s === undefined) diags.error(stmt, `Invalid scope '${v}' specified for ${first} - ignoring`, w);
      else e.scope = s;
      break;
    }
    case 'label':
      if (v.length >= 16) {
        diags.error(stmt, `Label '${v}' is too long (max 15 characters) - ignoring`, w);
        break;
      }
      e.label = v;
      break;
    case 'peer':
      e.peer = v;
      break;
    case 'no_track':
      e.noTrack = true;
      break;
    case 'preferred_lft':
      // seconds (0 marks an IPv6 address deprecated) or `forever`; anything else is refused
      if (v !== 'forever' && readLifetime(v, stmt, diags) === undefined) diags.error(stmt, `preferred_lft ${v} is invalid`, w);
      else e.flags.push(`preferred_lft ${v}`);
      break;
    case 'track_group':
      if (opts.allowTrackGroup) e.trackGroup = v;
      else diags.error(stmt, `track_group not allowed for ${first} - ignoring`, w);
      break;
    default:
      // keepalived reads `use_vmac` on VIP/eVIP lines only, not on static addresses
      if (FLAG_WORDS.has(w) && !(w === 'use_vmac' && opts.allowTrackGroup === true)) e.flags.push(w);
      else diags.error(stmt, `Unknown configuration entry '${w}' for ip address - ignoring`, w);
  }
  return true;
}

/** `brd +` / `brd -` (computed from the prefix) or `brd ADDR` on an IPv4 entry. */
function applyBroadcast(line: AddressLine, brdWord: string): void {
  const { e, first, stmt, diags } = line;
  if (brdWord === '+' || brdWord === '-') {
    if (e.prefixLength > 30) {
      diags.error(stmt, `Address prefix length ${e.prefixLength} too long for broadcast`, 'brd');
    } else {
      const a = ipv4ToNumber(e.address);
      const host = e.prefixLength === 0 ? 0xffffffff : (2 ** (32 - e.prefixLength) - 1) >>> 0;
      e.broadcast = numberToIpv4(brdWord === '+' ? (a | host) >>> 0 : (a & ~host) >>> 0);
    }
  } else if (ipFamily(brdWord) === 4) {
    e.broadcast = brdWord;
  } else {
    diags.error(stmt, `Invalid broadcast address ${brdWord} for ${first}`, 'brd');
  }
}

/** Print an address line back in keepalived syntax. */
export function formatAddressLine(e: DeepReadonly<AddressEntry>): string {
  const parts = [e.prefixLength === (e.family === 4 ? 32 : 128) ? e.address : `${e.address}/${e.prefixLength}`];
  if (e.broadcast !== null) parts.push('brd', e.broadcast);
  if (e.dev !== null) parts.push('dev', e.dev);
  if (e.scope !== 0) parts.push('scope', Object.entries(SCOPES).find(([, v]) => v === e.scope)?.[0] ?? String(e.scope));
  if (e.label !== null) parts.push('label', e.label);
  if (e.peer !== null) parts.push('peer', e.peer);
  parts.push(...e.flags);
  if (e.noTrack) parts.push('no_track');
  if (e.trackGroup !== null) parts.push('track_group', e.trackGroup);
  return parts.join(' ');
}

/** `ADDR[/LEN]` or `default`; an out-of-range length is reported (when diags given) and maxed. */
function prefixOf(text: string, stmt?: Statement, diags?: Diagnostics): string | undefined {
  if (text === 'default') return '0.0.0.0/0';
  const slash = text.indexOf('/');
  const a = slash >= 0 ? text.slice(0, slash) : text;
  const fam = ipFamily(a);
  if (fam === undefined) return undefined;
  const max = fam === 4 ? 32 : 128;
  if (slash < 0) return `${a}/${max}`;
  const p = text.slice(slash + 1);
  if (!/^\d+$/.test(p) || Number(p) > max) {
    if (stmt && diags) {
      diags.error(stmt, /^\d+$/.test(p) ? `number '${p}' outside range [0, ${max}]` : `invalid number '${p}'`);
      diags.error(stmt, `Invalid address prefix len ${p} for address ${text} - using ${max}`);
    }
    return `${a}/${max}`;
  }
  return `${a}/${p}`;
}

/**
 * A virtual/static route line (`[src IP] [to] PREFIX [via|gw IP] [or IP] [dev IF] [scope S] [table T]
 * [metric N] [blackhole] [no_track] ...`). Unrecognised words are kept in `words` and warned about.
 */
export function parseRouteLine(
  words: readonly string[],
  stmt: Statement,
  diags: Diagnostics,
  interfaceExists?: (name: string) => boolean,
): RouteEntry | undefined {
  const r: RouteEntry = {
    words: [...words],
    to: null,
    via: null,
    src: null,
    dev: null,
    table: null,
    metric: null,
    blackhole: false,
    noTrack: false,
    origin: { file: stmt.file, line: stmt.line },
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = (): string | undefined => {
      const v = words[i + 1];
      if (v === undefined) {
        diags.error(stmt, `No ${w} parameter specified for route`, w);
        return undefined;
      }
      i++;
      return v;
    };
    const done = routeWord(r, w, next, stmt, diags, interfaceExists);
    if (done === 'drop') return undefined;
    if (done === 'end') break;
  }
  if (r.to === null) {
    diags.error(stmt, `Route has no destination specified`, words[0]);
    return undefined;
  }
  if (r.dev === null && !r.noTrack) {
    diags.warn(stmt, `Warning - cannot track route ${r.to} with no interface specified, not tracking`, words[0]);
    r.noTrack = true;
  }
  return r;
}

/** Route types (ip-route's TYPE): accepted, only `blackhole` is kept. */
const ROUTE_TYPES = new Set([
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'nat',
]);
/** ip-route options vrrpd reads past (their value is skipped). */
const ROUTE_WITH_VALUE = new Set([
  'mtu',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'ssthresh',
  'realms',
  'rto_min',
  'initcwnd',
  'initrwnd',
  'features',
  'quickack',
  'congctl',
  'pref',
  'fastopen_no_cookie',
  'protocol',
  'tos',
  'dsfield',
  'expires',
  'onlink',
  'encap',
  'weight',
  'preference',
  'ttl-propagate',
]);

/**
 * One word of a route line (`next` takes its value, reporting a missing one). 'drop': the route is
 * dropped; 'end': the rest of the line is not read (nexthop specs).
 */
function routeWord(
  r: RouteEntry,
  w: string,
  next: () => string | undefined,
  stmt: Statement,
  diags: Diagnostics,
  interfaceExists: ((name: string) => boolean) | undefined,
): 'drop' | 'end' | undefined {
  if (w === 'src') {
    const v = next();
    if (v === undefined) return 'drop';
    r.src = v;
  } else if (w === 'to') {
    const v = next();
    if (v === undefined) return 'drop';
    r.to = prefixOf(v) ?? null;
    if (r.to === null) {
      diags.error(stmt, `Invalid route destination ${v}`, w);
      return 'drop';
    }
  } else if (w === 'via' || w === 'gw') {
    if (w === 'gw') diags.error(stmt, `"gw" for routes is deprecated. Please use "via"`, w);
    const v = next();
    if (v === undefined) return 'drop';
    r.via = v;
  } else if (w === 'or') {
    diags.error(stmt, `"or" for routes is deprecated. Please use "nexthop"`, w);
    if (next() === undefined) return 'drop';
  } else if (w === 'dev' || w === 'oif') {
    const v = next();
    if (v === undefined) return 'drop';
    if (interfaceExists && !interfaceExists(v)) diags.error(stmt, `WARNING - interface ${v} for VROUTE nexthop doesn't exist`, w);
    r.dev = v;
  } else if (w === 'table') {
    const v = next();
    if (v === undefined) return 'drop';
    r.table = v;
  } else if (w === 'metric' || w === 'priority' || w === 'preference') {
    const v = next();
    if (v === undefined) return 'drop';
    r.metric = /^\d+$/.test(v) ? Number(v) : null;
  } else if (w === 'scope') {
    if (next() === undefined) return 'drop';
  } else if (w === 'no_track') {
    r.noTrack = true;
  } else if (ROUTE_TYPES.has(w)) {
    if (w === 'blackhole') r.blackhole = true;
  } else if (w === 'nexthop') {
    // nexthop specs run to the end of the line
    return 'end';
  } else if (ROUTE_WITH_VALUE.has(w) || w === 'lock') {
    if (w !== 'lock' && next() === undefined) return 'drop';
  } else if (r.to === null && prefixOf(w, stmt, diags) !== undefined) {
    r.to = prefixOf(w, stmt, diags)!;
  } else {
    diags.error(stmt, `Unknown route option '${w}'`, w);
  }
  return undefined;
}

/** A virtual/static rule line (`from P to P table T preference N iif IF oif IF fwmark M no_track ...`). */
export function parseRuleLine(words: readonly string[], stmt: Statement, diags: Diagnostics): RuleEntry | undefined {
  const r: RuleEntry = {
    words: [...words],
    from: null,
    to: null,
    table: null,
    preference: null,
    noTrack: false,
    origin: { file: stmt.file, line: stmt.line },
  };
  const WITH_VALUE = new Set([
    'iif',
    'oif',
    'fwmark',
    'realms',
    'goto',
    'suppress_prefixlength',
    'suppress_ifgroup',
    'uidrange',
    'l3mdev',
    'protocol',
    'ipproto',
    'sport',
    'dport',
    'tos',
    'dsfield',
  ]);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = (): string | undefined => {
      const v = words[i + 1];
      if (v === undefined) {
        diags.error(stmt, `No ${w} parameter specified for rule`, w);
        return undefined;
      }
      i++;
      return v;
    };
    if (w === 'from' || w === 'to') {
      const v = next();
      if (v === undefined) return undefined;
      const p = v === 'all' ? '0.0.0.0/0' : prefixOf(v);
      if (p === undefined) {
        const addr = v.split('/')[0] ?? v;
        diags.error(stmt, `VRRP parsed invalid IP ${v}. skipping IP...`, w);
        diags.error(stmt, `Invalid rule ${w} address ${v}`, w);
        void addr;
        return undefined;
      }
      if (w === 'from') r.from = p;
      else r.to = p;
    } else if (w === 'table' || w === 'lookup') {
      const v = next();
      if (v === undefined) return undefined;
      r.table = v;
    } else if (w === 'preference' || w === 'pref' || w === 'priority') {
      const v = next();
      if (v === undefined) return undefined;
      r.preference = /^\d+$/.test(v) ? Number(v) : null;
    } else if (w === 'no_track') {
      r.noTrack = true;
    } else if (w === 'not' || w === 'blackhole' || w === 'prohibit' || w === 'unreachable' || w === 'nop') {
      // accepted as written
    } else if (WITH_VALUE.has(w)) {
      if (next() === undefined) return undefined;
    } else {
      diags.error(stmt, `Unknown rule option '${w}'`, w);
    }
  }
  return r;
}
