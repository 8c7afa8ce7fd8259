/**
 * Scale, shortened for CI (issue 6 item 3): 255 vrrpd instances on one interface, advert_int 1,
 * master + backup (bench/scale.ts with a 5 s window; lab `vr-sct-`, eth0 10.237.10.0/24, VIPs
 * /32 in 10.237.16.0/20 inside the namespaces). The keepalived comparison and 1,000 instances run
 * in `npm run bench`. Bounds here are loose (CI machines are shared): every VIP converges, the
 * advert cadence holds (p99 jitter <= 250 ms beside the rest of the suite, no advert missing), every VIP fails over to the backup
 * within Master_Down_Interval (3609 ms) + 1 advert interval + 1.5 s of a kill -9.
 */
import t from 'tap';
import { netnsSkip } from '../support/netns.js';
import { requireBuild } from '../daemon/helpers.js';
import { runScale } from '../../bench/scale.js';

/** The CI bound on the master's advert jitter p99 (see below). */
const JITTER_P99_MAX_MS = 250;

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
    `CPU % master ${r.cpuMasterPct.toFixed(1)}, backup ${r.cpuBackupPct.toFixed(1)}; RSS MiB ${r.rssMasterMiB.toFixed(1)} / ${r.rssBackupMiB.toFixed(1)}; jitter p50/p99/max ${r.jitter.p50.toFixed(2)}/${r.jitter.p99.toFixed(2)}/${r.jitter.max.toFixed(2)} ms (the worst at ${r.jitter.worstAtS.toFixed(1)} s after the master started) over ${r.jitter.intervals} intervals; failover first/all ${r.failoverFirstMs.toFixed(0)}/${r.failoverAllMs.toFixed(0)} ms`,
  );
  t.equal(r.jitter.vrids, 255, 'adverts from all 255 VRIDs captured');
  t.equal(r.jitter.missed, 0, 'no advert missing');
  // This is the CI form: it runs beside the rest of the suite on 2 cores, so its bound only catches
  // a meltdown (bunched adverts, a collapsed grid: hundreds of ms to seconds; missed ones are
  // counted above); the 5 ms goal is measured by `npm run bench` on a quiet machine and recorded in
  // BENCHMARKS.md. 250 ms, a quarter of the interval: far below what a backup would take over on
  // (3 intervals and the skew), and above a single stall of the host, which once gave p99 = max =
  // 103.5 ms in a rehearsal with a soak beside the suite (one lane of 16 adverts late, then early).
  t.ok(
    r.jitter.p99 <= JITTER_P99_MAX_MS,
    `advert jitter p99 ${r.jitter.p99.toFixed(2)} ms <= ${JITTER_P99_MAX_MS} ms under the suite's own load (bench goal: 5 ms on a quiet machine)`,
  );
  t.equal(r.vipsOnBackup, 255, 'every VIP on the backup after the crash');
  t.ok(r.failoverAllMs <= 3609 + 1000 + 1500, `all VIPs on the backup ${r.failoverAllMs.toFixed(0)} ms after kill -9`);
});
