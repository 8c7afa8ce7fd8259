/**
 * Wall-clock jumps of +-1 h (issue 6 item 2) without touching the host clock: the MASTER runs under
 * libfaketime (LD_PRELOAD, Debian's libfaketime; skipped when absent) with CLOCK_REALTIME read from a
 * file we rewrite (+1 h, then -1 h, then back) and CLOCK_MONOTONIC left alone
 * (FAKETIME_DONT_FAKE_MONOTONIC=1): vrrpd's timers are monotonic (io/system-clock.ts), so the advert
 * cadence seen by the peer does not move (no interval over 1.1 s) and nothing transitions. The jump is proven to reach the
 * daemon: the console timestamps of the lines it logs after each jump (a SIGHUP) are 1 h off.
 * Lab `vr-clk-`, 10.237.11.0/24.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lab, netnsSkip, sleep } from '../support/netns.js';
import {
  adverts,
  requireBuild,
  confText,
  instanceConf,
  instanceStatus,
  startVrrpd,
  VRRPD_ARGV,
  waitState,
  type VrrpdNode,
} from '../daemon/helpers.js';

const NET = '10.237.11';
const VIP = `${NET}.100`;
const LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) =>
  existsSync(p),
);

t.test(
  'wall-clock jumps of +-1 h on the MASTER',
  { skip: netnsSkip() || (LIB ? false : 'libfaketime not installed (apt-get install faketime)') || requireBuild() },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vr-clk-', subnet: NET, hosts: ['a', 'b'] });
    const stampFile = join(lab.tmpDir, 'faketime');
    writeFileSync(stampFile, '+0\n');
    const stateDir = join(lab.tmpDir, 'state-a');
    mkdirSync(stateDir, { recursive: true });
    const confFile = join(lab.tmpDir, 'a.conf');
    writeFileSync(confFile, confText('a', instanceConf({ priority: 150, vips: [`${VIP}/24`], pass: 'clock123' })));
    const env = {
      ...process.env,
      LD_PRELOAD: LIB!,
      FAKETIME_TIMESTAMP_FILE: stampFile,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      TZ: 'UTC',
    };
    const proc = lab.spawn('a', [...VRRPD_ARGV, 'run', '-f', confFile, '--log-console', '-D', '--state-dir', stateDir], {
      env,
    });
    await proc.waitFor(/Startup complete/, 15_000);
    const a: VrrpdNode = { host: 'a', proc, conf: confFile, socket: join(stateDir, 'vrrpd.sock'), stateDir };
    const b = await startVrrpd(lab, 'b', confText('b', instanceConf({ priority: 100, vips: [`${VIP}/24`], pass: 'clock123' })));
    await waitState(a, 'MASTER', 10_000);
    await waitState(b, 'BACKUP', 2000);
    const before = (await instanceStatus(a)).counters;
    const cap = await lab.capture('b', { filter: 'ip proto 112' });
    const logYear = (): number[] =>
      [...proc.output.matchAll(/^\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d{4}): Reloading/gm)].map((m) => Number(m[3]));
    await sleep(2500);
    const hours: number[] = [];
    // the real UTC hour at each reload, so a run that crosses an hour boundary still compares right
    const realAt: number[] = [];
    for (const jump of ['+1h', '-1h', '+0']) {
      writeFileSync(stampFile, `${jump}\n`);
      await sleep(200);
      realAt.push(new Date().getUTCHours());
      process.kill(proc.pid!, 'SIGHUP');
      await sleep(3300);
      hours.push(logYear().at(-1) ?? Number.NaN);
    }
    const frames = (await cap.stop()).frames;
    const ads = adverts(frames).filter((x) => x.src === lab.host('a').ip && x.priority === 150);
    const gaps = ads.slice(1).map((x, i) => x.tMs - ads[i]!.tMs);
    t.comment(`hour in a's log after +1h, -1h, +0: ${hours.join(', ')} (UTC; real hours at the reloads ${realAt.join(', ')})`);
    t.equal(hours[0], (realAt[0]! + 1) % 24, 'the +1 h jump reached the daemon (its log clock)');
    t.equal(hours[1], (realAt[1]! + 23) % 24, 'the -1 h jump reached the daemon');
    t.ok(gaps.length >= 8, `${gaps.length} advert intervals captured`);
    // A reload sends an extra advert at once (daemon.ts) without moving the advert timer, so it
    // splits one interval in two: put those back together, then the cadence must be exactly 1 s.
    const merged: number[] = [];
    let extra = 0;
    for (let i = 0; i < gaps.length; i++) {
      const g = gaps[i]!;
      if (g < 900 && i + 1 < gaps.length && g + gaps[i + 1]! < 1100) {
        merged.push(g + gaps[++i]!);
        extra++;
      } else merged.push(g);
    }
    t.ok(extra <= 3, `at most one extra advert per reload (${extra}; raw intervals ${gaps.map((g) => g.toFixed(0)).join(' ')})`);
    t.ok(
      merged.every((g) => g > 900 && g < 1100),
      `advert cadence 1000 +- 100 ms across the jumps (${merged.map((g) => g.toFixed(0)).join(' ')})`,
    );
    const after = (await instanceStatus(a)).counters;
    t.same([after.becameMaster, after.releasedMaster], [before.becameMaster, before.releasedMaster], 'no transition on a');
    t.equal((await instanceStatus(b)).state, 'BACKUP', 'b stayed BACKUP');
  },
);
