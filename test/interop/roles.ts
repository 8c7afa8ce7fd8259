/**
 * The mixed-pair scenario run by roles-*.test.ts (not a test file): vrrpd and keepalived 2.2.7 in
 * both roles with mixed priorities (master 150 on a, backup 100 on b), for one transport/auth
 * setting. Per role assignment: election, steady state, crash of the master (its bridge port goes
 * down: NO-CARRIER) and recovery with preemption, graceful stop of the master (SIGTERM), graceful
 * stop of the new master. Asserted on the kernel (`ip addr` in each namespace, address monitors),
 * the wire (bridge capture: adverts from each side, GARPs after every takeover, priority-0 adverts
 * on stop, byte layout identical to keepalived's) and the client (pings the VIP and resolves it to
 * the holder's MAC).
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
  type T,
} from './pair.js';
import { STATE_RE, countMatches, keepalivedConf, sleep, wallNowMs, type Impl } from '../support/vrrp-harness.js';

export interface RolesOptions {
  prefix: string;
  subnet: string;
  unicast: boolean;
  authPass?: string;
}

export async function rolesScenario(t: T, o: RolesOptions): Promise<void> {
  const pairs: Array<[Impl, Impl]> = [
    [VRRPD_IMPL, 'keepalived'],
    ['keepalived', VRRPD_IMPL],
  ];
  for (const [mImpl, bImpl] of pairs) {
    await t.test(`${mImpl} master (priority 150) + ${bImpl} backup (priority 100)`, async (t) => {
      const p = await createPair(t, o.prefix, o.subnet);
      const { lab, vip } = p;
      const vrid = 51;
      const conf = (h: 'a' | 'b', state: 'MASTER' | 'BACKUP', priority: number): string =>
        keepalivedConf(`${o.prefix}${h}`, {
          state,
          vrid,
          priority,
          vips: [`${vip}/24`],
          ...(o.authPass !== undefined ? { authPass: o.authPass } : {}),
          ...(o.unicast ? { unicastSrc: lab.host(h).ip, unicastPeers: [lab.host(h === 'a' ? 'b' : 'a').ip] } : {}),
        });

      // Election: the backup starts once the master is up (its BACKUP (init) line), so the master's
      // down timer (3.41 s) expires first whatever the two daemons' start-up times.
      const tStart = wallNowMs();
      const M = p.start({ impl: mImpl, host: 'a', conf: conf('a', 'MASTER', 150) });
      await M.proc.waitFor(STATE_RE.backupInit, 8000);
      const tUpM = wallNowMs();
      t.comment(`${mImpl} up (BACKUP (init)) ${(tUpM - tStart).toFixed(0)} ms after spawn`);
      const B = p.start({ impl: bImpl, host: 'b', conf: conf('b', 'BACKUP', 100) });
      const tA = await waitHolder(p, 'a', 8000);
      t.ok(tA - tUpM < 4000, `election: a (${mImpl}) holds the VIP ${(tA - tUpM).toFixed(0)} ms after it was up`);

      // Steady state.
      const tSteady = wallNowMs();
      await sleep(2300);
      await assertHolder(t, p, 'a');
      await assertClientReaches(t, p, 'a');
      t.equal(countMatches(B.log, STATE_RE.master), 0, `${bImpl} (backup) never entered MASTER during the election`);
      const tSteadyEnd = wallNowMs();

      // Crash: cut a's link.
      const tCrash = wallNowMs();
      await lab.linkDown('a', 'switch');
      const tB = await waitHolder(p, 'b', 6000);
      t.ok(
        tB - tCrash >= 2400 && tB - tCrash <= 4200,
        `crash: b (${bImpl}) took over after ${(tB - tCrash).toFixed(0)} ms (3 x advert_int + skew after the last advert)`,
      );
      await assertHolder(t, p, 'b');
      await assertClientReaches(t, p, 'b');
      await sleep(1000);

      // Recovery: a comes back, preempts (150 > 100) after its own down interval.
      const tUp = wallNowMs();
      await lab.linkUp('a', 'switch');
      const tA2 = await waitHolder(p, 'a', 8000);
      t.ok(tA2 - tUp >= 2500, `recovery: a preempted after its master-down interval (${(tA2 - tUp).toFixed(0)} ms), not at once`);
      await sleep(1200);
      await assertHolder(t, p, 'a');
      await assertClientReaches(t, p, 'a');

      // Graceful stop of the master: priority 0, the backup takes over after its skew time (0.61 s).
      const tStop = M.sigterm();
      const tB2 = await waitHolder(p, 'b', 3000);
      t.ok(tB2 - tStop <= 1500, `graceful stop of ${mImpl}: b (${bImpl}) took over after ${(tB2 - tStop).toFixed(0)} ms`);
      await gracefulStop(t, M, `${mImpl} master SIGTERM`, tStop);
      await assertHolder(t, p, 'b');
      await assertClientReaches(t, p, 'b');
      await sleep(1200);

      // Graceful stop of the new master: VIP released, nobody holds it.
      const tStop2 = wallNowMs();
      await gracefulStop(t, B, `${bImpl} (then master) SIGTERM`);
      await assertHolder(t, p, null);
      await finish(p);
      assertNodesGone(t, p);

      // The wire.
      const expected = { vrid, vips: [vip], ...(o.authPass !== undefined ? { authPass: o.authPass } : {}) };
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
          advertProblems(zeroA[0], { ...expected, dst: o.unicast ? lab.host('b').ip : '224.0.0.18' }),
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
          `${impl} IP ids increase by one per advert (${ids.join(',')})`,
        );
      }

      // The client.
      const gapCrash = pingGap(p, tCrash, tB + 1000);
      t.ok(
        gapCrash <= tB - tCrash + 500,
        `client: ping gap ${gapCrash.toFixed(0)} ms at the crash (VIP moved after ${(tB - tCrash).toFixed(0)} ms)`,
      );
      const gapStop = pingGap(p, tStop, tB2 + 1000);
      t.ok(
        gapStop <= tB2 - tStop + 500,
        `client: ping gap ${gapStop.toFixed(0)} ms at the graceful stop (VIP moved after ${(tB2 - tStop).toFixed(0)} ms)`,
      );

      finalChecks(t, p, { ...expected, unicast: o.unicast });
      t.comment(
        `timeline (ms from start): a master ${(tA - tStart).toFixed(0)}, crash ${(tCrash - tStart).toFixed(0)} -> b ${(tB - tStart).toFixed(0)}, link up ${(tUp - tStart).toFixed(0)} -> a ${(tA2 - tStart).toFixed(0)}, stop ${(tStop - tStart).toFixed(0)} -> b ${(tB2 - tStart).toFixed(0)}`,
      );
    });
  }
  await assertLabGone(t, o.prefix);
}
