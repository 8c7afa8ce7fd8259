/**
 * A minimal VRRPv2-over-IPv4 packet builder for io/ tests, independent of src/protocol (which is
 * written in parallel). Byte layout as keepalived's vrrp_build_ip4()/vrrp_build_vrrp_v2()
 * (docs/keepalived-behaviour.md 3.2): TOS 0xc0, ID given, DF clear, proto 112, IP checksum left 0 for the
 * kernel; VRRP 0x21, vrid, priority, naddr, auth type, adver_int, checksum, VIPs, 8 auth bytes.
 * Also a VRRPv3 message for the IPv6 sockets (buildTestAdvertV3), whose address it reads with
 * src/protocol's IPv6 parser.
 */
import { parseIpv6 } from '../../src/protocol/ipv6-address.js';

function ip4(s: string): number[] {
  return s.split('.').map(Number);
}

export function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface TestAdvert {
  srcIp: string;
  dstIp: string;
  vrid: number;
  priority: number;
  vips: string[];
  ttl?: number;
  tos?: number;
  id?: number;
  adverIntSec?: number;
  /** PASS password (auth type 1) or none (auth type 0). */
  password?: string;
}

export function buildTestAdvert(a: TestAdvert): Buffer {
  const vrrpLen = 8 + 4 * a.vips.length + 8;
  const v = Buffer.alloc(vrrpLen);
  v[0] = 0x21;
  v[1] = a.vrid;
  v[2] = a.priority;
  v[3] = a.vips.length;
  v[4] = a.password !== undefined ? 1 : 0;
  v[5] = a.adverIntSec ?? 1;
  a.vips.forEach((ip, i) => Buffer.from(ip4(ip)).copy(v, 8 + 4 * i));
  if (a.password !== undefined)
    Buffer.from(a.password, 'latin1')
      .subarray(0, 8)
      .copy(v, 8 + 4 * a.vips.length);
  v.writeUInt16BE(inetChecksum(v), 6);
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = a.tos ?? 0xc0;
  h.writeUInt16BE(20 + vrrpLen, 2);
  h.writeUInt16BE(a.id ?? 1, 4);
  h[8] = a.ttl ?? 255;
  h[9] = 112;
  Buffer.from(ip4(a.srcIp)).copy(h, 12);
  Buffer.from(ip4(a.dstIp)).copy(h, 16);
  return Buffer.concat([h, v]);
}

/** The fields of a received advert that io/ tests check. */
export function peekAdvert(p: Buffer):
  | {
      ttl: number;
      tos: number;
      id: number;
      proto: number;
      src: string;
      dst: string;
      vrid: number;
      priority: number;
      version: number;
      type: number;
    }
  | undefined {
  if (p.length < 28 || p[0]! >> 4 !== 4) return undefined;
  const ihl = (p[0]! & 0xf) * 4;
  const v = p.subarray(ihl);
  if (v.length < 8) return undefined;
  return {
    ttl: p[8]!,
    tos: p[1]!,
    id: p.readUInt16BE(4),
    proto: p[9]!,
    src: [...p.subarray(12, 16)].join('.'),
    dst: [...p.subarray(16, 20)].join('.'),
    version: v[0]! >> 4,
    type: v[0]! & 0xf,
    vrid: v[1]!,
    priority: v[2]!,
  };
}

/**
 * A VRRPv3 message (RFC 5798 5.2) for one IPv6 VIP, advert interval 1 s, checksum 0: an IPv6 raw
 * socket with IPV6_CHECKSUM (the transport's) has the kernel fill it.
 */
export function buildTestAdvertV3(vrid: number, priority: number, vip: string): Buffer {
  const m = Buffer.alloc(8 + 16);
  m[0] = 0x31;
  m[1] = vrid;
  m[2] = priority;
  m[3] = 1;
  m.writeUInt16BE(100, 4); // 1 s in centiseconds
  parseIpv6(vip)!.copy(m, 8);
  return m;
}
