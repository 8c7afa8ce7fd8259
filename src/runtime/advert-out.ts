/**
 * The adverts an instance sends, as IPv4 packets (docs/keepalived-behaviour.md 3.2): one to its multicast group
 * with TTL 255, or one copy per unicast peer with `unicast_ttl`. VRRPv2 (RFC 3768) or VRRPv3
 * (RFC 5798: Max Adver Int in centiseconds, no authentication, a checksum over the pseudo-header,
 * so one message per destination). Pure.
 */
import { encodeAdvert } from '../protocol/advert.js';
import { encodeAdvertV3 } from '../protocol/advert-v3.js';
import { buildIpv4Packet } from '../protocol/ipv4-header.js';
import { VRRP_TTL } from '../protocol/constants.js';
import type { InstanceParams } from '../protocol/instance-params.js';
import type { V3ChecksumMode } from '../protocol/v3-checksum.js';
import type { InstanceSpec } from './params.js';

/**
 * The copies of one advert with `priority`, from `srcIp`, with IP id `ipId`. `checksumMode` (v3):
 * the form the instance uses now (`old-unicast` once a peer was seen using it, as keepalived).
 */
export function advertCopies(
  spec: InstanceSpec,
  p: InstanceParams,
  priority: number,
  srcIp: string,
  ipId: number,
  checksumMode: V3ChecksumMode = 'pseudo-header',
): { readonly dstIp: string; readonly packet: Uint8Array }[] {
  const ttl = spec.unicast ? spec.unicastTtl : VRRP_TTL;
  if (p.version === 3) {
    return destinations(spec).map((dstIp) => {
      const payload = encodeAdvertV3({
        family: 'ipv4',
        ...v3Fields(p, priority, srcIp, dstIp),
        checksumMode,
        mcastGroup4: spec.mcastGroup4,
      });
      return { dstIp, packet: buildIpv4Packet({ srcIp, dstIp, ttl, id: ipId, payload }) };
    });
  }
  const payload = encodeAdvert({
    vrid: p.vrid,
    priority,
    // AH is not implemented: such adverts would be rejected by the codec anyway.
    authType: spec.authType === 2 ? 0 : spec.authType,
    ...(spec.authPass !== undefined ? { authPass: spec.authPass } : {}),
    adverIntSec: Math.round(p.adverIntMs / 1000),
    vips: p.vips,
  });
  return destinations(spec).map((dstIp) => ({ dstIp, packet: buildIpv4Packet({ srcIp, dstIp, ttl, id: ipId, payload }) }));
}

/**
 * The IPv6 adverts of an instance (always VRRPv3): the VRRP message per destination (the group, or
 * each unicast peer) from `srcIp` (the link-local address or unicast_src_ip). The socket adds the
 * IPv6 header; hop limit 255 on multicast, the kernel's default on unicast, as keepalived.
 */
export function advertMessages6(
  spec: InstanceSpec,
  p: InstanceParams,
  priority: number,
  srcIp: string,
): { readonly dstIp: string; readonly message: Uint8Array }[] {
  return destinations(spec).map((dstIp) => ({
    dstIp,
    message: encodeAdvertV3({ family: 'ipv6', ...v3Fields(p, priority, srcIp, dstIp) }),
  }));
}

/** Where an instance's adverts go: each unicast peer, or its multicast group. */
function destinations(spec: InstanceSpec): string[] {
  return spec.unicast ? spec.peers.map((x) => x.address) : [spec.mcastGroup];
}

/** The fields of a v3 advert both families share (the interval in whole centiseconds). */
function v3Fields(p: InstanceParams, priority: number, srcIp: string, dstIp: string) {
  return { vrid: p.vrid, priority, maxAdverIntCs: Math.round(p.adverIntMs / 10), vips: p.vips, srcIp, dstIp };
}
