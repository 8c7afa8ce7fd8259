/**
 * The VRRPv3 advertisement codec (RFC 5798 5.2), IPv4 and IPv6: encoding, and decoding with the
 * syntax checks only (what the packet says about itself). What the receiving instance expects is
 * checked in advert-v3-checks.ts, which interleaves these checks with its own in keepalived's order,
 * as advert-checks.ts does for v2.
 *
 * Wire format: version 3 / type 1, VRID, priority, Count IPvX Addrs, 4 reserved bits and the 12-bit
 * Max Adver Int in centiseconds, checksum (v3-checksum.ts), then the addresses (4 or 16 bytes each).
 * No authentication data. Encoding produces exactly the bytes keepalived 2.2.7 sends (captures in
 * test/fixtures/v3). Decoding never throws: bad input is a value. Pure: no sockets, fs, timers or clocks.
 */
import { checkInt } from '../util/check-int.js';
import {
  ADVER_INT_MAX_CS,
  ADVER_INT_MIN_CS,
  PRIORITY_MAX,
  VRID_MAX,
  VRID_MIN,
  VRRP_HEADER_LEN,
  VRRP_MAX_VIPS,
  VRRP_TYPE_ADVERTISEMENT,
  VRRP_V3_ADVER_INT_MASK,
  VRRP_VERSION_3,
  VRRP_VIP6_LEN,
  VRRP_VIP_LEN,
} from './constants.js';
import { drop, type Drop } from './drop-reasons.js';
import { formatIpv4, ipv4OrThrow } from './ipv4-address.js';
import { formatIpv6, ipv6OrThrow } from './ipv6-address.js';
import { v3Checksum, v3ChecksumIsValid, type AddressFamily, type V3ChecksumContext, type V3ChecksumMode } from './v3-checksum.js';

// ---------------------------------------------------------------------------------------------
// Encoding

/** What the encoder needs from an instance. Values come from a validated config: bad ones are bugs and throw. */
export interface AdvertV3Fields {
  family: AddressFamily;
  /** 1..255 */
  vrid: number;
  /** 0..255: the effective priority, or 0 when leaving MASTER. */
  priority: number;
  /** The configured advert_int in centiseconds, 1..4095 (RFC 5798 5.2.7). */
  maxAdverIntCs: number;
  /** VIPs of `family` in config order (eVIPs are not advertised). */
  vips: readonly string[];
  /** The packet's source and destination: the checksum's pseudo-header (IPv4 or IPv6). */
  srcIp: string;
  dstIp: string;
  /** IPv4 only; default `pseudo-header` (see V3ChecksumMode). */
  checksumMode?: V3ChecksumMode;
  /** The IPv4 group `old-unicast` puts in the pseudo-header (`vrrp_mcast_group4`); default 224.0.0.18. */
  mcastGroup4?: string;
}

/** Bytes per advertised address. */
export function vipLength(family: AddressFamily): number {
  return family === 'ipv6' ? VRRP_VIP6_LEN : VRRP_VIP_LEN;
}

/** Length in bytes of a v3 message carrying `count` addresses: 8 + 4n (IPv4) or 8 + 16n (IPv6). */
export function advertV3Length(family: AddressFamily, count: number): number {
  return VRRP_HEADER_LEN + vipLength(family) * count;
}

/** The checksum context of a message sent with these fields. */
function checksumContext(f: AdvertV3Fields): V3ChecksumContext {
  const ctx: V3ChecksumContext = { family: f.family, srcIp: f.srcIp, dstIp: f.dstIp, mode: f.checksumMode ?? 'pseudo-header' };
  return f.mcastGroup4 === undefined ? ctx : { ...ctx, mcastGroup4: f.mcastGroup4 };
}

/**
 * Encode the v3 message (no IP header): header, addresses in the given order, checksum over the
 * pseudo-header and the message. Throws RangeError on out-of-range fields (a bug: the config layer
 * validates them), on an address not of `family`, or `as-v2` with IPv6.
 */
