/**
 * The mixed-pair scenario run by roles-*.test.ts (not a test file): vrrpd and keepalived 2.2.7 in
 * both roles with mixed priorities (master 150 on a, backup 100 on b), for one transport/auth/
 * version setting. Per role assignment: election, steady state, crash of the master (its bridge port
 * goes down: NO-CARRIER) and recovery with preemption, graceful stop of the master (SIGTERM),
 * graceful stop of the new master. Asserted on the kernel (`ip addr` in each namespace, address
 * monitors), the wire (bridge capture: adverts from each side, GARPs after every takeover,
 * priority-0 adverts on stop, byte layout identical to keepalived's) and the client (pings the VIP
 * and resolves it to the holder's MAC).
 *
 * Every protocol wait and bound is a multiple of the advert interval A (`advertInt`), plus
 * SLACK_MS for two daemons' timers and the observers on a busy 2-CPU VM; only process start-up and
 * exit keep fixed bounds. With priorities 150/100: master-down interval 3 x A + skew, skew =
 * (256 - priority) / 256 x A (RFC 5798 6.1; keepalived applies the same to v2 with A = 1 s).
 */
import {
  VRRPD_IMPL,
  advertProblems,
  advertsFrom,
  assertClientReaches,
  assertHolder,
  checkGarps,
  assertLabGone,
  assertNodesGone,
  createPair,
  finalChecks,
  finish,
  gracefulStop,
  layoutDiff,
  pingGap,
  waitHolder,
  type ExpectedAdvert,
  type Pair,
  type T,
} from './pair.js';
import { STATE_RE, countMatches, keepalivedConf, sleep, wallNowMs, type Impl, type VrrpNode } from '../support/vrrp-harness.js';

export interface RolesOptions {
  prefix: string;
  subnet: string;
  unicast: boolean;
  /** PASS authentication (v2 only: VRRPv3 has none). */
  authPass?: string;
  /** VRRP version, default 2. */
  version?: 2 | 3;
  /** Where version 3 is set: `vrrp_version 3` in global_defs (default) or `version 3` in the instance. */
  versionIn?: 'global_defs' | 'instance';
  /** advert_int in seconds, default 1 (v3: centiseconds allowed, e.g. 0.1). */
  advertInt?: number;
}

/** Timer and observer jitter allowed on top of the protocol bounds (ms). */
export const SLACK_MS = 60;
/** Start-up of a daemon (node loads vrrpd in about a second on this VM): fixed, not protocol. */
const STARTUP_MS = 8000;

/** Wall times (ms) of the scenario's events. */
export interface Timeline {
  tStart: number;
  tUpM: number;
  tA: number;
  tSteady: number;
  tSteadyEnd: number;
  tCrash: number;
  tB: number;
  tUp: number;
  tA2: number;
  tStop: number;
  tB2: number;
  tStop2: number;
}

/** What the phases do differently per address family (IPv4 here, IPv6 in roles-v6.ts). */
export interface FamilyOps {
  /** The node's keepalived.conf. */
  conf(r: Run, h: 'a' | 'b', state: 'MASTER' | 'BACKUP', priority: number): string;
  /** `ip addr` in a and b: only `holder` (or nobody) has the VIP. */
  assertHolder(t: T, p: Pair, holder: 'a' | 'b' | null): Promise<void>;
  /** The client pings the VIP and resolves it to the holder's MAC. */
  assertClientReaches(t: T, p: Pair, holder: 'a' | 'b'): Promise<void>;
}

export interface Run {
  readonly t: T;
  readonly o: RolesOptions;
  readonly p: Pair;
  readonly mImpl: Impl;
  readonly bImpl: Impl;
  /** The advert interval in ms. */
  readonly A: number;
  readonly vrid: number;
}

/** keepalived.conf's version lines for `o`: [global_defs lines, instance lines]. */
export function versionLines(o: RolesOptions): [string[], string[]] {
  if (o.version !== 3) return [[], []];
  return o.versionIn === 'instance' ? [[], ['version 3']] : [['vrrp_version 3'], []];
}

function conf4(r: Run, h: 'a' | 'b', state: 'MASTER' | 'BACKUP', priority: number): string {
  const { o, p } = r;
  const [globalLines, instanceLines] = versionLines(o);
  return keepalivedConf(
    `${o.prefix}${h}`,
    {
      state,
      vrid: r.vrid,
      priority,
      advertInt: o.advertInt ?? 1,
      vips: [`${p.vip}/24`],
      ...(o.authPass !== undefined ? { authPass: o.authPass } : {}),
      ...(o.unicast ? { unicastSrc: p.lab.host(h).ip, unicastPeers: [p.lab.host(h === 'a' ? 'b' : 'a').ip] } : {}),
      extra: instanceLines,
    },
    globalLines,
  );
}

const IPV4: FamilyOps = { conf: conf4, assertHolder, assertClientReaches };

