/**
 * Hostile VRRP traffic generator (issue 6 item 1): Ethernet frames written on an AF_PACKET socket
 * (`io/packet-socket.ts`), so every byte is ours, IP header included (a raw IP socket with
 * IP_HDRINCL would have the kernel rewrite the total length and the IP checksum).
 *
 * The target is one vrrpd with two instances on `eth0` (see {@link hostileConf}):
 *  - `VM` multicast, VRID `mcastVrid`, PASS auth, two VIPs;
 *  - `VU` unicast, VRID `uniVrid`, no auth, one VIP, `check_unicast_src`, the generator's address
 *    as its only peer with `min_ttl 250 max_ttl 255`.
 * Both run at priority 200 and are MASTER (alone on the LAN). Every invalid case carries priority
 * 255: were one wrongly accepted, the master would step down, so "no transition" proves "nothing
 * accepted". Each packet has one expected outcome ({@link Expect}); the caller sums them per key
 * and compares with the daemon's status (drops per instance and reason, per-interface `malformed`
 * and `unknownVrid`, `advertRcvd`/`priZeroRcvd` for the valid ones) and with the kernel's IP
 * counters of the target namespace for what never reaches a socket.
 *
 * Which drop reasons a namespace can reach (the rest are codec-level, test/protocol):
 *  - `ip-header`, `ip-length`: the receiving kernel drops bad IP headers (version, IHL, checksum,
 *    total length past the end: Ip InHdrErrors / InTruncatedPkts / InCsumErrors) and trims
 *    trailing bytes to the total length, so the daemon never sees them: expected `kernel`;
 *  - `not-vrrp`, `ah-mismatch` (AH header), `ah-unsupported`: the socket is IPPROTO_VRRP only;
 *  - `truncated`: counted per interface as `malformed` (no VRID to demux on).
 * Pure but for the PRNG state; sending is the caller's (see {@link HostileSender}).
 */
import { encodeAdvert } from '../src/protocol/advert.js';
import { decodeAdvert } from '../src/protocol/advert-checks.js';
import type { DropReason } from '../src/protocol/drop-reasons.js';
import { buildIpv4Packet } from '../src/protocol/ipv4-header.js';
import { internetChecksum } from '../src/protocol/checksum.js';

export interface HostileTarget {
  /** The daemon's interface address and MAC. */
  daemonIp: string;
  daemonMac: string;
  /** The generator's address and MAC (the unicast instance's one configured peer). */
  genIp: string;
  genMac: string;
  /** A same-subnet address that is not a peer (spoofed source). */
  nonPeerIp: string;
  mcastVrid: number;
  uniVrid: number;
  /** A VRID no instance uses. */
  unknownVrid: number;
  pass: string;
  mcastVips: readonly string[];
  uniVips: readonly string[];
}

/** Where a packet must be counted. */
export type Expect =
  | { kind: 'drop'; instance: 'VM' | 'VU'; reason: DropReason }
  | { kind: 'iface'; counter: 'malformed' | 'unknownVrid' }
  | { kind: 'kernel'; counter: 'InHdrErrors' | 'InTruncatedPkts' }
  | { kind: 'valid'; instance: 'VM' | 'VU'; priority: number };

export function expectKey(e: Expect): string {
  switch (e.kind) {
    case 'drop':
      return `${e.instance}:${e.reason}`;
    case 'iface':
      return `eth0:${e.counter}`;
    case 'kernel':
      return `kernel:${e.counter}`;
    case 'valid':
      return `${e.instance}:${e.priority === 0 ? 'priZeroRcvd' : 'advertRcvd'}`;
  }
}

export interface HostilePacket {
  readonly name: string;
  readonly frame: Buffer;
  readonly expect: Expect;
}

/** One kind of hostile packet; `weight` is its share of a mixed run. */
export interface HostileCase {
  readonly name: string;
  readonly weight: number;
  build(rnd: () => number): HostilePacket;
}

/** The keepalived.conf (read unchanged by vrrpd and keepalived) the generator's expectations assume. */
export function hostileConf(t: HostileTarget): string {
  return `global_defs {
  router_id hostile
}

vrrp_instance VM {
  state BACKUP
  interface eth0
  virtual_router_id ${t.mcastVrid}
  priority 200
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass ${t.pass}
  }
  virtual_ipaddress {
${t.mcastVips.map((v) => `    ${v}/24`).join('\n')}
  }
}

vrrp_instance VU {
  state BACKUP
  interface eth0
  virtual_router_id ${t.uniVrid}
  priority 200
  advert_int 1
  unicast_src_ip ${t.daemonIp}
  unicast_peer {
    ${t.genIp} min_ttl 250 max_ttl 255
  }
  check_unicast_src
  virtual_ipaddress {
${t.uniVips.map((v) => `    ${v}/24`).join('\n')}
  }
}
`;
}

