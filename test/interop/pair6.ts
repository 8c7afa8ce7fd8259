/**
 * The IPv6 side of the interop pair (not a test file; pair.ts is the IPv4 one): a lab built with
 * `ipv6: true` (hosts a, b and the client c), IPv6 address monitors in a and b, a whole-run pcap on
 * the bridge (VRRP over IPv6 and ICMPv6), a 20 ms `ping -6` on the client, and an independent
 * decode of what the wire shows: VRRPv3 adverts over IPv6 (RFC 5798 5.1.2, 5.2) and unsolicited
 * neighbour advertisements (RFC 4861 4.4, 7.2.6). Used by roles-v6.ts.
 */
import type { Test as TapTest } from 'tap';
import { Lab } from '../support/netns.js';
import { ip6Of } from '../support/ns-lab.js';
import type { Decoded } from '../support/pcap.js';
import { inetChecksum } from '../support/vrrp-packet.js';
import { startAddrMonitor, startNode, type AddrEvent, type AddrMonitor, type Pinger, type VrrpNode } from '../support/vrrp-harness.js';
import type { Pair } from './pair.js';

type T = TapTest;

/** RFC 5952 text of 16 bytes (lower case, longest run of two or more zero groups as `::`). */
export function ip6Text(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** `[2026-11-24T03:17:43.247090]` (UTC) -> ms. */
function isoMicrosToMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)$/.exec(s);
  return m ? Date.parse(`${m[1]}Z`) + Number(`0.${m[2]}`) * 1000 : Number.NaN;
}

/** The `inet6` lines of `ip -ts monitor address`. */
export function parseAddrMonitor6(text: string): AddrEvent[] {
  const out: AddrEvent[] = [];
  const re = /^\[([^\]]+)\] (Deleted )?\d+: (\S+)\s+inet6 ([0-9a-f:]+)\/(\d+)/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) out.push({ ms: isoMicrosToMs(m[1]!), op: m[2] ? 'del' : 'add', dev: m[3]!, ip: m[4]!, prefixLen: Number(m[5]), label: m[3]! });
  }
  return out;
}

/** `ping -6 -D -n -i INTERVAL TARGET` in a host. */
export function startPinger6(lab: Lab, host: string, target: string, intervalS = 0.02): Pinger {
  const proc = lab.spawn(host, ['ping', '-6', '-D', '-n', '-i', String(intervalS), target]);
  const re = /^\[(\d+\.\d+)\] \d+ bytes from ([0-9a-f:]+): icmp_seq=\d+/;
  return {
    proc,
    replies: () =>
      proc.stdout
        .split('\n')
        .map((l) => re.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[2] === target)
        .map((m) => Number(m[1]) * 1000),
    stop: () => proc.kill('SIGINT', 2000),
  };
}

/**
 * The IPv6 pair: same shape as pair.ts's (so waitHolder, finish, gracefulStop and the node
 * checks apply), the VIP `fd00:A:B:C::100` in the hosts' /64.
 */
export async function createPair6(t: T, prefix: string, subnet: string): Promise<Pair> {
  const lab = await Lab.create(t, { prefix, subnet, hosts: ['a', 'b', 'c'], ipv6: true });
  const vip = ip6Of(lab.subnet, 100);
  const mon6 = async (h: string): Promise<AddrMonitor> => {
    const m = await startAddrMonitor(lab, h); // ready once it reported its (IPv4) probe address
    const events = (): AddrEvent[] => parseAddrMonitor6(m.proc.stdout).filter((e) => e.dev !== 'lo');
    return { proc: m.proc, events, eventsFor: (ip) => events().filter((e) => e.ip === ip) };
  };
  const mon = { a: await mon6('a'), b: await mon6('b') };
  const cap = await lab.capture(lab.switchNs, { ifname: 'br0', filter: 'ip6 proto 112 or icmp6' });
  const ping = startPinger6(lab, 'c', vip, 0.02);
  const nodes: VrrpNode[] = [];
  return {
    lab,
    vip,
    mon,
    ping,
    cap,
    nodes,
    frames: [],
    start(o) {
      const n = startNode(lab, o);
      nodes.push(n);
      t.teardown(() => n.stop(3000));
      return n;
    },
  };
}

