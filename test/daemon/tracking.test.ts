/**
 * Tracking on real links and scripts (prefix vd-track-, subnet 10.233.3.0/24): track_interface
 * with weight 0 (FAULT) on a dummy interface, track_interface weight and track_script weight.
 */
import t from 'tap';
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { Lab, netnsSkip, pollUntil } from '../support/netns.js';
import { requireBuild, confText, hasAddress, instanceConf, instanceStatus, startVrrpd, waitState } from './helpers.js';

const NET = '10.233.3';
const VIP = `${NET}.100`;

t.test('tracking', { skip: netnsSkip() || requireBuild() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vd-track-', subnet: NET, hosts: ['a', 'b'] });
  for (const h of ['a', 'b']) {
    // A veth pair inside the host (no dummy module everywhere): dum0 is "up" while both ends are.
    await lab.exec(h, ['ip', 'link', 'add', 'dum0', 'type', 'veth', 'peer', 'name', 'dum0p']);
    await lab.exec(h, ['ip', 'link', 'set', 'dum0p', 'up']);
    await lab.exec(h, ['ip', 'link', 'set', 'dum0', 'up']);
  }
  const conf = (prio: number, extra: string, globals = ''): string =>
    confText('n', instanceConf({ priority: prio, vips: [`${VIP}/24`], extra }), globals);

  await t.test('track_interface weight 0: interface down -> FAULT, the peer takes over; up -> back', async (t) => {
    const a = await startVrrpd(lab, 'a', conf(150, '    track_interface {\n        dum0\n    }'));
    const b = await startVrrpd(lab, 'b', conf(100, ''));
    await waitState(a, 'MASTER', 8000);
    const t0 = Date.now();
    await lab.exec('a', ['ip', 'link', 'set', 'dum0', 'down']);
    await waitState(a, 'FAULT', 2000);
    await waitState(b, 'MASTER', 3000);
    t.comment(`dum0 down on a -> b MASTER: ${Date.now() - t0} ms (priority 0 then skew)`);
    t.match(a.proc.output, /Netlink reports dum0 down/);
    t.match(a.proc.output, /\(VI_1\): entering FAULT state \(interface dum0 down\)/);
    t.notOk(await hasAddress(lab, 'a', VIP));
    await lab.exec('a', ['ip', 'link', 'set', 'dum0', 'up']);
    await waitState(a, 'MASTER', 6000);
    await waitState(b, 'BACKUP', 2000);
    await a.proc.kill('SIGTERM');
    await b.proc.kill('SIGTERM');
  });

  await t.test('track_interface weight and track_script weight move the priority and the VIP', async (t) => {
    const flag = join(lab.tmpDir, 'chk-ok');
    writeFileSync(flag, '');
    const script = `vrrp_script chk {\n    script "/usr/bin/test -f ${flag}"\n    interval 1\n    weight 30\n}\n\n`;
    const a = await startVrrpd(
      lab,
      'a',
      script + conf(100, '    track_interface {\n        dum0 weight 30\n    }\n    track_script {\n        chk\n    }'),
    );
    const b = await startVrrpd(lab, 'b', conf(140, ''));
    await pollUntil(async () => (await instanceStatus(a))?.effectivePriority === 160, 4000, 'a at 100 + 30 + 30');
    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 2000);
    t.match(a.proc.output, /VRRP_Script\(chk\) succeeded/);
    t.match(a.proc.output, /Changing effective priority from 130 to 160|Changing effective priority from 100 to 130/);

    // Script fails: 130 < 140 -> b takes over (it discards the lower adverts until its timer expires).
    rmSync(flag);
    await pollUntil(async () => (await instanceStatus(a))?.effectivePriority === 130, 3000, 'a at 130');
    t.match(a.proc.output, /VRRP_Script\(chk\) failed \(exited with status 1\)/);
    await waitState(b, 'MASTER', 6000);
    await waitState(a, 'BACKUP', 2000);
    await pollUntil(() => hasAddress(lab, 'b', VIP), 1000, 'VIP on b');

    // Script OK again (160) -> a preempts; then dum0 down (130) -> b again.
    writeFileSync(flag, '');
    await waitState(a, 'MASTER', 8000);
    await lab.exec('a', ['ip', 'link', 'set', 'dum0', 'down']);
    await pollUntil(async () => (await instanceStatus(a))?.effectivePriority === 130, 2000, 'a at 130 after dum0 down');
    t.not((await instanceStatus(a)).state, 'FAULT', 'a weighted interface never faults');
    await waitState(b, 'MASTER', 6000);
    await a.proc.kill('SIGTERM');
    await b.proc.kill('SIGTERM');
  });
});