/** Election, steady state, crash and recovery, graceful stops: the kernel and client checks. */
export async function phases(r: Run, f: FamilyOps): Promise<{ M: VrrpNode; B: VrrpNode; tl: Timeline }> {
  const { t, p, mImpl, bImpl, A } = r;
  const { assertHolder, assertClientReaches } = f;
  const { lab } = p;
  // The bridge port is cut and restored through a persistent `ip -batch` (no process start-up
  // between the time taken and the cut), started now so it is running by then.
  const sw = lab.ipBatch(lab.switchNs);
  sw.run('link show dev br0');
  const port = lab.host('a').swPort;

  // Election: the backup starts once the master is up (its BACKUP (init) line), so the master's
  // down timer (3.41 x A) expires first whatever the two daemons' start-up times.
  const tStart = wallNowMs();
  const M = p.start({ impl: mImpl, host: 'a', conf: f.conf(r, 'a', 'MASTER', 150) });
  await M.proc.waitFor(STATE_RE.backupInit, STARTUP_MS);
  const tUpM = wallNowMs();
  t.comment(`${mImpl} up (BACKUP (init)) ${(tUpM - tStart).toFixed(0)} ms after spawn`);
  const B = p.start({ impl: bImpl, host: 'b', conf: f.conf(r, 'b', 'BACKUP', 100) });
  const tA = await waitHolder(p, 'a', STARTUP_MS);
  t.ok(tA - tUpM < 4 * A + SLACK_MS, `election: a (${mImpl}) holds the VIP ${(tA - tUpM).toFixed(0)} ms after it was up`);
  // At a short advert_int a wins before b has even started (node takes about a second): the
  // steady state and the crash only mean something once b runs and listens.
  await B.proc.waitFor(STATE_RE.backupInit, STARTUP_MS);
  t.comment(`${bImpl} up (BACKUP (init)) by ${(wallNowMs() - tUpM).toFixed(0)} ms after a was up`);

  // Steady state.
  const tSteady = wallNowMs();
  await sleep(2.3 * A);
  await assertHolder(t, p, 'a');
  await assertClientReaches(t, p, 'a');
  t.equal(countMatches(B.log, STATE_RE.master), 0, `${bImpl} (backup) never entered MASTER during the election`);
  const tSteadyEnd = wallNowMs();

  // Crash: cut a's link. b takes over 3 x A + skew (0.61 x A) after the last advert it heard,
  // which left a at most A before the cut.
  const tCrash = wallNowMs();
  sw.run(`link set dev ${port} down`);
  const tB = await waitHolder(p, 'b', 6 * A + 2000);
  t.ok(
    tB - tCrash >= 2.4 * A && tB - tCrash <= 3.61 * A + SLACK_MS,
    `crash: b (${bImpl}) took over after ${(tB - tCrash).toFixed(0)} ms (3 x advert_int + skew after the last advert)`,
  );
  await assertHolder(t, p, 'b');
  await assertClientReaches(t, p, 'b');
  await sleep(A);

  // Recovery: a comes back, preempts (150 > 100) after its own down interval (3.41 x A).
  const tUp = wallNowMs();
  sw.run(`link set dev ${port} up`);
  const tA2 = await waitHolder(p, 'a', 8 * A + 2000);
  t.ok(tA2 - tUp >= 2.5 * A, `recovery: a preempted after its master-down interval (${(tA2 - tUp).toFixed(0)} ms), not at once`);
  await sleep(1.2 * A);
  await assertHolder(t, p, 'a');
  await assertClientReaches(t, p, 'a');
  await sw.close();

  // Graceful stop of the master: priority 0, the backup takes over after its skew time (0.61 x A).
  const tStop = M.sigterm();
  const tB2 = await waitHolder(p, 'b', 3 * A + 2000);
  t.ok(tB2 - tStop <= 1.5 * A + SLACK_MS, `graceful stop of ${mImpl}: b (${bImpl}) took over after ${(tB2 - tStop).toFixed(0)} ms`);
  await gracefulStop(t, M, `${mImpl} master SIGTERM`, tStop);
  await assertHolder(t, p, 'b');
  await assertClientReaches(t, p, 'b');
  await sleep(1.2 * A);

  // Graceful stop of the new master: VIP released, nobody holds it.
  const tStop2 = wallNowMs();
  await gracefulStop(t, B, `${bImpl} (then master) SIGTERM`);
  await assertHolder(t, p, null);
  return { M, B, tl: { tStart, tUpM, tA, tSteady, tSteadyEnd, tCrash, tB, tUp, tA2, tStop, tB2, tStop2 } };
}

