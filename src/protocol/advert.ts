/**
 * VRRPv2 advertisement codec (RFC 3768 5) and keepalived 2.2.7's receive checks.
 *
 * Encoding produces exactly the bytes keepalived sends (golden captures in test/fixtures/adverts).
 * Decoding takes the whole IPv4 packet as a raw socket delivers it and applies keepalived's
 * `vrrp_check_packet()` checks in keepalived's order, so the first failing check (and therefore the
 * drop counter and log line) is the one keepalived would report. Bad input is returned as a value,
 * never thrown. Pure: no sockets, fs, timers or clocks.
 */
import type { Advert, AuthType, RxEnvelope } from './types.js';
import { checksumIsValid, internetChecksum } from './checksum.js';
import {
  ADVER_INT_MAX_SEC,
  ADVER_INT_MIN_SEC,
  AH_HEADER_LEN,
  AUTH_AH,
  AUTH_NONE,
  AUTH_PASS,
  IPPROTO_AH,
  IPPROTO_VRRP,
  IPV4_HEADER_LEN,
  PRIORITY_MAX,
  VRID_MAX,
  VRID_MIN,
  VRRP_AUTH_DATA_LEN,
  VRRP_HEADER_LEN,
  VRRP_IP_TOS,
  VRRP_MAX_VIPS,
  VRRP_TTL,
  VRRP_TYPE_ADVERTISEMENT,
  VRRP_VERSION,
  VRRP_VIP_LEN,
} from './constants.js';

// ---------------------------------------------------------------------------------------------
// IPv4 address helpers

/** Parse a strict dotted quad ("10.0.0.1"; no leading zeros, no shorthand) to 4 bytes, else undefined. */
export function parseIpv4(ip: string): Uint8Array | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

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
    if (canonicalCache.size >= 4096) canonicalCache.clear();
    canonicalCache.set(ip, c);
  }
  return c;
}

/** Format 4 bytes at `offset` as a dotted quad. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** True for 224.0.0.0/4 (IN_MULTICAST). */
export function isIpv4Multicast(ip: string): boolean {
  const b = parseIpv4(ip);
  return b !== undefined && (b[0] ?? 0) >= 224 && (b[0] ?? 0) <= 239;
}

