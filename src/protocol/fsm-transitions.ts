/**
 * The state changes of the state machine, shared by every event family: entering BACKUP, FAULT and
 * MASTER, leaving them, and the actions that go with each (priority-0 adverts, address add/remove
 * in keepalived's order, GARP bursts, notifies). Each change goes through `Step.transition()`.
 * docs/keepalived-behaviour.md 3.5. Pure.
 */
import { assertNever } from '../util/assert-never.js';
import type { InstanceParams } from './instance-params.js';
import type { AddressKind } from './fsm-types.js';
import { PRIORITY_OWNER, PRIORITY_STOP } from './constants.js';
import { garpBurst, type GarpBurstKind } from './garp-schedule.js';
import { snapshotMasterDownMs, type Step } from './fsm-step.js';

// ---------------------------------------------------------------------------------------------
// INIT, BACKUP, FAULT

/** Leave INIT (at start, or once every unweighted script reported): FAULT, MASTER for an owner, else BACKUP. */
export function leaveInit(b: Step, init: boolean): void {
  if (b.snap.faults.length > 0) {
    b.transition('FAULT', b.snap.faults.join(', '), init);
    b.emit({ type: 'notify', kind: 'FAULT', priority: b.snap.effectivePriority });
    return;
  }
  if (isOwnerStartingMaster(b.p) && !b.sync.blocksMaster) {
    // docs/keepalived-behaviour.md 3.5: `state MASTER` + priority 255 goes MASTER at once (ms_down_timer = 1 us).
    goMaster(b, 'address owner with state MASTER');
    return;
  }
  enterBackup(b, init ? 'init' : 'tracked scripts reported', init);
}

/** `state MASTER` with priority 255: goes MASTER without waiting (docs/keepalived-behaviour.md 3.5). */
export function isOwnerStartingMaster(p: InstanceParams): boolean {
  return p.initialState === 'MASTER' && p.basePriority === PRIORITY_OWNER;
}

/** BACKUP with a full Master_Down_Interval (RFC 3768 6.4.1 / 6.4.3 "-transition to the Backup state"). */
export function enterBackup(b: Step, reason: string, init = false): void {
  b.transition('BACKUP', reason, init);
  // docs/keepalived-behaviour.md 3.5: the preempt delay is re-armed after every transition to BACKUP. v3: from INIT
  // or FAULT the Master_Adver_Interval is our own again (keepalived `vrrp_state_leave_fault()`).
  b.patch({ preemptUntilMs: null, wantState: 'BACKUP', syncFault: false, garpRefreshDueMs: null, masterAdverIntMs: null });
  b.emit({ type: 'notify', kind: 'BACKUP', priority: b.snap.effectivePriority });
  b.setTimer('master-down', b.nowMs + snapshotMasterDownMs(b.snap));
}

/** docs/keepalived-behaviour.md 3.5 FAULT (`down_instance()`). */
export function goFault(b: Step, reason: string, viaSync: boolean): void {
  const from = b.snap.state;
  b.transition('FAULT', reason);
  b.patch({ syncFault: viaSync, wantState: null, master: null, garpRefreshDueMs: null });
  b.cancelAllTimers();
  if (from === 'MASTER') {
    // keepalived 2.2.7: `vrrp_state_leave_master()` sends priority 0 on entering FAULT, uncounted and
    // unlogged; `down_instance()` then has `vrrp_restore_interface()` send, count and log another,
    // which a sync group's `vrrp_sync_fault()` does not: two on the wire, one counted and logged, or
    // one, neither counted nor logged, when the sync group is the cause.
    b.emit({ type: 'send-advert', priority: PRIORITY_STOP });
    if (!viaSync) sendLeavingAdvert(b);
    removeAddresses(b);
    b.count('releaseMaster');
  }
  b.emit({ type: 'notify', kind: 'FAULT', priority: b.snap.effectivePriority });
}

/** docs/keepalived-behaviour.md 3.5 leaving FAULT (`try_up_instance()`): BACKUP, or MASTER for an owner with state MASTER. */
export function leaveFault(b: Step, reason: string): void {
  if (isOwnerStartingMaster(b.p) && !b.sync.blocksMaster) {
    goMaster(b, `${reason}; address owner with state MASTER`);
    return;
  }
  enterBackup(b, reason);
}

// ---------------------------------------------------------------------------------------------
// MASTER entry and exit

/**
 * docs/keepalived-behaviour.md 3.5 "Becoming MASTER": advert first (so the old master drops the VIPs before our
 * GARPs), Entering MASTER STATE, VIPs, eVIPs, routes, rules, GARP burst, refresh, notifies, delayed
 * burst, then adverts every adver_int (RFC 3768 6.4.2 "If the Master_Down_Timer fires").
 */
