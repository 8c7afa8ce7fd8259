/**
 * IPv4 address helpers: the one place that reads, writes and compares dotted quads. The codec, the
 * state machine, the config reader and the io adapters all use these (they had four copies, with
 * three different ideas of what a valid address is). Pure: no I/O.
 *
 * "Strict" means what inet_pton(3) and Node's `net.isIPv4()` accept: four decimal octets 0..255, no
 * leading zeros, no shorthand. Where a caller used to accept leading zeros (read as decimal), it
 * says so with `{ leadingZeros: true }`, so that no caller changed what it accepts.
 */

/** How {@link parseIpv4} reads an octet. */
export interface Ipv4ParseOptions {
  /**
   * Accept leading zeros and read them as decimal ("010" is 10). Default false (strict). Only for
   * callers whose input is not validated first and that have always read it this way.
   */
  readonly leadingZeros?: boolean;
}

const STRICT_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const LOOSE_OCTET = /^\d{1,3}$/;

/** Parse a dotted quad to its 4 bytes (a Buffer, so io can hand it to sockets as is); else undefined. */
export function parseIpv4(ip: string, opts: Ipv4ParseOptions = {}): Buffer | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const octet = opts.leadingZeros === true ? LOOSE_OCTET : STRICT_OCTET;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!octet.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** A strict dotted quad's bytes; RangeError naming `what` otherwise (for encoders: callers pass validated values). */
export function ipv4OrThrow(ip: string, what: string): Buffer {
  const b = parseIpv4(ip);
  if (b === undefined) throw new RangeError(`${what}: not an IPv4 address: ${JSON.stringify(ip)}`);
  return b;
}

/** Format 4 bytes at `offset` as a dotted quad (missing bytes print as 0: callers check the length). */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** A 4-byte field (e.g. a netlink attribute) as a dotted quad; undefined when absent or not 4 bytes long. */
export function ipv4FromBytes(b: Uint8Array | undefined): string | undefined {
  return b !== undefined && b.length === 4 ? formatIpv4(b) : undefined;
}

/** Upper bound of the {@link canonicalIpv4} memo: past it the memo starts again. */
const CANONICAL_CACHE_MAX = 4096;
const canonicalCache = new Map<string, string | null>();

/**
 * `ip` as formatIpv4 would print it, or null when it is not a strict dotted quad. Memoized (a pure
 * function of its argument, bounded): the receive path compares every advert's VIPs and source
 * with the configured ones, the same few strings each time.
 */
export function canonicalIpv4(ip: string): string | null {
  let c = canonicalCache.get(ip);
  if (c === undefined) {
    const b = parseIpv4(ip);
    c = b === undefined ? null : formatIpv4(b);
    if (canonicalCache.size >= CANONICAL_CACHE_MAX) canonicalCache.clear();
    canonicalCache.set(ip, c);
  }
  return c;
}

/** True for a first octet in 224..239 (IN_MULTICAST), read from bytes (e.g. a received header). */
export function isIpv4MulticastByte(first: number): boolean {
  return first >= 224 && first <= 239;
}

/** True for a strict dotted quad in 224.0.0.0/4 (IN_MULTICAST). */
export function isIpv4Multicast(ip: string): boolean {
  const b = parseIpv4(ip);
  return b !== undefined && isIpv4MulticastByte(b[0] ?? 0);
}

/**
 * Dotted quad -> unsigned 32-bit number. Leading zeros are read as decimal (as the state machine's
 * comparison always has). Throws RangeError on anything else: addresses here come from the config
 * (validated) or the codec (formatted).
 */
export function ipv4ToNumber(ip: string): number {
  const b = parseIpv4(ip, { leadingZeros: true });
  if (b === undefined) throw new RangeError(`not an IPv4 address: ${ip}`);
  return b.readUInt32BE(0);
}

/** Unsigned 32-bit number -> dotted quad (only the low 32 bits count). */
export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** Numeric comparison of two dotted-quad IPv4 addresses: <0, 0, >0 (keepalived `vrrp_saddr_cmp`). Throws like ipv4ToNumber. */
export function compareIpv4(a: string, b: string): number {
  return ipv4ToNumber(a) - ipv4ToNumber(b);
}
