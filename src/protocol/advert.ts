/**
 * The VRRPv2 advertisement codec (RFC 3768 5): encoding, and decoding with the syntax checks only
 * (what the packet says about itself: lengths, version, auth type, type, checksum). What the
 * receiving instance expects (auth, interval, VIPs, unicast peers) is checked in advert-checks.ts,
 * which interleaves these syntax checks with its own in keepalived's order, as FRR keeps
 * `vrrp_pkt_parse_datagram()` apart from `vrrp_recv_advertisement()`.
 *
 * Encoding produces exactly the bytes keepalived sends (golden captures in test/fixtures/adverts).
 * Decoding takes the whole IPv4 packet as a raw socket delivers it. Bad input is returned as a
 * value, never thrown. Pure: no sockets, fs, timers or clocks.
 */
import { checkInt } from '../util/check-int.js';
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
  PRIORITY_MAX,
  VRID_MAX,
  VRID_MIN,
  VRRP_AUTH_DATA_LEN,
  VRRP_HEADER_LEN,
  VRRP_MAX_VIPS,
  VRRP_TYPE_ADVERTISEMENT,
  VRRP_VERSION,
  VRRP_VIP_LEN,
} from './constants.js';
import { drop, type DecodeResult, type Drop } from './drop-reasons.js';
import { formatIpv4, ipv4OrThrow } from './ipv4-address.js';
import { ipv4Destination, ipv4Source, ipv4TotalLength, ipv4Ttl, readIpv4Header } from './ipv4-header.js';

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
 * Encode the VRRPv2 message (no IP header; see ipv4-header.ts): 8-byte header, VIPs in the given
 * order, 8 auth bytes, checksum over all of it (RFC 3768 5.3.8; keepalived includes the auth bytes,
 * no pseudo-header). Throws RangeError on out-of-range fields (a bug: the config layer validates them).
 */
