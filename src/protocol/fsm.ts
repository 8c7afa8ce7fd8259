/**
 * The VRRPv2 state machine as a pure step: `step(snapshot, event) -> {snapshot, actions}`.
 *
 * Rules: RFC 3768 section 6, as keepalived 2.2.7 implements them (docs/keepalived-behaviour.md 3.4-3.8). Where the
 * two differ, keepalived wins (it is the drop-in contract); such branches say so. Only
 * `transition()` writes `state`, and every step emits at most one `transition` action.
 *
 * The step is split by event family: this file holds the event table (`step()`) and the small
 * families (start, timers, external VIP deletion, stop, sync); fsm-advert.ts handles received
 * adverts; fsm-priority.ts tracking and priority; fsm-transitions.ts the state changes they share;
 * fsm-step.ts the step accumulator.
 */
import { assertNever } from '../util/assert-never.js';
import type { InstanceParams } from './instance-params.js';
import type { FsmEvent, InstanceCounters, InstanceSnapshot, StepResult, SyncContext, TimerName } from './fsm-types.js';
import { PRIORITY_MAX } from './constants.js';
import { applyTrackUpdate, evaluateTracking, initialTrackingState } from './tracking.js';
import { snapshotMasterDownMs, snapshotSkewMs, Step } from './fsm-step.js';
import {
  garp,
  goFault,
  goMaster,
  leaveFault,
  leaveInit,
  leaveMasterToBackup,
  removeAddresses,
  sendLeavingAdvert,
} from './fsm-transitions.js';
import { reevaluate } from './fsm-priority.js';
import { onAdvert } from './fsm-advert.js';

export type * from './fsm-types.js';
export { snapshotMasterDownMs } from './fsm-step.js';
export { acceptsAdverts, addressCheckApplies } from './fsm-advert.js';

const ZERO_COUNTERS: InstanceCounters = {
  advertRcvd: 0,
  becomeMaster: 0,
  releaseMaster: 0,
  priZeroRcvd: 0,
  priZeroSent: 0,
  lowerPrioDiscarded: 0,
};

const NO_SYNC: SyncContext = { blocksMaster: false, holdsFault: false };

/** A fresh instance in INIT, before `start`. */
export function initialSnapshot(params: InstanceParams): InstanceSnapshot {
  const tracking = initialTrackingState(params);
  const v = evaluateTracking(params, tracking);
  return {
    params,
    state: 'INIT',
    reason: 'not started',
    started: false,
    tracking,
    faults: v.faults,
    pendingScripts: v.pendingScripts,
    effectivePriority: v.effectivePriority,
    priorityOverride: null,
    ownerConflict: false,
    timers: {},
    preemptUntilMs: null,
    masterAdverIntMs: null,
    master: null,
    garpRefreshDueMs: null,
    wantState: null,
    syncFault: false,
    counters: ZERO_COUNTERS,
  };
}

/**
 * Advance the state machine by one event. Pure. `sync` is supplied by the sync-group coordinator
 * (sync-group.ts) for members of a `vrrp_sync_group`; standalone instances omit it.
 */
export function step(s: InstanceSnapshot, e: FsmEvent, sync: SyncContext = NO_SYNC): StepResult {
  const b = new Step(s, e.nowMs, sync);
  switch (e.type) {
    case 'start':
      onStart(b);
      break;
    case 'timer':
      onTimer(b, e.timer);
      break;
    case 'advert':
      onAdvert(b, e.advert, e.srcIp);
      break;
    case 'track':
      b.patch({ tracking: applyTrackUpdate(b.p, b.snap.tracking, e.update) });
      reevaluate(b);
      break;
    case 'vip-deleted-externally':
      onVipDeleted(b, e.address);
      break;
    case 'stop':
      onStop(b);
      break;
    case 'priority-override':
      if (e.priority !== null && (!Number.isInteger(e.priority) || e.priority < 1 || e.priority > PRIORITY_MAX)) {
        throw new RangeError(`priority override must be 1..${PRIORITY_MAX} or null, got ${e.priority}`);
      }
      b.patch({ priorityOverride: e.priority });
      reevaluate(b);
      break;
    case 'sync':
      onSync(b, e.group, e.to);
      break;
    case 'take-over':
      // Operator's order: not held back by the sync group (its members follow this one).
      if (b.snap.state === 'BACKUP' && b.snap.faults.length === 0) goMaster(b, e.reason);
      break;
    case 'hand-over':
      if (b.snap.state === 'MASTER') leaveMasterToBackup(b, e.reason, snapshotMasterDownMs(b.snap), true);
      break;
    default:
      assertNever(e, 'event');
  }
  return b.result();
}

// ---------------------------------------------------------------------------------------------
// Start

function onStart(b: Step): void {
  if (b.snap.started) return;
  b.patch({ started: true });
  // docs/keepalived-behaviour.md 3.5 Startup: remove stale VIPs/eVIPs/routes/rules left by a previous run.
  removeAddresses(b);
  if (b.snap.pendingScripts.length > 0) {
    b.log('debug', `waiting for the first result of ${b.snap.pendingScripts.join(', ')}`);
    return;
  }
  leaveInit(b, true);
}

