/**
 * keepalived 2.2.7's receive checks for VRRPv3 (`vrrp_check_packet()`, docs/keepalived-behaviour.md 3.3, and the
 * IPv6 part of `vrrp_dispatcher_read()`), IPv4 and IPv6, in keepalived's order with the drop reasons
 * of drop-reasons.ts. What v3 changes from v2 (advert-checks.ts):
 *
 * - No authentication and no interval check: keepalived compares the Adver Int with advert_int only
 *   for v2. A v3 advert with any interval, 0 included, passes; a BACKUP then adopts it as
 *   Master_Adver_Interval (timing.ts `learnMasterAdverIntCs`). RFC 5798 7.1 has no interval check either.
 * - The checksum covers a pseudo-header (v3-checksum.ts); a unicast IPv4 instance that has not been
 *   told `old_unicast_checksum never` also accepts the pre-1.3.6 form (pseudo-header destination
 *   224.0.0.18), and from then on keepalived sends that form too (`oldUnicastChecksum` below).
 * - IPv6: the socket delivers the VRRP message alone; hop limit and destination come with it.
 *   keepalived discards a multicast packet on a unicast instance (and the reverse) before any check.
 *
 * Bad input is a value, never thrown. Pure.
 */
import { IPPROTO_AH, IPPROTO_VRRP, VRRP_HEADER_LEN, VRRP_MULTICAST_GROUP, VRRP_TTL } from './constants.js';
import { drop, type Drop } from './drop-reasons.js';
import { canonicalIpv4 } from './ipv4-address.js';
import { ipv4DestinationIsMulticast } from './ipv4-header.js';
import { canonicalIpv6, isIpv6MulticastByte, parseIpv6 } from './ipv6-address.js';
import type { AdvertV3, RxEnvelope } from './types.js';
import type { UnicastPeerCheck } from './advert-checks.js';
import { undecodable, viewAdvert } from './advert.js';
import {
  advertV3Vips,
  checkV3Checksum,
  checkV3IpLength,
  checkV3Length,
  checkV3Type,
  checkV3Version,
  readV3Fields,
  type AdvertV3View,
} from './advert-v3.js';
import type { AddressFamily, V3ChecksumMode } from './v3-checksum.js';

/** What the receiving v3 instance expects; the caller builds it from config and state. */
export interface AdvertV3Expectations {
  family: AddressFamily;
  /** Configured VIPs of `family` (not eVIPs). */
  vips: readonly string[];
  /** keepalived's "address checking" (as AdvertExpectations.checkVips). */
  checkVips: boolean;
  /** The instance has unicast peers. */
  unicast: boolean;
  unicastPeers?: readonly UnicastPeerCheck[];
  /** `check_unicast_src` (global, per instance, or implied by min_ttl/max_ttl). */
  checkUnicastSrc?: boolean;
  /** IPv4: the checksum form the instance uses now; default `pseudo-header`. */
  checksumMode?: V3ChecksumMode;
  /**
   * IPv4 unicast with `pseudo-header`: also accept the `old-unicast` form, as keepalived does
   * unless configured `old_unicast_checksum never`. Default true.
   */
  detectOldUnicast?: boolean;
  /** `vrrp_mcast_group4`, the `old-unicast` pseudo-header destination; default 224.0.0.18. */
  mcastGroup4?: string;
}

/** A received IPv6 message: what a raw IPv6 socket gives (the message, and from ancillary data the rest). */
export interface ReceivedV6 {
  /** The VRRP message (no IPv6 header). */
  payload: Uint8Array;
  srcIp: string;
  /** IPV6_PKTINFO's destination. */
  dstIp: string;
  /** IPV6_HOPLIMIT; undefined when not reported (keepalived then skips the hop-limit checks). */
  hopLimit?: number;
}

/**
 * The outcome: the advert, or the drop. `oldUnicastChecksum` is set when the advert verified only
 * with the pre-1.3.6 unicast checksum: keepalived logs "Setting unicast VRRPv3 checksum to old
 * version" and switches the instance to `old-unicast` for sending and receiving, whatever the
 * later checks decide (it is set on drops too).
 */
