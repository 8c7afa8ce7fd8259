/**
 * keepalived 2.2.7's receive checks (`vrrp_check_packet()`, docs/keepalived-behaviour.md 3.3): what a receiving
 * instance accepts. The semantic checks (auth, interval, VIPs, destination kind, unicast peers)
 * live here; the syntax checks are the codec's (advert.ts). Both run from one table in keepalived's
 * order, so the first failing check (and therefore the drop counter and log line) is the one
 * keepalived would report. Bad input is returned as a value, never thrown. Pure.
 */
import type { AuthType } from './types.js';
import { AUTH_AH, AUTH_PASS, IPPROTO_AH, IPPROTO_VRRP, VRRP_AUTH_DATA_LEN, VRRP_TTL } from './constants.js';
import { drop, type DecodeResult, type Drop } from './drop-reasons.js';
import { canonicalIpv4 } from './ipv4-address.js';
import { ipv4DestinationIsMulticast } from './ipv4-header.js';
import {
  advertResult,
  advertVips,
  checkAuthTypeKnown,
  checkChecksum,
  checkIpLength,
  checkLength,
  checkType,
  checkVersion,
  passwordToWire,
  undecodable,
  viewAdvert,
  type AdvertView,
} from './advert.js';

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
   * keepalived's "address checking" (docs/keepalived-behaviour.md 3.3 steps 8 and 13): VIP count, VIP set and,
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

/** Compare two byte ranges in time independent of where they differ (keepalived `memcmp_constant_time`). */
export function constantTimeEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= (a[aOff + i] ?? 0x100) ^ (b[bOff + i] ?? 0x200);
  return diff === 0;
}

type Check = (a: AdvertView, exp: AdvertExpectations) => Drop | undefined;

/** Step 1. RFC 2402 AH header iff auth_type AH. */
const checkAhPresence: Check = (a, exp) => {
  if ((a.protocol === IPPROTO_AH) === (exp.authType === AUTH_AH)) return undefined;
  return drop('ah-mismatch', a.protocol === IPPROTO_AH ? 'Received AH header but auth type not AH' : 'No AH header but auth type is AH');
};

/** Step 3. RFC 3768 7.1 "MUST verify that the IP TTL is 255" (keepalived: not for unicast instances). */
const checkTtl: Check = (a, exp) => {
  if (exp.unicast || a.ttl === VRRP_TTL) return undefined;
  return drop('ttl', `invalid TTL/HL. Received ${a.ttl} and expect ${VRRP_TTL}`);
};

/** Step 5, second half. RFC 3768 7.1 "MUST perform authentication specified by Auth Type". */
const checkAuthentication: Check = (a, exp) => {
  if (a.authType !== exp.authType) return drop('auth-type-mismatch', `received a ${a.authType} auth, expecting ${exp.authType}!`);
  if (exp.authType === AUTH_PASS) {
    // keepalived reads the password at (IP total length - 8), before checking total length (step 9)
    const pwOff = a.totLen - VRRP_AUTH_DATA_LEN;
    const want = passwordToWire(exp.authPass, AUTH_PASS);
    const inRange = pwOff >= 0 && pwOff + VRRP_AUTH_DATA_LEN <= a.p.length;
    const same = constantTimeEqual(a.p, inRange ? pwOff : 0, want, 0, VRRP_AUTH_DATA_LEN);
    if (!same || !inRange) return drop('auth-password', 'received an invalid passwd!');
  } else if (exp.authType === AUTH_AH) {
    const next = a.p[a.ihl] ?? 0;
    if (next !== IPPROTO_VRRP) return drop('not-vrrp', `AH header for IP protocol ${next}, not VRRP`);
    return drop('ah-unsupported', 'IPsec AH (HMAC-MD5-96) authentication is not supported');
  }
  return undefined;
};

/**
 * Step 6. RFC 3768 7.1 "MUST verify that the Adver Interval in the packet is the same as the locally
 * configured for this virtual router" (keepalived: DROP, to keep two masters apart).
 */
