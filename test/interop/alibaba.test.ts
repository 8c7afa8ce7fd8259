/**
 * Interop on the Alibaba Cloud HaVip SNAT gateway deployment (the project's example of it in
 * test/fixtures/deployments): the master config (state MASTER, priority 100) and backup config
 * (state BACKUP, priority 99), unicast, PASS auth, VIP `dev eth0 label eth0:snat`, unquoted notify hooks. Only the addresses are
 * rewritten to the lab's. The hooks run for real inside each node's namespace and private mount
 * namespace (/etc/keepalived/scripts/ha_vip_{start,stop}.sh: append to /tmp/log, set
 * net.ipv4.ip_forward, iptables when installed). Run with vrrpd on the master config and
 * keepalived on the backup config, then the other way round: election, crash and recovery
 * (preempt 100 > 99), graceful stop, and the hooks each node ran, in keepalived's order.
 *
 * Who runs the hooks is named, not taken from this machine: each node has its own /etc/passwd
 * (test/support/lab-users.ts). In those runs no `keepalived_script` user exists, so keepalived and
 * vrrpd run the hooks as root (the guide's setup: forwarding turned on). A last run gives both
 * nodes a `keepalived_script` user: keepalived then runs the hooks as that user (it is the default
 * script user whenever it exists), the hooks still append to /tmp/log (a sticky, world-writable
 * /tmp) but cannot set net.ipv4.ip_forward; vrrpd must do exactly the same.
 * Root; lab vk-ali-, 10.234.4.0/24. About 65 s.
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
  gracefulStop,
  interopSkip,
  waitHolder,
  type Pair,
  type T,
} from './pair.js';
import { rewriteAddresses, scenarioText } from './scenarios.js';
import { STATE_RE, readNodeFile, sleep, wallNowMs, type Impl, type VrrpNode } from '../support/vrrp-harness.js';
import { KEEPALIVED_SCRIPT_UID, KEEPALIVED_SCRIPT_USERS } from '../support/lab-users.js';
import { statSync } from 'node:fs';

const PREFIX = 'vk-ali-';
const SUBNET = '10.234.4';

/** First word of each /tmp/log line the hooks wrote ("start" / "stop"). */
function hookLog(n: VrrpNode): string[] {
  return (readNodeFile(n, '/tmp/log') ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(';')[0]!);
}

async function waitHooks(n: VrrpNode, count: number, timeoutMs = 3000): Promise<string[]> {
  const deadline = wallNowMs() + timeoutMs;
  while (hookLog(n).length < count && wallNowMs() < deadline) await sleep(20);
  return hookLog(n);
}