/** xorshift32 in [0, 1); seeded, so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

/** 01:00:5e + low 23 bits of the group. */
function mcastMac(group: string): Buffer {
  const b = group.split('.').map(Number);
  return Buffer.from([0x01, 0x00, 0x5e, (b[1] ?? 0) & 0x7f, b[2] ?? 0, b[3] ?? 0]);
}

export function ethFrame(dstMac: Buffer, srcMac: Buffer, ipPacket: Uint8Array): Buffer {
  const f = Buffer.alloc(14 + ipPacket.length);
  dstMac.copy(f, 0);
  srcMac.copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f.set(ipPacket, 14);
  return f;
}

/** Re-checksum the VRRP message of an IPv4 packet (after a mutation). */
function fixVrrpChecksum(ip: Buffer, vrrpLen = ip.length - 20): Buffer {
  ip.writeUInt16BE(0, 26);
  ip.writeUInt16BE(internetChecksum(ip, 20, 20 + vrrpLen), 26);
  return ip;
}

function fixIpHeader(ip: Buffer): Buffer {
  ip.writeUInt16BE(ip.length, 2);
  ip.writeUInt16BE(0, 10);
  ip.writeUInt16BE(internetChecksum(ip, 0, 20), 10);
  return ip;
}

interface AdvOpts {
  vrid?: number;
  priority?: number;
  authType?: 0 | 1 | 2;
  pass?: string;
  adverIntSec?: number;
  vips?: readonly string[];
  src?: string;
  dst?: string;
  ttl?: number;
}

/**
 * The case table. `VM` cases go to 224.0.0.18 from the generator unless said otherwise; every
 * invalid case is otherwise a perfectly valid priority-255 advert.
 */
