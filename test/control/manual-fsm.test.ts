/**
 * The state machine's manual events (used by `vrrpd promote`, `switchover` and `maintenance`):
 * take-over and hand-over, with priority-override, as (snapshot, event) -> actions tables.
 */
import t from 'tap';
import { step } from '../../src/protocol/fsm.js';
import { HIGHER_IP, inBackup, inFault, inMaster, params, run, rx, summary } from '../support/fsm-fixtures.js';

t.test('take-over: a BACKUP held above the master becomes MASTER at once, advert first (make-before-break order)', async (t) => {
  const b = run(inBackup(params({ basePriority: 90 })), rx(100, HIGHER_IP, 500)).snapshot;
  const o = step(b, { type: 'priority-override', priority: 254, nowMs: 600 });
  t.equal(o.snapshot.state, 'BACKUP', 'the override alone does not change state');
  t.equal(o.snapshot.effectivePriority, 254);
  const r = step(o.snapshot, { type: 'take-over', reason: 'promoted by root', nowMs: 600 });
  t.equal(r.snapshot.state, 'MASTER');
  t.equal(r.snapshot.reason, 'promoted by root');
  const s = summary(r.actions);
  t.match(s[0], /^advert 254/, 'advert at the held priority goes out before anything else');
  t.match(s[1], /transition BACKUP->MASTER/);
  const addIdx = s.findIndex((x) => x.startsWith('add vips'));
  const garpIdx = s.findIndex((x) => x.startsWith('garp'));
  t.ok(addIdx > 1 && garpIdx > addIdx, `then VIPs, then GARP: ${s.join(' | ')}`);
  t.equal(r.snapshot.counters.becomeMaster, 1);
  t.ok(r.snapshot.timers.adver !== undefined && r.snapshot.timers['master-down'] === undefined, 'adver timer armed, down timer gone');
});

t.test('take-over is ignored outside BACKUP and with a fault', async (t) => {
  for (const s of [inMaster(), inFault()]) {
    const r = step(s, { type: 'take-over', reason: 'x', nowMs: 5000 });
    t.equal(r.snapshot.state, s.state);
    t.same(r.actions, []);
  }
});

t.test('hand-over: a MASTER sends priority 0, removes its VIPs and becomes BACKUP with a full down timer', async (t) => {
  const m = inMaster();
  const o = step(m, { type: 'priority-override', priority: 1, nowMs: 5000 });
  t.equal(o.snapshot.state, 'MASTER', 'lowering the priority alone keeps MASTER');
  const r = step(o.snapshot, { type: 'hand-over', reason: 'switchover (by root)', nowMs: 5000 });
  t.equal(r.snapshot.state, 'BACKUP');
  const s = summary(r.actions);
  t.ok(
    s.some((x) => x.startsWith('advert 0')),
    `priority 0 sent: ${s.join(' | ')}`,
  );
  t.ok(s.findIndex((x) => x.startsWith('advert 0')) < s.findIndex((x) => x.startsWith('remove vips')), 'priority 0 before the VIPs go');
  t.equal(r.snapshot.counters.priZeroSent, 1);
  t.equal(r.snapshot.counters.releaseMaster, 1);
  const due = r.snapshot.timers['master-down'];
  t.ok(due !== undefined && due > 5000 + 3000, 'full Master_Down_Interval at priority 1 (the peer, at its skew time, wins)');
});

t.test('hand-over is ignored outside MASTER', async (t) => {
  const b = inBackup();
  t.same(step(b, { type: 'hand-over', reason: 'x', nowMs: 100 }).actions, []);
});