export function encodeAdvert(f: AdvertFields): Buffer {
  checkInt(f.vrid, VRID_MIN, VRID_MAX, 'vrid');
  checkInt(f.priority, 0, PRIORITY_MAX, 'priority');
  checkInt(f.adverIntSec, ADVER_INT_MIN_SEC, ADVER_INT_MAX_SEC, 'adverIntSec');
  if (f.authType !== AUTH_NONE && f.authType !== AUTH_PASS && f.authType !== AUTH_AH)
    throw new RangeError(`authType must be 0, 1 or 2, got ${String(f.authType)}`);
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

// ---------------------------------------------------------------------------------------------
// Reading a received packet

/** Where the VRRP header is in a received packet. */
interface Located {
  ihl: number;
  protocol: number;
  /** Offset of the VRRP header. */
  vrrp: number;
}

/** Locate the VRRP header, or say why not. Mirrors keepalived's `vrrp_get_header()` (plus sanity). */
function locate(p: Uint8Array): Located | Drop {
  const h = readIpv4Header(p);
  if (!h.ok) return drop('ip-header', h.detail);
  const { ihl, protocol } = h;
  if (protocol === IPPROTO_VRRP) {
    if (p.length < ihl + VRRP_HEADER_LEN) return drop('truncated', `IPv4 VRRP packet too short - ${p.length} bytes`);
    return { ihl, protocol, vrrp: ihl };
  }
  if (protocol === IPPROTO_AH) {
    if (p.length < ihl + AH_HEADER_LEN + VRRP_HEADER_LEN)
      return drop('truncated', `IPv4 VRRP packet with AH too short - ${p.length} bytes`);
    return { ihl, protocol, vrrp: ihl + AH_HEADER_LEN };
  }
  return drop('not-vrrp', `IP protocol ${protocol} is neither VRRP (112) nor AH (51)`);
}

/**
 * The VRID of a received packet, for the daemon's demux before the instance checks; undefined when
 * keepalived could not read a VRRP header (see DROPS_BEFORE_VRID). Never throws.
 */
export function peekVrid(ipPacket: Uint8Array): number | undefined {
  try {
    const loc = locate(ipPacket);
    return 'vrrp' in loc ? ipPacket[loc.vrrp + 1] : undefined;
  } catch {
    return undefined;
  }
}

/** A received packet whose VRRP header could be located: its header fields, read once, unchecked. */
export interface AdvertView {
  /** The whole IPv4 packet. */
  readonly p: Uint8Array;
  /** IPv4 header length. */
  readonly ihl: number;
  /** IP protocol: VRRP (112), or AH (51) with the VRRP header after it. */
  readonly protocol: number;
  /** Offset of the VRRP header. */
  readonly v: number;
  readonly version: number;
  readonly type: number;
  readonly vrid: number;
  readonly priority: number;
  /** Count IP Addrs. */
  readonly naddr: number;
  readonly authType: number;
  /** Adver Int, seconds. */
  readonly adverInt: number;
  /** From the IPv4 header. */
  readonly ttl: number;
  readonly totLen: number;
  readonly srcIp: string;
  readonly dstIp: string;
}

/** Locate the VRRP header and read its fields (no check beyond locating it). Throws nothing itself. */
export function viewAdvert(p: Uint8Array): AdvertView | Drop {
  const loc = locate(p);
  if (!('vrrp' in loc)) return loc;
  const v = loc.vrrp;
  const at = (i: number): number => p[i] ?? 0;
  return {
    p,
    ihl: loc.ihl,
    protocol: loc.protocol,
    v,
    version: at(v) >> 4,
    type: at(v) & 0x0f,
    vrid: at(v + 1),
    priority: at(v + 2),
    naddr: at(v + 3),
    authType: at(v + 4),
    adverInt: at(v + 5),
    ttl: ipv4Ttl(p),
    totLen: ipv4TotalLength(p),
    srcIp: ipv4Source(p),
    dstIp: ipv4Destination(p),
  };
}

// ---------------------------------------------------------------------------------------------
// Syntax checks: each is one of keepalived's `vrrp_check_packet()` steps (docs/keepalived-behaviour.md 3.3) that
// depends on the packet alone. A check returns the drop, or undefined when the packet passes.

/**
 * Step 2. RFC 3768 7.1 "MUST verify that the received packet contains the complete VRRP packet".
 * keepalived sizes it from the received header (version and count), exact length required.
 */
export function checkLength(a: AdvertView): Drop | undefined {
  const expectedLen = a.v + VRRP_HEADER_LEN + (a.version === VRRP_VERSION ? VRRP_AUTH_DATA_LEN : 0) + VRRP_VIP_LEN * a.naddr;
  if (a.p.length === expectedLen) return undefined;
  const longer = a.p.length > expectedLen;
  return drop(
    longer ? 'too-long' : 'too-short',
    `vrrp packet too ${longer ? 'long' : 'short'}, length ${a.p.length} and expect ${expectedLen}`,
  );
}

/** Step 4. RFC 3768 7.1 "MUST verify the VRRP version". */
export function checkVersion(a: AdvertView): Drop | undefined {
  return a.version === VRRP_VERSION ? undefined : drop('version', `wrong version. Received ${a.version} and expect ${VRRP_VERSION}`);
}

/** Step 5, first half: the auth type is one RFC 3768 5.3.6 defines. */
export function checkAuthTypeKnown(a: AdvertView): Drop | undefined {
  const t = a.authType;
  return t === AUTH_NONE || t === AUTH_PASS || t === AUTH_AH ? undefined : drop('auth-type-invalid', `Invalid auth type: ${t}`);
}

/** Step 7: the only type is ADVERTISEMENT. */
export function checkType(a: AdvertView): Drop | undefined {
  if (a.type === VRRP_TYPE_ADVERTISEMENT) return undefined;
  return drop('type', `Invalid packet type. ${a.type} and expect ${VRRP_TYPE_ADVERTISEMENT}`);
}

/** Step 9: the IPv4 total length is the received length. */
export function checkIpLength(a: AdvertView): Drop | undefined {
  if (a.totLen === a.p.length) return undefined;
  return drop('ip-length', `ip_tot_len mismatch against received length. ${a.totLen} and received ${a.p.length}`);
}

/** Step 10. RFC 3768 7.1 "MUST verify the VRRP checksum" (v2: over the message incl. auth data). */
export function checkChecksum(a: AdvertView): Drop | undefined {
  return checksumIsValid(a.p, a.v, a.v + advertLength(a.naddr)) ? undefined : drop('checksum', 'Invalid VRRPv2 checksum');
}

/** The syntax checks in keepalived's order. */
const SYNTAX_CHECKS: readonly ((a: AdvertView) => Drop | undefined)[] = [
  checkLength, // 2
  checkVersion, // 4
  checkAuthTypeKnown, // 5
  checkType, // 7
  checkIpLength, // 9
  checkChecksum, // 10
];

/** Step 12: the VIPs the advert carries, dotted quads in wire order. */
export function advertVips(a: AdvertView): string[] {
  const vipsStart = a.v + VRRP_HEADER_LEN;
  const vips: string[] = [];
  for (let i = 0; i < a.naddr; i++) vips.push(formatIpv4(a.p, vipsStart + VRRP_VIP_LEN * i));
  return vips;
}

/** The decoded advert and its envelope, from a view that passed its checks. */
export function advertResult(a: AdvertView, vips: string[]): DecodeResult {
  const advert: Advert = {
    version: a.version,
    type: a.type,
    vrid: a.vrid,
    priority: a.priority,
    authType: a.authType as AuthType, // checked by checkAuthTypeKnown
    adverIntSec: a.adverInt,
    vips,
    authData: new Uint8Array(a.p.subarray(a.v + VRRP_HEADER_LEN + VRRP_VIP_LEN * a.naddr, a.v + advertLength(a.naddr))),
  };
  const envelope: RxEnvelope = { srcIp: a.srcIp, dstIp: a.dstIp, ttl: a.ttl };
  return { ok: true, advert, envelope };
}

/**
 * Decode a received IPv4 packet (as a raw IPPROTO_VRRP/IPPROTO_AH socket delivers it: IP header
 * included) with the syntax checks only, in keepalived's order. For what a receiving instance
 * accepts use decodeAdvert() in advert-checks.ts. Never throws.
 */
export function parseAdvert(ipPacket: Uint8Array): DecodeResult {
  try {
    const a = viewAdvert(ipPacket);
    if ('reason' in a) return a;
    for (const check of SYNTAX_CHECKS) {
      const d = check(a);
      if (d !== undefined) return d;
    }
    return advertResult(a, advertVips(a));
  } catch (e) {
    // Unreachable by construction (every read is bounds-checked); a value keeps the daemon alive.
    return undecodable(e);
  }
}

/** The drop for an exception while decoding (a bug: every read is bounds-checked). */
export function undecodable(e: unknown): Drop {
  return drop('ip-header', `undecodable packet: ${e instanceof Error ? e.message : String(e)}`);
}
