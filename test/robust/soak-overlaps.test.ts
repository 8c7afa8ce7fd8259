/**
 * The soak's reading of two-holder overlaps (bench/soak.ts): a frozen holder is excused only
 * while it is really stopped (up to its actual SIGCONT, which a late harness delays), the side whose
 * VIP add began the overlap is named, and `--faults` takes only known host:kind pairs.
 */
import t from 'tap';
import { classifyOverlaps, parseFaultList, type SoakFault } from '../../bench/soak.js';

const T0 = 1_000_000;
const stallA = (atS: number, resumedS?: number, stoppedS?: number): SoakFault => ({
  ms: T0 + atS * 1000,
  host: 'a',
  kind: 'stall-4.5s',
  ...(stoppedS !== undefined ? { stoppedMs: T0 + stoppedS * 1000 } : {}),
  ...(resumedS !== undefined ? { resumedMs: T0 + resumedS * 1000 } : {}),
});
const iv = (fromS: number, toS: number) => ({ from: T0 + fromS * 1000, to: T0 + toS * 1000 });

t.test('b takes over while a is stopped: a frozen holder, begun by b', async (t) => {
  const o = classifyOverlaps([iv(0, 100)], [iv(13.2, 14.6)], [stallA(10, 14.5)], T0);
  t.equal(o.length, 1);
  t.match(o[0], { from: 13_200, during: 'a stall-4.5s', frozenHolder: true, startedBy: 'b' });
  t.ok(Math.abs(o[0]!.ms - 1400) < 1e-6);
});

t.test('an overlap that begins after the SIGCONT is not excused', async (t) => {
  // b adds the VIP 5.5 s after a's stop: a has been running again for 1 s.
  const o = classifyOverlaps([iv(0, 100)], [iv(15.5, 17)], [stallA(10, 14.5)], T0);
  t.match(o[0], { frozenHolder: false, startedBy: 'b' });
});

t.test('a late SIGCONT stretches the stop: still a frozen holder', async (t) => {
  // The harness resumed a 2 s late; b took over 5.5 s after the stop, while a was still stopped.
  const late = classifyOverlaps([iv(0, 100)], [iv(15.5, 16.6)], [stallA(10, 16.5)], T0);
  t.match(late[0], { frozenHolder: true });
  // Without the recorded SIGCONT, the nominal 4.5 s is assumed.
  const nominal = classifyOverlaps([iv(0, 100)], [iv(15.5, 16.6)], [stallA(10)], T0);
  t.match(nominal[0], { frozenHolder: false });
});

t.test('a stop sent late (the harness blocked after logging the fault): the stop counts from the SIGSTOP', async (t) => {
  // Logged at 10 s, stopped at 12.5 s, resumed at 17 s; b took over at 15.5 s and let go at 17.1 s.
  const o = classifyOverlaps([iv(0, 100)], [iv(15.5, 17.1)], [stallA(10, 17, 12.5)], T0);
  t.match(o[0], { frozenHolder: true, startedBy: 'b' });
  // The same overlap after a stop that had ended: not excused.
  t.match(classifyOverlaps([iv(0, 100)], [iv(15.5, 17.1)], [stallA(10, 14.5, 10)], T0)[0], { frozenHolder: false });
});

t.test('a re-adds the VIP while b holds it: begun by a, not a frozen holder', async (t) => {
  const o = classifyOverlaps([iv(0, 12), iv(15, 100)], [iv(12.1, 16)], [stallA(10, 14.5)], T0);
  t.equal(o.length, 1);
  t.match(o[0], { from: 15_000, startedBy: 'a', frozenHolder: false });
});

t.test('no overlap, nothing reported', async (t) => {
  t.same(classifyOverlaps([iv(0, 10)], [iv(10, 20)], [], T0), []);
});

t.test('--faults', async (t) => {
  t.same(parseFaultList('a:stall-4.5s,b:flap,a:sighup'), { a: ['stall-4.5s', 'sighup'], b: ['flap'] });
  t.throws(() => parseFaultList('c:flap'), /'c:flap' is not HOST:KIND/);
  t.throws(() => parseFaultList('a:nap'), /'a:nap' is not HOST:KIND/);
  t.throws(() => parseFaultList('b:kill9-restart'), /b is never restarted/);
  t.throws(() => parseFaultList(''), /no fault named/);
});