const checkInterval: Check = (a, exp) => {
  if (a.adverInt === exp.adverIntSec) return undefined;
  return drop('interval-mismatch', `advertisement interval mismatch mine=${exp.adverIntSec} sec rcv'd=${a.adverInt} sec`);
};

/** Step 8. Address checking: the count. */
const checkVipCount: Check = (a, exp) => {
  if (!exp.checkVips || a.naddr === exp.vips.length) return undefined;
  return drop('vip-count', `received an unexpected ip number count ${a.naddr}, expected ${exp.vips.length}!`);
};

/** Step 11. The destination kind must match the instance kind. */
const checkDestinationKind: Check = (a, exp) => {
  if (ipv4DestinationIsMulticast(a.p) !== exp.unicast) return undefined;
  return exp.unicast
    ? drop('expected-unicast', 'Expected unicast packet but received multicast packet')
    : drop('expected-multicast', 'Expected multicast packet but received unicast packet');
};

/**
 * Steps 1 to 11 in keepalived's order: its syntax checks (advert.ts) and semantic checks
 * interleaved, one line each.
 */
const RECEIVE_CHECKS: readonly Check[] = [
  checkAhPresence, // 1
  checkLength, // 2 (syntax)
  checkTtl, // 3
  checkVersion, // 4 (syntax)
  checkAuthTypeKnown, // 5 (syntax)
  checkAuthentication, // 5
  checkInterval, // 6
  checkType, // 7 (syntax)
  checkVipCount, // 8
  checkIpLength, // 9 (syntax)
  checkChecksum, // 10 (syntax)
  checkDestinationKind, // 11
];

/**
 * Step 13. RFC 3768 7.1 "MAY verify that the IP address(es) associated with the VRID are valid";
 * keepalived: every configured VIP must be in the advert, in any order; then, for unicast
 * instances with check_unicast_src, the source must be a peer and the TTL in its range.
 */
function checkAddresses(a: AdvertView, exp: AdvertExpectations, vips: readonly string[]): Drop | undefined {
  if (!exp.checkVips) return undefined;
  // A linear search for the usual handful of VIPs (no Set per packet); a Set past 16.
  const present: { has(ip: string): boolean } = vips.length > 16 ? new Set(vips) : { has: (ip) => vips.includes(ip) };
  for (const vip of exp.vips) {
    const canonical = canonicalIpv4(vip);
    if (canonical === null || !present.has(canonical)) {
      return drop('vip-missing', `ip address associated with VRID ${a.vrid} not present in MASTER advert: ${vip}`);
    }
  }
  // keepalived runs the unicast source checks only together with address checking
  if (exp.unicast && exp.checkUnicastSrc === true) {
    const peer = (exp.unicastPeers ?? []).find((pc) => canonicalIpv4(pc.ip) === a.srcIp);
    if (peer === undefined) return drop('not-a-peer', `unicast source address ${a.srcIp} not a unicast peer`);
    if (a.ttl < peer.minTtl || a.ttl > peer.maxTtl)
      return drop('ttl-range', `TTL/HL ${a.ttl} not in range ${peer.minTtl} - ${peer.maxTtl}`);
  }
  return undefined;
}

/**
 * Decode a received IPv4 packet (as a raw IPPROTO_VRRP/IPPROTO_AH socket delivers it: IP header
 * included) and apply keepalived 2.2.7's receive checks in its order (docs/keepalived-behaviour.md 3.3). `detail`
 * is keepalived's log text without the "(INSTANCE) " prefix. Never throws.
 */
export function decodeAdvert(ipPacket: Uint8Array, exp: AdvertExpectations): DecodeResult {
  try {
    const a = viewAdvert(ipPacket);
    if ('reason' in a) return a;
    for (const check of RECEIVE_CHECKS) {
      const d = check(a, exp);
      if (d !== undefined) return d;
    }
    // 12. keepalived counts the advert as received from here on (DROPS_COUNTED_AS_RECEIVED).
    const vips = advertVips(a);
    return checkAddresses(a, exp, vips) ?? advertResult(a, vips);
  } catch (e) {
    // Unreachable by construction (every read is bounds-checked); a value keeps the daemon alive.
    return undecodable(e);
  }
}
