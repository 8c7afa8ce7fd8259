/**
 * IPv6 address helpers (RFC 4291 2.2 text forms, inet_ntop output): the one place that reads and
 * writes IPv6 addresses, for the VRRPv3 codec, the neighbour advertisement builder and io's IPv6
 * socket and netlink messages. Pure: no I/O, no `node:net`.
 *
 * Parsing accepts what inet_pton(3) accepts: eight groups of 1..4 hex digits, one `::`, and an
 * embedded dotted quad in the last 32 bits. No zone (`%eth0`) and no prefix length: callers strip them.
 */
import { formatIpv4, parseIpv4 } from './ipv4-address.js';

/** Bytes in an IPv6 address. */
export const IPV6_ADDRESS_LEN = 16;

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The 16-bit groups of one side of `::` (an embedded dotted quad counts as two); undefined when malformed. */
function groups(side: string, last: boolean): number[] | undefined {
  if (side === '') return [];
  const parts = side.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (last && i === parts.length - 1 && p.includes('.')) {
      const q = parseIpv4(p);
      if (q === undefined) return undefined;
      out.push(q.readUInt16BE(0), q.readUInt16BE(2));
    } else if (HEX_GROUP.test(p)) out.push(parseInt(p, 16));
    else return undefined;
  }
  return out;
}

/** Parse an IPv6 address to its 16 bytes; undefined when it is not one. */
export function parseIpv6(ip: string): Buffer | undefined {
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const head = groups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  // "::" stands for at least one zero group; without it there must be exactly eight
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = Buffer.alloc(IPV6_ADDRESS_LEN);
  all.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}

/** An IPv6 address's bytes; RangeError naming `what` otherwise (for encoders: callers pass validated values). */
export function ipv6OrThrow(ip: string, what: string): Buffer {
  const b = parseIpv6(ip);
  if (b === undefined) throw new RangeError(`${what}: not an IPv6 address: ${JSON.stringify(ip)}`);
  return b;
}

/**
 * Format 16 bytes at `offset` as inet_ntop(3) (glibc) prints them, which is what `ip addr` and
 * keepalived's logs show: lowercase, no leading zeros, the longest run of two or more zero groups
 * (the first one on a tie) as `::`, and a dotted-quad tail for `::ffff:a.b.c.d` and `::a.b.c.d`.
 * Missing bytes print as 0 (callers check the length, or use {@link formatIpv6At}).
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  const v4Tail = best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff));
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === best.base) {
      parts.push(i === 0 ? ':' : '');
      i += best.len - 1;
      if (i === 7) parts.push('');
      continue;
    }
    if (v4Tail && i === 6) {
      parts.push(formatIpv4(bytes, offset + 12));
      break;
    }
    parts.push((w[i] ?? 0).toString(16));
  }
  return parts.join(':');
}

/** {@link formatIpv6}, or undefined when fewer than 16 bytes are there (netlink attributes, ancillary data). */
export function formatIpv6At(bytes: Uint8Array | undefined, offset = 0): string | undefined {
  return bytes === undefined || bytes.length < offset + IPV6_ADDRESS_LEN ? undefined : formatIpv6(bytes, offset);
}

/** Upper bound of the {@link canonicalIpv6} memo: past it the memo starts again. */
const CANONICAL_CACHE_MAX = 4096;
const canonicalCache = new Map<string, string | null>();

/**
 * `ip` as formatIpv6 would print it, or null when it is not an IPv6 address. Memoized (pure and
 * bounded, as canonicalIpv4): the receive path compares every advert's VIPs and source with the
 * configured ones, the same few strings each time.
 */
export function canonicalIpv6(ip: string): string | null {
  let c = canonicalCache.get(ip);
  if (c === undefined) {
    const b = parseIpv6(ip);
    c = b === undefined ? null : formatIpv6(b);
    if (canonicalCache.size >= CANONICAL_CACHE_MAX) canonicalCache.clear();
    canonicalCache.set(ip, c);
  }
  return c;
}

/** True for a destination in ff00::/8 (IN6_IS_ADDR_MULTICAST), read from its first byte. */
export function isIpv6MulticastByte(first: number): boolean {
  return first === 0xff;
}

/** True for an address in fe80::/10 (link-local unicast), from its bytes. */
export function isIpv6LinkLocalBytes(b: Uint8Array): boolean {
  return b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
}

/** True for an IPv6 address in ff00::/8. */
export function isIpv6Multicast(ip: string): boolean {
  const b = parseIpv6(ip);
  return b !== undefined && isIpv6MulticastByte(b[0] ?? 0);
}

/**
 * Numeric comparison of two IPv6 addresses as 128-bit big-endian numbers: <0, 0, >0 (keepalived
 * `inet_inaddrcmp`, used by `vrrp_saddr_cmp` for the equal-priority tie-break). Throws RangeError on
 * anything else: addresses here come from the config (validated) or the codec (formatted).
 */
export function compareIpv6(a: string, b: string): number {
  return Buffer.compare(ipv6OrThrow(a, 'a'), ipv6OrThrow(b, 'b'));
}
