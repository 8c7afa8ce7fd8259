/**
 * The pure parts of `vrrpd demo`'s own lab (src/cli/demo-lab.ts), without root: ping reply
 * parsing, the longest gap, and the build check, which must also work in an installed package
 * (no src/ beside dist/: `make install` and `npm pack` ship no sources).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { builtDaemonUnavailable, longestGapMs, parsePingReplies } from '../../src/cli/demo-lab.js';

t.test('ping -D replies from the target only, in wall ms', async (t) => {
  const out = [
    'PING 10.0.0.100 (10.0.0.100) 56(84) bytes of data.',
    '[1700000000.250000] 64 bytes from 10.0.0.100: icmp_seq=1 ttl=64 time=0.05 ms',
    '[1700000000.260500] From 10.0.0.3 icmp_seq=2 Destination Host Unreachable',
    '[1700000000.270000] 64 bytes from 10.0.0.9: icmp_seq=3 ttl=64 time=0.05 ms',
    '[1700000000.280000] 64 bytes from 10.0.0.100: icmp_seq=4 ttl=64 time=0.05 ms',
  ].join('\n');
  const got = parsePingReplies(out, '10.0.0.100');
  t.equal(got.length, 2);
  t.ok(Math.abs((got[0] ?? 0) - 1_700_000_000_250) < 0.01 && Math.abs((got[1] ?? 0) - 1_700_000_000_280) < 0.01, JSON.stringify(got));
});

t.test('the longest gap overlapping a window: from the last reply before it to the first after', async (t) => {
  const replies = [0, 10, 20, 3000, 3010, 3020];
  t.equal(longestGapMs(replies, 15, 3015), 2980, 'the outage, measured from the reply at 10 ms');
  t.equal(longestGapMs(replies, 3005, 3015), 10, 'a quiet window: the ping interval');
  t.equal(longestGapMs([0, 10], 5, 100), 90, 'no reply after the window start: up to the window end');
  t.equal(longestGapMs([], 5, 100), 95, 'no reply at all: the whole window');
});

t.test('build check: missing build, stale build in a checkout, and an installed package without src/', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'vrrpd-demo-lab-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.match(builtDaemonUnavailable(root), /vrrpd is not built/);
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  writeFileSync(join(root, 'dist/cli/main.js'), '');
  t.match(builtDaemonUnavailable(root), /vrrpd run is not built/);
  writeFileSync(join(root, 'dist/cli/run.js'), '');
  t.equal(builtDaemonUnavailable(root), false, 'installed layout (no src/): usable');
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  writeFileSync(join(root, 'src/cli/main.ts'), '');
  const old = new Date(Date.now() - 60_000);
  for (const f of ['dist/cli/main.js', 'dist/cli/run.js']) utimesSync(join(root, f), old, old);
  t.match(builtDaemonUnavailable(root), /dist\/ is older than src\//, 'checkout with newer sources: stale');
  for (const f of ['dist/cli/main.js', 'dist/cli/run.js']) utimesSync(join(root, f), new Date(), new Date());
  t.equal(builtDaemonUnavailable(root), false, 'checkout, fresh build: usable');
});
