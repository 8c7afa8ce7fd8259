/**
 * Why a received advert was dropped: one literal per receive check, in keepalived's order
 * (docs/keepalived-behaviour.md 3.3), and the result type the codec and the receive checks return. The daemon
 * keeps one named counter per reason. Pure.
 */
import type { Advert, RxEnvelope } from './types.js';

/**
 * Why a received packet was ignored, one literal per check, in keepalived's order. The first three
 * happen before keepalived looks at the VRID (a raw socket never delivers the first one, but the
 * codec does not trust its caller); the rest are `vrrp_check_packet()` steps 1..13. VRRPv3
 * (advert-v3-checks.ts) uses the same reasons: it skips steps 5 and 6 (auth, interval).
 */
export type DropReason =
  | 'ip-header' // not a well-formed IPv4 header (length < 20, version != 4, IHL < 5 or past the end); IPv6: bad source/destination
  | 'not-vrrp' // IP protocol neither 112 nor 51, or an AH header protecting another protocol
  | 'truncated' // shorter than IP header (+ AH header) + the 8-byte VRRP header (IPv6: the message alone)
  | 'ah-mismatch' // step 1: AH header present iff auth_type AH
  | 'too-short' // step 2: length below IP header (+AH) + 8 + 4*count (16*count for IPv6) (+8 auth for a v2 header)
  | 'too-long' // step 2: length above it
  | 'ttl' // step 3: multicast instance and TTL != 255
  | 'version' // step 4: version != the instance's (2, or 3 under vrrp_version 3 / IPv6)
  | 'auth-type-invalid' // step 5: auth type not 0, 1 or 2
  | 'auth-type-mismatch' // step 5: auth type differs from the configured one
  | 'auth-password' // step 5: PASS password differs
  | 'ah-unsupported' // step 5: AH (HMAC-MD5-96) verification is not implemented
  | 'interval-mismatch' // step 6: Adver Int differs from advert_int
  | 'type' // step 7: type != 1 (ADVERTISEMENT)
  | 'vip-count' // step 8: Count IP Addrs differs from the number of configured VIPs
  | 'ip-length' // step 9: IPv4 total length differs from the received length
  | 'checksum' // step 10: VRRP checksum does not verify (v3: with its pseudo-header)
  | 'expected-multicast' // step 11: multicast instance, unicast destination (IPv6: before step 1)
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
 * Drops that happen before the VRID can be read (`peekVrid` returns undefined): the daemon can only
 * count them per interface, not per instance.
 */
export const DROPS_BEFORE_VRID: ReadonlySet<DropReason> = new Set<DropReason>(['ip-header', 'not-vrrp', 'truncated']);

/** A drop: the reason (a counter name) and `detail`, keepalived's log text without the "(INSTANCE) " prefix. */
export interface Drop {
  readonly ok: false;
  readonly reason: DropReason;
  readonly detail: string;
}

/** What decoding a received packet gives: the advert and its IP envelope, or why it was dropped. */
export type DecodeResult = { ok: true; advert: Advert; envelope: RxEnvelope } | { ok: false; reason: DropReason; detail: string };

export function drop(reason: DropReason, detail: string): Drop {
  return { ok: false, reason, detail };
}
