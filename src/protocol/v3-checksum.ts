/**
 * The VRRPv3 checksum (RFC 5798 5.2.8): the Internet checksum over a pseudo-header and the VRRP
 * message, plus the two IPv4 variants keepalived knows. Pure: no I/O.
 *
 * - IPv4 pseudo-header (RFC 768 layout): source, destination, zero, protocol 112, VRRP length (16 bit).
 *   RFC 5798 names only RFC 2460's IPv6 pseudo-header; keepalived uses this one for IPv4.
 * - IPv6 pseudo-header (RFC 2460 8.1): source, destination, upper-layer length (32 bit), three zero
 *   bytes, next header 112. keepalived leaves it to the kernel (IPV6_CHECKSUM at offset 6), which
 *   computes the same sum.
 */
import { IPPROTO_VRRP, VRRP_MULTICAST_GROUP } from './constants.js';
import { onesComplementSum } from './checksum.js';
import { ipv4OrThrow } from './ipv4-address.js';
import { ipv6OrThrow } from './ipv6-address.js';

/** The address family of a v3 instance, its packets and its VIPs. */
export type AddressFamily = 'ipv4' | 'ipv6';

/**
 * What an IPv4 v3 checksum covers (IPv6 always uses its pseudo-header):
 * - `pseudo-header`: RFC 5798, keepalived's default; the destination is the packet's.
 * - `old-unicast`: keepalived's `old_unicast_checksum` (and the mode it falls into by itself when
 *   a unicast peer's advert only verifies that way): the pseudo-header destination is the IPv4
 *   multicast group (`vrrp_mcast_group4`, 224.0.0.18) even for unicast packets, as keepalived
 *   1.3.6 and earlier computed it.
 * - `as-v2`: keepalived 2.2.8's `v3_checksum_as_v2` (for Cisco peers): no pseudo-header. keepalived
 *   2.2.7 does not know the keyword ("Unknown keyword 'v3_checksum_as_v2'", test/fixtures/v3/README.md).
 */
export type V3ChecksumMode = 'pseudo-header' | 'old-unicast' | 'as-v2';

/** Where a v3 message travels: the pseudo-header's inputs. Addresses as text of `family`. */
export interface V3ChecksumContext {
  family: AddressFamily;
  srcIp: string;
  dstIp: string;
  /** IPv4 only; default `pseudo-header`. */
  mode?: V3ChecksumMode;
  /** The group `old-unicast` puts in the pseudo-header; default 224.0.0.18. */
  mcastGroup4?: string;
}

/**
 * The folded one's complement sum of the pseudo-header for a VRRP message of `vrrpLen` bytes (0 for
 * `as-v2`), to chain into {@link onesComplementSum}. Throws RangeError on an address that is not of
 * the family (a bug: callers pass validated or decoded addresses).
 */
export function pseudoHeaderSum(ctx: V3ChecksumContext, vrrpLen: number): number {
  if (ctx.family === 'ipv6') {
    const ph = Buffer.alloc(40);
    ipv6OrThrow(ctx.srcIp, 'srcIp').copy(ph, 0);
    ipv6OrThrow(ctx.dstIp, 'dstIp').copy(ph, 16);
    ph.writeUInt32BE(vrrpLen, 32);
    ph[39] = IPPROTO_VRRP;
    return onesComplementSum(ph);
  }
  const mode = ctx.mode ?? 'pseudo-header';
  if (mode === 'as-v2') return 0;
  const dst = mode === 'old-unicast' ? (ctx.mcastGroup4 ?? VRRP_MULTICAST_GROUP) : ctx.dstIp;
  const ph = Buffer.alloc(12);
  ipv4OrThrow(ctx.srcIp, 'srcIp').copy(ph, 0);
  ipv4OrThrow(dst, 'dstIp').copy(ph, 4);
  ph[9] = IPPROTO_VRRP;
  ph.writeUInt16BE(vrrpLen, 10);
  return onesComplementSum(ph);
}

/** The checksum field's value for `msg[start, end)` (its checksum bytes zeroed by the caller) sent as `ctx` says. */
export function v3Checksum(msg: Uint8Array, ctx: V3ChecksumContext, start = 0, end = msg.length): number {
  return ~onesComplementSum(msg, start, end, pseudoHeaderSum(ctx, end - start)) & 0xffff;
}

/** True when `msg[start, end)`, checksum field included, verifies for `ctx` (RFC 1071). */
export function v3ChecksumIsValid(msg: Uint8Array, ctx: V3ChecksumContext, start = 0, end = msg.length): boolean {
  return onesComplementSum(msg, start, end, pseudoHeaderSum(ctx, end - start)) === 0xffff;
}
