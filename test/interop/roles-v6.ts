/**
 * The mixed-pair scenario of roles.ts for an IPv6 instance (not a test file; run by
 * roles-v6-multicast.test.ts and roles-v6-unicast.test.ts), validated with keepalived on both
 * sides too (INTEROP_VRRPD_IMPL=keepalived).
 *
 * The instance has only IPv6 VIPs (`fd00:A:B:C::100/64`, in the hosts' /64), so keepalived makes it
 * an IPv6 instance: VRRPv3 to ff02::12 from eth0's link-local address (multicast), or from
 * `unicast_src_ip` to the `unicast_peer` (both global fd00:: addresses), or (`linkLocalPeers`) from
 * eth0's link-local address to the peer's, no unicast_src_ip. Same phases as roles.ts
 * (election, crash and recovery with preemption, priority-0 stops, in both role assignments);
 * checked by `ip -6 addr`, the wire (VRRP over IPv6, and unsolicited neighbour advertisements
 * instead of GARPs after each takeover) and a client's `ping -6`.
 *
 * What keepalived 2.2.7 did in those runs (and so what is asserted): no `version 3` needed (an
 * IPv6 instance is v3); adverts with traffic class 0xc0 and a kernel flow label (constant per
 * sender, different between a and b, so layoutDiff6 masks it); hop limit 255 to ff02::12 but 64 (the
 * kernel default) to a unicast peer; VIP added `nodad`, valid and preferred forever; on each
 * takeover 5 unsolicited NAs within 0.3 ms, from the VIP itself to ff02::1, flags Override only,
 * with the target link-layer address option. Not asserted: in unicast, leaving FAULT it sends one
 * NA for its unicast_src_ip; after a priority-0 takeover it sometimes sends a second batch of 5
 * about 1 s later (IPv4 shows the same with GARPs).
 */
import { VRRPD_IMPL, assertLabGone, assertNodesGone, finish, pingGap, VRRPD_TROUBLE_RE, type Pair, type T } from './pair.js';
import {
  adverts6,
  advertProblems6,
  assertClientReaches6,
  assertHolder6,
  createPair6,
  layoutDiff6,
  neighbourAdverts,
  type ExpectedAdvert6,
} from './pair6.js';
import { SLACK_MS, phases, versionLines, type FamilyOps, type RolesOptions, type Run, type Timeline } from './roles.js';
import { keepalivedConf, maxOverlapMs, ownership, packetErrors, wallNowMs, type Impl } from '../support/vrrp-harness.js';

export interface Roles6Options extends Omit<RolesOptions, 'authPass'> {
  /**
   * Unicast without `unicast_src_ip`, each peer named by its link-local address: keepalived then
   * binds to and sends from eth0's link-local address (docs/keepalived-behaviour.md 3.1 "Source address").
   */
  linkLocalPeers?: boolean;
  /** The [master, backup] implementations, one subtest each (default: vrrpd/keepalived both ways). */
  pairs?: ReadonlyArray<readonly [Impl, Impl]>;
}

/** Run.o is the scenario's Roles6Options (roles6Scenario builds every Run of this file). */
function linkLocalPeers(r: Run): boolean {
  return (r.o as Roles6Options).linkLocalPeers === true;
}

/** The peer of `h` as its unicast_peer line names it: its global address, or (linkLocalPeers) its link-local one. */
function peerAddress(r: Run, h: 'a' | 'b'): string {
  const peer = r.p.lab.host(h === 'a' ? 'b' : 'a');
  return linkLocalPeers(r) ? peer.linkLocal! : peer.ip6!;
}

const IPV6: FamilyOps = {
  conf(r, h, state, priority) {
    const { o, p } = r;
    const [globalLines, instanceLines] = versionLines(o);
    return keepalivedConf(
      `${o.prefix}${h}`,
      {
        state,
        vrid: r.vrid,
        priority,
        advertInt: o.advertInt ?? 1,
        vips: [`${p.vip}/64`],
        ...(o.unicast ? { ...(linkLocalPeers(r) ? {} : { unicastSrc: p.lab.host(h).ip6! }), unicastPeers: [peerAddress(r, h)] } : {}),
        extra: instanceLines,
      },
      globalLines,
    );
  },
  assertHolder: assertHolder6,
  assertClientReaches: assertClientReaches6,
};

