/**
 * The timestamps vrrpd writes from the system clock (console log lines, the state log), read back
 * from the built code running under libfaketime on fixed dates: a one-digit day (space-padded in
 * keepalived's ctime format, zero-padded in `date '+%F %T'`) and a two-digit one (issue 9: a test
 * that assumed two digits failed on the 1st to the 9th of every month). Needs no root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { requireBuild } from '../daemon/helpers.js';

const LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) =>
  existsSync(p),
);
const DIST = resolve(import.meta.dirname, '../../dist');

/** Run `code` (an ES module body) in a node whose wall clock stands still at `at` (UTC). */
function atDate(at: string, code: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, LD_PRELOAD: LIB!, FAKETIME: at, FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`node under faketime ${at} exited ${r.status}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

const logUrl = pathToFileURL(resolve(DIST, 'log.js')).href;
const stateUrl = pathToFileURL(resolve(DIST, 'notify/state-files.js')).href;

t.test(
  'console log lines and state-log lines on the 2nd and the 25th (system clock under libfaketime)',
  { skip: (LIB ? false : 'libfaketime not installed (apt-get install faketime)') || requireBuild() },
  async (t) => {
    const cases = [
      { at: '2026-12-02 04:48:56', ctime: 'Wed Dec  2 04:48:56 2026', stamp: '2026-12-02 04:48:56' },
      { at: '2026-11-25 23:05:09', ctime: 'Wed Nov 25 23:05:09 2026', stamp: '2026-11-25 23:05:09' },
    ];
    for (const c of cases) {
      const out = atDate(
        c.at,
        `const { createLog } = await import(${JSON.stringify(logUrl)});
       const { stateLogLine } = await import(${JSON.stringify(stateUrl)});
       createLog({ console: true }).child({ instance: 'VI_1' }).info({}, '(VI_1) Entering MASTER STATE');
       process.stdout.write(stateLogLine('MASTER', new Date()));`,
      );
      t.equal(out, `[${c.stamp}]  notify_master\n${c.ctime}: (VI_1) Entering MASTER STATE\n`, `${c.at}: exact lines`);
    }
  },
);
