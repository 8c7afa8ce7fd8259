/**
 * Support for the keepalived interop tests (not a test file): a lab of two VRRP nodes (a, b) and a
 * client (c) on one bridge, with address monitors in a and b, a whole-run pcap on the bridge, a
 * 20 ms pinger on the client, and the checks every scenario makes on the kernel, the wire and the
 * client. The node runners and observers come from test/support/vrrp-harness.ts (shared with the
 * failover benchmark).
 *
 * The tests run the BUILT daemon (`node bin/vrrpd run`, i.e. dist/); they never build it. Set
 * `INTEROP_VRRPD_IMPL=keepalived` to put keepalived where vrrpd would run: the reference run that
 * proves the harness and its assertions on two keepalived 2.2.7 nodes.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Test as TapTest } from 'tap';
import { Lab, netnsSkip, run, type Capture, type CaptureResult } from '../support/netns.js';
import type { Decoded } from '../support/pcap.js';
import { requireBuild } from '../support/build-check.js';
import { inetChecksum } from '../support/vrrp-packet.js';
import {
  keepalivedUnavailable,
  longestGapMs,
  maxOverlapMs,
  ownership,
  packetErrors,
  sleep,
  startAddrMonitor,
  startNode,
  startPinger,
  wallNowMs,
  type AddrMonitor,
  type Impl,
  type Pinger,
  type StartNodeOptions,
  type VrrpNode,
} from '../support/vrrp-harness.js';

export type T = TapTest;

/** The implementation that plays "vrrpd" in the interop tests. */
export const VRRPD_IMPL: Impl = process.env.INTEROP_VRRPD_IMPL === 'keepalived' ? 'keepalived' : 'vrrpd';

/** For tap's skip option: why the interop tests cannot run here, or false. */
export function interopSkip(): false | string {
  const ns = netnsSkip();
  if (ns) return `${ns} (keepalived interop tests)`;
  const ka = keepalivedUnavailable();
  if (ka) return ka;
  if (VRRPD_IMPL === 'vrrpd') {
    // a missing or stale build fails the file (or set INTEROP_VRRPD_IMPL=keepalived for the keepalived-only reference run)
    const v = requireBuild();
    if (v) return v;
  }
  return false;
}

export const ADVERT_INTERVAL_MS = 1000;

/** vrrpd log lines that mean something failed (I/O, netlink, internal). */
export const VRRPD_TROUBLE_RE =
  /internal error|Cant send advert|cannot (add|remove|open|re-add)|could not re-add|socket failed|\) sending (gratuitous ARP|unsolicited Neighbour Advert)|Unknown VRID/i;

export interface Pair {
  readonly lab: Lab;
  readonly vip: string;
  readonly mon: Record<'a' | 'b', AddrMonitor>;
  readonly ping: Pinger;
  readonly cap: Capture;
  /** Every node started in this lab (restarts included), for the final checks. */
  readonly nodes: VrrpNode[];
  /** Whole-run pcap, available after `finish()`. */
  frames: Decoded[];
  start(o: StartNodeOptions): VrrpNode;
}

/**
 * Build the lab (hosts a, b, c), start the monitors, the bridge capture and the client's pinger.
 * Everything is torn down with `t`.
 */