export function hostileCases(t: HostileTarget): HostileCase[] {
  const gMac = mac(t.genMac);
  const dMac = mac(t.daemonMac);
  const grp = '224.0.0.18';
  const gMacGroup = mcastMac(grp);
  let id = 1;
  const ipOf = (o: AdvOpts, uni: boolean): Buffer => {
    const payload = encodeAdvert({
      vrid: o.vrid ?? (uni ? t.uniVrid : t.mcastVrid),
      priority: o.priority ?? 255,
      authType: o.authType ?? (uni ? 0 : 1),
      authPass: o.pass ?? t.pass,
      adverIntSec: o.adverIntSec ?? 1,
      vips: o.vips ?? (uni ? t.uniVips : t.mcastVips),
    });
    id = (id % 0xffff) + 1;
    return buildIpv4Packet({ srcIp: o.src ?? t.genIp, dstIp: o.dst ?? (uni ? t.daemonIp : grp), ttl: o.ttl ?? 255, id, payload });
  };
  const frameOf = (ip: Buffer): Buffer => {
    const first = ip[16] ?? 0;
    return ethFrame(first >= 224 && first <= 239 ? gMacGroup : dMac, gMac, ip);
  };
  const c = (name: string, weight: number, expect: Expect, make: (rnd: () => number) => Buffer): HostileCase => ({
    name,
    weight,
    build: (rnd) => ({ name, frame: frameOf(make(rnd)), expect }),
  });
  const vm = (reason: DropReason): Expect => ({ kind: 'drop', instance: 'VM', reason });
  const vu = (reason: DropReason): Expect => ({ kind: 'drop', instance: 'VU', reason });

  const cases: HostileCase[] = [
    c('ttl-64', 5, vm('ttl'), () => ipOf({ ttl: 64 }, false)),
    c('ttl-0', 2, vm('ttl'), () => ipOf({ ttl: 0 }, false)),
    c('version-3', 5, vm('version'), () => {
      // VRRPv3 is sized without the 8 auth bytes: make the length right so the version check is the one hit.
      const ip = ipOf({}, false);
      const short = Buffer.from(ip.subarray(0, ip.length - 8));
      short[20] = 0x31;
      return fixIpHeader(fixVrrpChecksum(short));
    }),
    c('type-2', 5, vm('type'), () => {
      const ip = ipOf({}, false);
      ip[20] = 0x22;
      return fixVrrpChecksum(ip);
    }),
    c('count-too-high', 4, vm('too-short'), () => {
      const ip = ipOf({}, false);
      ip[23] = t.mcastVips.length + 1;
      return fixVrrpChecksum(ip);
    }),
    c('trailing-bytes', 4, vm('too-long'), (rnd) => {
      const ip = ipOf({}, false);
      const extra = Buffer.alloc(1 + Math.floor(rnd() * 64), 0xa5);
      return fixIpHeader(Buffer.concat([ip, extra]));
    }),
    c('oversized-1480', 2, vm('too-long'), () =>
      fixIpHeader(Buffer.concat([ipOf({}, false), Buffer.alloc(1480 - 20 - 8 - 8 - 4 * t.mcastVips.length, 0x5a)])),
    ),
    c('truncated', 4, { kind: 'iface', counter: 'malformed' }, (rnd) => {
      const ip = ipOf({}, false);
      return fixIpHeader(Buffer.from(ip.subarray(0, 20 + Math.floor(rnd() * 8))));
    }),
    c('vrrp-checksum', 5, vm('checksum'), () => {
      const ip = ipOf({}, false);
      ip[27] = (ip[27] ?? 0) ^ 0x01;
      return ip;
    }),
    c('unknown-vrid', 5, { kind: 'iface', counter: 'unknownVrid' }, () => ipOf({ vrid: t.unknownVrid }, false)),
    c('vip-count', 4, vm('vip-count'), () => ipOf({ vips: t.mcastVips.slice(0, 1) }, false)),
    c('vip-set', 4, vm('vip-missing'), () => ipOf({ vips: [t.mcastVips[0]!, '192.0.2.77', ...t.mcastVips.slice(2)] }, false)),
    c('interval-2', 5, vm('interval-mismatch'), () => ipOf({ adverIntSec: 2 }, false)),
    c('auth-type-3', 3, vm('auth-type-invalid'), () => {
      const ip = ipOf({}, false);
      ip[24] = 3;
      return fixVrrpChecksum(ip);
    }),
    c('auth-type-none', 4, vm('auth-type-mismatch'), () => ipOf({ authType: 0 }, false)),
    c('auth-type-ah', 2, vm('auth-type-mismatch'), () => ipOf({ authType: 2 }, false)),
    c('auth-password', 8, vm('auth-password'), (rnd) => ipOf({ pass: `bad${Math.floor(rnd() * 1e5)}` }, false)),
    c('mcast-vrid-unicast-dst', 4, vm('expected-multicast'), () => ipOf({ dst: t.daemonIp }, false)),
    c('uni-vrid-multicast-dst', 4, vu('expected-unicast'), () => ipOf({ dst: grp }, true)),
    c('uni-not-a-peer', 5, vu('not-a-peer'), () => ipOf({ src: t.nonPeerIp }, true)),
    c('uni-ttl-range', 5, vu('ttl-range'), () => ipOf({ ttl: 64 }, true)),
    c('uni-vip-set', 2, vu('vip-missing'), () => ipOf({ vips: ['192.0.2.78'] }, true)),
    c('uni-auth-pass', 2, vu('auth-type-mismatch'), () => ipOf({ authType: 1 }, true)),
    // The kernel of the target drops these before any socket (see the header).
    c('ip-checksum', 2, { kind: 'kernel', counter: 'InHdrErrors' }, () => {
      const ip = ipOf({}, false);
      ip[10] = (ip[10] ?? 0) ^ 0xff;
      return ip;
    }),
    c('ip-version-6', 1, { kind: 'kernel', counter: 'InHdrErrors' }, () => {
      const ip = ipOf({}, false);
      ip[0] = 0x65;
      ip.writeUInt16BE(0, 10);
      ip.writeUInt16BE(internetChecksum(ip, 0, 20), 10);
      return ip;
    }),
    c('ip-ihl-4', 1, { kind: 'kernel', counter: 'InHdrErrors' }, () => {
      const ip = ipOf({}, false);
      ip[0] = 0x44;
      return ip;
    }),
    c('ip-total-length-past-end', 1, { kind: 'kernel', counter: 'InTruncatedPkts' }, () => {
      const ip = ipOf({}, false);
      ip.writeUInt16BE(ip.length + 40, 2);
      ip.writeUInt16BE(0, 10);
      ip.writeUInt16BE(internetChecksum(ip, 0, 20), 10);
      return ip;
    }),
    // Valid adverts that must not change the state of a priority-200 master.
    c('valid-lower-priority', 1, { kind: 'valid', instance: 'VM', priority: 100 }, () => ipOf({ priority: 100 }, false)),
    c('valid-priority-0', 1, { kind: 'valid', instance: 'VM', priority: 0 }, () => ipOf({ priority: 0 }, false)),
    c('uni-valid-priority-0', 1, { kind: 'valid', instance: 'VU', priority: 0 }, () => ipOf({ priority: 0 }, true)),
  ];
  // Random bytes after a valid IPv4 header (VRID forced to VM's so they reach the codec): the
  // expected reason is whatever the codec says for a MASTER (an oracle, not an independent check;
  // the independent part is that every one of them is counted somewhere and nothing is accepted).
  const exp = { adverIntSec: 1, authType: 1 as const, authPass: t.pass, vips: t.mcastVips, checkVips: true, unicast: false };
  cases.push({
    name: 'random-bytes',
    weight: 10,
    build: (rnd) => {
      const len = 8 + Math.floor(rnd() * 120);
      const body = Buffer.alloc(len);
      for (let i = 0; i < len; i++) body[i] = Math.floor(rnd() * 256);
      body[1] = t.mcastVrid;
      body[2] = 255;
      id = (id % 0xffff) + 1;
      const ip = buildIpv4Packet({ srcIp: t.genIp, dstIp: grp, ttl: 255, id, payload: body });
      const r = decodeAdvert(ip, exp);
      const expect: Expect = r.ok
        ? { kind: 'valid', instance: 'VM', priority: r.advert.priority }
        : { kind: 'drop', instance: 'VM', reason: r.reason };
      return { name: 'random-bytes', frame: frameOf(ip), expect };
    },
  });
  return cases;
}

