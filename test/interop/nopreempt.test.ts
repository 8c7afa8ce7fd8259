/**
 * Interop, nopreempt with mixed priorities (multicast, PASS auth): both nodes `state BACKUP` and
 * `nopreempt`; the first node up (priority 100) becomes master and a higher-priority joiner
 * (priority 150) must NOT take over, neither on join nor after a restart; it takes over only when
 * the master fails (crash) and gives the VIP back only when it stops (graceful). Run with
 * vrrpd as the joiner and keepalived as the first node, and the other way round. Root; lab vk-np-,
 * 10.234.3.0/24. About 50 s.
 */
import t from 'tap';
import {
  VRRPD_IMPL,
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
  interopSkip,
  waitHolder,
} from './pair.js';
import { STATE_RE, countMatches, keepalivedConf, sleep, wallNowMs, type Impl } from '../support/vrrp-harness.js';

const PREFIX = 'vk-np-';
const SUBNET = '10.234.3';
const PASS = 'np-pass';

t.test('nopreempt, mixed priorities: vrrpd <-> keepalived', { skip: interopSkip() }, async (t) => {
  const cases: Array<[Impl, Impl]> = [
    ['keepalived', VRRPD_IMPL],
    [VRRPD_IMPL, 'keepalived'],
  ];
  for (const [firstImpl, joinImpl] of cases) {
    await t.test(`${firstImpl} first (priority 100), ${joinImpl} joins (priority 150), both nopreempt`, async (t) => {
      const p = await createPair(t, PREFIX, SUBNET);
      const { lab, vip } = p;
      const vrid = 33;
      const conf = (h: 'a' | 'b', priority: number): string =>
        keepalivedConf(`${PREFIX}${h}`, { state: 'BACKUP', nopreempt: true, vrid, priority, vips: [`${vip}/24`], authPass: PASS });

      // b (first, 100) alone becomes master after its down interval.
      const tStart = wallNowMs();
      const F = p.start({ impl: firstImpl, host: 'b', conf: conf('b', 100) });
      await waitHolder(p, 'b', 8000);
      // a (150) joins and must stay backup well past its master-down interval (3.41 s).
      const tJoin = wallNowMs();
      let J = p.start({ impl: joinImpl, host: 'a', conf: conf('a', 150) });
      await sleep(5500);
      await assertHolder(t, p, 'b');
      await assertClientReaches(t, p, 'b');
      t.equal(countMatches(J.log, STATE_RE.master), 0, `${joinImpl} (higher priority, nopreempt) never entered MASTER after joining`);
      t.ok(countMatches(J.log, STATE_RE.backup) >= 1, `${joinImpl} logged Entering BACKUP STATE`);
      const tJoinEnd = wallNowMs();

      // Crash the master: the joiner takes over.
      const tCrash = wallNowMs();
      await lab.linkDown('b', 'switch');
      const tA = await waitHolder(p, 'a', 6000);
      t.ok(tA - tCrash <= 4200, `crash: ${joinImpl} took over after ${(tA - tCrash).toFixed(0)} ms`);
      await assertClientReaches(t, p, 'a');
      await lab.linkUp('b', 'switch');
      await sleep(1500);
      await assertHolder(t, p, 'a');

      // Graceful stop of the joiner: b takes the VIP back; the joiner restarted stays backup.
      const tStop = J.sigterm();
      const tB = await waitHolder(p, 'b', 3000);
      t.ok(tB - tStop <= 1500, `graceful stop: ${firstImpl} took over after ${(tB - tStop).toFixed(0)} ms`);
      await gracefulStop(t, J, `${joinImpl} SIGTERM`, tStop);
      const tRestart = wallNowMs();
      J = p.start({ impl: joinImpl, host: 'a', conf: conf('a', 150) });
      await sleep(5500);
      await assertHolder(t, p, 'b');
      await assertClientReaches(t, p, 'b');
      t.equal(countMatches(J.log, STATE_RE.master), 0, `${joinImpl} restarted: still never MASTER (nopreempt)`);
      const tEnd = wallNowMs();

      await gracefulStop(t, J, `${joinImpl} (backup) SIGTERM`);
      await gracefulStop(t, F, `${firstImpl} (master) SIGTERM`);
      await assertHolder(t, p, null);
      await finish(p);
      assertNodesGone(t, p);

      t.same(advertsFrom(p, 'a', tJoin + 500, tJoinEnd), [], `${joinImpl} sent no adverts while backup after joining`);
      t.same(advertsFrom(p, 'a', tRestart + 500, tEnd), [], `${joinImpl} sent no adverts while backup after restart`);
      t.ok(
        advertsFrom(p, 'b', tJoin, tJoinEnd).every((x) => x.prio === 100),
        `${firstImpl} kept advertising priority 100`,
      );
      t.ok(
        advertsFrom(p, 'a', tA + 50, tStop).every((x) => x.prio === 150) && advertsFrom(p, 'a', tA + 50, tStop).length >= 1,
        `${joinImpl} advertised priority 150 as master`,
      );
      checkGarps(t, p, 'a', tCrash, tA + 1000, `takeover by ${joinImpl} after crash`);
      checkGarps(t, p, 'b', tStop, tB + 1000, `takeover by ${firstImpl} after graceful stop`);
      finalChecks(t, p, { vrid, vips: [vip], authPass: PASS, unicast: false });
      t.comment(
        `timeline (ms from start): join ${(tJoin - tStart).toFixed(0)}, crash ${(tCrash - tStart).toFixed(0)} -> a ${(tA - tStart).toFixed(0)}, stop ${(tStop - tStart).toFixed(0)} -> b ${(tB - tStart).toFixed(0)}, restart ${(tRestart - tStart).toFixed(0)}`,
      );
    });
  }
  await assertLabGone(t, PREFIX);
});
