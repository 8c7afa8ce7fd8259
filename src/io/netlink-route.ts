/**
 * Message builders for `virtual_routes` and `virtual_rules` (RTM_NEWROUTE/DELROUTE,
 * RTM_NEWRULE/DELRULE), IPv4 only. Sent by NetlinkCommands (netlink-addr.ts).
 */
import { fail, ok, type IoResult } from './io-error.js';
import { AF_INET, ipv4ToBuffer, scopeNumber } from './netlink-codec.js';
import type { RouteSpec, RouteTypeName, RuleSpec } from '../runtime/ports/net.js';

// The request shapes are the runtime's (runtime/ports/net.ts).
export type { RouteSpec, RouteTypeName, RuleSpec };

/** RTPROT_KEEPALIVED (rtnetlink.h): `ip route` prints `proto keepalived`, as for keepalived's routes. */
export const RTPROT_KEEPALIVED = 18;
export const RT_TABLE_MAIN = 254;
const RT_TABLE_COMPAT = 252;
const ROUTE_TYPES = { unicast: 1, blackhole: 6, unreachable: 7, prohibit: 8 } as const satisfies Record<RouteTypeName, number>;

const bad = (syscall: string, message: string): IoResult<never> => fail({ kind: 'IoError', syscall, errno: 22, code: 'EINVAL', message });

export interface BuiltMessage {
  data: Record<string, unknown>;
  attrs: Record<string, unknown>;
}

export function buildRouteMessage(r: RouteSpec): IoResult<BuiltMessage> {
  const S = 'RTM_NEWROUTE';
  const dst = ipv4ToBuffer(r.dst);
  if (!dst) return bad(S, `not an IPv4 destination: ${r.dst}`);
  if (!Number.isInteger(r.prefixLen) || r.prefixLen < 0 || r.prefixLen > 32) return bad(S, `bad prefix length ${r.prefixLen}`);
  const type = r.type ?? 'unicast';
  const gw = r.gateway === undefined ? undefined : ipv4ToBuffer(r.gateway);
  if (r.gateway !== undefined && !gw) return bad(S, `not an IPv4 gateway: ${r.gateway}`);
  const src = r.src === undefined ? undefined : ipv4ToBuffer(r.src);
  if (r.src !== undefined && !src) return bad(S, `not an IPv4 source: ${r.src}`);
  if (type === 'unicast' && gw === undefined && r.ifindex === undefined) return bad(S, 'a unicast route needs a gateway or a device');
  const table = r.table ?? RT_TABLE_MAIN;
  const scope = r.scope !== undefined ? scopeNumber(r.scope) : type === 'unicast' && !gw ? 253 : 0;
  const attrs: Record<string, unknown> = { table };
  if (r.prefixLen > 0) attrs.dst = dst;
  if (gw) attrs.gateway = gw;
  if (r.ifindex !== undefined) attrs.oif = r.ifindex;
  if (src) attrs.prefsrc = src;
  if (r.metric !== undefined) attrs.priority = r.metric;
  return ok({
    data: {
      family: AF_INET,
      dstLen: r.prefixLen,
      srcLen: 0,
      tos: 0,
      table: table < 256 ? table : RT_TABLE_COMPAT,
      protocol: r.protocol ?? RTPROT_KEEPALIVED,
      scope,
      type: ROUTE_TYPES[type],
    },
    attrs,
  });
}

export function buildRuleMessage(r: RuleSpec): IoResult<BuiltMessage> {
  const S = 'RTM_NEWRULE';
  const attrs: Record<string, unknown> = { table: r.table };
  let srcLen = 0;
  let dstLen = 0;
  if (r.from) {
    const b = ipv4ToBuffer(r.from.address);
    if (!b || r.from.prefixLen < 0 || r.from.prefixLen > 32) return bad(S, `bad rule source ${r.from.address}/${r.from.prefixLen}`);
    attrs.src = b;
    srcLen = r.from.prefixLen;
  }
  if (r.to) {
    const b = ipv4ToBuffer(r.to.address);
    if (!b || r.to.prefixLen < 0 || r.to.prefixLen > 32) return bad(S, `bad rule destination ${r.to.address}/${r.to.prefixLen}`);
    attrs.dst = b;
    dstLen = r.to.prefixLen;
  }
  if (r.priority !== undefined) attrs.priority = r.priority;
  if (r.fwmark !== undefined) attrs.fwmark = r.fwmark;
  return ok({
    data: { family: AF_INET, dstLen, srcLen, tos: 0, table: r.table < 256 ? r.table : 0, action: 1 /* FR_ACT_TO_TBL */ },
    attrs,
  });
}