export type DecodeV3Result =
  { ok: true; advert: AdvertV3; envelope: RxEnvelope; oldUnicastChecksum?: true } | (Drop & { oldUnicastChecksum?: true });

type Check = (a: AdvertV3View, exp: AdvertV3Expectations) => Drop | undefined;

/** Step 1 (IPv4). A v3 instance never has auth_type AH (keepalived ignores auth under v3). */
const checkNoAh: Check = (a) => (a.protocol === IPPROTO_AH ? drop('ah-mismatch', 'Received AH header but auth type not AH') : undefined);

/** Step 3. RFC 5798 7.1 "MUST verify that the IPv4 TTL or IPv6 Hop Limit is 255" (keepalived: not for unicast). */
const checkTtl: Check = (a, exp) => {
  if (exp.unicast || a.ttl === undefined || a.ttl === VRRP_TTL) return undefined;
  return drop('ttl', `invalid TTL/HL. Received ${a.ttl} and expect ${VRRP_TTL}`);
};

/** Step 8. Address checking: the count. */
const checkVipCount: Check = (a, exp) => {
  if (!exp.checkVips || a.naddr === exp.vips.length) return undefined;
  return drop('vip-count', `received an unexpected ip number count ${a.naddr}, expected ${exp.vips.length}!`);
};

/** Step 11. The destination kind must match the instance kind (IPv6 was sorted before step 1). */
const checkDestinationKind: Check = (a, exp) => {
  if (a.dstMulticast !== exp.unicast) return undefined;
  return exp.unicast
    ? drop('expected-unicast', 'Expected unicast packet but received multicast packet')
    : drop('expected-multicast', 'Expected multicast packet but received unicast packet');
};

/** Steps 1 to 9 in keepalived's order (5 and 6 are v2 only). */
const BEFORE_CHECKSUM: readonly Check[] = [checkNoAh, checkV3Length, checkTtl, checkV3Version, checkV3Type, checkVipCount, checkV3IpLength];

/** Step 10, with keepalived's fallback to the old unicast checksum. */
function checkChecksum(a: AdvertV3View, exp: AdvertV3Expectations): { drop?: Drop; old?: true } {
  const mode = a.family === 'ipv4' ? (exp.checksumMode ?? 'pseudo-header') : 'pseudo-header';
  const first = checkV3Checksum(a, mode, exp.mcastGroup4);
  if (first === undefined) return {};
  const group = exp.mcastGroup4 ?? VRRP_MULTICAST_GROUP;
  const fallback = a.family === 'ipv4' && exp.unicast && mode === 'pseudo-header' && (exp.detectOldUnicast ?? true) && a.dstIp !== group;
  if (fallback && checkV3Checksum(a, 'old-unicast', exp.mcastGroup4) === undefined) return { old: true };
  return { drop: first };
}

/** Step 13, as advert-checks.ts: every configured VIP present; then the unicast source and its TTL. */
function checkAddresses(a: AdvertV3View, exp: AdvertV3Expectations, vips: readonly string[]): Drop | undefined {
  if (!exp.checkVips) return undefined;
  const canonical = a.family === 'ipv6' ? canonicalIpv6 : canonicalIpv4;
  for (const vip of exp.vips) {
    const c = canonical(vip);
    if (c === null || !vips.includes(c))
      return drop('vip-missing', `ip address associated with VRID ${a.vrid} not present in MASTER advert: ${c ?? vip}`);
  }
  if (exp.unicast && exp.checkUnicastSrc === true) {
    const peer = (exp.unicastPeers ?? []).find((pc) => canonical(pc.ip) === a.srcIp);
    if (peer === undefined) return drop('not-a-peer', `unicast source address ${a.srcIp} not a unicast peer`);
    if (a.ttl !== undefined && (a.ttl < peer.minTtl || a.ttl > peer.maxTtl))
      return drop('ttl-range', `TTL/HL ${a.ttl} not in range ${peer.minTtl} - ${peer.maxTtl}`);
  }
  return undefined;
}

