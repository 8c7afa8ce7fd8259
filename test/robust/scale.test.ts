/**
 * Scale, shortened for CI (issue 6 item 3): 255 vrrpd instances on one interface, advert_int 1,
 * master + backup (bench/scale.ts with a 5 s window; lab `vr-sct-`, eth0 10.237.10.0/24, VIPs
 * /32 in 10.237.16.0/20 inside the namespaces). The keepalived comparison and 1,000 instances run
 * in `npm run bench`. Bounds here are loose (CI machines are shared): every VIP converges, the
 * advert cadence holds (p99 jitter <= 50 ms beside the rest of the suite, no advert missing), every VIP fails over to the backup
 * within Master_Down_Interval (3609 ms) + 1 advert interval + 1.5 s of a kill -9.
 */
import t from 'tap';
import { netnsSkip } from '../support/netns.js';
import { requireBuild } from '../daemon/helpers.js';
import { runScale } from '../../bench/scale.js';

t.test('255 instances on one interface', { skip: netnsSkip() || requireBuild() }, async (t) => {
  const [r] = await runScale({
    instances: 255,
    ifaces: 1,
    windowS: 5,
    settleS: 6,
    impls: ['vrrpd'],
    prefix: 'vr-sct-',
    subnet: '10.237.10',
    log: (s) => t.comment(s),
  });
  if (!r) throw new Error('no result');
  t.comment(
    `CPU % master ${r.cpuMasterPct.toFixed(1)}, backup ${r.cpuBackupPct.toFixed(1)}; RSS MiB ${r.rssMasterMiB.toFixed(1)} / ${r.rssBackupMiB.toFixed(1)}; jitter p50/p99/max ${r.jitter.p50.toFixed(2)}/${r.jitter.p99.toFixed(2)}/${r.jitter.max.toFixed(2)} ms over ${r.jitter.intervals} intervals; failover first/all ${r.failoverFirstMs.toFixed(0)}/${r.failoverAllMs.toFixed(0)} ms`,
  );
  t.equal(r.jitter.vrids, 255, 'adverts from all 255 VRIDs captured');
  t.equal(r.jitter.missed, 0, 'no advert missing');
  // This is the CI form: it runs beside the rest of the suite on 2 cores, so its bound only catches
  // a meltdown (missed or bunched adverts are seconds, not ms); the 5 ms goal is measured by
  // `npm run bench` on a quiet machine and recorded in BENCHMARKS.md (3.6 ms at load 1.7).
  t.ok(
    r.jitter.p99 <= 50,
    `advert jitter p99 ${r.jitter.p99.toFixed(2)} ms <= 50 ms under the suite's own load (bench goal: 5 ms on a quiet machine)`,
  );
  t.equal(r.vipsOnBackup, 255, 'every VIP on the backup after the crash');
  t.ok(r.failoverAllMs <= 3609 + 1000 + 1500, `all VIPs on the backup ${r.failoverAllMs.toFixed(0)} ms after kill -9`);
});