export function goMaster(b: Step, reason: string): void {
  const p = b.p;
  b.emit({ type: 'send-advert', priority: b.snap.effectivePriority });
  b.transition('MASTER', reason);
  b.count('becomeMaster');
  const learned = b.snap.masterAdverIntMs;
  if (p.version === 3 && learned !== null && learned !== p.adverIntMs) {
    // keepalived `vrrp_state_become_master()` (the reset happens only with -D there; the adverts go
    // out at advert_int either way, so only the dumps could tell).
    b.log('debug', `changing advert interval from ${learned}ms to locally configured ${p.adverIntMs}ms`);
    b.patch({ masterAdverIntMs: null });
  }
  b.cancelTimer('master-down');
  b.patch({ wantState: 'MASTER', preemptUntilMs: null, master: { ip: p.srcIp, priority: b.snap.effectivePriority } });
  addAddresses(b);
  garp(b, 'master', p.garp.masterRepeat);
  b.patch({ garpRefreshDueMs: p.garp.masterRefreshMs > 0 ? b.nowMs + p.garp.masterRefreshMs : null });
  b.emit({ type: 'notify', kind: 'MASTER', priority: b.snap.effectivePriority });
  if (p.garp.masterDelayMs > 0 && hasAddresses(p)) b.setTimer('garp-delay', b.nowMs + p.garp.masterDelayMs);
  b.setTimer('adver', b.nowMs + p.adverIntMs);
}

/**
 * MASTER -> BACKUP. `downMs` is the new Master_Down_Timer; `leavingAdvert` sends priority 0 (only for
 * an external VIP deletion: yielding to a higher priority sends nothing, docs/keepalived-behaviour.md 3.5).
 */
export function leaveMasterToBackup(b: Step, reason: string, downMs: number, leavingAdvert: boolean): void {
  b.transition('BACKUP', reason);
  b.count('releaseMaster');
  b.cancelTimer('adver');
  b.cancelTimer('garp-delay');
  b.cancelTimer('garp-lower-prio');
  b.patch({ preemptUntilMs: null, wantState: 'BACKUP', garpRefreshDueMs: null });
  if (leavingAdvert) sendLeavingAdvert(b);
  removeAddresses(b);
  b.emit({ type: 'notify', kind: 'BACKUP', priority: b.snap.effectivePriority });
  b.setTimer('master-down', b.nowMs + downMs);
}

/** A priority-0 advert (RFC 3768 6.4.3 "Send an ADVERTISEMENT with Priority = 0"), counted. */
export function sendLeavingAdvert(b: Step): void {
  b.emit({ type: 'send-advert', priority: PRIORITY_STOP });
  b.log('debug', 'sent 0 priority');
  b.count('priZeroSent');
}

/** The instance has VIPs or eVIPs (GARP timers are armed only then). */
export function hasAddresses(p: InstanceParams): boolean {
  return p.vips.length + p.evips.length > 0;
}

const ADD_ORDER: readonly AddressKind[] = ['vips', 'evips', 'routes', 'rules'];
const REMOVE_ORDER: readonly AddressKind[] = ['rules', 'routes', 'vips', 'evips'];

function itemsOf(p: InstanceParams, k: AddressKind): readonly string[] {
  switch (k) {
    case 'vips':
      return p.vips;
    case 'evips':
      return p.evips;
    case 'routes':
      return p.virtualRoutes;
    case 'rules':
      return p.virtualRules;
    default:
      return assertNever(k, 'address kind');
  }
}

/** Add VIPs, eVIPs, routes, then rules (keepalived's order). */
export function addAddresses(b: Step): void {
  for (const kind of ADD_ORDER) {
    const items = itemsOf(b.p, kind);
    if (items.length > 0) b.emit({ type: 'add-addresses', kind, items });
  }
}

/** keepalived removes rules, routes, VIPs, then eVIPs (docs/keepalived-behaviour.md 8.1 item 10). */
export function removeAddresses(b: Step): void {
  for (const kind of REMOVE_ORDER) {
    const items = itemsOf(b.p, kind);
    if (items.length > 0) b.emit({ type: 'remove-addresses', kind, items });
  }
}

/** Emit one GARP burst of `kind` (garpBurst() says whether there is one). */
export function garp(b: Step, kind: GarpBurstKind, rounds: number): void {
  const a = garpBurst(b.p, kind, rounds);
  if (a !== null) b.emit(a);
}
