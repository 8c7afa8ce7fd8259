/**
 * TimerFd (io/timerfd.ts): precise one-shot timers on one timerfd, and SystemClock's precise timers
 * on it. Real clock and event loop, no root; each case is bounded to well under a second.
 */
import t, { type Test } from 'tap';
import { SystemClock, monotonicPreciseMs, type DeadlineTimers } from '../../src/io/system-clock.js';
import { TimerFd } from '../../src/io/timerfd.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function open(t: Test): TimerFd {
  const r = TimerFd.open();
  if (!r.ok) throw new Error(`TimerFd.open: ${r.error.message}`);
  t.teardown(() => r.value.close());
  return r.value;
}

t.test('fires in deadline order, equal deadlines in the order set, never before the deadline', async (t) => {
  const tf = open(t);
  const base = monotonicPreciseMs() + 20;
  const fired: { name: string; dueMs: number; atMs: number }[] = [];
  const add = (name: string, dueMs: number): void => {
    tf.at(dueMs, () => fired.push({ name, dueMs, atMs: monotonicPreciseMs() }));
  };
  add('c', base + 30);
  add('a', base);
  add('b1', base + 10);
  add('b2', base + 10);
  add('d', base + 40.5);
  t.equal(tf.pending, 5);
  await sleep(120);
  t.same(
    fired.map((f) => f.name),
    ['a', 'b1', 'b2', 'c', 'd'],
  );
  for (const f of fired) t.ok(f.atMs >= f.dueMs - 0.001, `${f.name}: fired ${(f.atMs - f.dueMs).toFixed(3)} ms after its deadline`);
  t.equal(tf.pending, 0);
  t.equal(tf.fired, 5);
});

t.test('a cancelled timer never runs; cancelling the earliest re-arms for the next', async (t) => {
  const tf = open(t);
  const base = monotonicPreciseMs() + 10;
  const ran: string[] = [];
  const first = tf.at(base, () => ran.push('first'));
  const mid = tf.at(base + 5, () => ran.push('mid'));
  tf.at(base + 15, () => ran.push('last'));
  first.cancel();
  first.cancel(); // idempotent
  mid.cancel();
  t.equal(tf.pending, 1);
  await sleep(60);
  t.same(ran, ['last']);
});

t.test('a deadline already past runs on the next loop turn; a callback may set and cancel timers', async (t) => {
  const tf = open(t);
  const ran: string[] = [];
  const later = tf.at(monotonicPreciseMs() + 30, () => ran.push('later'));
  tf.at(monotonicPreciseMs() - 5, () => {
    ran.push('past');
    later.cancel();
    tf.at(monotonicPreciseMs() + 2, () => ran.push('chained'));
  });
  tf.at(0, () => ran.push('origin'));
  await sleep(50);
  t.same(ran, ['origin', 'past', 'chained']);
});

t.test('a throwing callback does not stop the other timers', async (t) => {
  const tf = open(t);
  const ran: string[] = [];
  const at = monotonicPreciseMs() + 5;
  tf.at(at, () => {
    throw new Error('bug');
  });
  tf.at(at, () => ran.push('after'));
  await sleep(40);
  t.same(ran, ['after']);
});

t.test('close drops what is pending; a closed TimerFd runs nothing and keeps no handle open', async (t) => {
  const r = TimerFd.open();
  if (!r.ok) throw new Error(r.error.message);
  const tf = r.value;
  let ran = 0;
  tf.at(monotonicPreciseMs() + 5, () => ran++);
  tf.close();
  tf.close(); // idempotent
  tf.at(monotonicPreciseMs(), () => ran++).cancel();
  await sleep(30);
  t.equal(ran, 0);
  t.equal(tf.pending, 0);
});

t.test('SystemClock: precise timers go to the deadline timers once given, plain ones never', async (t) => {
  const calls: number[] = [];
  const fake: DeadlineTimers = {
    at(dueMs, cb) {
      calls.push(dueMs);
      const h = setTimeout(cb, Math.max(0, dueMs - monotonicPreciseMs()) + 1);
      return { cancel: () => clearTimeout(h) };
    },
  };
  const clock = new SystemClock();
  t.notOk(clock.preciseIsCheap);
  await new Promise((r) => clock.setTimer(2, r, true)); // polls the clock: not through `fake`
  t.same(calls, []);
  clock.useDeadlineTimers(fake);
  t.ok(clock.preciseIsCheap);
  const before = monotonicPreciseMs();
  const fire = await new Promise<{ dueMs: number; lateMs: number }>((r) => clock.setTimer(7, r, true));
  t.equal(calls.length, 1, 'the precise timer became one deadline');
  t.ok((calls[0] as number) - before >= 7 && (calls[0] as number) - before < 8, 'deadline = now + delay');
  t.equal(fire.dueMs, calls[0]);
  await new Promise((r) => clock.setTimer(3, r));
  t.equal(calls.length, 1, 'a plain timer stays a setTimeout');
  let cancelled = true;
  clock.setTimer(5, () => (cancelled = false), true).cancel();
  await sleep(20);
  t.ok(cancelled, 'cancel reaches the deadline timer');
  clock.useDeadlineTimers(null);
  t.notOk(clock.preciseIsCheap);
});

t.test('SystemClock on a real TimerFd: precise timers run on it, never early', async (t) => {
  const tf = open(t);
  const clock = new SystemClock();
  clock.useDeadlineTimers(tf);
  const late: number[] = [];
  for (let i = 0; i < 10; i++) {
    const fire = await new Promise<{ dueMs: number; lateMs: number }>((r) => clock.setTimer(5, r, true));
    t.ok(monotonicPreciseMs() >= fire.dueMs - 0.001, 'not early');
    late.push(fire.lateMs);
  }
  late.sort((a, b) => a - b);
  t.ok(tf.fired >= 10, 'the timers ran on the timerfd');
  t.comment(`lateness min/median/max ${late[0]?.toFixed(3)} / ${late[5]?.toFixed(3)} / ${late[9]?.toFixed(3)} ms`);
});
