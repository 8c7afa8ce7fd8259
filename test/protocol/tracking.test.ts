import t from 'tap';
import {
  applyTrackUpdate,
  evaluateTracking,
  initialScriptState,
  initialTrackingState,
  nextScriptState,
} from '../../src/protocol/tracking.js';
import type { TrackedScript } from '../../src/protocol/instance-params.js';
import { params } from '../support/fsm-fixtures.js';

const script = (p: Partial<TrackedScript> = {}): TrackedScript => ({
  name: 'chk',
  weight: 0,
  reverse: false,
  rise: 1,
  fall: 1,
  initFail: false,
  ...p,
});

function runScript(s: TrackedScript, results: boolean[]): string[] {
  let st = initialScriptState(s);
  return results.map((ok) => (st = nextScriptState(s, st, ok)).status);
}

t.test('script rise/fall (keepalived vrrp_script_child_thread)', async (t) => {
  t.same(runScript(script({ rise: 3, fall: 2 }), [true]), ['ok'], 'first success makes it OK (starts at rise-1)');
  t.same(runScript(script({ rise: 3, fall: 2 }), [false]), ['ko'], 'first failure makes it KO');
  t.same(
    runScript(script({ rise: 3, fall: 2 }), [true, false, true, false, false]),
    ['ok', 'ok', 'ok', 'ok', 'ko'],
    'needs fall consecutive failures',
  );
  t.same(
    runScript(script({ rise: 3, fall: 2 }), [false, true, true, true]),
    ['ko', 'ko', 'ko', 'ok'],
    'needs rise consecutive successes from KO',
  );
  t.same(runScript(script({ rise: 2, fall: 1, initFail: true }), [true, true]), ['ko', 'ok'], 'init_fail starts KO at 0');
});

t.test('effective priority = clamp(base + weights, 1, 254); the owner is fixed', async (t) => {
  const p = params({
    basePriority: 250,
    trackInterfaces: [{ name: 'eth1', weight: 20, reverse: false }],
    trackScripts: [script({ weight: -30 })],
  });
  let st = initialTrackingState(p);
  t.equal(evaluateTracking(p, st).effectivePriority, 254, '250 + 20 clamps to 254');
  st = applyTrackUpdate(p, st, { kind: 'script', name: 'chk', ok: false });
  t.equal(evaluateTracking(p, st).effectivePriority, 240);
  st = applyTrackUpdate(p, st, { kind: 'interface', name: 'eth1', up: false });
  t.equal(evaluateTracking(p, st).effectivePriority, 220);
  const low = params({ basePriority: 10, trackScripts: [script({ weight: -30 })] });
  t.equal(
    evaluateTracking(low, applyTrackUpdate(low, initialTrackingState(low), { kind: 'script', name: 'chk', ok: false })).effectivePriority,
    1,
    'clamps to 1',
  );
  const owner = params({ basePriority: 255, trackScripts: [script({ weight: -30 })] });
  t.equal(
    evaluateTracking(owner, applyTrackUpdate(owner, initialTrackingState(owner), { kind: 'script', name: 'chk', ok: false }))
      .effectivePriority,
    255,
  );
});

t.test('weight 0 = FAULT; reverse swaps the sense', async (t) => {
  const p = params({ trackInterfaces: [{ name: 'eth1', weight: 0, reverse: true }], trackScripts: [script({ weight: 0 })] });
  let st = initialTrackingState(p);
  t.same(evaluateTracking(p, st).faults, ['interface eth1 up'], 'reverse weight 0: FAULT while up');
  t.same(evaluateTracking(p, st).pendingScripts, ['chk']);
  st = applyTrackUpdate(p, st, { kind: 'interface', name: 'eth1', up: false });
  st = applyTrackUpdate(p, st, { kind: 'script', name: 'chk', ok: false });
  t.same(evaluateTracking(p, st).faults, ['script chk']);
});

t.test('a weighted script contributes nothing before its first result; reverse negates what it adds', async (t) => {
  // keepalived 2.2.7, watched in a namespace: weight 10 reverse, script OK -> 90; weight 20 reverse, KO -> 100
  const p = params({ trackScripts: [script({ weight: 10, reverse: true })] });
  let st = initialTrackingState(p);
  t.equal(evaluateTracking(p, st).effectivePriority, 100);
  st = applyTrackUpdate(p, st, { kind: 'script', name: 'chk', ok: true });
  t.equal(evaluateTracking(p, st).effectivePriority, 90, 'OK: weight 10 taken off');
  const p20 = params({ trackScripts: [script({ weight: 20, reverse: true })] });
  const ko = applyTrackUpdate(p20, initialTrackingState(p20), { kind: 'script', name: 'chk', ok: false });
  t.equal(evaluateTracking(p20, ko).effectivePriority, 100, 'KO: nothing added');
  const neg = params({ trackScripts: [script({ weight: -10, reverse: true })] });
  const negKo = applyTrackUpdate(neg, initialTrackingState(neg), { kind: 'script', name: 'chk', ok: false });
  t.equal(evaluateTracking(neg, negKo).effectivePriority, 110, 'weight -10 reverse, KO: 10 added');
  const ifs = params({ trackInterfaces: [{ name: 'eth1', weight: 10, reverse: true }] });
  t.equal(evaluateTracking(ifs, initialTrackingState(ifs)).effectivePriority, 90, 'an interface up at weight 10 reverse: 10 off');
});

t.test('track_file: value x weight clamped to [-254, 253]; <= -254 is FAULT; weight 0 non-zero is FAULT', async (t) => {
  const p = params({
    trackFiles: [
      { name: 'f', weight: 2, reverse: false },
      { name: 'z', weight: 0, reverse: false },
    ],
  });
  let st = initialTrackingState(p);
  st = applyTrackUpdate(p, st, { kind: 'file', name: 'f', value: 5 });
  t.equal(evaluateTracking(p, st).effectivePriority, 110);
  st = applyTrackUpdate(p, st, { kind: 'file', name: 'f', value: -200 });
  t.same(evaluateTracking(p, st).faults, ['track file f']);
  st = applyTrackUpdate(p, st, { kind: 'file', name: 'f', value: 0 });
  st = applyTrackUpdate(p, st, { kind: 'file', name: 'z', value: 1 });
  t.same(evaluateTracking(p, st).faults, ['track file z']);
  const r = params({ trackFiles: [{ name: 'z', weight: 0, reverse: true }] });
  t.same(evaluateTracking(r, initialTrackingState(r)).faults, ['track file z'], 'reverse weight 0: zero is FAULT');
});

t.test('updates for unknown scripts are ignored', async (t) => {
  const p = params();
  const st = initialTrackingState(p);
  t.equal(applyTrackUpdate(p, st, { kind: 'script', name: 'nope', ok: true }), st);
});
