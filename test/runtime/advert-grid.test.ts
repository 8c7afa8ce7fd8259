/**
 * The advert grid's lanes (runtime/advert-grid.ts): each instance's adverts on grid points never
 * later than their deadlines, sticky from one advert to the next, instances that start together
 * spread in bursts of at most `burst`; exact timers when no grid point fits. Driven like the state
 * machine drives it: the event time of a fired timer is max(deadline, now), the next deadline that
 * plus Adver_Interval.
 */
import t from 'tap';
import { AdvertGrid, ADVERT_BURST, type GridTimer } from '../../src/runtime/advert-grid.js';
import type { MonotonicClock, TimerHandle } from '../../src/runtime/ports/index.js';
import { FakeClock } from '../support/fake-clock.js';

/** A MonotonicClock on the fake clock; every timer fires `late()` ms after its time. */
function clockOf(fake: FakeClock, late: () => number = () => 0): MonotonicClock {
  return {
    nowMs: () => fake.now(),
    setTimer(delayMs: number, cb: () => void): TimerHandle {
      const id = fake.setTimeout(cb, delayMs + late());
      return { cancel: () => fake.cancel(id) };
    },
  };
}

interface Lane {
  readonly sends: number[];
  readonly deadlines: number[];
  stop(): void;
}

/** An instance that becomes MASTER at `startMs` (now) and advertises every `intervalMs`. */
function master(clock: MonotonicClock, timer: GridTimer, intervalMs: number): Lane {
  const sends: number[] = [];
  const deadlines: number[] = [];
  let h: TimerHandle | undefined;
  const arm = (deadline: number): void => {
    deadlines.push(deadline);
    h = timer(
      deadline,
      () => {
        const now = Math.max(deadline, clock.nowMs());
        sends.push(clock.nowMs());
        arm(now + intervalMs);
      },
      intervalMs,
    );
  };
  arm(clock.nowMs() + intervalMs);
  return { sends, deadlines, stop: () => h?.cancel() };
}

const gaps = (xs: readonly number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!);

t.test('255 instances becoming MASTER together: bursts of at most ADVERT_BURST, each a lasting point', async (t) => {
  const fake = new FakeClock(1_000_003);
  const clock = clockOf(fake);
  const grid = new AdvertGrid(clock, 50);
  const lanes = Array.from({ length: 255 }, () => master(clock, grid.lane(), 1000));
  fake.advance(10_500);
  const perPoint = new Map<number, number>();
  for (const l of lanes) for (const s of l.sends.slice(2)) perPoint.set(s, (perPoint.get(s) ?? 0) + 1);
  const sizes = [...perPoint.values()];
  t.ok(Math.max(...sizes) <= ADVERT_BURST, `no burst above ${ADVERT_BURST} (largest ${Math.max(...sizes)})`);
  const phases = new Set([...perPoint.keys()].map((at) => at % 1000));
  t.equal(phases.size, Math.ceil(255 / ADVERT_BURST), 'as few points a second as the bound allows');
  for (const [i, l] of lanes.entries()) {
    if (l.sends.length < 10) t.fail(`lane ${i}: ${l.sends.length} adverts in 10.5 s`);
    if (!l.sends.every((s) => s % 50 === 0)) t.fail(`lane ${i}: every advert on a grid point`);
    if (!l.sends.every((s, k) => s <= l.deadlines[k]!)) t.fail(`lane ${i}: never later than its deadline`);
    if (gaps(l.sends).some((g) => g !== 1000)) t.fail(`lane ${i}: exactly Adver_Interval apart (${gaps(l.sends).join(',')})`);
    if (!(l.sends[0]! > 1_000_003 && l.sends[0]! <= 1_001_003)) t.fail(`lane ${i}: first periodic advert within one interval`);
  }
  t.same(
    gaps(lanes[0]!.deadlines).every((g) => g === 1000),
    true,
    "the state machine's deadlines do not move",
  );
});

t.test('one instance alone: the latest grid point before its deadline', async (t) => {
  const fake = new FakeClock(500_017);
  const clock = clockOf(fake);
  const l = master(clock, new AdvertGrid(clock, 50).lane(), 1000);
  fake.advance(3100);
  t.same(l.sends, [501_000, 502_000, 503_000], 'at most a step early, never late');
});

t.test('late wake-ups: an instance keeps its point (no drift, no swap)', async (t) => {
  const fake = new FakeClock(7);
  let n = 0;
  // 0-4 ms late, in a fixed pattern: beyond the deadline when the point is the deadline itself
  const clock = clockOf(fake, () => [0, 4, 1, 3, 2][n++ % 5]!);
  const grid = new AdvertGrid(clock, 50, 2);
  const lanes = Array.from({ length: 12 }, () => master(clock, grid.lane(), 1000));
  fake.advance(20_500);
  for (const [i, l] of lanes.entries()) {
    const points = new Set(l.sends.map((s) => (Math.floor(s) % 1000) - (Math.floor(s) % 50)));
    t.equal(points.size, 1, `lane ${i}: one point of the second throughout (${[...points].join(',')})`);
    t.ok(
      gaps(l.sends).every((g) => Math.abs(g - 1000) <= 4),
      `lane ${i}: intervals within the lateness (${Math.min(...gaps(l.sends))}..${Math.max(...gaps(l.sends))})`,
    );
  }
});

t.test('every point full: the least loaded; a cancelled callback frees its place', async (t) => {
  const fake = new FakeClock(0);
  const clock = clockOf(fake);
  const grid = new AdvertGrid(clock, 50, 1);
  // deadline 1000: the points 50 .. 1000 (less than an interval early), 20 of them; 40 lanes fill each twice
  const lanes = Array.from({ length: 40 }, () => master(clock, grid.lane(), 1000));
  const firstPoints = (ls: readonly Lane[]): number[] => ls.map((l) => l.sends[0]!);
  fake.advance(1000);
  const count = new Map<number, number>();
  for (const at of firstPoints(lanes)) count.set(at, (count.get(at) ?? 0) + 1);
  t.same([...new Set(count.values())], [2], 'two per point on all 20 points');
  lanes[0]!.stop();
  const again = master(clock, grid.lane(), 1000);
  fake.advance(1000);
  t.equal(again.sends[0]! % 1000, lanes[0]!.sends.at(-1)! % 1000, "the new lane takes the stopped one's place");
});

t.test('an interval shorter than a grid step: exact timers, never early', async (t) => {
  const fake = new FakeClock(3);
  const clock = clockOf(fake);
  const l = master(clock, new AdvertGrid(clock, 50).lane(), 20);
  fake.advance(200);
  t.same(l.sends, [23, 43, 63, 83, 103, 123, 143, 163, 183, 203]);
});

t.test('an interval that is not a whole number of steps: exact timers', async (t) => {
  const fake = new FakeClock(11);
  const clock = clockOf(fake);
  const l = master(clock, new AdvertGrid(clock, 50).lane(), 330);
  fake.advance(1400);
  t.same(l.sends, [341, 671, 1001, 1331]);
});

t.test('timer(): the nearest grid point (HeapCollection joins a waiting burst)', async (t) => {
  const fake = new FakeClock(0);
  const clock = clockOf(fake);
  const grid = new AdvertGrid(clock, 50);
  const order: string[] = [];
  grid.lane()(1000, () => order.push('advert'), 1000);
  t.equal(grid.nextPointMs(), 1000);
  grid.timer(grid.nextPointMs()!, () => order.push('collect'));
  grid.timer(1030, () => order.push('at 1050'));
  fake.advance(1100);
  t.same(order, ['advert', 'collect', 'at 1050'], 'in the order added, on their points');
});