/** `ip -6 addr` in a and b: only `holder` (or nobody) has the VIP; the holder's VIP is `nodad`. */
export async function assertHolder6(t: T, p: Pair, holder: 'a' | 'b' | null): Promise<void> {
  for (const h of ['a', 'b'] as const) {
    const mine = (await p.lab.addresses6(h)).find((x) => x.local === p.vip);
    if (h === holder) {
      t.ok(mine, `ip -6 addr: ${h} holds ${p.vip}`);
      if (mine)
        t.ok(
          mine.nodad === true && mine.tentative !== true && mine.preferred_life_time === 0xffffffff,
          `ip -6 addr: ${p.vip} on ${h} is nodad, not tentative, preferred forever`,
        );
    } else t.notOk(mine, `ip -6 addr: ${h} does not hold ${p.vip}`);
  }
}

/** The client pings the VIP (`ping -6`) and its neighbour table maps the VIP to the holder's MAC. */
export async function assertClientReaches6(t: T, p: Pair, holder: 'a' | 'b'): Promise<void> {
  let ok = false;
  for (let i = 0; i < 5 && !ok; i++) {
    const r = await p.lab.exec('c', ['ping', '-6', '-n', '-c', '1', '-W', '1', p.vip], { allowFail: true, timeoutMs: 3000 });
    ok = r.code === 0;
  }
  t.ok(ok, `client: ${p.vip} answers ping -6`);
  const out = (await p.lab.exec('c', ['ip', '-6', '-j', 'neigh', 'show', p.vip, 'dev', 'eth0'])).stdout;
  const neigh = JSON.parse(out || '[]') as Array<{ lladdr?: string }>;
  t.equal(neigh[0]?.lladdr, p.lab.host(holder).mac, `client: ${p.vip} is at ${holder}'s MAC`);
}

// ---------------------------------------------------------------------------------------------
// The wire

interface Ip6OnWire {
  readonly tsMs: number;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly src: string;
  readonly dst: string;
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly payloadLength: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  /** The 40-byte IPv6 header and the payload as captured. */
  readonly ipHeader: Buffer;
  readonly payload: Buffer;
  /** The upper-layer checksum over the pseudo-header (RFC 8200 8.1) and the payload is valid. */
  readonly checksumOk: boolean;
}

function ip6Frames(frames: readonly Decoded[]): Ip6OnWire[] {
  const out: Ip6OnWire[] = [];
  for (const f of frames) {
    const raw = f.eth.payload;
    if (f.eth.etherType !== 0x86dd || raw.length < 40 || raw[0]! >> 4 !== 6) continue;
    const payloadLength = raw.readUInt16BE(4);
    const payload = Buffer.from(raw.subarray(40, 40 + payloadLength));
    const pseudo = Buffer.alloc(40);
    raw.copy(pseudo, 0, 8, 40);
    pseudo.writeUInt32BE(payload.length, 32);
    pseudo[39] = raw[6]!;
    out.push({
      tsMs: f.tsUs / 1000,
      srcMac: f.eth.src,
      dstMac: f.eth.dst,
      src: ip6Text(raw.subarray(8, 24)),
      dst: ip6Text(raw.subarray(24, 40)),
      trafficClass: (raw.readUInt16BE(0) >> 4) & 0xff,
      flowLabel: raw.readUInt32BE(0) & 0xfffff,
      payloadLength,
      nextHeader: raw[6]!,
      hopLimit: raw[7]!,
      ipHeader: Buffer.from(raw.subarray(0, 40)),
      payload,
      checksumOk: inetChecksum(Buffer.concat([pseudo, payload])) === 0,
    });
  }
  return out;
}

export interface Advert6 extends Ip6OnWire {
  readonly version: number;
  readonly type: number;
  readonly vrid: number;
  readonly prio: number;
  readonly naddr: number;
  readonly rsvd: number;
  readonly maxAdverIntCs: number;
  readonly vips: string[];
}

/** VRRP over IPv6 (next header 112) in a capture. */
export function adverts6(frames: readonly Decoded[]): Advert6[] {
  return ip6Frames(frames)
    .filter((x) => x.nextHeader === 112 && x.payload.length >= 8)
    .map((x) => {
      const v = x.payload;
      const naddr = v[3]!;
      return {
        ...x,
        version: v[0]! >> 4,
        type: v[0]! & 0xf,
        vrid: v[1]!,
        prio: v[2]!,
        naddr,
        rsvd: v[4]! >> 4,
        maxAdverIntCs: v.readUInt16BE(4) & 0xfff,
        vips: Array.from({ length: naddr }, (_, i) => v.subarray(8 + 16 * i, 24 + 16 * i))
          .filter((b) => b.length === 16)
          .map(ip6Text),
      };
    });
}

