/**
 * Interop on the Tencent Cloud HAVIP "no fixed master" deployment (the project's example of it in
 * test/fixtures/deployments): both nodes `state BACKUP`, equal priority 30, `nopreempt`, unicast, PASS auth, `garp_master_delay 1`,
 * `garp_master_refresh 5`, `track_interface eth0`, notify hooks calling notify_action.sh, and the
 * guides' copy-paste slips (vrrp_garp_interval 0, a stray script block, a track_script naming a
 * missing script). Only the addresses are rewritten. notify_action.sh runs for real in each node's
 * private mounts (/var/keepalived/state, /var/log/keepalived.log). Two runs: tencent-havip.conf with
 * vrrpd first and keepalived joining, and tencent-cvm-2018.conf with keepalived first and vrrpd
 * joining. The first node up stays master (equal priority, nopreempt); a crash moves the VIP, the
 * old master comes back as backup and does not take it back; a graceful stop moves it again.
 *
 * Who runs the hooks is named, not taken from this machine: each node has its own /etc/passwd
 * (test/support/lab-users.ts). In those runs no `keepalived_script` user exists: keepalived and vrrpd
 * run notify_action.sh as root and it writes /var/keepalived/state. A last run gives both nodes a
 * `keepalived_script` user: keepalived then runs the hook as that user (its default script user
 * whenever it exists), and notify_action.sh can neither create /var/keepalived nor append to
 * /var/log/keepalived.log (root's 0755 directories): no state file, no log line. vrrpd does the same
 * (its own built-in state files, written by the daemon, are unaffected).
 * Root; lab vk-tc-, 10.234.5.0/24. About 75 s.
 */
import t from 'tap';
import {
  VRRPD_IMPL,
  assertClientReaches,
  assertHolder,
  checkGarps,
  assertLabGone,
  assertNodesGone,
  createPair,
  finalChecks,
  finish,
  garpsFrom,
  gracefulStop,
  interopSkip,
  waitHolder,
  type T,
} from './pair.js';
import { rewriteAddresses, scenarioText } from './scenarios.js';
import { STATE_RE, countMatches, readNodeFile, sleep, wallNowMs, type Impl, type VrrpNode } from '../support/vrrp-harness.js';
import { KEEPALIVED_SCRIPT_USERS } from '../support/lab-users.js';
import { existsSync } from 'node:fs';

const PREFIX = 'vk-tc-';
const SUBNET = '10.234.5';

const stateFile = (n: VrrpNode): string | undefined => readNodeFile(n, '/var/keepalived/state');
/** The notify lines notify_action.sh appended (`[date time]  notify_master` -> `notify_master`). */
const notifyLog = (n: VrrpNode): string[] =>
  (readNodeFile(n, '/var/log/keepalived.log') ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\[[^\]]*\]\s*/, ''));

async function waitState(n: VrrpNode, want: string, timeoutMs = 3000): Promise<string | undefined> {
  const deadline = wallNowMs() + timeoutMs;
  while (stateFile(n) !== want && wallNowMs() < deadline) await sleep(20);
  return stateFile(n);
}