async function ipForward(p: Pair, h: 'a' | 'b'): Promise<string> {
  return (await p.lab.exec(h, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim();
}

t.test('Alibaba HaVip SNAT pair: vrrpd <-> keepalived', { skip: interopSkip() }, async (t) => {
  const cases: Array<[Impl, Impl]> = [
    [VRRPD_IMPL, 'keepalived'],
    ['keepalived', VRRPD_IMPL],
  ];
  for (const [mImpl, bImpl] of cases) {
    await t.test(`${mImpl} runs the master config, ${bImpl} the backup config`, async (t: T) => {
      const p = await createPair(t, PREFIX, SUBNET, 200);
      const { lab, vip } = p;
      const map = { '172.18.5.11': lab.host('a').ip, '172.18.5.12': lab.host('b').ip, '172.18.5.100': vip };
      const hooks = {
        '/etc/keepalived/scripts/ha_vip_start.sh': { content: scenarioText('ha_vip_start.sh'), mode: 0o755 },
        '/etc/keepalived/scripts/ha_vip_stop.sh': { content: scenarioText('ha_vip_stop.sh'), mode: 0o755 },
      };
      const confM = rewriteAddresses(scenarioText('alibaba-havip-snat-master.keepalived.conf'), map);
      const confB = rewriteAddresses(scenarioText('alibaba-havip-snat-backup.keepalived.conf'), map);
      t.notMatch(confM + confB, /172\.18\.5\./, 'every deployment address rewritten');

      const tStart = wallNowMs();
      // users: root and nobody only (no keepalived_script): both implementations run the hooks as root
      const M = p.start({ impl: mImpl, host: 'a', conf: confM, files: hooks, users: {} });
      // state MASTER with priority 100 starts as BACKUP (init) like any priority < 255; start the
      // backup config once it is up so the election does not depend on the daemons' start-up times.
      await M.proc.waitFor(STATE_RE.backupInit, 8000);
      const tUpM = wallNowMs();
      t.comment(`${mImpl} up ${(tUpM - tStart).toFixed(0)} ms after spawn`);
      const B = p.start({ impl: bImpl, host: 'b', conf: confB, files: hooks, users: {} });
      const tA = await waitHolder(p, 'a', 8000);
      t.ok(tA - tUpM < 4000, `election: master config (${mImpl}) holds the VIP ${(tA - tUpM).toFixed(0)} ms after it was up`);
      await sleep(1500);
      await assertHolder(t, p, 'a', 'eth0:snat');
      await assertClientReaches(t, p, 'a');
      t.same(
        await waitHooks(M, 2),
        ['stop', 'start'],
        `${mImpl}: notify_backup (init) then notify_master ran ha_vip_stop.sh, ha_vip_start.sh`,
      );
      t.equal(statSync(M.realPath('/tmp/log')).uid, 0, `${mImpl} ran the hooks as root (no keepalived_script user)`);
      t.same(await waitHooks(B, 1), ['stop'], `${bImpl}: notify_backup (init) ran ha_vip_stop.sh`);
      t.equal(await ipForward(p, 'a'), '1', 'ha_vip_start.sh enabled forwarding on the master');
      t.equal(await ipForward(p, 'b'), '0', 'the backup does not forward');

      // Crash the master.
      const tCrash = wallNowMs();
      await lab.linkDown('a', 'switch');
      const tB = await waitHolder(p, 'b', 6000);
      t.ok(tB - tCrash <= 4200, `crash: backup config (${bImpl}) took over after ${(tB - tCrash).toFixed(0)} ms`);
      await assertHolder(t, p, 'b', 'eth0:snat');
      await assertClientReaches(t, p, 'b');
      t.same(await waitHooks(B, 2), ['stop', 'start'], `${bImpl}: notify_master ran ha_vip_start.sh`);
      t.same(await waitHooks(M, 3), ['stop', 'start', 'stop'], `${mImpl}: notify_fault ran ha_vip_stop.sh`);
      t.equal(await ipForward(p, 'b'), '1', 'forwarding on the new master');

      // Recovery: 100 > 99 and preempt (the default): the master config takes the VIP back.
      const tUp = wallNowMs();
      await lab.linkUp('a', 'switch');
      const tA2 = await waitHolder(p, 'a', 8000);
      t.ok(tA2 - tUp >= 2500, `recovery: ${mImpl} preempted after its master-down interval (${(tA2 - tUp).toFixed(0)} ms)`);
      await sleep(1000);
      await assertHolder(t, p, 'a', 'eth0:snat');
      await assertClientReaches(t, p, 'a');
      t.same(
        await waitHooks(M, 5),
        ['stop', 'start', 'stop', 'stop', 'start'],
        `${mImpl}: notify_backup (fault cleared) then notify_master`,
      );
      t.same(await waitHooks(B, 3), ['stop', 'start', 'stop'], `${bImpl}: notify_backup when preempted`);

      // Graceful stop of the master config.
      const tStop = M.sigterm();
      const tB2 = await waitHolder(p, 'b', 3000);
      t.ok(tB2 - tStop <= 1500, `graceful stop: ${bImpl} took over after ${(tB2 - tStop).toFixed(0)} ms`);
      await gracefulStop(t, M, `${mImpl} SIGTERM`, tStop);
      await assertHolder(t, p, 'b', 'eth0:snat');
      await assertClientReaches(t, p, 'b');
      t.same(hookLog(M), ['stop', 'start', 'stop', 'stop', 'start', 'stop'], `${mImpl}: notify_stop ran ha_vip_stop.sh`);
      t.same(await waitHooks(B, 4), ['stop', 'start', 'stop', 'start'], `${bImpl}: notify_master`);
      await sleep(1000);
      await gracefulStop(t, B, `${bImpl} SIGTERM`);
      await assertHolder(t, p, null);
      t.same(hookLog(B), ['stop', 'start', 'stop', 'start', 'stop'], `${bImpl}: notify_stop ran ha_vip_stop.sh`);
      await finish(p);
      assertNodesGone(t, p);

      checkGarps(t, p, 'b', tCrash, tB + 1000, `takeover by ${bImpl} after crash`);
      checkGarps(t, p, 'a', tA2 - 100, tA2 + 1000, `takeover by ${mImpl} after recovery`);
      checkGarps(t, p, 'b', tStop, tB2 + 1000, `takeover by ${bImpl} after graceful stop`);
      finalChecks(t, p, { vrid: 71, vips: [vip], authPass: 'snatgw1', unicast: true });
    });
  }

  await t.test(
    `keepalived_script exists: keepalived (backup config) and ${VRRPD_IMPL} (master config) run the hooks as keepalived_script`,
    async (t: T) => {
      const p = await createPair(t, PREFIX, SUBNET, 200);
      const { lab, vip } = p;
      const map = { '172.18.5.11': lab.host('a').ip, '172.18.5.12': lab.host('b').ip, '172.18.5.100': vip };
      const hooks = {
        '/etc/keepalived/scripts/ha_vip_start.sh': { content: scenarioText('ha_vip_start.sh'), mode: 0o755 },
        '/etc/keepalived/scripts/ha_vip_stop.sh': { content: scenarioText('ha_vip_stop.sh'), mode: 0o755 },
      };
      const confM = rewriteAddresses(scenarioText('alibaba-havip-snat-master.keepalived.conf'), map);
      const confB = rewriteAddresses(scenarioText('alibaba-havip-snat-backup.keepalived.conf'), map);
      const M = p.start({ impl: VRRPD_IMPL, host: 'a', conf: confM, files: hooks, users: KEEPALIVED_SCRIPT_USERS });
      await M.proc.waitFor(STATE_RE.backupInit, 8000);
      const B = p.start({ impl: 'keepalived', host: 'b', conf: confB, files: hooks, users: KEEPALIVED_SCRIPT_USERS });
      await waitHolder(p, 'a', 8000);
      await assertHolder(t, p, 'a', 'eth0:snat');
      await assertClientReaches(t, p, 'a');
      t.same(await waitHooks(M, 2), ['stop', 'start'], `${VRRPD_IMPL}: notify_backup then notify_master ran`);
      t.same(await waitHooks(B, 1), ['stop'], 'keepalived: notify_backup ran');
      for (const n of [M, B])
        t.equal(
          statSync(n.realPath('/tmp/log')).uid,
          KEEPALIVED_SCRIPT_UID,
          `${n.impl}: the hooks ran as keepalived_script (uid ${KEEPALIVED_SCRIPT_UID} owns /tmp/log)`,
        );
      t.equal(
        await ipForward(p, 'a'),
        '0',
        `${VRRPD_IMPL}: as keepalived_script, ha_vip_start.sh cannot turn forwarding on (as under keepalived)`,
      );

      const tStop = M.sigterm();
      await waitHolder(p, 'b', 3000);
      await gracefulStop(t, M, `${VRRPD_IMPL} SIGTERM`, tStop);
      t.same(hookLog(M), ['stop', 'start', 'stop'], `${VRRPD_IMPL}: notify_stop ran`);
      t.same(await waitHooks(B, 2), ['stop', 'start'], 'keepalived: notify_master ran');
      t.equal(await ipForward(p, 'b'), '0', 'keepalived, as keepalived_script, cannot turn forwarding on either');
      await gracefulStop(t, B, 'keepalived SIGTERM');
      await finish(p);
      assertNodesGone(t, p);
    },
  );
  await assertLabGone(t, PREFIX);
});