/** Where host `h`'s adverts come from: its link-local address (multicast, linkLocalPeers) or unicast_src_ip. */
function advertSrc(r: Run, h: 'a' | 'b'): string {
  const host = r.p.lab.host(h);
  return r.o.unicast && !linkLocalPeers(r) ? host.ip6! : host.linkLocal!;
}

function advertsFrom6(r: Run, h: 'a' | 'b', fromMs: number, toMs: number, withZero = false): ReturnType<typeof adverts6> {
  const src = advertSrc(r, h);
  return adverts6(r.p.frames).filter((x) => x.src === src && x.tsMs >= fromMs && x.tsMs <= toMs && (withZero || x.prio > 0));
}

/**
 * A takeover's unsolicited neighbour advertisements for the VIP from `h`: at least `min`, each to
 * ff02::1 (33:33:00:00:00:01) with hop limit 255, Override set, Solicited clear, the holder's MAC
 * as target link-layer address, a valid checksum.
 */
function checkNas(r: Run, h: 'a' | 'b', fromMs: number, toMs: number, what: string, min = 5): void {
  const { t, p } = r;
  const mac = p.lab.host(h).mac;
  const nas = neighbourAdverts(p.frames).filter((x) => x.target === p.vip && x.srcMac === mac && x.tsMs >= fromMs && x.tsMs <= toMs);
  t.ok(nas.length >= min, `${what}: ${nas.length} unsolicited NAs for ${p.vip} from ${h} (>= ${min})`);
  const odd = nas.filter(
    (x) =>
      x.dst !== 'ff02::1' ||
      x.dstMac !== '33:33:00:00:00:01' ||
      x.hopLimit !== 255 ||
      !x.override ||
      x.solicited ||
      x.tlla !== mac ||
      !x.checksumOk,
  );
  t.same(
    odd.map((x) => `${x.src} > ${x.dst} (${x.dstMac}) hl ${x.hopLimit} R${+x.router}S${+x.solicited}O${+x.override} tlla ${x.tlla}`),
    [],
    `${what}: NAs to ff02::1, hop limit 255, Override, not Solicited, target link-layer address = ${h}'s MAC, checksum valid`,
  );
  if (nas[0])
    t.comment(
      `${what}: ${nas.length} NAs from ${nas[0].src}, flags R${+nas[0].router}S${+nas[0].solicited}O${+nas[0].override}, at +${nas.map((x) => (x.tsMs - nas[0]!.tsMs).toFixed(1)).join(',')} ms, len ${nas[0].payloadLength}`,
    );
}

function wireChecks6(r: Run, tl: Timeline): void {
  const { t, p, mImpl, bImpl, A } = r;
  const { tSteady, tSteadyEnd, tA, tB, tCrash, tUp, tA2, tStop, tB2, tStop2 } = tl;
  const steadyA = advertsFrom6(r, 'a', tSteady, tSteadyEnd);
  t.ok(steadyA.length >= 2 && steadyA.every((x) => x.prio === 150), `steady: ${steadyA.length} adverts from a (${mImpl}), priority 150`);
  t.same(advertsFrom6(r, 'b', tSteady, tSteadyEnd), [], `steady: b (${bImpl}) is silent as backup`);
  const asMasterB = advertsFrom6(r, 'b', tB + 50, tUp);
  t.ok(asMasterB.length >= 1 && asMasterB.every((x) => x.prio === 100), `after the crash: b (${bImpl}) advertises priority 100`);
  checkNas(r, 'b', tCrash, tB + 1000, `takeover by ${bImpl} after crash`);
  checkNas(r, 'a', tA2 - 100, tA2 + 1000, `takeover by ${mImpl} after recovery`);
  checkNas(r, 'b', tStop, tB2 + 1000, `takeover by ${bImpl} after graceful stop`);
  const zeroA = advertsFrom6(r, 'a', tStop, tStop + 1500, true).filter((x) => x.prio === 0);
  t.ok(zeroA.length >= 1, `graceful stop: ${mImpl} sent a priority-0 advert (${zeroA.length})`);
  const zeroB = advertsFrom6(r, 'b', tStop2, tStop2 + 2500, true).filter((x) => x.prio === 0);
  t.ok(zeroB.length >= 1, `graceful stop: ${bImpl} sent a priority-0 advert (${zeroB.length})`);
  const firstA = advertsFrom6(r, 'a', tA - 100, tA + 2000)[0];
  const firstB = asMasterB[0];
  if (firstA && firstB) t.same(layoutDiff6(firstA, firstB), [], `${mImpl} and ${bImpl} IPv6 adverts have the same layout`);
  for (const [h, x] of [
    ['a', firstA],
    ['b', firstB],
  ] as const)
    if (x)
      t.comment(
        `${h}: advert ${x.src} > ${x.dst} tclass 0x${x.trafficClass.toString(16)} flow label 0x${x.flowLabel.toString(16)} (${new Set(advertsFrom6(r, h, 0, Infinity, true).map((y) => y.flowLabel.toString(16))).size} distinct)`,
      );
    else t.fail('adverts from both sides were captured');
  const pingSlack = 0.5 * A + 60 + SLACK_MS;
  const gapCrash = pingGap(p, tCrash, Math.min(tB + 1000, tUp));
  t.ok(
    gapCrash <= tB - tCrash + pingSlack,
    `client: ping -6 gap ${gapCrash.toFixed(0)} ms at the crash (VIP moved after ${(tB - tCrash).toFixed(0)} ms)`,
  );
  const gapStop = pingGap(p, tStop, Math.min(tB2 + 1000, tStop2));
  t.ok(
    gapStop <= tB2 - tStop + pingSlack,
    `client: ping -6 gap ${gapStop.toFixed(0)} ms at the graceful stop (VIP moved after ${(tB2 - tStop).toFixed(0)} ms)`,
  );
}

