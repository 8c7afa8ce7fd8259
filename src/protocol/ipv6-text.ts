/**
 * IPv6 addresses as text and bytes (RFC 4291 2.2 to read, RFC 5952 to write, with an IPv4-mapped
 * tail written as glibc's inet_ntop does), for the neighbour advertisement builder and the io
 * layer's IPv6 socket and netlink messages. Pure: no I/O.
 *
 * What is read is what inet_pton(AF_INET6) accepts: eight groups of 1 to 4 hex digits, at most one
 * `::`, an optional dotted-quad tail. A zone (`fe80::1%eth0`) is not part of an address and is refused.
 */
import { parseIpv4 } from './ipv4-address.js';

/** Bytes in an IPv6 address. */
export const IPV6_ADDRESS_LEN = 16;

const GROUP = /^[0-9a-f]{1,4}$/i;

function groups(part: string): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  for (const g of part.split(':')) {
    if (!GROUP.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

/** Parse an IPv6 address to its 16 bytes (a Buffer, so io can hand it to sockets as is); else undefined. */
export function parseIpv6(text: string): Buffer | undefined {
  let s = text;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  if (s.includes('.', lastColon)) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    // keep the colon so "::1.2.3.4" leaves "::" and "a::1.2.3.4" leaves "a::"
    s = s.slice(0, lastColon + 1);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const head = groups(halves[0]!);
    const rest = groups(halves[1]!);
    if (head === undefined || rest === undefined) return undefined;
    const missing = 8 - head.length - rest.length - tail.length;
    // "::" stands for at least one zero group
    if (missing < 1) return undefined;
    words = [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
  } else {
    const all = groups(s);
    if (all === undefined) return undefined;
    words = [...all, ...tail];
  }
  if (words.length !== 8) return undefined;
  const out = Buffer.alloc(IPV6_ADDRESS_LEN);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** The 16 bytes of a valid address; RangeError naming `what` otherwise (for encoders: callers pass validated values). */
export function ipv6OrThrow(text: string, what: string): Buffer {
  const b = parseIpv6(text);
  if (b === undefined) throw new RangeError(`${what}: not an IPv6 address: ${JSON.stringify(text)}`);
  return b;
}

/**
 * 16 bytes at `offset` as text: lowercase, the longest run of two or more zero groups (the first
 * of equal runs) written `::`, and `::ffff:a.b.c.d` / `::a.b.c.d` tails as glibc's inet_ntop
 * writes them (so the text matches `ip addr` and keepalived's logs). Undefined when fewer than 16
 * bytes are there.
 */
export function formatIpv6(bytes: Uint8Array | undefined, offset = 0): string | undefined {
  if (bytes === undefined || bytes.length < offset + IPV6_ADDRESS_LEN) return undefined;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
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
      parts.push(`${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`);
      break;
    }
    parts.push(w[i]!.toString(16));
  }
  return parts.join(':');
}

/** True for fe80::/10 (link-local unicast). */
export function isIpv6LinkLocal(b: Uint8Array): boolean {
  return b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}

/** True for ff00::/8 (multicast). */
export function isIpv6Multicast(b: Uint8Array): boolean {
  return b[0] === 0xff;
}
