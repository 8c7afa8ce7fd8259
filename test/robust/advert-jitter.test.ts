/**
 * The benches' reading of advert interval jitter from a capture (bench/scale.ts advertJitter, used
 * by scale and tx-floor --jitter): per VRID, the deviation of each interval from a whole number of
 * seconds; a ~2 s gap is a missing advert, counted apart; the worst interval's time is reported.
 * And tx-floor's burstStalls: the stops inside a grid sender's bursts.
 */
import t from 'tap';
import { advertJitter } from '../../bench/scale.js';

const T0 = 5_000_000;

t.test('steady adverts: every interval exactly 1 s is no jitter', async (t) => {
  const ads = [1, 2, 3].flatMap((vrid) => [0, 1, 2, 3].map((k) => ({ vrid, ms: T0 + 100 * vrid + 1000 * k })));
  const j = advertJitter(ads, T0);
  t.match(j, { p50: 0, p99: 0, max: 0, intervals: 9, vrids: 3, missed: 0 });
});

t.test('a late advert deviates twice (late, then the next one early), per VRID only', async (t) => {
  const ads = [
    ...[0, 1000, 2004, 3000].map((ms) => ({ vrid: 1, ms: T0 + ms })),
    // VRID 2 interleaved: its times must not mix with VRID 1's
    ...[500, 1500, 2500, 3500].map((ms) => ({ vrid: 2, ms: T0 + ms })),
  ];
  const j = advertJitter(ads, T0);
  t.equal(j.intervals, 6);
  t.equal(j.max, 4);
  t.equal(j.p50, 0);
  t.equal(j.worstAtS, 2.004);
});

t.test('a missing advert is counted, and its 2 s gap judged against 2 s', async (t) => {
  const ads = [0, 1000, 3001, 4000].map((ms) => ({ vrid: 7, ms: T0 + ms }));
  const j = advertJitter(ads, T0);
  t.equal(j.missed, 1);
  t.equal(j.max, 1);
  t.equal(j.intervals, 3);
});

t.test('p99 is the 99th percentile of all intervals: two deviations in 100 reach it, in 300 not', async (t) => {
  // One advert 9 ms late: its interval 9 ms long, the next one 9 ms short.
  const run = (n: number): ReturnType<typeof advertJitter> => {
    const ms = [0];
    for (let i = 1; i <= n; i++) ms.push(ms[i - 1]! + (i === 50 ? 1009 : i === 51 ? 991 : 1000));
    return advertJitter(
      ms.map((x) => ({ vrid: 1, ms: T0 + x })),
      T0,
    );
  };
  t.match(run(100), { intervals: 100, p50: 0, p99: 9, max: 9 });
  t.match(run(300), { intervals: 300, p50: 0, p99: 0, max: 9 });
});

t.test('burstStalls: a stop inside a grid burst is counted, the gaps between bursts are not', async (t) => {
  const { burstStalls } = await import('../../bench/tx-floor.js');
  // Two bursts 50 ms apart, 16 adverts 0.05 ms apart; the second stops 4 ms after its 7th advert.
  const burst = (at: number, stopAfter?: number): { ms: number }[] =>
    Array.from({ length: 16 }, (_, i) => ({ ms: at + i * 0.05 + (stopAfter !== undefined && i >= stopAfter ? 4 : 0) }));
  const s = burstStalls([...burst(T0), ...burst(T0 + 50, 7)]);
  t.match(s, { bursts: 2, stalls: 1 });
  t.ok(Math.abs(s.maxMs - 4.05) < 1e-6, `max ${s.maxMs}`);
  t.match(burstStalls([...burst(T0), ...burst(T0 + 50)]), { bursts: 2, stalls: 0, maxMs: 0 });
});