function ipv4OrThrow(ip: string, what: string): Uint8Array {
  const b = parseIpv4(ip);
  if (b === undefined) throw new RangeError(`${what}: not an IPv4 address: ${JSON.stringify(ip)}`);
  return b;
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${v}`);
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** What the encoder needs from an instance. Values come from a validated config: bad ones are bugs and throw. */
export interface AdvertFields {
  /** 1..255 */
  vrid: number;
  /** 0..255: the effective priority, or 0 when leaving MASTER. */
  priority: number;
  authType: AuthType;
  /** Raw configured password, truncated/NUL-padded to 8 bytes by the encoder (PASS only). */
  authPass?: string;
  /** RFC 3768 5.3.7, whole seconds 1..255. */
  adverIntSec: number;
  /** VIPs in config order (eVIPs are not advertised). */
  vips: readonly string[];
}

/**
 * The 8 Authentication Data bytes of an advert: for PASS the password's UTF-8 bytes truncated to 8
 * and NUL-padded (keepalived: "Truncating auth_pass to 8 characters"); zeros otherwise (RFC 3768 5.3.10:
 * "[for no authentication] ... MUST be set to zero on transmission").
 */
export function passwordToWire(authPass: string | undefined, authType: AuthType = AUTH_PASS): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_DATA_LEN);
  if (authType === AUTH_PASS && authPass !== undefined) out.set(Buffer.from(authPass, 'utf8').subarray(0, VRRP_AUTH_DATA_LEN));
  return out;
}

/** Length in bytes of a VRRPv2 message carrying `vipCount` VIPs: 8 + 4n + 8. */
export function advertLength(vipCount: number): number {
  return VRRP_HEADER_LEN + VRRP_VIP_LEN * vipCount + VRRP_AUTH_DATA_LEN;
}

/**
 * Encode the VRRPv2 message (no IP header): 8-byte header, VIPs in the given order, 8 auth bytes,
 * checksum over all of it (RFC 3768 5.3.8; keepalived includes the auth bytes, no pseudo-header).
 * Throws RangeError on out-of-range fields (a bug: the config layer validates them).
 */
export function encodeAdvert(f: AdvertFields): Buffer {
  checkInt(f.vrid, VRID_MIN, VRID_MAX, 'vrid');
  checkInt(f.priority, 0, PRIORITY_MAX, 'priority');
  checkInt(f.adverIntSec, ADVER_INT_MIN_SEC, ADVER_INT_MAX_SEC, 'adverIntSec');
  if (f.authType !== AUTH_NONE && f.authType !== AUTH_PASS && f.authType !== AUTH_AH) throw new RangeError(`authType must be 0, 1 or 2, got ${String(f.authType)}`);
  if (f.vips.length > VRRP_MAX_VIPS) throw new RangeError(`at most ${VRRP_MAX_VIPS} VIPs fit in an advert, got ${f.vips.length}`);

  const buf = Buffer.alloc(advertLength(f.vips.length));
  buf[0] = (VRRP_VERSION << 4) | VRRP_TYPE_ADVERTISEMENT;
  buf[1] = f.vrid;
  buf[2] = f.priority;
  buf[3] = f.vips.length;
  buf[4] = f.authType;
  buf[5] = f.adverIntSec;
  // bytes 6-7: checksum, zero while summing
  f.vips.forEach((vip, i) => buf.set(ipv4OrThrow(vip, `vips[${i}]`), VRRP_HEADER_LEN + VRRP_VIP_LEN * i));
  buf.set(passwordToWire(f.authPass, f.authType), VRRP_HEADER_LEN + VRRP_VIP_LEN * f.vips.length);
  buf.writeUInt16BE(internetChecksum(buf), 6);
  return buf;
}

/** Options for {@link buildIpv4Packet}. */
export interface Ipv4PacketOptions {
  srcIp: string;
  dstIp: string;
  /** 0..255; 255 for multicast adverts (RFC 3768 5.2.3), `unicast_ttl` for unicast. */
  ttl: number;
  /** Default 0xc0, as keepalived. */
  tos?: number;
  /** 0..65535; keepalived keeps a per-instance counter starting at 1 and skipping 0. */
  id: number;
  /** Default 112 (VRRP). */
  protocol?: number;
  payload: Uint8Array;
}

/**
 * A complete IPv4 packet as keepalived writes it on its IP_HDRINCL socket: version 4, IHL 5, no
 * options, flags/fragment offset 0 (DF clear), header checksum filled in (the kernel would fill the
 * same value), then the payload. Throws RangeError on out-of-range fields (a bug).
 */
export function buildIpv4Packet(o: Ipv4PacketOptions): Buffer {
  const tos = o.tos ?? VRRP_IP_TOS;
  const protocol = o.protocol ?? IPPROTO_VRRP;
  checkInt(o.ttl, 0, 255, 'ttl');
  checkInt(tos, 0, 255, 'tos');
  checkInt(o.id, 0, 0xffff, 'id');
  checkInt(protocol, 0, 255, 'protocol');
  const total = IPV4_HEADER_LEN + o.payload.length;
  if (total > 0xffff) throw new RangeError(`IPv4 packet too long: ${total} bytes`);

  const buf = Buffer.alloc(total);
  buf[0] = 0x45;
  buf[1] = tos;
  buf.writeUInt16BE(total, 2);
  buf.writeUInt16BE(o.id, 4);
  // bytes 6-7: flags + fragment offset = 0
  buf[8] = o.ttl;
  buf[9] = protocol;
  buf.set(ipv4OrThrow(o.srcIp, 'srcIp'), 12);
  buf.set(ipv4OrThrow(o.dstIp, 'dstIp'), 16);
  buf.writeUInt16BE(internetChecksum(buf, 0, IPV4_HEADER_LEN), 10);
  buf.set(o.payload, IPV4_HEADER_LEN);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Per-peer receive limits from `unicast_peer { IP min_ttl N max_ttl M }` (defaults 0 and 255). */
export interface UnicastPeerCheck {
  ip: string;
  minTtl: number;
  maxTtl: number;
}

/** What the receiving instance expects; the caller builds it from config and state. */
export interface AdvertExpectations {
  /** Configured advert_int, whole seconds. */
  adverIntSec: number;
  authType: AuthType;
  /** Raw configured password (compared as its 8 wire bytes). */
  authPass?: string;
  /** Configured VIPs (not eVIPs). */
  vips: readonly string[];
  /**
   * keepalived's "address checking" (KEEPALIVED.md 3.3 steps 8 and 13): VIP count, VIP set and,
   * for unicast instances, source/TTL checks. MASTER: always; BACKUP: false only with
   * skip_check_adv_addr and the same source as the last accepted master.
   */
  checkVips: boolean;
  /** The instance has unicast peers: the destination must be unicast, and there is no TTL-255 rule. */
  unicast: boolean;
  unicastPeers?: readonly UnicastPeerCheck[];
  /** `check_unicast_src` (global, per instance, or implied by min_ttl/max_ttl). */
  checkUnicastSrc?: boolean;
}

/**
 * Why a received packet was ignored, one literal per check, in keepalived's order. The first three
 * happen before keepalived looks at the VRID (a raw socket never delivers the first one, but the
 * codec does not trust its caller); the rest are `vrrp_check_packet()` steps 1..13.
 */
export type DropReason =
  | 'ip-header' // not a well-formed IPv4 header (length < 20, version != 4, IHL < 5 or past the end)
  | 'not-vrrp' // IP protocol neither 112 nor 51, or an AH header protecting another protocol
  | 'truncated' // shorter than IP header (+ AH header) + the 8-byte VRRP header
  | 'ah-mismatch' // step 1: AH header present iff auth_type AH
  | 'too-short' // step 2: length below IP header (+AH) + 8 + 4*count (+8 auth for v2)
  | 'too-long' // step 2: length above it
  | 'ttl' // step 3: multicast instance and TTL != 255
  | 'version' // step 4: version != 2
  | 'auth-type-invalid' // step 5: auth type not 0, 1 or 2
  | 'auth-type-mismatch' // step 5: auth type differs from the configured one
  | 'auth-password' // step 5: PASS password differs
  | 'ah-unsupported' // step 5: AH (HMAC-MD5-96) verification is not implemented
  | 'interval-mismatch' // step 6: Adver Int differs from advert_int
  | 'type' // step 7: type != 1 (ADVERTISEMENT)
  | 'vip-count' // step 8: Count IP Addrs differs from the number of configured VIPs
  | 'ip-length' // step 9: IPv4 total length differs from the received length
  | 'checksum' // step 10: VRRP checksum does not verify
  | 'expected-multicast' // step 11: multicast instance, unicast destination
  | 'expected-unicast' // step 11: unicast instance, multicast destination
  | 'vip-missing' // step 13: a configured VIP is missing from the advert
  | 'not-a-peer' // step 13: unicast source is not a configured unicast_peer
  | 'ttl-range'; // step 13: TTL outside the peer's [min_ttl, max_ttl]

/** Every drop reason in check order, so status can list all counters (zeros included). */
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  'ip-header',
  'not-vrrp',
  'truncated',
  'ah-mismatch',
  'too-short',
  'too-long',
  'ttl',
  'version',
  'auth-type-invalid',
  'auth-type-mismatch',
  'auth-password',
  'ah-unsupported',
  'interval-mismatch',
  'type',
  'vip-count',
  'ip-length',
  'checksum',
  'expected-multicast',
  'expected-unicast',
  'vip-missing',
  'not-a-peer',
  'ttl-range',
] as const);

/**
 * Drops that keepalived reports after it has counted the packet as a received advertisement
 * (`advert_rcvd`, step 12): the packet was a well-formed advert for this VRID, only its content
 * (VIP set, unicast source/TTL) was rejected.
 */
export const DROPS_COUNTED_AS_RECEIVED: ReadonlySet<DropReason> = new Set<DropReason>(['vip-missing', 'not-a-peer', 'ttl-range']);

/**
 * Drops that happen before the VRID can be read ({@link peekVrid} returns undefined): the daemon
 * can only count them per interface, not per instance.
 */
export const DROPS_BEFORE_VRID: ReadonlySet<DropReason> = new Set<DropReason>(['ip-header', 'not-vrrp', 'truncated']);

export type DecodeResult =
  | { ok: true; advert: Advert; envelope: RxEnvelope }
  | { ok: false; reason: DropReason; detail: string };

function drop(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

interface Located {
  ihl: number;
  protocol: number;
  /** Offset of the VRRP header. */
  vrrp: number;
}

/** Locate the VRRP header, or say why not. Mirrors keepalived's `vrrp_get_header()` (plus sanity). */
function locate(p: Uint8Array): Located | DecodeResult {
  if (p.length < IPV4_HEADER_LEN) return drop('ip-header', `IPv4 VRRP packet too short - ${p.length} bytes`);
  const b0 = p[0] ?? 0;
  const ihl = (b0 & 0x0f) * 4;
  if (b0 >> 4 !== 4) return drop('ip-header', `not an IPv4 packet (IP version ${b0 >> 4})`);
  if (ihl < IPV4_HEADER_LEN || ihl > p.length) return drop('ip-header', `invalid IPv4 header length ${ihl} in a ${p.length} byte packet`);
  const protocol = p[9] ?? 0;
  if (protocol === IPPROTO_VRRP) {
    if (p.length < ihl + VRRP_HEADER_LEN) return drop('truncated', `IPv4 VRRP packet too short - ${p.length} bytes`);
    return { ihl, protocol, vrrp: ihl };
  }
  if (protocol === IPPROTO_AH) {
    if (p.length < ihl + AH_HEADER_LEN + VRRP_HEADER_LEN) return drop('truncated', `IPv4 VRRP packet with AH too short - ${p.length} bytes`);
    return { ihl, protocol, vrrp: ihl + AH_HEADER_LEN };
  }
  return drop('not-vrrp', `IP protocol ${protocol} is neither VRRP (112) nor AH (51)`);
}

/**
 * The VRID of a received packet, for the daemon's demux before the instance checks; undefined when
 * keepalived could not read a VRRP header (see {@link DROPS_BEFORE_VRID}). Never throws.
 */
export function peekVrid(ipPacket: Uint8Array): number | undefined {
  try {
    const loc = locate(ipPacket);
    return 'vrrp' in loc ? ipPacket[loc.vrrp + 1] : undefined;
  } catch {
    return undefined;
  }
}

/** Compare two byte ranges in time independent of where they differ (keepalived `memcmp_constant_time`). */
export function constantTimeEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= (a[aOff + i] ?? 0x100) ^ (b[bOff + i] ?? 0x200);
  return diff === 0;
}

/**
 * Decode a received IPv4 packet (as a raw IPPROTO_VRRP/IPPROTO_AH socket delivers it: IP header
 * included) and apply keepalived 2.2.7's receive checks in its order (KEEPALIVED.md 3.3). `detail`
 * is keepalived's log text without the "(INSTANCE) " prefix. Never throws.
 */
export function decodeAdvert(ipPacket: Uint8Array, exp: AdvertExpectations): DecodeResult {
  try {
    return decode(ipPacket, exp);
  } catch (e) {
    // Unreachable by construction (every read is bounds-checked); a value keeps the daemon alive.
    return drop('ip-header', `undecodable packet: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decode(p: Uint8Array, exp: AdvertExpectations): DecodeResult {
  const loc = locate(p);
  if (!('vrrp' in loc)) return loc;
  const { ihl, protocol, vrrp: v } = loc;
  const at = (i: number): number => p[i] ?? 0;
  const u16 = (i: number): number => (at(i) << 8) | at(i + 1);

  const version = at(v) >> 4;
  const type = at(v) & 0x0f;
  const vrid = at(v + 1);
  const priority = at(v + 2);
  const naddr = at(v + 3);
  const authType = at(v + 4);
  const adverInt = at(v + 5);
  const ttl = at(8);
  const totLen = u16(2);
  const srcIp = formatIpv4(p, 12);
  const dstIp = formatIpv4(p, 16);

  // 1. RFC 2402 AH header iff auth_type AH
  if ((protocol === IPPROTO_AH) !== (exp.authType === AUTH_AH)) {
    return drop('ah-mismatch', protocol === IPPROTO_AH ? 'Received AH header but auth type not AH' : 'No AH header but auth type is AH');
  }

  // 2. RFC 3768 7.1 "MUST verify that the received packet contains the complete VRRP packet".
  // keepalived sizes it from the received header (version and count), exact length required.
  const expectedLen =
    v + VRRP_HEADER_LEN + (version === VRRP_VERSION ? VRRP_AUTH_DATA_LEN : 0) + VRRP_VIP_LEN * naddr;
  if (p.length !== expectedLen) {
    const longer = p.length > expectedLen;
    return drop(longer ? 'too-long' : 'too-short', `vrrp packet too ${longer ? 'long' : 'short'}, length ${p.length} and expect ${expectedLen}`);
  }

  // 3. RFC 3768 7.1 "MUST verify that the IP TTL is 255" (keepalived: not for unicast instances)
  if (!exp.unicast && ttl !== VRRP_TTL) return drop('ttl', `invalid TTL/HL. Received ${ttl} and expect ${VRRP_TTL}`);

  // 4. RFC 3768 7.1 "MUST verify the VRRP version"
  if (version !== VRRP_VERSION) return drop('version', `wrong version. Received ${version} and expect ${VRRP_VERSION}`);

  // 5. RFC 3768 7.1 "MUST perform authentication specified by Auth Type"
  if (authType !== AUTH_NONE && authType !== AUTH_PASS && authType !== AUTH_AH) return drop('auth-type-invalid', `Invalid auth type: ${authType}`);
  if (authType !== exp.authType) return drop('auth-type-mismatch', `received a ${authType} auth, expecting ${exp.authType}!`);
  if (exp.authType === AUTH_PASS) {
    // keepalived reads the password at (IP total length - 8), before checking total length (step 9)
    const pwOff = totLen - VRRP_AUTH_DATA_LEN;
    const want = passwordToWire(exp.authPass, AUTH_PASS);
    const inRange = pwOff >= 0 && pwOff + VRRP_AUTH_DATA_LEN <= p.length;
    if (!constantTimeEqual(p, inRange ? pwOff : 0, want, 0, VRRP_AUTH_DATA_LEN) || !inRange) return drop('auth-password', 'received an invalid passwd!');
  } else if (exp.authType === AUTH_AH) {
    const next = at(ihl);
    if (next !== IPPROTO_VRRP) return drop('not-vrrp', `AH header for IP protocol ${next}, not VRRP`);
    return drop('ah-unsupported', 'IPsec AH (HMAC-MD5-96) authentication is not supported');
  }

  // 6. RFC 3768 7.1 "MUST verify that the Adver Interval in the packet is the same as the locally
  // configured for this virtual router" (keepalived: DROP, to keep two masters apart)
  if (adverInt !== exp.adverIntSec) {
    return drop('interval-mismatch', `advertisement interval mismatch mine=${exp.adverIntSec} sec rcv'd=${adverInt} sec`);
  }

  // 7. type
  if (type !== VRRP_TYPE_ADVERTISEMENT) return drop('type', `Invalid packet type. ${type} and expect ${VRRP_TYPE_ADVERTISEMENT}`);

  // 8. address checking: count
  if (exp.checkVips && naddr !== exp.vips.length) {
    return drop('vip-count', `received an unexpected ip number count ${naddr}, expected ${exp.vips.length}!`);
  }

  // 9. IPv4 total length
  if (totLen !== p.length) return drop('ip-length', `ip_tot_len mismatch against received length. ${totLen} and received ${p.length}`);

  // 10. RFC 3768 7.1 "MUST verify the VRRP checksum" (v2: over the message incl. auth data)
  if (!checksumIsValid(p, v, v + advertLength(naddr))) return drop('checksum', 'Invalid VRRPv2 checksum');

  // 11. destination kind must match the instance kind
  const multicastDst = at(16) >= 224 && at(16) <= 239;
  if (multicastDst === exp.unicast) {
    return exp.unicast
      ? drop('expected-unicast', 'Expected unicast packet but received multicast packet')
      : drop('expected-multicast', 'Expected multicast packet but received unicast packet');
  }

  // 12. keepalived counts the advert as received from here on (DROPS_COUNTED_AS_RECEIVED).
  const vipsStart = v + VRRP_HEADER_LEN;
  const vips: string[] = [];
  for (let i = 0; i < naddr; i++) vips.push(formatIpv4(p, vipsStart + VRRP_VIP_LEN * i));

  // 13. RFC 3768 7.1 "MAY verify that the IP address(es) associated with the VRID are valid";
  // keepalived: every configured VIP must be in the advert, in any order.
  if (exp.checkVips) {
    // A linear search for the usual handful of VIPs (no Set per packet); a Set past 16.
    const present: { has(ip: string): boolean } = vips.length > 16 ? new Set(vips) : { has: (ip) => vips.includes(ip) };
    for (const vip of exp.vips) {
      const canonical = canonicalIpv4(vip);
      if (canonical === null || !present.has(canonical)) {
        return drop('vip-missing', `ip address associated with VRID ${vrid} not present in MASTER advert: ${vip}`);
      }
    }
    // keepalived runs the unicast source checks only together with address checking
    if (exp.unicast && exp.checkUnicastSrc === true) {
      const peer = (exp.unicastPeers ?? []).find((pc) => canonicalIpv4(pc.ip) === srcIp);
      if (peer === undefined) return drop('not-a-peer', `unicast source address ${srcIp} not a unicast peer`);
      if (ttl < peer.minTtl || ttl > peer.maxTtl) return drop('ttl-range', `TTL/HL ${ttl} not in range ${peer.minTtl} - ${peer.maxTtl}`);
    }
  }

  const advert: Advert = {
    version,
    type,
    vrid,
    priority,
    authType: authType as AuthType, // checked in step 5
    adverIntSec: adverInt,
    vips,
    authData: new Uint8Array(p.subarray(v + VRRP_HEADER_LEN + VRRP_VIP_LEN * naddr, v + advertLength(naddr))),
  };
  return { ok: true, advert, envelope: { srcIp, dstIp, ttl } };
}
