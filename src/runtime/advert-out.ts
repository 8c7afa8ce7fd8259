/**
 * The adverts an instance sends, as IPv4 packets (KEEPALIVED.md 3.2): one to its multicast group
 * with TTL 255, or one copy per unicast peer with `unicast_ttl`. Pure.
 */
import { encodeAdvert } from '../protocol/advert.js';
import { buildIpv4Packet } from '../protocol/ipv4-header.js';
import { VRRP_TTL } from '../protocol/constants.js';
import type { InstanceParams } from '../protocol/instance-params.js';
import type { InstanceSpec } from './params.js';

/** The copies of one advert with `priority`, from `srcIp`, with IP id `ipId`. */
export function advertCopies(
  spec: InstanceSpec,
  p: InstanceParams,
  priority: number,
  srcIp: string,
  ipId: number,
): { readonly dstIp: string; readonly packet: Uint8Array }[] {
  const payload = encodeAdvert({
    vrid: p.vrid,
    priority,
    // AH is not implemented: such adverts would be rejected by the codec anyway.
    authType: spec.authType === 2 ? 0 : spec.authType,
    ...(spec.authPass !== undefined ? { authPass: spec.authPass } : {}),
    adverIntSec: Math.round(p.adverIntMs / 1000),
    vips: p.vips,
  });
  const dsts = spec.unicast ? spec.peers.map((x) => x.address) : [spec.mcastGroup];
  const ttl = spec.unicast ? spec.unicastTtl : VRRP_TTL;
  return dsts.map((dstIp) => ({ dstIp, packet: buildIpv4Packet({ srcIp, dstIp, ttl, id: ipId, payload }) }));
}