export interface Na extends Ip6OnWire {
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly target: string;
  /** The target link-layer address option (type 2), if present. */
  readonly tlla: string | undefined;
}

/** ICMPv6 neighbour advertisements (type 136) in a capture. */
export function neighbourAdverts(frames: readonly Decoded[]): Na[] {
  return ip6Frames(frames)
    .filter((x) => x.nextHeader === 58 && x.payload.length >= 24 && x.payload[0] === 136)
    .map((x) => {
      const m = x.payload;
      let tlla: string | undefined;
      for (let o = 24; o + 8 <= m.length && m[o + 1]! > 0; o += 8 * m[o + 1]!)
        if (m[o] === 2) tlla = Array.from(m.subarray(o + 2, o + 8), (b) => b.toString(16).padStart(2, '0')).join(':');
      return {
        ...x,
        router: (m[4]! & 0x80) !== 0,
        solicited: (m[4]! & 0x40) !== 0,
        override: (m[4]! & 0x20) !== 0,
        target: ip6Text(m.subarray(8, 24)),
        tlla,
      };
    });
}

export interface ExpectedAdvert6 {
  vrid: number;
  vips: readonly string[];
  src: string;
  /** ff02::12, or the unicast peer. */
  dst: string;
  /** advert_int in seconds. */
  adverInt: number;
  /**
   * 255 to ff02::12; to a unicast peer keepalived 2.2.7 leaves the kernel's default (eth0's
   * hop_limit sysctl, 64): it sets only the multicast hop limit on its IPv6 socket.
   */
  hopLimit: number;
}

/** One IPv6 advert field by field against keepalived's (the list of differences; empty when right). */
export function advertProblems6(a: Advert6, e: ExpectedAdvert6): string[] {
  const p: string[] = [];
  const want = (name: string, got: unknown, exp: unknown): void => {
    if (got !== exp) p.push(`${name} ${String(got)}, expected ${String(exp)}`);
  };
  want('hop limit', a.hopLimit, e.hopLimit);
  want('traffic class', a.trafficClass, 0xc0);
  want('next header', a.nextHeader, 112);
  want('IPv6 src', a.src, e.src);
  want('IPv6 dst', a.dst, e.dst);
  want('payload length', a.payloadLength, 8 + 16 * e.vips.length);
  want('VRRP version', a.version, 3);
  want('VRRP type', a.type, 1);
  want('VRID', a.vrid, e.vrid);
  want('count IPv6 addrs', a.naddr, e.vips.length);
  want('rsvd', a.rsvd, 0);
  want('max adver int (cs)', a.maxAdverIntCs, Math.round(e.adverInt * 100));
  if (!a.checksumOk) p.push('bad VRRPv3 checksum (IPv6 pseudo-header)');
  want('VIPs', a.vips.join(','), e.vips.join(','));
  if (e.dst === 'ff02::12') want('Ethernet dst', a.dstMac, '33:33:00:00:00:12');
  return p;
}

/**
 * Byte-level differences between two IPv6 adverts from different implementations for the same
 * instance: the IPv6 header's first 8 bytes (version, traffic class, payload length, next header,
 * hop limit) except the flow label, and the VRRP message except priority and checksum. The flow
 * label is the kernel's (net.ipv6.auto_flowlabels: a hash of the flow, so a and b differ).
 */
export function layoutDiff6(x: Advert6, y: Advert6): string[] {
  const d: string[] = [];
  const mask = [0xff, 0xf0, 0, 0, 0xff, 0xff, 0xff, 0xff];
  for (let i = 0; i < 8; i++)
    if ((x.ipHeader[i]! & mask[i]!) !== (y.ipHeader[i]! & mask[i]!)) d.push(`IPv6 byte ${i}: ${x.ipHeader[i]} vs ${y.ipHeader[i]}`);
  if (x.payload.length !== y.payload.length) d.push(`VRRP length ${x.payload.length} vs ${y.payload.length}`);
  for (let i = 0; i < Math.min(x.payload.length, y.payload.length); i++)
    if (i !== 2 && i !== 6 && i !== 7 && x.payload[i] !== y.payload[i]) d.push(`VRRP byte ${i}: ${x.payload[i]} vs ${y.payload[i]}`);
  return d;
}
