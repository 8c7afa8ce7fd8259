/** SystemClock and EventLoopLagMonitor against the real clock (no root; short, bounded). */
import t from 'tap';
import { EventLoopLagMonitor, SystemClock, monotonicMs, monotonicUs } from '../../src/io/system-clock.js';

const busy = (ms: number): void => {
  const end = monotonicMs() + ms;
  while (monotonicMs() < end) {
    /* block the loop on purpose */
  }
};

t.test('monotonic clock: integer ms, never goes back', async (t) => {
  const a = monotonicMs();
  const u = monotonicUs();
  t.ok(Number.isInteger(a) && Number.isInteger(u));
  t.ok(Math.abs(u / 1000 - a) < 50);
  await new Promise((r) => setTimeout(r, 20));
  t.ok(monotonicMs() - a >= 19, 'advances with time');
});

t.test('timer fires on time and reports lateness; cancel prevents firing', async (t) => {
  const late: number[] = [];
  const clock = new SystemClock({ lateThresholdMs: 200, onLateTimer: (ms) => late.push(ms) });
  const start = clock.nowMs();
  const fire = await new Promise<{ dueMs: number; lateMs: number }>((r) => clock.setTimer(30, r));
  t.ok(fire.dueMs - start >= 30 && fire.dueMs - start <= 31, 'due = now + delay');
  t.ok(fire.lateMs < 200, `fired ${fire.lateMs} ms late`);
  t.same(late, []);

  let fired = false;
  clock
    .setTimer(10, () => {
      fired = true;
    })
    .cancel();
  await new Promise((r) => setTimeout(r, 30));
  t.notOk(fired, 'cancelled timer did not fire');

  const p = new Promise<{ lateMs: number }>((r) => clock.setTimer(5, r));
  busy(300);
  const f2 = await p;
  t.ok(f2.lateMs >= 250, `blocked loop: fired ${f2.lateMs} ms late`);
  t.equal(late.length, 1, 'onLateTimer called once');
});

t.test('lag monitor sees a blocked event loop', async (t) => {
  const lags: number[] = [];
  const m = new EventLoopLagMonitor({ intervalMs: 10, thresholdMs: 80, onLag: (l) => lags.push(l) }).start();
  t.teardown(() => m.stop());
  await new Promise((r) => setTimeout(r, 30));
  busy(150);
  await new Promise((r) => setTimeout(r, 30));
  const s = m.sample(true);
  t.ok(s.maxLagMs >= 100, `max lag ${s.maxLagMs} ms`);
  t.ok(lags.length >= 1, 'onLag called');
  t.equal(m.sample().maxLagMs, 0, 'reset starts a new window');
});

t.test('precise timers: never early, late by about one event-loop turn (the Master_Down_Timer)', async (t) => {
  const clock = new SystemClock();
  const a = clock.nowMs();
  t.ok(Math.abs(a - monotonicUs() / 1000) < 50, 'nowMs() is on the monotonic timeline, with a fraction');
  const late: number[] = [];
  for (let i = 0; i < 25; i++) {
    // Odd, fractional delays: a deadline between two whole milliseconds must not be rounded.
    const delay = 2.37 + (i % 7) * 1.61;
    const due = clock.nowMs() + delay;
    const fire = await new Promise<{ dueMs: number; lateMs: number }>((r) => clock.setTimer(delay, r, true));
    const at = clock.nowMs();
    t.ok(at >= due, `timer ${i} not early (${(at - due).toFixed(3)} ms)`);
    t.ok(fire.dueMs >= due, 'dueMs keeps the fraction');
    late.push(fire.lateMs);
  }
  late.sort((x, y) => x - y);
  const median = late[Math.floor(late.length / 2)]!;
  t.comment(`precise timer lateness: median ${median.toFixed(3)} ms, max ${late[late.length - 1]!.toFixed(3)} ms`);
  // Measured: median 0.01-0.03 ms (plain setTimeout: 0.2-0.4 ms, and up to 0.24 ms early) at load
  // 5-6 on 2 cores, but 1.1 ms once in a tap run at that load (the process waits for a CPU). A
  // wall-clock bound here would be a load test: this one only catches a broken timer; the
  // benchmark (bench/failover.ts, "down timer on the wire") measures the real figure.
  t.ok(median < 10, `median lateness ${median.toFixed(3)} ms`);

  // Cancel at different points of a precise timer's life (armed, polling, maybe already fired
  // when the machine is loaded): whatever happened before cancel(), nothing fires after it.
  let cancelledFirst = 0;
  for (let i = 0; i < 12; i++) {
    let fired = 0;
    const h = clock.setTimer(
      2.2 + (i % 4) * 0.5,
      () => {
        fired++;
      },
      true,
    );
    await new Promise((r) => setTimeout(r, 1 + (i % 3)));
    const firedBefore = fired;
    h.cancel();
    h.cancel(); // idempotent
    if (firedBefore === 0) cancelledFirst++;
    await new Promise((r) => setTimeout(r, 8));
    t.equal(fired, firedBefore, `trial ${i}: nothing fired after cancel() (${firedBefore} before)`);
  }
  t.comment(`${cancelledFirst}/12 trials cancelled before the deadline`);
});
