/**
 * The IPv4 header around an advert: built as keepalived writes it on its IP_HDRINCL socket, and
 * read from what a raw socket delivers (RFC 791). Knows nothing of VRRP beyond the defaults it
 * sends with. Pure: no sockets, fs, timers or clocks.
 */
import { checkInt } from '../util/check-int.js';
import { internetChecksum } from './checksum.js';
import { IPPROTO_VRRP, IPV4_HEADER_LEN, VRRP_IP_TOS } from './constants.js';
import { formatIpv4, ipv4OrThrow, isIpv4MulticastByte } from './ipv4-address.js';

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

/** A received header that is well formed: its length and the protocol it carries. */
export interface Ipv4HeaderInfo {
  readonly ok: true;
  /** Header length in bytes (IHL * 4), at least 20 and within the packet. */
  readonly ihl: number;
  readonly protocol: number;
}

/**
 * Check the fixed part of a received IPv4 header: at least 20 bytes, version 4, IHL at least 5 and
 * within the packet. `detail` is the log text (keepalived's where it has one). Never throws.
 */
export function readIpv4Header(p: Uint8Array): Ipv4HeaderInfo | { readonly ok: false; readonly detail: string } {
  if (p.length < IPV4_HEADER_LEN) return { ok: false, detail: `IPv4 VRRP packet too short - ${p.length} bytes` };
  const b0 = p[0] ?? 0;
  const ihl = (b0 & 0x0f) * 4;
  if (b0 >> 4 !== 4) return { ok: false, detail: `not an IPv4 packet (IP version ${b0 >> 4})` };
  if (ihl < IPV4_HEADER_LEN || ihl > p.length)
    return { ok: false, detail: `invalid IPv4 header length ${ihl} in a ${p.length} byte packet` };
  return { ok: true, ihl, protocol: p[9] ?? 0 };
}

// Fields of a header {@link readIpv4Header} accepted (each at a fixed offset of the first 20 bytes).

/** Total Length, as the sender wrote it. */
export function ipv4TotalLength(p: Uint8Array): number {
  return ((p[2] ?? 0) << 8) | (p[3] ?? 0);
}

/** Time to Live, as received. */
export function ipv4Ttl(p: Uint8Array): number {
  return p[8] ?? 0;
}

/** Source address, dotted quad. */
export function ipv4Source(p: Uint8Array): string {
  return formatIpv4(p, 12);
}

/** Destination address, dotted quad. */
export function ipv4Destination(p: Uint8Array): string {
  return formatIpv4(p, 16);
}

/** The destination is an IPv4 multicast group (224.0.0.0/4). */
export function ipv4DestinationIsMulticast(p: Uint8Array): boolean {
  return isIpv4MulticastByte(p[16] ?? 0);
}