/** The checks on a located message, in keepalived's order. */
function runChecks(a: AdvertV3View, exp: AdvertV3Expectations): DecodeV3Result {
  for (const check of BEFORE_CHECKSUM) {
    const d = check(a, exp);
    if (d !== undefined) return d;
  }
  const sum = checkChecksum(a, exp);
  const old: { oldUnicastChecksum?: true } = sum.old === true ? { oldUnicastChecksum: true } : {};
  if (sum.drop !== undefined) return sum.drop;
  const kind = a.family === 'ipv4' ? checkDestinationKind(a, exp) : undefined;
  if (kind !== undefined) return { ...kind, ...old };
  // 12. keepalived counts the advert as received from here on (DROPS_COUNTED_AS_RECEIVED).
  const vips = advertV3Vips(a);
  const bad = checkAddresses(a, exp, vips);
  if (bad !== undefined) return { ...bad, ...old };
  const { version, type, family, vrid, priority, maxAdverIntCs } = a;
  const advert: AdvertV3 = { version, type, family, vrid, priority, maxAdverIntCs, vips };
  return { ok: true, advert, envelope: { srcIp: a.srcIp, dstIp: a.dstIp, ttl: a.ttl ?? -1 }, ...old };
}

/**
 * Decode a received IPv4 packet (IP header included, as a raw socket delivers it) for a v3 IPv4
 * instance, with keepalived 2.2.7's checks in its order. `detail` is keepalived's log text without
 * the "(INSTANCE) " prefix. Never throws.
 */
export function decodeAdvertV3Ipv4(ipPacket: Uint8Array, exp: AdvertV3Expectations): DecodeV3Result {
  try {
    const v2 = viewAdvert(ipPacket);
    if ('reason' in v2) return v2;
    const env = { family: 'ipv4' as const, protocol: v2.protocol, ttl: v2.ttl, totLen: v2.totLen, srcIp: v2.srcIp, dstIp: v2.dstIp };
    return runChecks(readV3Fields(ipPacket, v2.v, { ...env, dstMulticast: ipv4DestinationIsMulticast(ipPacket) }), exp);
  } catch (e) {
    return undecodable(e);
  }
}

/**
 * Decode a received IPv6 VRRP message for a v3 IPv6 instance, with keepalived 2.2.7's checks in its
 * order: first the discard of the wrong destination kind (`vrrp_dispatcher_read()`, logged only with
 * -D), then `vrrp_check_packet()`. Never throws.
 */
export function decodeAdvertV3Ipv6(rx: ReceivedV6, exp: AdvertV3Expectations): DecodeV3Result {
  try {
    const src = parseIpv6(rx.srcIp);
    const dst = parseIpv6(rx.dstIp);
    if (src === undefined || dst === undefined) return drop('ip-header', `not an IPv6 source/destination: ${rx.srcIp} > ${rx.dstIp}`);
    if (rx.payload.length < VRRP_HEADER_LEN) return drop('truncated', `IPv6 VRRP packet too short - ${rx.payload.length} bytes`);
    const dstMulticast = isIpv6MulticastByte(dst[0] ?? 0);
    if (dstMulticast === exp.unicast) {
      const [got, want] = dstMulticast ? ['mult', 'un'] : ['un', 'mult'];
      return drop(dstMulticast ? 'expected-unicast' : 'expected-multicast', `discarding ${got}icast packet on ${want}icast instance`);
    }
    const env = {
      family: 'ipv6' as const,
      protocol: IPPROTO_VRRP,
      ttl: rx.hopLimit,
      totLen: rx.payload.length,
      srcIp: canonicalIpv6(rx.srcIp) ?? rx.srcIp,
      dstIp: canonicalIpv6(rx.dstIp) ?? rx.dstIp,
      dstMulticast,
    };
    return runChecks(readV3Fields(rx.payload, 0, env), exp);
  } catch (e) {
    return undecodable(e);
  }
}