t.test('Tencent HAVIP nopreempt pair: vrrpd <-> keepalived', { skip: interopSkip() }, async (t) => {
  const cases: Array<[string, Impl, Impl]> = [
    ['tencent-havip.keepalived.conf', VRRPD_IMPL, 'keepalived'],
    ['tencent-cvm-2018.keepalived.conf', 'keepalived', VRRPD_IMPL],
  ];
  for (const [file, fImpl, jImpl] of cases) {
    await t.test(`${file}: ${fImpl} first, ${jImpl} joins`, async (t: T) => {
      const p = await createPair(t, PREFIX, SUBNET, 135);
      const { lab, vip } = p;
      const conf = (h: 'a' | 'b'): string =>
        rewriteAddresses(scenarioText(file), {
          '10.100.8.16': lab.host(h).ip,
          '10.100.8.14': lab.host(h === 'a' ? 'b' : 'a').ip,
          '10.100.8.250': vip,
        });
      t.notMatch(conf('a') + conf('b'), /10\.100\.8\./, 'every deployment address rewritten');
      const files = { '/etc/keepalived/notify_action.sh': { content: scenarioText('notify_action.sh'), mode: 0o755 } };

      const tStart = wallNowMs();
      // users: root and nobody only (no keepalived_script): both implementations run the hooks as root
      const F = p.start({ impl: fImpl, host: 'a', conf: conf('a'), files, users: {} });
      await F.proc.waitFor(STATE_RE.backupInit, 8000);
      const J = p.start({ impl: jImpl, host: 'b', conf: conf('b'), files, users: {} });
      await J.proc.waitFor(STATE_RE.backupInit, 8000);
      const tJ = wallNowMs();
      const tA = await waitHolder(p, 'a', 8000);
      await sleep(Math.max(0, tJ + 4500 - wallNowMs())); // past the joiner's master-down interval (3.88 s)
      await assertHolder(t, p, 'a');
      await assertClientReaches(t, p, 'a');
      t.equal(countMatches(J.log, STATE_RE.master), 0, `${jImpl} (equal priority, nopreempt) stayed backup`);
      t.equal(await waitState(F, 'MASTER'), 'MASTER', `${fImpl}: /var/keepalived/state is MASTER`);
      t.equal(await waitState(J, 'BACKUP'), 'BACKUP', `${jImpl}: /var/keepalived/state is BACKUP`);
      t.equal(readNodeFile(F, '/var/keepalived/vip_check_failed_count'), '0', `${fImpl}: vip_check_failed_count reset to 0`);
      t.same(notifyLog(F), ['notify_backup', 'notify_master'], `${fImpl}: hook log`);
      t.same(notifyLog(J), ['notify_backup'], `${jImpl}: hook log`);

      // Crash the master.
      const tCrash = wallNowMs();
      await lab.linkDown('a', 'switch');
      const tB = await waitHolder(p, 'b', 6000);
      t.ok(tB - tCrash <= 4500, `crash: ${jImpl} took over after ${(tB - tCrash).toFixed(0)} ms`);
      await assertClientReaches(t, p, 'b');
      t.equal(await waitState(J, 'MASTER'), 'MASTER', `${jImpl}: state MASTER`);
      t.equal(await waitState(F, 'FAULT'), 'FAULT', `${fImpl}: state FAULT (link down, track_interface)`);

      // The old master comes back as backup and, nopreempt with equal priority, stays backup.
      const tUp = wallNowMs();
      await lab.linkUp('a', 'switch');
      t.equal(await waitState(F, 'BACKUP', 5000), 'BACKUP', `${fImpl}: state BACKUP after the link came back`);
      await sleep(Math.max(0, tB + 7000 - wallNowMs()));
      await assertHolder(t, p, 'b');
      await assertClientReaches(t, p, 'b');
      t.equal(countMatches(F.log, STATE_RE.master), 1, `${fImpl} did not take the VIP back (nopreempt)`);
      const tHeld = wallNowMs();

      // Graceful stop of the joiner (now master).
      const tStop = J.sigterm();
      const tA2 = await waitHolder(p, 'a', 3000);
      t.ok(tA2 - tStop <= 1500, `graceful stop: ${fImpl} took over after ${(tA2 - tStop).toFixed(0)} ms`);
      await gracefulStop(t, J, `${jImpl} SIGTERM`, tStop);
      t.equal(await waitState(J, 'STOP'), 'STOP', `${jImpl}: state STOP`);
      t.equal(await waitState(F, 'MASTER'), 'MASTER', `${fImpl}: state MASTER`);
      t.same(notifyLog(J), ['notify_backup', 'notify_master', 'notify_stop'], `${jImpl}: hook log`);
      await sleep(1000);
      await gracefulStop(t, F, `${fImpl} SIGTERM`);
      await assertHolder(t, p, null);
      t.equal(await waitState(F, 'STOP'), 'STOP', `${fImpl}: state STOP`);
      t.same(
        notifyLog(F),
        ['notify_backup', 'notify_master', 'notify_fault', 'notify_backup', 'notify_master', 'notify_stop'],
        `${fImpl}: hook log`,
      );
      await finish(p);
      assertNodesGone(t, p);

      // GARP schedule after the crash takeover: garp_master_repeat (5) at once, again after
      // garp_master_delay 1 s, then garp_master_refresh every 5 s (on the advert grid).
      const rel = garpsFrom(p, 'b', tCrash, tHeld).map((g) => Math.round(g.tsMs - tB));
      t.comment(`${jImpl} GARPs after the crash takeover (ms from VIP): ${rel.join(' ')}`);
      checkGarps(t, p, 'b', tB - 100, tB + 500, `${jImpl} takeover burst`);
      checkGarps(t, p, 'b', tB + 800, tB + 1600, `${jImpl} garp_master_delay 1 burst`);
      checkGarps(t, p, 'b', tB + 4500, tB + 6700, `${jImpl} garp_master_refresh 5`, 1);
      checkGarps(t, p, 'a', tStop, tA2 + 500, `${fImpl} takeover after graceful stop`);
      finalChecks(t, p, { vrid: 35, vips: [vip], authPass: 'havip42', unicast: true });
      t.comment(
        `timeline (ms from start): a ${(tA - tStart).toFixed(0)}, crash ${(tCrash - tStart).toFixed(0)} -> b ${(tB - tStart).toFixed(0)}, link up ${(tUp - tStart).toFixed(0)}, stop ${(tStop - tStart).toFixed(0)} -> a ${(tA2 - tStart).toFixed(0)}`,
      );
    });
  }

  await t.test(
    `keepalived_script exists: keepalived and ${VRRPD_IMPL} run notify_action.sh as keepalived_script, which cannot write /var/keepalived`,
    async (t: T) => {
      const p = await createPair(t, PREFIX, SUBNET, 135);
      const { lab, vip } = p;
      const conf = (h: 'a' | 'b'): string =>
        rewriteAddresses(scenarioText('tencent-havip.keepalived.conf'), {
          '10.100.8.16': lab.host(h).ip,
          '10.100.8.14': lab.host(h === 'a' ? 'b' : 'a').ip,
          '10.100.8.250': vip,
        });
      const files = { '/etc/keepalived/notify_action.sh': { content: scenarioText('notify_action.sh'), mode: 0o755 } };
      const F = p.start({
        impl: VRRPD_IMPL,
        host: 'a',
        conf: conf('a'),
        files,
        users: KEEPALIVED_SCRIPT_USERS,
        args: VRRPD_IMPL === 'vrrpd' ? ['-D'] : [],
      });
      await F.proc.waitFor(STATE_RE.backupInit, 8000);
      const J = p.start({ impl: 'keepalived', host: 'b', conf: conf('b'), files, users: KEEPALIVED_SCRIPT_USERS });
      await J.proc.waitFor(STATE_RE.backupInit, 8000);
      await waitHolder(p, 'a', 8000);
      await assertHolder(t, p, 'a');
      await assertClientReaches(t, p, 'a');
      await sleep(1000); // the hooks have long finished
      for (const n of [F, J]) {
        t.notOk(
          existsSync(n.realPath('/var/keepalived')),
          `${n.impl}: notify_action.sh, run as keepalived_script, could not create /var/keepalived`,
        );
        t.equal(readNodeFile(n, '/var/log/keepalived.log'), undefined, `${n.impl}: nor write /var/log/keepalived.log`);
      }
      if (VRRPD_IMPL === 'vrrpd') {
        // vrrpd's status shows the runs: they happened, as keepalived_script, and failed writing
        t.match(
          F.log,
          /notify_backup script \/etc\/keepalived\/notify_action\.sh exited with status 1/,
          'vrrpd ran notify_backup; it exited 1 (permission denied)',
        );
      }
      await gracefulStop(t, F, `${VRRPD_IMPL} SIGTERM`);
      await waitHolder(p, 'b', 5000);
      await gracefulStop(t, J, 'keepalived SIGTERM');
      t.notOk(existsSync(J.realPath('/var/keepalived')), 'keepalived: still no /var/keepalived after notify_master and notify_stop');
      await finish(p);
      assertNodesGone(t, p);
    },
  );
  await assertLabGone(t, PREFIX);
});