/** Overlap, the daemons' logs, every advert on the wire keepalived-shaped. */
function finalChecks6(r: Run): void {
  const { t, p, A } = r;
  const end = wallNowMs();
  const overlap = maxOverlapMs(ownership(p.mon.a.events(), p.vip, end), ownership(p.mon.b.events(), p.vip, end));
  t.ok(overlap <= A, `never both holding ${p.vip} longer than one advert interval (max ${overlap.toFixed(1)} ms)`);
  for (const n of p.nodes) {
    t.same(packetErrors(n.log), [], `${n.impl} on ${n.host} logged no packet errors about its peer's adverts`);
    if (n.impl === 'vrrpd')
      t.same(
        n.log.split('\n').filter((l) => VRRPD_TROUBLE_RE.test(l)),
        [],
        `vrrpd on ${n.host} logged no I/O or internal errors`,
      );
  }
  for (const h of ['a', 'b'] as const) {
    const mine = adverts6(p.frames).filter((x) => x.srcMac === p.lab.host(h).mac);
    const e: ExpectedAdvert6 = {
      vrid: r.vrid,
      vips: [p.vip],
      src: advertSrc(r, h),
      dst: r.o.unicast ? peerAddress(r, h) : 'ff02::12',
      adverInt: r.o.advertInt ?? 1,
      hopLimit: r.o.unicast ? 64 : 255,
    };
    const bad = new Map<string, number>();
    for (const x of mine) for (const pr of advertProblems6(x, e)) bad.set(pr, (bad.get(pr) ?? 0) + 1);
    t.same(
      [...bad.entries()].map(([k, v]) => `${k} (x${v})`),
      [],
      `all ${mine.length} IPv6 adverts from ${h} are keepalived-shaped`,
    );
  }
}

export async function roles6Scenario(t: T, o: Roles6Options): Promise<void> {
  const pairs = o.pairs ?? [
    [VRRPD_IMPL, 'keepalived'],
    ['keepalived', VRRPD_IMPL],
  ];
  for (const [mImpl, bImpl] of pairs) {
    await t.test(`IPv6: ${mImpl} master (priority 150) + ${bImpl} backup (priority 100)`, async (t) => {
      const p: Pair = await createPair6(t, o.prefix, o.subnet);
      const r: Run = { t, o, p, mImpl, bImpl, A: (o.advertInt ?? 1) * 1000, vrid: 52 };
      const { tl } = await phases(r, IPV6);
      await finish(p);
      assertNodesGone(t, p);
      wireChecks6(r, tl);
      finalChecks6(r);
      const at = (x: number): string => (x - tl.tStart).toFixed(0);
      t.comment(
        `timeline (ms from start): a master ${at(tl.tA)}, crash ${at(tl.tCrash)} -> b ${at(tl.tB)}, link up ${at(tl.tUp)} -> a ${at(tl.tA2)}, stop ${at(tl.tStop)} -> b ${at(tl.tB2)}`,
      );
    });
  }
  await assertLabGone(t, o.prefix);
}
