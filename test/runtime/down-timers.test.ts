/**
 * DownTimers (src/runtime/down-timers.ts): the BACKUPs' Master_Down_Timers on one clock timer.
 * On a fake clock: each fires at its deadline and never before, in deadline order; re-arming by
 * cancel + timer (what every accepted advert does) arms no clock timer; cancelled ones never fire.
 */
import t from 'tap';
import { DownTimers, PRECISE_LEAD_MS } from '../../src/runtime/down-timers.js';
import type { MonotonicClock } from '../../src/runtime/ports/index.js';
import { FakeClock } from '../support/fake-clock.js';

function clock(): { fake: FakeClock; c: MonotonicClock; armed: { delay: number; precise: boolean }[] } {
  const fake = new FakeClock(1000);
  const armed: { delay: number; precise: boolean }[] = [];
  const c: MonotonicClock = {
    nowMs: () => fake.now(),
    setTimer(delayMs, cb, precise = false) {
      armed.push({ delay: delayMs, precise });
      const id = fake.setTimeout(cb, delayMs);
      return { cancel: () => fake.cancel(id) };
    },
  };
  return { fake, c, armed };
}

t.test('fires at its deadline, never before; the last approach is a precise timer', async (t) => {
  const { fake, c, armed } = clock();
  const d = new DownTimers(c);
  const fired: number[] = [];
  d.timer(4609, () => fired.push(fake.now()));
  fake.advanceTo(4609 - 1);
  t.same(fired, [], 'not early');
  fake.advanceTo(4609);
  t.same(fired, [4609], 'on time');
  t.same(armed, [
    { delay: 3609 - PRECISE_LEAD_MS, precise: false },
    { delay: PRECISE_LEAD_MS, precise: true },
  ]);
  t.equal(d.size, 0);
});

t.test('re-arming by every advert arms no clock timer; the wake-up finds the new deadlines', async (t) => {
  const { fake, c, armed } = clock();
  const d = new DownTimers(c);
  const fired: string[] = [];
  // 255 instances, each re-armed once a second for 10 s (adverts every 1000 ms, down interval 3609).
  const handles = new Map<number, { cancel(): void }>();
  const arm = (i: number): void => {
    handles.get(i)?.cancel();
    handles.set(
      i,
      d.timer(fake.now() + 3609, () => fired.push(`VI_${i}`)),
    );
  };
  for (let i = 0; i < 255; i++) arm(i);
  const before = armed.length;
  for (let s = 1; s <= 10; s++) {
    for (let i = 0; i < 255; i++) {
      fake.advance(1000 / 255);
      arm(i);
    }
  }
  t.same(fired, [], 'no Master_Down_Timer fired while adverts came');
  t.ok(armed.length - before <= 6, `${armed.length - before} clock timers armed for 2,550 re-arms`);
  t.equal(d.size, 255);
  // Adverts stop: every instance fires once, in deadline order, each at its own deadline.
  fake.advance(3609 + 10);
  t.equal(fired.length, 255);
  t.same(
    fired,
    [...Array(255).keys()].map((i) => `VI_${i}`),
    'in deadline order',
  );
});

t.test('a cancelled timer never fires; an earlier one re-arms the clock', async (t) => {
  const { fake, c } = clock();
  const d = new DownTimers(c);
  const fired: string[] = [];
  const late = d.timer(5000, () => fired.push('late'));
  d.timer(3000, () => fired.push('early'));
  const gone = d.timer(2000, () => fired.push('gone'));
  gone.cancel();
  fake.advanceTo(2999);
  t.same(fired, []);
  fake.advanceTo(3000);
  t.same(fired, ['early']);
  late.cancel();
  fake.advanceTo(10_000);
  t.same(fired, ['early'], 'the cancelled one did not fire');
  t.equal(fake.size, 0, 'no clock timer left armed');
});

t.test('a callback arming a new timer (a FSM re-arm) gets it fired in turn', async (t) => {
  const { fake, c } = clock();
  const d = new DownTimers(c);
  const at: number[] = [];
  d.timer(2000, () => {
    at.push(fake.now());
    d.timer(fake.now() + 3, () => at.push(fake.now()));
  });
  fake.advanceTo(3000);
  t.same(at, [2000, 2003]);
});
