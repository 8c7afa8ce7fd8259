/**
 * Priority and tracking: after a tracking update, an operator override or an owner conflict, the
 * faults and effective priority are recomputed, a running down timer is shifted, and the instance
 * enters or leaves FAULT (docs/keepalived-behaviour.md 3.4, 3.5). Pure.
 */
import { assertNever } from '../util/assert-never.js';
import { PRIORITY_OWNER } from './constants.js';
import { evaluateTracking } from './tracking.js';
import { snapshotMasterDownMs, type Step } from './fsm-step.js';
import { goFault, leaveFault, leaveInit } from './fsm-transitions.js';

/** Recompute faults and effective priority, shift a running down timer, then leave/enter FAULT. */
export function reevaluate(b: Step): void {
  const v = evaluateTracking(b.p, b.snap.tracking);
  b.patch({ faults: v.faults, pendingScripts: v.pendingScripts });
  let prio = v.effectivePriority;
  if (b.snap.ownerConflict && prio === PRIORITY_OWNER) prio = PRIORITY_OWNER - 1;
  if (b.snap.priorityOverride !== null) prio = b.snap.priorityOverride;
  setEffectivePriority(b, prio);

  if (!b.snap.started) return;
  switch (b.snap.state) {
    case 'INIT':
      // docs/keepalived-behaviour.md 3.5: held in INIT until every unweighted script has a first result; then
      // "Entering BACKUP STATE" without "(init)".
      if (v.pendingScripts.length === 0) leaveInit(b, false);
      break;
    case 'BACKUP':
    case 'MASTER':
      if (v.faults.length > 0) goFault(b, v.faults.join(', '), false);
      break;
    case 'FAULT':
      if (v.faults.length === 0) {
        if (b.sync.holdsFault) {
          b.patch({ syncFault: true });
        } else {
          leaveFault(b, 'tracked items recovered');
        }
      }
      break;
    case 'STOP':
      break;
    default:
      assertNever(b.snap.state, 'state');
  }
}

/**
 * docs/keepalived-behaviour.md 3.4: "When the effective priority changes in BACKUP, the pending expiry is moved by
 * the change in ms_down_timer" (`vrrp_set_effective_priority()`).
 */
function setEffectivePriority(b: Step, prio: number): void {
  const old = b.snap.effectivePriority;
  if (prio === old) return;
  const oldDown = snapshotMasterDownMs(b.snap);
  b.patch({ effectivePriority: prio });
  b.emit({ type: 'priority-changed', from: old, to: prio });
  const due = b.snap.timers['master-down'];
  if (b.snap.state === 'BACKUP' && due !== undefined) {
    b.setTimer('master-down', Math.max(b.nowMs, due + snapshotMasterDownMs(b.snap) - oldDown));
  }
}