// ---------------------------------------------------------------------------------------------
// Timers

function onTimer(b: Step, timer: TimerName): void {
  const due = b.snap.timers[timer];
  if (due === undefined || b.nowMs < due) return; // stale or early: ignore
  const timers = { ...b.snap.timers };
  delete timers[timer];
  b.patch({ timers });
  const p = b.p;
  switch (timer) {
    case 'master-down':
      if (b.snap.state !== 'BACKUP') return;
      b.log('debug', 'Receive advertisement timeout');
      if (b.sync.blocksMaster) {
        // docs/keepalived-behaviour.md 2.5 `vrrp_sync_can_goto_master()`: another member does not want MASTER yet.
        b.patch({ wantState: 'MASTER' });
        b.setTimer('master-down', b.nowMs + snapshotMasterDownMs(b.snap));
        return;
      }
      // RFC 3768 6.4.2: "If the Master_Down_Timer fires ... Transition to the {Master} state"
      goMaster(b, 'master down timer expired');
      return;
    case 'adver':
      if (b.snap.state !== 'MASTER') return;
      // RFC 3768 6.4.3: "If the Adver_Timer fires ... Send an ADVERTISEMENT ... Reset the Adver_Timer"
      b.emit({ type: 'send-advert', priority: b.snap.effectivePriority });
      // docs/keepalived-behaviour.md 3.7 (c): the refresh goes out with an advert once it is due (advert grid).
      if (b.snap.garpRefreshDueMs !== null && b.nowMs >= b.snap.garpRefreshDueMs) {
        garp(b, 'master-refresh', p.garp.masterRefreshRepeat);
        b.patch({ garpRefreshDueMs: b.nowMs + p.garp.masterRefreshMs });
      }
      b.setTimer('adver', b.nowMs + p.adverIntMs);
      return;
    case 'garp-delay':
      if (b.snap.state === 'MASTER') garp(b, 'master-delayed', p.garp.masterRepeat);
      return;
    case 'garp-lower-prio':
      if (b.snap.state === 'MASTER') garp(b, 'lower-prio-delayed', p.garp.lowerPrioRepeat);
      return;
    default:
      assertNever(timer, 'timer');
  }
}

// ---------------------------------------------------------------------------------------------
// External VIP deletion, stop, sync

/**
 * docs/keepalived-behaviour.md 3.8: a tracked VIP/eVIP deleted behind our back while MASTER -> BACKUP, priority-0
 * advert, remove the rest, down timer = skew time only (so we normally take over again ~skew later).
 */
function onVipDeleted(b: Step, address: string): void {
  const p = b.p;
  if (b.snap.state !== 'MASTER') return;
  if (!p.vips.includes(address) && !p.evips.includes(address)) return;
  if (p.noTrackAddresses.includes(address)) return;
  b.log('debug', `IP ${address} removed externally`);
  b.patch({ master: null });
  leaveMasterToBackup(b, `address ${address} deleted externally`, snapshotSkewMs(b.snap), true);
}

/** docs/keepalived-behaviour.md 3.5 STOP: priority 0 and address removal only from MASTER; notify STOP for all. */
function onStop(b: Step): void {
  const from = b.snap.state;
  if (from === 'STOP') return;
  b.transition('STOP', 'daemon stopping');
  b.cancelAllTimers();
  if (from === 'MASTER') {
    sendLeavingAdvert(b);
    removeAddresses(b);
    b.count('releaseMaster');
  }
  b.patch({ wantState: null, garpRefreshDueMs: null });
  b.emit({ type: 'notify', kind: 'STOP', priority: b.snap.effectivePriority });
}

/** docs/keepalived-behaviour.md 2.5: follow a sync-group decision (`vrrp_sync_master/backup/fault`). */
function onSync(b: Step, group: string, to: 'MASTER' | 'BACKUP' | 'FAULT' | 'FAULT-CLEARED'): void {
  const state = b.snap.state;
  switch (to) {
    case 'MASTER':
      if (state === 'BACKUP') goMaster(b, `sync group ${group} going MASTER`);
      return;
    case 'BACKUP':
      if (state === 'MASTER') {
        leaveMasterToBackup(b, `sync group ${group} going BACKUP`, snapshotMasterDownMs(b.snap), false);
      }
      return;
    case 'FAULT':
      if (state === 'BACKUP' || state === 'MASTER') goFault(b, `sync group ${group} in FAULT`, true);
      else if (state === 'FAULT' || state === 'INIT') b.patch({ syncFault: true });
      return;
    case 'FAULT-CLEARED':
      if (state === 'FAULT' && b.snap.faults.length === 0) leaveFault(b, `sync group ${group} recovered`);
      return;
    default:
      assertNever(to, 'sync target');
  }
}
