/**
 * Which instance a received packet is for (docs/keepalived-behaviour.md 3.1 dispatcher). Pure.
 *
 * One socket per interface receives multicast and unicast adverts alike, so we demux on
 * (interface, VRID) and then on the IP destination: a multicast destination goes to the multicast
 * instance for that group, a unicast one to the unicast instance whose source address it is; for
 * unicast instances sharing a VRID the advert's source (one of its peers) decides. When the VRID
 * matches but the kind does not, the packet still goes to that instance so the codec counts
 * keepalived's "Expected multicast/unicast packet" drop.
 */
import { peekVrid } from '../protocol/advert.js';
import { formatIpv4, isIpv4MulticastByte } from '../protocol/ipv4-address.js';

export interface DemuxTarget {
  readonly ifname: string | null;
  readonly vrid: number;
  readonly unicast: boolean;
  readonly srcIp: string | null;
  readonly mcastGroup: string;
  readonly peers: readonly { readonly address: string }[];
}

export type DemuxResult<T> =
  | { readonly kind: 'instance'; readonly target: T }
  /** No VRRP header could be read (counted per interface). */
  | { readonly kind: 'malformed' }
  | { readonly kind: 'unknown-vrid'; readonly vrid: number };

export function demux<T extends DemuxTarget>(targets: readonly T[], ifname: string, packet: Uint8Array): DemuxResult<T> {
  const vrid = peekVrid(packet);
  if (vrid === undefined) return { kind: 'malformed' };
  const same = targets.filter((t) => t.ifname === ifname && t.vrid === vrid);
  if (same.length === 0) return { kind: 'unknown-vrid', vrid };
  const src = formatIpv4(packet, 12);
  const dst = formatIpv4(packet, 16);
  const multicast = isIpv4MulticastByte(packet[16] ?? 0);
  let pick: T | undefined;
  if (multicast) {
    pick = same.find((t) => !t.unicast && t.mcastGroup === dst) ?? same.find((t) => !t.unicast);
  } else {
    const mine = same.filter((t) => t.unicast && t.srcIp === dst);
    const uni = mine.length > 0 ? mine : same.filter((t) => t.unicast);
    pick = uni.find((t) => t.peers.some((p) => p.address === src)) ?? uni[0];
  }
  return { kind: 'instance', target: pick ?? same[0]! };
}

/**
 * The same for an IPv6 VRRP message (no IP header: source and destination come with it). Its
 * channel already sorted it by group or local address; among the instances with this interface and
 * VRID, the destination kind picks multicast or unicast, then the group or our address, then the
 * sender among the peers.
 */
export function demux6<T extends DemuxTarget>(
  targets: readonly T[],
  ifname: string,
  message: Uint8Array,
  src: string,
  dst: string | undefined,
): DemuxResult<T> {
  if (message.length < 8) return { kind: 'malformed' };
  const vrid = message[1]!;
  const same = targets.filter((t) => t.ifname === ifname && t.vrid === vrid);
  if (same.length === 0) return { kind: 'unknown-vrid', vrid };
  const multicast = dst === undefined || dst.toLowerCase().startsWith('ff');
  let pick: T | undefined;
  if (multicast) pick = same.find((t) => !t.unicast && t.mcastGroup === dst) ?? same.find((t) => !t.unicast);
  else {
    const mine = same.filter((t) => t.unicast && t.srcIp === dst);
    const uni = mine.length > 0 ? mine : same.filter((t) => t.unicast);
    pick = uni.find((t) => t.peers.some((p) => p.address === src)) ?? uni[0];
  }
  return { kind: 'instance', target: pick ?? same[0]! };
}
