/**
 * Root: `vrrpd demo` end to end in its own prefix and /24 (vc-demo-, 10.236.9.0/24): it prints
 * the status tables and the measured figures, and leaves no namespace behind.
 */
import { execFile } from 'node:child_process';
import t from 'tap';
import { netnsSkip, run } from '../support/netns.js';
import { requireBuild, VRRPD_BIN } from '../daemon/helpers.js';

t.test('vrrpd demo runs end to end and cleans up', { skip: netnsSkip() || requireBuild(), timeout: 120_000 }, async (t) => {
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [VRRPD_BIN, 'demo', '--prefix', 'vc-demo-', '--subnet', '10.236.9'], { timeout: 110_000 }, (e, so, se) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${so}${se}` }),
    );
  });
  t.equal(r.code, 0, r.code === 0 ? 'exit 0' : r.out);
  t.match(r.out, /^INSTANCE +STATE +SINCE +VRID +IF +PRIO +MASTER +VIPS +REASON$/m, 'shows vrrpd status');
  t.match(r.out, /b became MASTER \d+ ms after the kill/);
  const m = /^DEMO_RESULT (.*)$/m.exec(r.out);
  t.ok(m, 'machine-readable result line');
  const res = JSON.parse(m?.[1] ?? '{}');
  t.comment(`demo: ${m?.[1]}`);
  t.ok(res.failoverMs > 2500 && res.failoverMs < 4500, 'crash failover ~ Master_Down_Interval (3.61 s)');
  t.ok(res.failoverGapMs > 2500, 'the client really lost the VIP during the crash');
  t.ok(res.switchoverGapMs < 150, 'switchover gap small');
  t.match(r.out, /cleaned up: namespaces, processes and temp files removed/);
  const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith('vc-demo-'));
  t.same(left, [], 'no namespace left');
});