/** A weighted, seeded stream of `total` packets over `cases`. */
export function* hostileStream(cases: readonly HostileCase[], total: number, seed = 1): Generator<HostilePacket> {
  const rnd = prng(seed);
  const sum = cases.reduce((a, x) => a + x.weight, 0);
  for (let n = 0; n < total; n++) {
    let r = rnd() * sum;
    let pick = cases[cases.length - 1]!;
    for (const x of cases) {
      r -= x.weight;
      if (r < 0) {
        pick = x;
        break;
      }
    }
    yield pick.build(rnd);
  }
}

/** Sends one frame; returns false when the device queue is full (EAGAIN/ENOBUFS): retry later. */
export type HostileSender = (frame: Buffer) => boolean;

export interface SendReport {
  sent: number;
  /** Sends refused by the sending kernel (queue full) and retried. */
  retries: number;
  byKey: Record<string, number>;
  byCase: Record<string, number>;
  ms: number;
}

/**
 * Send a stream. `pause()` is awaited every `burst` packets (e.g. wait until the target's socket
 * queue is empty, for exact accounting; or nothing, for a flood at line rate).
 */
export async function sendStream(
  stream: Iterable<HostilePacket>,
  send: HostileSender,
  opts: { burst?: number; pause?: () => Promise<void> } = {},
): Promise<SendReport> {
  const rep: SendReport = { sent: 0, retries: 0, byKey: {}, byCase: {}, ms: 0 };
  const t0 = performance.now();
  const burst = opts.burst ?? 256;
  let inBurst = 0;
  for (const p of stream) {
    while (!send(p.frame)) {
      rep.retries++;
      await new Promise((r) => setImmediate(r));
    }
    rep.sent++;
    const k = expectKey(p.expect);
    rep.byKey[k] = (rep.byKey[k] ?? 0) + 1;
    rep.byCase[p.name] = (rep.byCase[p.name] ?? 0) + 1;
    if (++inBurst >= burst) {
      inBurst = 0;
      if (opts.pause) await opts.pause();
    }
  }
  if (opts.pause) await opts.pause();
  rep.ms = performance.now() - t0;
  return rep;
}

// ---------------------------------------------------------------------------------------------
// Reading the target's counters (from outside: /proc/PID/net/* shows the namespace of PID)

/** Receive queue (bytes) and drops of every raw socket of IP protocol 112 in PID's namespace. */
export function rawSocketStats(procNetRaw: string): { rxQueue: number; drops: number } {
  let rxQueue = 0;
  let drops = 0;
  for (const line of procNetRaw.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const local = f[1] ?? '';
    if (!local.endsWith(':0070')) continue; // protocol 112 in the "port" field
    rxQueue += parseInt((f[4] ?? '0:0').split(':')[1] ?? '0', 16);
    drops += Number(f[f.length - 1]);
  }
  return { rxQueue, drops };
}

/** `Ip:` counters from /proc/PID/net/snmp and `IpExt:` from /proc/PID/net/netstat. */
export function ipCounters(snmp: string, netstat = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const text of [snmp, netstat]) {
    const lines = text.split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      const h = lines[i]!.split(/\s+/);
      const v = lines[i + 1]!.split(/\s+/);
      if (h[0] !== v[0] || !(h[0] === 'Ip:' || h[0] === 'IpExt:')) continue;
      for (let j = 1; j < h.length; j++) out[h[j]!] = Number(v[j]);
      i++;
    }
  }
  return out;
}
