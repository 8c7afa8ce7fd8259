/**
 * Plain values for links and IPv4 addresses, and their conversion from/to the `netlink`
 * package's rtnetlink messages. The values are the runtime's types (runtime/ports/net.ts): the
 * rest of the daemon sees only those.
 */
import { createRequire } from 'node:module';
import { ipv4FromBytes, parseIpv4 } from '../protocol/ipv4-address.js';
import { formatIpv6At } from '../protocol/ipv6-address.js';
import type { AddrInfo, AddrSpec, LinkInfo, ScopeName } from '../runtime/ports/net.js';
import { linkKind } from './netlink-link.js';

export type { AddrInfo, AddrSpec, LinkInfo, ScopeName };

/** RT_SCOPE_* values (rtnetlink.h); `ip addr` prints global / site / link / host / nowhere. */
export const SCOPES = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const satisfies Record<ScopeName, number>;

export const AF_INET = 2;
export const AF_INET6 = 10;
// <linux/rtnetlink.h> message types: the package's parsed messages drop these, so we read them raw.
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
// <linux/netlink.h> request flags
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

/**
 * The parts of the `netlink` package io/ uses, loaded on first use (a native module: not needed to
 * import io/). Only its rtnetlink files are required: the package's index also loads the genl,
 * nl80211 and WireGuard codecs (7 more files, ~20-40 ms of start-up) that vrrpd never uses.
 */
export type NetlinkModule = Pick<typeof import('netlink'), 'createRtNetlink' | 'rt'>;
let mod: NetlinkModule | undefined;
export function netlinkModule(): NetlinkModule {
  if (mod === undefined) {
    const req = createRequire(import.meta.url);
    const rtSocket = req('netlink/dist/rt/rt') as Pick<typeof import('netlink'), 'createRtNetlink'>;
    mod = { createRtNetlink: rtSocket.createRtNetlink, rt: req('netlink/dist/rt/structs') as (typeof import('netlink'))['rt'] };
  }
  return mod;
}

/** An address for a netlink attribute (leading zeros read as decimal, as netlink always has: see ipv4-address.ts). */
export function ipv4ToBuffer(ip: string): Buffer | undefined {
  return parseIpv4(ip, { leadingZeros: true });
}

export function macToString(b: Uint8Array | undefined): string | undefined {
  return b && b.length === 6 ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':') : undefined;
}

/** The directed broadcast of ip/prefixLen (`brd +`); undefined for /31 and /32. */
export function broadcastFor(ip: string, prefixLen: number): string | undefined {
  const b = ipv4ToBuffer(ip);
  if (!b || prefixLen >= 31) return undefined;
  const n = b.readUInt32BE(0) | (prefixLen === 0 ? 0xffffffff : 0xffffffff >>> prefixLen);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0);
  return ipv4FromBytes(out);
}

export function scopeNumber(s: number | ScopeName | undefined): number {
  if (s === undefined) return SCOPES.global;
  return typeof s === 'number' ? s : SCOPES[s];
}

/** Minimal shapes of the package's parsed messages (its typings use optional everything). */
interface LinkMsg {
  kind: 'link';
  data: { index?: number; flags?: Record<string, unknown> };
  attrs: { ifname?: string; address?: Buffer; mtu?: number; master?: number; linkinfo?: Buffer; link?: Buffer };
}
interface AddrMsg {
  kind: 'address';
  data: { index?: number; prefixlen?: number; scope?: number; flags?: Record<string, unknown>; family?: number };
  attrs: {
    address?: Buffer;
    local?: Buffer;
    broadcast?: Buffer;
    label?: string;
    flags?: Record<string, unknown>;
    cacheInfo?: { ifaPrefered?: number; ifaValid?: number };
  };
}

export function toLinkInfo(m: { kind: string }): LinkInfo | undefined {
  if (m.kind !== 'link') return undefined;
  const { data, attrs } = m as LinkMsg;
  if (data.index === undefined || attrs.ifname === undefined) return undefined;
  const f = data.flags ?? {};
  return {
    ifindex: data.index,
    ifname: attrs.ifname,
    up: f.up === true,
    running: f.running === true,
    lowerUp: f.lowerUp === true,
    noarp: f.noarp === true,
    loopback: f.loopback === true,
    mac: macToString(attrs.address),
    mtu: attrs.mtu,
    master: attrs.master,
    kind: linkKind(attrs.linkinfo),
    parent: attrs.link !== undefined && attrs.link.length >= 4 ? attrs.link.readUInt32LE(0) : undefined,
  };
}

export function toAddrInfo(m: { kind: string }): AddrInfo | undefined {
  if (m.kind !== 'address') return undefined;
  const { data, attrs } = m as AddrMsg;
  if (data.family !== undefined && data.family !== AF_INET) return undefined;
  const local = ipv4FromBytes(attrs.local);
  const addr = ipv4FromBytes(attrs.address);
  const address = local ?? addr;
  if (data.index === undefined || address === undefined) return undefined;
  const flags = attrs.flags ?? data.flags ?? {};
  return {
    ifindex: data.index,
    address,
    prefixLen: data.prefixlen ?? 32,
    peer: local && addr && addr !== local ? addr : undefined,
    broadcast: ipv4FromBytes(attrs.broadcast),
    scope: data.scope ?? 0,
    label: attrs.label,
    secondary: flags.secondary === true,
  };
}

/**
 * An IPv6 address message as the runtime's AddrInfo (`family: 6`), or undefined for anything else.
 * IPv6 has no broadcast and no label; the flags keepalived's VIPs carry (nodad, deprecated) and the
 * lifetimes are kept.
 */
export function toAddrInfo6(m: { kind: string }): AddrInfo | undefined {
  if (m.kind !== 'address') return undefined;
  const { data, attrs } = m as AddrMsg;
  if (data.family !== AF_INET6) return undefined;
  const local = formatIpv6At(attrs.local);
  const addr = formatIpv6At(attrs.address);
  const address = local ?? addr;
  if (data.index === undefined || address === undefined) return undefined;
  const flags = attrs.flags ?? data.flags ?? {};
  return {
    family: 6,
    ifindex: data.index,
    address,
    prefixLen: data.prefixlen ?? 128,
    peer: local && addr && addr !== local ? addr : undefined,
    broadcast: undefined,
    scope: data.scope ?? 0,
    label: undefined,
    secondary: flags.secondary === true,
    nodad: flags.nodad === true,
    deprecated: flags.deprecated === true,
    tentative: flags.tentative === true,
    dadFailed: flags.dadfailed === true,
    ...(attrs.cacheInfo?.ifaPrefered !== undefined ? { preferredLft: attrs.cacheInfo.ifaPrefered } : {}),
    ...(attrs.cacheInfo?.ifaValid !== undefined ? { validLft: attrs.cacheInfo.ifaValid } : {}),
  };
}

/** Identity of an address for caches and the self-change ledger. */
export function addrKey(a: { ifindex: number; address: string; prefixLen: number }): string {
  return `${a.ifindex}/${a.address}/${a.prefixLen}`;
}