/** The wire and the client, from the whole-run capture and the pinger (after `finish`). */
function wireChecks(r: Run, tl: Timeline, expected: Omit<ExpectedAdvert, 'dst'>): void {
  const { t, o, p, mImpl, bImpl, A } = r;
  const { tSteady, tSteadyEnd, tA, tB, tCrash, tUp, tA2, tStop, tB2, tStop2 } = tl;
  const steadyA = advertsFrom(p, 'a', tSteady, tSteadyEnd);
  t.ok(steadyA.length >= 2, `steady: ${steadyA.length} adverts from a (${mImpl})`);
  t.ok(
    steadyA.every((x) => x.prio === 150),
    'steady: a advertises priority 150',
  );
  t.same(advertsFrom(p, 'b', tSteady, tSteadyEnd), [], `steady: b (${bImpl}) is silent as backup`);
  const asMasterB = advertsFrom(p, 'b', tB + 50, tUp);
  t.ok(asMasterB.length >= 1 && asMasterB.every((x) => x.prio === 100), `after the crash: b (${bImpl}) advertises priority 100`);
  checkGarps(t, p, 'b', tCrash, tB + 1000, `takeover by ${bImpl} after crash`);
  checkGarps(t, p, 'a', tA2 - 100, tA2 + 1000, `takeover by ${mImpl} after recovery`);
  checkGarps(t, p, 'b', tStop, tB2 + 1000, `takeover by ${bImpl} after graceful stop`);
  const zeroA = advertsFrom(p, 'a', tStop, tStop + 1500, true).filter((x) => x.prio === 0);
  t.ok(zeroA.length >= 1, `graceful stop: ${mImpl} sent a priority-0 advert (${zeroA.length})`);
  const zeroB = advertsFrom(p, 'b', tStop2, tStop2 + 2500, true).filter((x) => x.prio === 0);
  t.ok(zeroB.length >= 1, `graceful stop: ${bImpl} sent a priority-0 advert (${zeroB.length})`);
  if (zeroA[0])
    t.same(
      advertProblems(zeroA[0], { ...expected, dst: o.unicast ? p.lab.host('b').ip : '224.0.0.18' }),
      [],
      'priority-0 advert is well formed',
    );

  // vrrpd's adverts have keepalived's exact layout (bytes other than id/checksums/addresses/priority).
  const firstA = advertsFrom(p, 'a', tA - 100, tA + 2000)[0];
  const firstB = asMasterB[0];
  if (firstA && firstB) t.same(layoutDiff(firstA, firstB), [], `${mImpl} and ${bImpl} adverts have the same layout`);
  else t.fail('adverts from both sides were captured');
  // IP id: a per-instance counter incremented per advert (keepalived starts at 1).
  for (const [h, impl, from, to] of [
    ['a', mImpl, tA - 100, tCrash],
    ['b', bImpl, tB, tUp],
  ] as const) {
    const ids = advertsFrom(p, h, from, to).map((x) => x.id);
    t.ok(
      ids.every((id, i) => i === 0 || id === ((ids[i - 1]! + 1) & 0xffff || 1)),
      `${impl} IP ids increase by one per advert (${ids.length} adverts: ${ids.slice(0, 12).join(',')}${ids.length > 12 ? ',...' : ''})`,
    );
  }

  // The client: the gap is the takeover time plus half an interval, three pings and SLACK_MS. Each
  // window ends before the next phase (at a short advert_int the next stop comes within 1 s).
  const pingSlack = 0.5 * A + 60 + SLACK_MS;
  const gapCrash = pingGap(p, tCrash, Math.min(tB + 1000, tUp));
  t.ok(
    gapCrash <= tB - tCrash + pingSlack,
    `client: ping gap ${gapCrash.toFixed(0)} ms at the crash (VIP moved after ${(tB - tCrash).toFixed(0)} ms)`,
  );
  const gapStop = pingGap(p, tStop, Math.min(tB2 + 1000, tStop2));
  t.ok(
    gapStop <= tB2 - tStop + pingSlack,
    `client: ping gap ${gapStop.toFixed(0)} ms at the graceful stop (VIP moved after ${(tB2 - tStop).toFixed(0)} ms)`,
  );
}

export async function rolesScenario(t: T, o: RolesOptions): Promise<void> {
  const pairs: Array<[Impl, Impl]> = [
    [VRRPD_IMPL, 'keepalived'],
    ['keepalived', VRRPD_IMPL],
  ];
  const A = (o.advertInt ?? 1) * 1000;
  const version = o.version ?? 2;
  if (version === 3 && o.authPass !== undefined) throw new Error('VRRPv3 has no authentication: authPass is for version 2');
  for (const [mImpl, bImpl] of pairs) {
    await t.test(`${mImpl} master (priority 150) + ${bImpl} backup (priority 100)`, async (t) => {
      const p = await createPair(t, o.prefix, o.subnet);
      const r: Run = { t, o, p, mImpl, bImpl, A, vrid: 51 };
      const { tl } = await phases(r, IPV4);
      await finish(p);
      assertNodesGone(t, p);
      const expected = {
        vrid: r.vrid,
        vips: [p.vip],
        version,
        adverInt: o.advertInt ?? 1,
        ...(o.authPass !== undefined ? { authPass: o.authPass } : {}),
      };
      wireChecks(r, tl, expected);
      finalChecks(t, p, { ...expected, unicast: o.unicast });
      const at = (x: number): string => (x - tl.tStart).toFixed(0);
      t.comment(
        `timeline (ms from start): a master ${at(tl.tA)}, crash ${at(tl.tCrash)} -> b ${at(tl.tB)}, link up ${at(tl.tUp)} -> a ${at(tl.tA2)}, stop ${at(tl.tStop)} -> b ${at(tl.tB2)}`,
      );
    });
  }
  await assertLabGone(t, o.prefix);
}
