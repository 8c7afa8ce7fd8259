/**
 * Unsolicited neighbour advertisement frame builder (RFC 4861 4.4 and 7.2.6), byte-identical to
 * what keepalived 2.2.7 sends on its PF_PACKET socket for an IPv6 VIP when it becomes MASTER and
 * on the GARP schedule (`ndisc_send_unsolicited_na_immediate()` in vrrp_ndisc.c; captured in
 * test/fixtures/ipv6-na/). Pure: no I/O. The IPv6 counterpart of arp-frame.ts.
 *
 * keepalived's choices, as captured:
 *  - Ethernet destination 33:33:00:00:00:01 (all-nodes, RFC 2464 7), source the interface MAC;
 *  - IPv6 traffic class 0, flow label 0, hop limit 255 (RFC 4861 7.1.2 requires 255), source the VIP
 *    itself, destination ff02::1 (all-nodes);
 *  - ICMPv6 type 136 code 0; Override set, Solicited clear (unsolicited), Router set only when IPv6
 *    forwarding is on for the interface (keepalived reads net/ipv6/conf/IF/forwarding, at most every
 *    5 s): the caller passes `router`;
 *  - target = the VIP, one Target Link-Layer Address option (type 2, length 1) with the MAC;
 *  - the ICMPv6 checksum over the IPv6 pseudo-header (RFC 4443 2.3), no padding: 86 bytes.
 */
import { parseMac } from './arp-frame.js';
import { onesComplementSum } from './checksum.js';
import { IPV6_ADDRESS_LEN, ipv6OrThrow } from './ipv6-address.js';

/** Ethernet + IPv6 header + NA (24) + target link-layer address option (8). */
export const NA_FRAME_LEN = 14 + 40 + 24 + 8;
/** The ICMPv6 message inside the frame (the IPv6 payload length). */
export const NA_ICMP_LEN = 32;

const ETHERTYPE_IPV6 = 0x86dd;
const IPPROTO_ICMPV6 = 58;
const ND_NEIGHBOR_ADVERT = 136;
/** RFC 4861 4.4 flag bits in the first byte after the checksum. */
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
const ND_OPT_TARGET_LINKADDR = 2;
/** RFC 4861 7.1.2: a neighbour discovery message must carry hop limit 255. */
const NDISC_HOP_LIMIT = 255;
const ALL_NODES = ipv6OrThrow('ff02::1', 'all-nodes group');
const ALL_NODES_MAC = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

export interface NeighbourAdvertOptions {
  /** The interface's MAC (or the VMAC): Ethernet source and the target link-layer address option. */
  readonly srcMac: string;
  /** The VIP being announced: the IPv6 source and the target. */
  readonly target: string;
  /** Set the Router flag: IPv6 forwarding is on for the interface (keepalived's `gna_router`). */
  readonly router: boolean;
}

/**
 * The 86-byte frame announcing that `target` is at `srcMac`. Throws RangeError on a malformed MAC
 * or IPv6 address (a bug: callers pass validated values).
 */
export function buildNeighbourAdvert(opts: NeighbourAdvertOptions): Buffer {
  const mac = parseMac(opts.srcMac);
  if (mac === undefined) throw new RangeError(`not a MAC address: ${JSON.stringify(opts.srcMac)}`);
  const target = ipv6OrThrow(opts.target, 'neighbour advertisement target');

  const f = Buffer.alloc(NA_FRAME_LEN);
  f.set(ALL_NODES_MAC, 0);
  f.set(mac, 6);
  f.writeUInt16BE(ETHERTYPE_IPV6, 12);
  const ip = 14;
  f[ip] = 0x60; // version 6, traffic class 0, flow label 0
  f.writeUInt16BE(NA_ICMP_LEN, ip + 4);
  f[ip + 6] = IPPROTO_ICMPV6;
  f[ip + 7] = NDISC_HOP_LIMIT;
  f.set(target, ip + 8);
  f.set(ALL_NODES, ip + 24);
  const icmp = ip + 40;
  f[icmp] = ND_NEIGHBOR_ADVERT;
  f[icmp + 4] = NA_FLAG_OVERRIDE | (opts.router ? NA_FLAG_ROUTER : 0);
  f.set(target, icmp + 8);
  f[icmp + 24] = ND_OPT_TARGET_LINKADDR;
  f[icmp + 25] = 1; // in units of 8 bytes
  f.set(mac, icmp + 26);
  f.writeUInt16BE(icmpv6Checksum(f.subarray(ip + 8, ip + 24), f.subarray(ip + 24, ip + 40), f.subarray(icmp)), icmp + 2);
  return f;
}

/**
 * The ICMPv6 checksum (RFC 4443 2.3): one's complement of the sum over the pseudo-header (source,
 * destination, upper-layer length, next header 58) and the message with its checksum field zero.
 */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  const pseudo = new Uint8Array(2 * IPV6_ADDRESS_LEN + 8);
  pseudo.set(src.subarray(0, IPV6_ADDRESS_LEN), 0);
  pseudo.set(dst.subarray(0, IPV6_ADDRESS_LEN), IPV6_ADDRESS_LEN);
  new DataView(pseudo.buffer).setUint32(32, message.length);
  pseudo[39] = IPPROTO_ICMPV6;
  const sum = onesComplementSum(message, 0, message.length, onesComplementSum(pseudo));
  return ~sum & 0xffff;
}