export async function createPair(t: T, prefix: string, subnet: string, vipHost = 100): Promise<Pair> {
  const lab = await Lab.create(t, { prefix, subnet, hosts: ['a', 'b', 'c'] });
  const vip = `${lab.subnet}.${vipHost}`;
  const mon = { a: await startAddrMonitor(lab, 'a'), b: await startAddrMonitor(lab, 'b') };
  const cap = await lab.capture(lab.switchNs, { ifname: 'br0', filter: 'proto 112 or arp or icmp' });
  const ping = startPinger(lab, 'c', vip, 0.02);
  const nodes: VrrpNode[] = [];
  const pair: Pair = {
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
  return pair;
}

function holdsNow(mon: AddrMonitor, vip: string): boolean {
  const ev = mon.eventsFor(vip);
  return ev.length > 0 && ev[ev.length - 1]!.op === 'add';
}

/**
 * Wait (on the address monitors: the kernel) until `holder` has the VIP and the other node has not;
 * returns the wall time at which the holder's VIP appeared (or now if it was already there).
 */
export async function waitHolder(p: Pair, holder: 'a' | 'b', timeoutMs: number): Promise<number> {
  const other = holder === 'a' ? 'b' : 'a';
  const deadline = wallNowMs() + timeoutMs;
  for (;;) {
    if (holdsNow(p.mon[holder], p.vip) && !holdsNow(p.mon[other], p.vip)) {
      const ev = p.mon[holder].eventsFor(p.vip);
      return ev[ev.length - 1]!.ms;
    }
    if (wallNowMs() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${holder} alone to hold ${p.vip}; a: ${JSON.stringify(p.mon.a.eventsFor(p.vip))} b: ${JSON.stringify(p.mon.b.eventsFor(p.vip))}\n--- nodes:\n${p.nodes.map((n) => `[${n.impl}@${n.host}]\n${n.log.split('\n').slice(-25).join('\n')}`).join('\n')}`,
      );
    }
    await sleep(10);
  }
}

/** Wait until `who` holds the VIP at the kernel (the other node not considered). */
export async function waitVipOn(p: Pair, who: 'a' | 'b', present: boolean, timeoutMs: number): Promise<number> {
  const deadline = wallNowMs() + timeoutMs;
  while (holdsNow(p.mon[who], p.vip) !== present) {
    if (wallNowMs() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${p.vip} ${present ? 'on' : 'off'} ${who}`);
    await sleep(10);
  }
  return wallNowMs();
}

/** Assert with `ip addr` in every node namespace: only `holder` (or nobody) has the VIP. */
export async function assertHolder(t: T, p: Pair, holder: 'a' | 'b' | null, label?: string): Promise<void> {
  for (const h of ['a', 'b'] as const) {
    const addrs = await p.lab.addresses(h);
    const mine = addrs.find((x) => x.local === p.vip);
    if (h === holder) {
      t.ok(mine, `ip addr: ${h} holds ${p.vip}`);
      if (label !== undefined && mine) t.equal(mine.label, label, `ip addr: label ${label}`);
    } else t.notOk(mine, `ip addr: ${h} does not hold ${p.vip}`);
  }
}

/** The client pings the VIP and its neighbour table maps the VIP to the holder's MAC. */
export async function assertClientReaches(t: T, p: Pair, holder: 'a' | 'b'): Promise<void> {
  let ok = false;
  for (let i = 0; i < 5 && !ok; i++) {
    const r = await p.lab.exec('c', ['ping', '-n', '-c', '1', '-W', '1', p.vip], { allowFail: true, timeoutMs: 3000 });
    ok = r.code === 0;
  }
  t.ok(ok, `client: ${p.vip} answers ping`);
  const neigh = JSON.parse((await p.lab.exec('c', ['ip', '-j', 'neigh', 'show', p.vip, 'dev', 'eth0'])).stdout) as Array<{
    lladdr?: string;
  }>;
  t.equal(neigh[0]?.lladdr, p.lab.host(holder).mac, `client: ${p.vip} is at ${holder}'s MAC`);
}

// ---------------------------------------------------------------------------------------------
// The wire

export interface AdvertOnWire {
  readonly tsMs: number;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  readonly tos: number;
  readonly id: number;
  readonly fragOff: number;
  readonly ipTotalLength: number;
  readonly ipChecksumOk: boolean;
  readonly version: number;
  readonly type: number;
  readonly vrid: number;
  readonly prio: number;
  readonly naddr: number;
  readonly authType: number;
  /** v2: the Adver Int byte (seconds). */
  readonly adverInt: number;
  /** v3: the 4 reserved bits before the Max Adver Int. */
  readonly rsvd: number;
  /** v3: the 12-bit Max Adver Int (centiseconds). */
  readonly maxAdverIntCs: number;
  /** v2: over the VRRP message; v3: over the IPv4 pseudo-header and the message (RFC 5798 5.2.8). */
  readonly checksumOk: boolean;
  readonly vips: string[];
  readonly authData: Buffer;
  /** The IPv4 header and VRRP message bytes as captured. */
  readonly ipHeader: Buffer;
  readonly vrrp: Buffer;
}

/** Independent decode of every VRRP frame (IP proto 112) in a capture. */
export function adverts(frames: readonly Decoded[]): AdvertOnWire[] {
  const out: AdvertOnWire[] = [];
  for (const f of frames) {
    const ip = f.ip;
    if (!ip || ip.protocol !== 112) continue;
    const raw = f.eth.payload;
    const ipHeader = Buffer.from(raw.subarray(0, ip.ihl));
    const vrrp = Buffer.from(ip.payload);
    if (vrrp.length < 8) continue;
    const naddr = vrrp[3]!;
    const version = vrrp[0]! >> 4;
    const pseudo = Buffer.alloc(12);
    raw.copy(pseudo, 0, 12, 20);
    pseudo[9] = 112;
    pseudo.writeUInt16BE(vrrp.length, 10);
    out.push({
      tsMs: f.tsUs / 1000,
      srcMac: f.eth.src,
      dstMac: f.eth.dst,
      src: ip.src,
      dst: ip.dst,
      ttl: ip.ttl,
      tos: ip.tos,
      id: ip.id,
      fragOff: ip.fragOff,
      ipTotalLength: ip.totalLength,
      ipChecksumOk: inetChecksum(ipHeader) === 0,
      version,
      type: vrrp[0]! & 0xf,
      vrid: vrrp[1]!,
      prio: vrrp[2]!,
      naddr,
      authType: vrrp[4]!,
      adverInt: vrrp[5]!,
      rsvd: vrrp[4]! >> 4,
      maxAdverIntCs: vrrp.readUInt16BE(4) & 0xfff,
      checksumOk: inetChecksum(version === 3 ? Buffer.concat([pseudo, vrrp]) : vrrp) === 0,
      vips: Array.from({ length: naddr }, (_, i) => [...vrrp.subarray(8 + 4 * i, 12 + 4 * i)].join('.')),
      authData: Buffer.from(vrrp.subarray(8 + 4 * naddr, 16 + 4 * naddr)),
      ipHeader,
      vrrp,
    });
  }
  return out;
}

export interface GarpOnWire {
  readonly tsMs: number;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly op: number;
  readonly senderMac: string;
  readonly targetMac: string;
  readonly ip: string;
}

/** Gratuitous ARPs (sender IP == target IP) in a capture. */
export function garps(frames: readonly Decoded[]): GarpOnWire[] {
  return frames
    .filter((f) => f.arp && f.arp.senderIp === f.arp.targetIp)
    .map((f) => ({
      tsMs: f.tsUs / 1000,
      srcMac: f.eth.src,
      dstMac: f.eth.dst,
      op: f.arp!.op,
      senderMac: f.arp!.senderMac,
      targetMac: f.arp!.targetMac,
      ip: f.arp!.senderIp,
    }));
}

export interface ExpectedAdvert {
  vrid: number;
  vips: readonly string[];
  /** PASS password, or undefined for no auth. */
  authPass?: string;
  /** 224.0.0.18, or the unicast peer. */
  dst: string;
  /** advert_int in seconds (default 1). */
  adverInt?: number;
  /** VRRP version (default 2). */
  version?: 2 | 3;
}

/**
 * Check one advert field by field against keepalived's format (docs/keepalived-behaviour.md 3.2) and return the
 * list of differences (empty when it is right). Version 3 (RFC 5798 5.2): no authentication fields,
 * the 12-bit Max Adver Int in centiseconds, the checksum over the pseudo-header.
 */
export function advertProblems(a: AdvertOnWire, e: ExpectedAdvert): string[] {
  const p: string[] = [];
  const want = (name: string, got: unknown, exp: unknown): void => {
    if (got !== exp) p.push(`${name} ${String(got)}, expected ${String(exp)}`);
  };
  const v = e.version ?? 2;
  const vrrpLen = (v === 3 ? 8 : 16) + 4 * e.vips.length;
  want('IP TTL', a.ttl, 255);
  want('IP TOS', a.tos, 0xc0);
  want('IP frag/DF', a.fragOff, 0);
  want('IP dst', a.dst, e.dst);
  if (!a.ipChecksumOk) p.push('bad IP header checksum');
  want('IP total length', a.ipTotalLength, 20 + vrrpLen);
  want('IP header length', a.ipHeader.length, 20);
  want('VRRP version', a.version, v);
  want('VRRP type', a.type, 1);
  want('VRID', a.vrid, e.vrid);
  want('count IP addrs', a.naddr, e.vips.length);
  if (v === 2) {
    want('auth type', a.authType, e.authPass === undefined ? 0 : 1);
    want('adver int', a.adverInt, e.adverInt ?? 1);
  } else {
    want('v3 rsvd', a.rsvd, 0);
    want('max adver int (cs)', a.maxAdverIntCs, Math.round((e.adverInt ?? 1) * 100));
  }
  if (!a.checksumOk) p.push(`bad VRRP${v === 3 ? 'v3 (pseudo-header)' : ''} checksum`);
  want('VIPs', a.vips.join(','), e.vips.join(','));
  if (v === 2) {
    const auth = Buffer.alloc(8);
    if (e.authPass !== undefined) Buffer.from(e.authPass, 'latin1').subarray(0, 8).copy(auth);
    want('auth data', a.authData.toString('hex'), auth.toString('hex'));
  }
  want('VRRP length', a.vrrp.length, vrrpLen);
  if (e.dst === '224.0.0.18') want('Ethernet dst', a.dstMac, '01:00:5e:00:00:12');
  return p;
}

/**
 * Byte-level differences between two adverts from different implementations for the same
 * instance: everything must match except the IP id/checksum/source/destination (and destination
 * MAC for unicast), the priority and the VRRP checksum.
 */
export function layoutDiff(x: AdvertOnWire, y: AdvertOnWire): string[] {
  const d: string[] = [];
  const ipSame = [0, 1, 2, 3, 6, 7, 8, 9];
  for (const i of ipSame) if (x.ipHeader[i] !== y.ipHeader[i]) d.push(`IP byte ${i}: ${x.ipHeader[i]} vs ${y.ipHeader[i]}`);
  if (x.vrrp.length !== y.vrrp.length) d.push(`VRRP length ${x.vrrp.length} vs ${y.vrrp.length}`);
  for (let i = 0; i < Math.min(x.vrrp.length, y.vrrp.length); i++) {
    if (i === 2 || i === 6 || i === 7) continue;
    if (x.vrrp[i] !== y.vrrp[i]) d.push(`VRRP byte ${i}: ${x.vrrp[i]} vs ${y.vrrp[i]}`);
  }
  return d;
}

/** Stop the pinger, the capture and the monitors; parse the capture into `p.frames`. */
export async function finish(p: Pair): Promise<CaptureResult> {
  await p.ping.stop();
  const res = await p.cap.stop();
  p.frames = res.frames;
  await Promise.all([p.mon.a.proc.kill('SIGTERM', 1000), p.mon.b.proc.kill('SIGTERM', 1000)]);
  return res;
}

/** The checks every scenario ends with (call after `finish`). */
export function finalChecks(t: T, p: Pair, expected: Omit<ExpectedAdvert, 'dst'> & { unicast: boolean }): void {
  const end = wallNowMs();
  const overlap = maxOverlapMs(ownership(p.mon.a.events(), p.vip, end), ownership(p.mon.b.events(), p.vip, end));
  const interval = (expected.adverInt ?? 1) * ADVERT_INTERVAL_MS;
  t.ok(overlap <= interval, `never both holding ${p.vip} longer than one advert interval (max ${overlap.toFixed(1)} ms)`);
  for (const n of p.nodes) {
    // vrrpd logs each dropped advert with keepalived's wording, so the same grep applies to both.
    t.same(packetErrors(n.log), [], `${n.impl} on ${n.host} logged no packet errors about its peer's adverts`);
    if (n.impl === 'vrrpd')
      t.same(
        n.log.split('\n').filter((l) => VRRPD_TROUBLE_RE.test(l)),
        [],
        `vrrpd on ${n.host} logged no I/O or internal errors`,
      );
  }
  // Every advert on the wire, from either implementation, is well formed.
  const all = adverts(p.frames);
  for (const h of ['a', 'b'] as const) {
    const host = p.lab.host(h);
    const peer = p.lab.host(h === 'a' ? 'b' : 'a');
    const mine = all.filter((x) => x.src === host.ip);
    const bad = new Map<string, number>();
    for (const x of mine) {
      for (const pr of advertProblems(x, { ...expected, dst: expected.unicast ? peer.ip : '224.0.0.18' }))
        bad.set(pr, (bad.get(pr) ?? 0) + 1);
      if (x.srcMac !== host.mac) bad.set(`Ethernet src ${x.srcMac}`, (bad.get(`Ethernet src ${x.srcMac}`) ?? 0) + 1);
    }
    t.same(
      [...bad.entries()].map(([k, v]) => `${k} (x${v})`),
      [],
      `all ${mine.length} adverts from ${h} are keepalived-shaped`,
    );
  }
}

/** The adverts (priority > 0 unless `withZero`) sent by host `h` within [fromMs, toMs]. */
export function advertsFrom(p: Pair, h: 'a' | 'b', fromMs: number, toMs: number, withZero = false): AdvertOnWire[] {
  const ip = p.lab.host(h).ip;
  return adverts(p.frames).filter((x) => x.src === ip && x.tsMs >= fromMs && x.tsMs <= toMs && (withZero || x.prio > 0));
}

/** GARPs for the VIP from host `h`'s MAC within [fromMs, toMs]. */
export function garpsFrom(p: Pair, h: 'a' | 'b', fromMs: number, toMs: number): GarpOnWire[] {
  const mac = p.lab.host(h).mac;
  return garps(p.frames).filter((g) => g.ip === p.vip && g.srcMac === mac && g.tsMs >= fromMs && g.tsMs <= toMs);
}

/** Check a takeover's GARPs: keepalived's frame (request, broadcast, target MAC ff..ff) and at least `min` of them. */
export function checkGarps(t: T, p: Pair, h: 'a' | 'b', fromMs: number, toMs: number, what: string, min = 5): void {
  const g = garpsFrom(p, h, fromMs, toMs);
  t.ok(g.length >= min, `${what}: ${g.length} GARPs for ${p.vip} from ${h} (>= ${min})`);
  const odd = g.filter(
    (x) => x.op !== 1 || x.dstMac !== 'ff:ff:ff:ff:ff:ff' || x.targetMac !== 'ff:ff:ff:ff:ff:ff' || x.senderMac !== p.lab.host(h).mac,
  );
  t.same(odd, [], `${what}: GARPs are ARP requests to broadcast, target MAC ff:ff:ff:ff:ff:ff, sender MAC = ${h}'s MAC`);
}

/** Longest gap in the client's replies within [fromMs, toMs]. */
export function pingGap(p: Pair, fromMs: number, toMs: number): number {
  return longestGapMs(p.ping.replies(), fromMs, toMs);
}

/**
 * Stop a node gracefully and check what every stop must do: exit status 0 within 2 s of the
 * SIGTERM, pid files removed. Sends SIGTERM unless `sentAt` says it was already sent (wall ms).
 */
export async function gracefulStop(t: T, n: VrrpNode, what: string, sentAt?: number): Promise<number> {
  const t0 = sentAt ?? n.sigterm();
  await Promise.race([n.proc.exited, sleep(5000)]);
  const ms = wallNowMs() - t0;
  const r = await n.stop(1000);
  t.equal(r.exitCode, 0, `${what}: exit status 0`);
  t.ok(ms <= 2000, `${what}: exited within 2 s of SIGTERM (${ms.toFixed(0)} ms)`);
  t.same(
    n.pidFiles.filter((f) => existsSync(f)),
    [],
    `${what}: pid files removed`,
  );
  return ms;
}

/** True while any process is left in the process group led by `pid`. */
function groupAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every daemon of the scenario is gone (its whole process group) and left no pid file. */
export function assertNodesGone(t: T, p: Pair): void {
  for (const n of p.nodes) {
    t.notOk(groupAlive(n.proc.pid) || n.proc.running, `${n.impl} on ${n.host}: no process left (pid ${n.proc.pid})`);
    t.same(
      n.pidFiles.filter((f) => existsSync(f)),
      [],
      `${n.impl} on ${n.host}: no pid file left`,
    );
  }
}

/** After a file's labs are destroyed: no namespace and no temp dir with the prefix remain. */
export async function assertLabGone(t: T, prefix: string): Promise<void> {
  const ns = (await run(['ip', 'netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
  t.same(ns, [], `no ${prefix}* namespace left`);
  t.same(
    readdirSync(tmpdir()).filter((f) => f.startsWith(prefix)),
    [],
    `no ${tmpdir()}/${prefix}* directory left`,
  );
}