export function encodeAdvertV3(f: AdvertV3Fields): Buffer {
  checkInt(f.vrid, VRID_MIN, VRID_MAX, 'vrid');
  checkInt(f.priority, 0, PRIORITY_MAX, 'priority');
  checkInt(f.maxAdverIntCs, ADVER_INT_MIN_CS, ADVER_INT_MAX_CS, 'maxAdverIntCs');
  if (f.vips.length > VRRP_MAX_VIPS) throw new RangeError(`at most ${VRRP_MAX_VIPS} VIPs fit in an advert, got ${f.vips.length}`);
  if (f.family === 'ipv6' && (f.checksumMode ?? 'pseudo-header') !== 'pseudo-header')
    throw new RangeError(`checksumMode ${String(f.checksumMode)} is for IPv4 only`);

  const len = vipLength(f.family);
  const buf = Buffer.alloc(advertV3Length(f.family, f.vips.length));
  buf[0] = (VRRP_VERSION_3 << 4) | VRRP_TYPE_ADVERTISEMENT;
  buf[1] = f.vrid;
  buf[2] = f.priority;
  buf[3] = f.vips.length;
  // keepalived masks the interval to 12 bits: the reserved bits go out as zero
  buf.writeUInt16BE(f.maxAdverIntCs & VRRP_V3_ADVER_INT_MASK, 4);
  // bytes 6-7: checksum, zero while summing
  f.vips.forEach((vip, i) => {
    const what = `vips[${i}]`;
    buf.set(f.family === 'ipv6' ? ipv6OrThrow(vip, what) : ipv4OrThrow(vip, what), VRRP_HEADER_LEN + len * i);
  });
  buf.writeUInt16BE(v3Checksum(buf, checksumContext(f)), 6);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Reading a received message

/** A v3 message whose VRRP header could be located: its header fields, read once, unchecked. */
export interface AdvertV3View {
  readonly family: AddressFamily;
  /** IPv4: the whole packet as the raw socket delivers it. IPv6: the VRRP message (the socket strips the header). */
  readonly p: Uint8Array;
  /** Offset of the VRRP header: the IPv4 header length, or 0 for IPv6. */
  readonly v: number;
  /** IP protocol carrying the message: 112 (VRRP) or, IPv4 only, 51 (AH). */
  readonly protocol: number;
  readonly version: number;
  readonly type: number;
  readonly vrid: number;
  readonly priority: number;
  /** Count IPvX Addrs. */
  readonly naddr: number;
  /** Max Adver Int: the low 12 bits of bytes 4-5, centiseconds (keepalived ignores the reserved bits). */
  readonly maxAdverIntCs: number;
  /** IPv4 TTL or IPv6 Hop Limit; undefined when the socket did not report it (keepalived: -1, not checked). */
  readonly ttl: number | undefined;
  /** IPv4: Total Length from the header. IPv6: the message length. */
  readonly totLen: number;
  readonly srcIp: string;
  readonly dstIp: string;
  /** The destination is a multicast group (224.0.0.0/4 or ff00::/8). */
  readonly dstMulticast: boolean;
}

/** A view of `p` at VRRP offset `v` with the envelope facts the caller read. Throws nothing itself. */
export function readV3Fields(
  p: Uint8Array,
  v: number,
  env: Pick<AdvertV3View, 'family' | 'protocol' | 'ttl' | 'totLen' | 'srcIp' | 'dstIp' | 'dstMulticast'>,
): AdvertV3View {
  const at = (i: number): number => p[i] ?? 0;
  return {
    ...env,
    p,
    v,
    version: at(v) >> 4,
    type: at(v) & 0x0f,
    vrid: at(v + 1),
    priority: at(v + 2),
    naddr: at(v + 3),
    maxAdverIntCs: ((at(v + 4) << 8) | at(v + 5)) & VRRP_V3_ADVER_INT_MASK,
  };
}

// ---------------------------------------------------------------------------------------------
// Syntax checks, each one of keepalived's `vrrp_check_packet()` steps that depends on the packet
// alone. keepalived sizes the message from the received header's version: a v2 header claims 8
// auth bytes more, so a v2 advert reaching a v3 instance fails on length or on version.

/** Step 2: the exact length keepalived expects, from the received header (version and count). */
export function checkV3Length(a: AdvertV3View): Drop | undefined {
  const auth = a.family === 'ipv4' && a.version === 2 ? 8 : 0;
  const expectedLen = a.v + VRRP_HEADER_LEN + auth + vipLength(a.family) * a.naddr;
  if (a.p.length === expectedLen) return undefined;
  const longer = a.p.length > expectedLen;
  return drop(
    longer ? 'too-long' : 'too-short',
    `vrrp packet too ${longer ? 'long' : 'short'}, length ${a.p.length} and expect ${expectedLen}`,
  );
}

/** Step 4. RFC 5798 7.1 "MUST verify the VRRP version". */
export function checkV3Version(a: AdvertV3View): Drop | undefined {
  if (a.version === VRRP_VERSION_3) return undefined;
  return drop('version', `wrong version. Received ${a.version} and expect ${VRRP_VERSION_3}`);
}

/** Step 7: the only type is ADVERTISEMENT. */
export function checkV3Type(a: AdvertV3View): Drop | undefined {
  if (a.type === VRRP_TYPE_ADVERTISEMENT) return undefined;
  return drop('type', `Invalid packet type. ${a.type} and expect ${VRRP_TYPE_ADVERTISEMENT}`);
}

/** Step 9 (IPv4 only): the IPv4 total length is the received length. */
export function checkV3IpLength(a: AdvertV3View): Drop | undefined {
  if (a.family === 'ipv6' || a.totLen === a.p.length) return undefined;
  return drop('ip-length', `ip_tot_len mismatch against received length. ${a.totLen} and received ${a.p.length}`);
}

/**
 * Step 10. RFC 5798 7.1 "MUST verify the VRRP checksum". For IPv6 keepalived leaves it to the
 * kernel (IPV6_CHECKSUM), which drops a bad one silently; the codec checks it anyway, with the
 * same pseudo-header. `as-v2`: keepalived 2.2.8 does not verify the checksum at all in that mode.
 */
export function checkV3Checksum(a: AdvertV3View, mode: V3ChecksumMode = 'pseudo-header', mcastGroup4?: string): Drop | undefined {
  if (a.family === 'ipv4' && mode === 'as-v2') return undefined;
  const ctx: V3ChecksumContext = { family: a.family, srcIp: a.srcIp, dstIp: a.dstIp, mode };
  if (mcastGroup4 !== undefined) ctx.mcastGroup4 = mcastGroup4;
  const end = a.v + advertV3Length(a.family, a.naddr);
  return v3ChecksumIsValid(a.p, ctx, a.v, end) ? undefined : drop('checksum', 'Invalid VRRPv3 checksum');
}

/** Step 12: the addresses the advert carries, as text of its family, in wire order. */
export function advertV3Vips(a: AdvertV3View): string[] {
  const len = vipLength(a.family);
  const vips: string[] = [];
  for (let i = 0; i < a.naddr; i++) {
    const off = a.v + VRRP_HEADER_LEN + len * i;
    vips.push(a.family === 'ipv6' ? formatIpv6(a.p, off) : formatIpv4(a.p, off));
  }
  return vips;
}
