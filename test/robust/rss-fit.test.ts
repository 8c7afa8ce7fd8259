/**
 * The soak's RSS slope (bench/rss-fit.ts): exact on a line, a snapshot's step is not taken
 * for a trend, noise gives a slope within its standard error, warm-up is left out.
 */
import t from 'tap';
import { rssFit } from '../../bench/rss-fit.js';
import { prng } from '../../bench/hostile.js';

const minutes = (n: number, f: (min: number) => number) =>
  Array.from({ length: n }, (_, i) => ({ ms: i * 10_000, mib: f((i * 10_000) / 60_000) }));

t.test('a straight line: its slope, no residual', async (t) => {
  const r = rssFit(minutes(360, (m) => 60 + 0.14 * m));
  t.ok(Math.abs(r.slopeMiBPerMin - 0.14) < 1e-9);
  t.ok(r.residualMiB < 1e-6);
});

t.test('flat with a +3 MiB step at a snapshot: slope 0, the step fitted, not a trend', async (t) => {
  const data = minutes(360, (m) => (m >= 10 ? 63 : 60));
  const naive = rssFit(data, { fromMs: 5 * 60_000 });
  t.ok(naive.slopeMiBPerMin > 0.02, `a plain fit sees a trend (${naive.slopeMiBPerMin.toFixed(3)})`);
  const r = rssFit(data, { fromMs: 5 * 60_000, steps: [{ atMs: 10 * 60_000, settleMs: 30_000 }] });
  t.ok(Math.abs(r.slopeMiBPerMin) < 1e-9, `with the step allowed: ${r.slopeMiBPerMin}`);
  t.ok(Math.abs(r.steps[0]! - 3) < 1e-9);
});

t.test('noise only: the slope is within two standard errors of zero; warm-up left out', async (t) => {
  const rnd = prng(7);
  const data = minutes(360, (m) => (m < 2 ? 80 - 10 * m : 60) + (rnd() - 0.5) * 2);
  const all = rssFit(data);
  const r = rssFit(data, { fromMs: 5 * 60_000 });
  t.ok(Math.abs(r.slopeMiBPerMin) < 2 * r.slopeStdErr + 1e-3, `slope ${r.slopeMiBPerMin.toFixed(4)} ± ${r.slopeStdErr.toFixed(4)}`);
  t.ok(all.slopeMiBPerMin < r.slopeMiBPerMin - 0.01, 'the warm-up drop would otherwise read as a falling trend');
  t.equal(r.n, 360 - 30);
});

t.test('too few samples: NaN, not a number made up', async (t) => {
  t.ok(
    Number.isNaN(
      rssFit([
        { ms: 0, mib: 1 },
        { ms: 1000, mib: 2 },
      ]).slopeMiBPerMin,
    ),
  );
});
