/**
 * track_process on a real host (prefix vd-tproc-, subnet 10.233.17.0/24): vrrpd on `a` tracks a
 * process, a `sleep` run under a distinctive name (a symlink to sleep, so its comm is the link's
 * name), started in a's namespace. With weight 0, killing it puts a in FAULT and the VIP moves to
 * b; starting it again brings the VIP back to a (preempt). With a weight and terminate_delay, a
 * restart within the delay moves nothing; a longer absence lowers a's priority below b's. Inside a
 * network namespace the kernel refuses the process events subscription (ECONNREFUSED, where
 * keepalived 2.2.7 then counts no process at all): vrrpd falls back to scanning /proc every second
 * and says so once, with the errno text; status shows each tracked process's count and source.
 */
import t from 'tap';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { formatInstance } from '../../src/cli/status.js';
import { requireBuild, confText, hasAddress, instanceConf, instanceStatus, startVrrpd, waitState } from './helpers.js';

const NET = '10.233.17';
const VIP = `${NET}.100`;

t.test('track_process', { skip: netnsSkip() || requireBuild() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vd-tproc-', subnet: NET, hosts: ['a', 'b'] });
  // a comm of its own for this run (at most 15 characters), so no other process counts
  const name = `vtp-${process.pid % 1_000_000}`;
  const link = join(lab.tmpDir, name);
  symlinkSync('/bin/sleep', link);
  const startProcess = () => lab.spawn('a', [link, '1000']);
  const conf = (prio: number, extra: string, head = ''): string =>
    head + confText('n', instanceConf({ priority: prio, vips: [`${VIP}/24`], extra }));
  const tracking = '    track_process {\n        tp\n    }';

  await t.test('weight 0: the process dies -> FAULT, VIP on b; it returns -> VIP back on a', async (t) => {
    let proc = startProcess();
    const track = `vrrp_track_process tp {\n    process ${name}\n    weight 0\n}\n\n`;
    const a = await startVrrpd(lab, 'a', conf(150, tracking, track));
    const b = await startVrrpd(lab, 'b', conf(100, ''));
    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 2000);
    t.ok(await hasAddress(lab, 'a', VIP), 'VIP on a');
    t.match(
      a.proc.output,
      /track_process: reading \/proc every 1 s \(send\(PROC_CN_MCAST_LISTEN\): errno 111 \(ECONNREFUSED\) - Connection refused\)/,
      'the subscription is refused in a namespace: it says it polls /proc, and why',
    );
    t.notMatch(a.proc.output, /listening to the kernel's process events/, 'not the events source');
    const row = ((await instanceStatus(a)).tracked as { kind: string }[]).find((x) => x.kind === 'process');
    t.match(
      row,
      { name: 'tp', status: 'quorum', weight: 0, fault: false, count: 1, source: 'scan', pending: false },
      'status shows the process, its count and its source (/proc: the connector is refused here)',
    );
    t.match(
      formatInstance(await instanceStatus(a), Date.now()),
      /^track process: +tp quorum \(weight 0: 0\), 1 running, polling \/proc$/m,
      '`vrrpd status VI_1` says so',
    );

    const t0 = Date.now();
    await proc.kill('SIGKILL');
    await waitState(a, 'FAULT', 3000);
    await waitState(b, 'MASTER', 4000);
    t.comment(`process killed on a -> b MASTER: ${Date.now() - t0} ms (scan interval 1 s, then skew)`);
    t.match(a.proc.output, /Quorum lost for tracked process tp/);
    const lost = ((await instanceStatus(a)).tracked as { kind: string }[]).find((x) => x.kind === 'process');
    t.match(lost, { status: 'no quorum', fault: true, count: 0, source: 'scan' }, 'status: none running');
    t.match(a.proc.output, /entering FAULT state \(tracked process tp quorum not achieved\)/, "keepalived's reason");
    await pollUntil(async () => !(await hasAddress(lab, 'a', VIP)), 2000, 'VIP gone from a');
    await pollUntil(() => hasAddress(lab, 'b', VIP), 2000, 'VIP on b');

    proc = startProcess();
    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 3000);
    t.match(a.proc.output, /Quorum gained for tracked process tp/);
    await pollUntil(() => hasAddress(lab, 'a', VIP), 2000, 'VIP back on a');
    t.notOk(await hasAddress(lab, 'b', VIP), 'VIP gone from b');
    t.equal(a.proc.output.match(/reading \/proc every/g)?.length, 1, 'the polling is logged once');
    await proc.kill('SIGKILL');
    await a.proc.kill('SIGTERM');
    await b.proc.kill('SIGTERM');
  });

  await t.test('weight 60 with terminate_delay 3: a quick restart moves nothing, an absence lowers the priority', async (t) => {
    let proc = startProcess();
    const track = `vrrp_track_process tp {\n    process ${name}\n    weight 60\n    terminate_delay 3\n}\n\n`;
    const a = await startVrrpd(lab, 'a', conf(100, tracking, track));
    const b = await startVrrpd(lab, 'b', conf(140, ''));
    await pollUntil(async () => (await instanceStatus(a))?.effectivePriority === 160, 4000, 'a at 100 + 60');
    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 3000);

    await proc.kill('SIGKILL');
    await sleep(1500);
    proc = startProcess();
    await sleep(3000);
    t.equal((await instanceStatus(a)).effectivePriority, 160, 'restarted within terminate_delay: still 160');
    t.equal((await instanceStatus(a)).state, 'MASTER', 'still MASTER');
    t.notMatch(a.proc.output, /Quorum lost/, 'no quorum change logged');

    const t0 = Date.now();
    await proc.kill('SIGKILL');
    await pollUntil(async () => (await instanceStatus(a))?.effectivePriority === 100, 6000, 'a back at 100');
    const lost = Date.now() - t0;
    t.ok(lost >= 2900, `not before terminate_delay (${lost} ms)`);
    t.match(a.proc.output, /Quorum lost for tracked process tp/);
    t.not((await instanceStatus(a)).state, 'FAULT', 'a weighted process never faults');
    await waitState(b, 'MASTER', 6000);
    await pollUntil(() => hasAddress(lab, 'b', VIP), 2000, 'VIP on b');
    await a.proc.kill('SIGTERM');
    await b.proc.kill('SIGTERM');
  });
});
