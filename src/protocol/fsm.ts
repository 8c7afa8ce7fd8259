/**
 * The VRRPv2 state machine as a pure step: `step(snapshot, event) -> {snapshot, actions}`.
 *
 * Rules: RFC 3768 section 6, as keepalived 2.2.7 implements them (KEEPALIVED.md 3.4-3.8). Where the
 * two differ, keepalived wins (it is the drop-in contract); such branches say so. Only
 * `transition()` writes `state`, and every step emits at most one `transition` action.
 */
import { assertNever } from '../util/assert-never.js';
import type { Advert, VrrpState } from './types.js';
import type { InstanceParams } from './instance-params.js';
import type {
  AddressKind,
  FsmAction,
  FsmEvent,
  InstanceCounters,
  InstanceSnapshot,
  StepResult,
  SyncContext,
  TimerName,
} from './fsm-types.js';
import { TIMER_NAMES } from './fsm-types.js';
import { applyTrackUpdate, evaluateTracking, initialTrackingState } from './tracking.js';
import { PRIORITY_MAX, PRIORITY_OWNER, PRIORITY_STOP } from './constants.js';
import { compareIpv4 } from './ipv4-address.js';
import { masterDownIntervalMs, skewTimeMs } from './timing.js';
import { garpBurst, type GarpBurstKind } from './garp-schedule.js';

export type * from './fsm-types.js';

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
    master: null,
    garpRefreshDueMs: null,
    wantState: null,
    syncFault: false,
    counters: ZERO_COUNTERS,
  };
}

/** Master_Down_Interval for the snapshot's current effective priority (KEEPALIVED.md 3.4). */
export function snapshotMasterDownMs(s: InstanceSnapshot): number {
  return masterDownIntervalMs(s.params.adverIntMs, s.effectivePriority, s.params.downTimerAdverts);
}

/**
 * Whether the receive checks (advert-checks.ts) must apply the address checks (VIP count and VIP set, KEEPALIVED.md 3.3 steps
 * 8 and 13) to an advert from `srcIp`: always in MASTER; in BACKUP skipped only with
 * `skip_check_adv_addr` and when the advert comes from the last accepted master.
 */
export function addressCheckApplies(s: InstanceSnapshot, srcIp: string): boolean {
  if (s.state !== 'BACKUP') return true;
  return !(s.params.skipCheckAdvAddr && s.master !== null && s.master.ip === srcIp);
}

/** Whether adverts are processed at all in this state (keepalived ignores them in INIT and FAULT). */
export function acceptsAdverts(state: VrrpState): boolean {
  return state === 'BACKUP' || state === 'MASTER';
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Mutable accumulator used inside one step; the outside world only sees the immutable result.
 * Copy-on-write: the input snapshot (and its `counters` and `timers`) is never modified; the
 * first change of a step copies it once, later changes of the same step write into that copy
 * (an advert in BACKUP made five whole-snapshot copies before).
 */
class Step {
  #snap: InstanceSnapshot;
  #own: Mutable<InstanceSnapshot> | null = null;
  #ownCounters = false;
  #ownTimers = false;
  readonly actions: FsmAction[] = [];
  private transitioned = false;
  constructor(
    s: InstanceSnapshot,
    readonly nowMs: number,
    readonly sync: SyncContext,
  ) {
    this.#snap = s;
  }
  get snap(): InstanceSnapshot {
    return this.#snap;
  }
  get p(): InstanceParams {
    return this.#snap.params;
  }
  #draft(): Mutable<InstanceSnapshot> {
    if (this.#own === null) {
      this.#own = { ...this.#snap };
      this.#snap = this.#own;
    }
    return this.#own;
  }
  patch(p: Partial<Omit<InstanceSnapshot, 'state'>>): void {
    const d = this.#draft();
    Object.assign(d, p);
    if (p.counters !== undefined) this.#ownCounters = false;
    if (p.timers !== undefined) this.#ownTimers = false;
  }
  count(k: keyof InstanceCounters): void {
    const d = this.#draft();
    if (!this.#ownCounters) {
      d.counters = { ...d.counters };
      this.#ownCounters = true;
    }
    (d.counters as Mutable<InstanceCounters>)[k] = d.counters[k] + 1;
  }
  #timers(): Partial<Record<TimerName, number>> {
    const d = this.#draft();
    if (!this.#ownTimers) {
      d.timers = { ...d.timers };
      this.#ownTimers = true;
    }
    return d.timers as Partial<Record<TimerName, number>>;
  }
  emit(a: FsmAction): void {
    this.actions.push(a);
  }
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.emit({ type: 'log', level, msg });
  }
  setTimer(timer: TimerName, atMs: number): void {
    this.#timers()[timer] = atMs;
    this.emit({ type: 'set-timer', timer, atMs });
  }
  cancelTimer(timer: TimerName): void {
    if (this.snap.timers[timer] === undefined) return;
    delete this.#timers()[timer];
    this.emit({ type: 'cancel-timer', timer });
  }
  cancelAllTimers(): void {
    for (const t of TIMER_NAMES) this.cancelTimer(t);
  }
  /**
   * The only writer of `state` (DESIGN.md style 2). Emits the one transition action of this step;
   * a second call in the same step is a bug.
   */
  transition(to: VrrpState, reason: string, init = false): void {
    if (this.transitioned) throw new Error(`bug: second transition in one step (${this.snap.state} -> ${to})`);
    if (to === this.snap.state) throw new Error(`bug: transition to the current state ${to}`);
    this.transitioned = true;
    const from = this.snap.state;
    const d = this.#draft();
    d.state = to;
    d.reason = reason;
    this.emit({ type: 'transition', from, to, reason, init, priority: this.snap.effectivePriority });
  }
  result(): StepResult {
    return { snapshot: this.snap, actions: this.actions };
  }
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
// Priority and tracking

/** Recompute faults and effective priority, shift a running down timer, then leave/enter FAULT. */
function reevaluate(b: Step): void {
  const v = evaluateTracking(b.p, b.snap.tracking);
  b.patch({ faults: v.faults, pendingScripts: v.pendingScripts });
  let prio = v.effectivePriority;
  if (b.snap.ownerConflict && prio === PRIORITY_OWNER) prio = PRIORITY_OWNER - 1;
  if (b.snap.priorityOverride !== null) prio = b.snap.priorityOverride;
  setEffectivePriority(b, prio);

  if (!b.snap.started) return;
  switch (b.snap.state) {
    case 'INIT':
      // KEEPALIVED.md 3.5: held in INIT until every unweighted script has a first result; then
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
 * KEEPALIVED.md 3.4: "When the effective priority changes in BACKUP, the pending expiry is moved by
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

// ---------------------------------------------------------------------------------------------
// Start, INIT, FAULT

function onStart(b: Step): void {
  if (b.snap.started) return;
  b.patch({ started: true });
  // KEEPALIVED.md 3.5 Startup: remove stale VIPs/eVIPs/routes/rules left by a previous run.
  removeAddresses(b);
  if (b.snap.pendingScripts.length > 0) {
    b.log('debug', `waiting for the first result of ${b.snap.pendingScripts.join(', ')}`);
    return;
  }
  leaveInit(b, true);
}

function leaveInit(b: Step, init: boolean): void {
  if (b.snap.faults.length > 0) {
    b.transition('FAULT', b.snap.faults.join(', '), init);
    b.emit({ type: 'notify', kind: 'FAULT', priority: b.snap.effectivePriority });
    return;
  }
  if (isOwnerStartingMaster(b.p) && !b.sync.blocksMaster) {
    // KEEPALIVED.md 3.5: `state MASTER` + priority 255 goes MASTER at once (ms_down_timer = 1 us).
    goMaster(b, 'address owner with state MASTER');
    return;
  }
  enterBackup(b, init ? 'init' : 'tracked scripts reported', init);
}

function isOwnerStartingMaster(p: InstanceParams): boolean {
  return p.initialState === 'MASTER' && p.basePriority === PRIORITY_OWNER;
}

/** BACKUP with a full Master_Down_Interval (RFC 3768 6.4.1 / 6.4.3 "-transition to the Backup state"). */
function enterBackup(b: Step, reason: string, init = false): void {
  b.transition('BACKUP', reason, init);
  // KEEPALIVED.md 3.5: the preempt delay is re-armed after every transition to BACKUP.
  b.patch({ preemptUntilMs: null, wantState: 'BACKUP', syncFault: false, garpRefreshDueMs: null });
  b.emit({ type: 'notify', kind: 'BACKUP', priority: b.snap.effectivePriority });
  b.setTimer('master-down', b.nowMs + snapshotMasterDownMs(b.snap));
}

/** KEEPALIVED.md 3.5 FAULT (`down_instance()`). */
function goFault(b: Step, reason: string, viaSync: boolean): void {
  const from = b.snap.state;
  b.transition('FAULT', reason);
  b.patch({ syncFault: viaSync, wantState: null, master: null, garpRefreshDueMs: null });
  b.cancelAllTimers();
  if (from === 'MASTER') {
    // keepalived 2.2.7 sends priority 0 twice (vrrp_state_leave_master + vrrp_restore_interface).
    sendLeavingAdvert(b);
    sendLeavingAdvert(b);
    removeAddresses(b);
    b.count('releaseMaster');
  }
  b.emit({ type: 'notify', kind: 'FAULT', priority: b.snap.effectivePriority });
}

/** KEEPALIVED.md 3.5 leaving FAULT (`try_up_instance()`): BACKUP, or MASTER for an owner with state MASTER. */
function leaveFault(b: Step, reason: string): void {
  if (isOwnerStartingMaster(b.p) && !b.sync.blocksMaster) {
    goMaster(b, `${reason}; address owner with state MASTER`);
    return;
  }
  enterBackup(b, reason);
}

// ---------------------------------------------------------------------------------------------
// MASTER entry and exit

/**
 * KEEPALIVED.md 3.5 "Becoming MASTER": advert first (so the old master drops the VIPs before our
 * GARPs), Entering MASTER STATE, VIPs, eVIPs, routes, rules, GARP burst, refresh, notifies, delayed
 * burst, then adverts every adver_int (RFC 3768 6.4.2 "If the Master_Down_Timer fires").
 */
function goMaster(b: Step, reason: string): void {
  const p = b.p;
  b.emit({ type: 'send-advert', priority: b.snap.effectivePriority });
  b.transition('MASTER', reason);
  b.count('becomeMaster');
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
 * an external VIP deletion: yielding to a higher priority sends nothing, KEEPALIVED.md 3.5).
 */
function leaveMasterToBackup(b: Step, reason: string, downMs: number, leavingAdvert: boolean): void {
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

function sendLeavingAdvert(b: Step): void {
  b.emit({ type: 'send-advert', priority: PRIORITY_STOP });
  b.log('debug', 'sent 0 priority');
  b.count('priZeroSent');
}

function hasAddresses(p: InstanceParams): boolean {
  return p.vips.length + p.evips.length > 0;
}

const ADD_ORDER: readonly AddressKind[] = ['vips', 'evips', 'routes', 'rules'];
const REMOVE_ORDER: readonly AddressKind[] = ['rules', 'routes', 'evips', 'vips'];

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

function addAddresses(b: Step): void {
  for (const kind of ADD_ORDER) {
    const items = itemsOf(b.p, kind);
    if (items.length > 0) b.emit({ type: 'add-addresses', kind, items });
  }
}

/** keepalived removes rules, routes, then addresses (KEEPALIVED.md 8.1 item 10). */
function removeAddresses(b: Step): void {
  for (const kind of REMOVE_ORDER) {
    const items = itemsOf(b.p, kind);
    if (items.length > 0) b.emit({ type: 'remove-addresses', kind, items });
  }
}

function garp(b: Step, kind: GarpBurstKind, rounds: number): void {
  const a = garpBurst(b.p, kind, rounds);
  if (a !== null) b.emit(a);
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
        // KEEPALIVED.md 2.5 `vrrp_sync_can_goto_master()`: another member does not want MASTER yet.
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
      // KEEPALIVED.md 3.7 (c): the refresh goes out with an advert once it is due (advert grid).
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
// Adverts

function onAdvert(b: Step, adv: Advert, srcIp: string): void {
  const state = b.snap.state;
  if (!acceptsAdverts(state)) return; // KEEPALIVED.md 3.1: INIT/FAULT ignore packets
  if (adv.vrid !== b.p.vrid) throw new Error(`bug: advert for VRID ${adv.vrid} routed to VRID ${b.p.vrid}`);
  b.count('advertRcvd');
  if (adv.priority === PRIORITY_STOP) b.count('priZeroRcvd');
  if (state === 'BACKUP') backupRx(b, adv, srcIp);
  else masterRx(b, adv, srcIp);
}

/** KEEPALIVED.md 3.5 BACKUP (`vrrp_state_backup()`), RFC 3768 6.4.2. */
function backupRx(b: Step, adv: Advert, srcIp: string): void {
  const p = b.p;
  const ours = b.snap.effectivePriority;
  if (adv.priority === PRIORITY_STOP) {
    // RFC 3768 6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set the Master_Down_Timer
    // to Skew_Time"
    b.log('debug', 'Backup received priority 0 advertisement');
    b.setTimer('master-down', b.nowMs + skewTimeMs(ours));
    return;
  }
  const delayRunning =
    p.preemptDelayMs > 0 && (b.snap.preemptUntilMs === null || b.snap.preemptUntilMs > b.nowMs);
  // keepalived accepts equal priorities in BACKUP: no IP tie-break here (KEEPALIVED.md 8.2).
  if (p.nopreempt || adv.priority >= ours || delayRunning) {
    if (p.preemptDelayMs > 0 && b.snap.preemptUntilMs === null && adv.priority < ours) {
      b.patch({ preemptUntilMs: b.nowMs + p.preemptDelayMs });
      b.log('debug', `start preempt delay (${(p.preemptDelayMs / 1000).toFixed(6)})`);
    } else if (p.preemptDelayMs > 0 && adv.priority >= ours && b.snap.preemptUntilMs !== null) {
      b.patch({ preemptUntilMs: null });
      b.log('debug', 'stop preempt delay');
    }
    // RFC 3768 6.4.2: "Reset the Master_Down_Timer to Master_Down_Interval"
    b.patch({ master: { ip: srcIp, priority: adv.priority }, wantState: 'BACKUP' });
    b.setTimer('master-down', b.nowMs + snapshotMasterDownMs(b.snap));
    return;
  }
  // RFC 3768 6.4.2: "If Preempt_Mode is True and the Priority in the ADVERTISEMENT is less than the
  // local Priority, then: Discard the ADVERTISEMENT" -- the down timer keeps running.
  b.count('lowerPrioDiscarded');
  b.log('info', `received lower priority (${adv.priority}) advert from ${srcIp} - discarding`);
}

/** KEEPALIVED.md 3.5 MASTER (`vrrp_state_master_rx()`), RFC 3768 6.4.3. */
function masterRx(b: Step, adv: Advert, srcIp: string): void {
  const p = b.p;
  if (adv.priority === PRIORITY_STOP) {
    // RFC 3768 6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send an ADVERTISEMENT;
    // Reset the Adver_Timer to Advertisement_Interval"
    b.log('debug', 'Master received priority 0 message');
    b.emit({ type: 'send-advert', priority: b.snap.effectivePriority });
    b.setTimer('adver', b.nowMs + p.adverIntMs);
    return;
  }
  const cmp = compareIpv4(srcIp, p.srcIp);
  const isHigher = (ours: number): boolean => adv.priority > ours || (adv.priority === ours && cmp > 0);
  if (p.higherPrioSendAdvert && isHigher(b.snap.effectivePriority)) {
    b.emit({ type: 'send-advert', priority: b.snap.effectivePriority });
  }
  if (adv.priority === b.snap.effectivePriority && cmp === 0) {
    b.log('warn', 'WARNING - equal priority advert received from remote host with our IP address.');
  }
  if (adv.priority === PRIORITY_OWNER && p.basePriority === PRIORITY_OWNER && !b.snap.ownerConflict) {
    b.log(
      'error',
      'CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority',
    );
    b.patch({ ownerConflict: true });
    reevaluate(b);
  }
  const ours = b.snap.effectivePriority;
  if (adv.priority < ours || (adv.priority === ours && cmp < 0)) {
    // RFC 3768 6.4.3 "... less than the local Priority ... Discard"; keepalived instead re-asserts:
    // advert, GARP bursts and MASTER_RX_LOWER_PRI (KEEPALIVED.md 3.5).
    const election = p.lowerPrioNoAdvert ? '' : ', forcing new election';
    b.log('info', `Received advert from ${srcIp} with lower priority ${adv.priority}, ours ${ours}${election}`);
    if (!p.lowerPrioNoAdvert) b.emit({ type: 'send-advert', priority: ours });
    garp(b, 'lower-prio', p.garp.lowerPrioRepeat);
    if (p.garp.lowerPrioDelayMs > 0 && p.garp.lowerPrioRepeat > 0 && hasAddresses(p)) {
      b.setTimer('garp-lower-prio', b.nowMs + p.garp.lowerPrioDelayMs);
    }
    b.emit({ type: 'notify', kind: 'MASTER_RX_LOWER_PRI', priority: ours });
    if (!p.lowerPrioNoAdvert) b.setTimer('adver', b.nowMs + p.adverIntMs);
    return;
  }
  if (isHigher(ours)) {
    // RFC 3768 6.4.3: "If the Priority in the ADVERTISEMENT is greater than the local Priority, or
    // the Priority is equal and the primary IP Address of the sender is greater than the local
    // primary IP Address, then: Cancel Adver_Timer, Set Master_Down_Timer, Transition to Backup".
    const msg =
      adv.priority > ours
        ? `Master received advert from ${srcIp} with higher priority ${adv.priority}, ours ${ours}`
        : `Master received advert from ${srcIp} with same priority ${adv.priority} but higher IP address than ours`;
    b.log('info', msg);
    b.patch({ master: { ip: srcIp, priority: adv.priority } });
    const reason =
      adv.priority > ours
        ? `higher priority advert from ${srcIp} (${adv.priority} > ${ours})`
        : `equal priority advert from higher IP ${srcIp} (${adv.priority})`;
    leaveMasterToBackup(b, reason, snapshotMasterDownMs(b.snap), false);
    return;
  }
  // Equal priority from our own address: stay, re-arm the advert timer like any received packet.
  if (!p.lowerPrioNoAdvert) b.setTimer('adver', b.nowMs + p.adverIntMs);
}

// ---------------------------------------------------------------------------------------------
// External VIP deletion, stop, sync

/**
 * KEEPALIVED.md 3.8: a tracked VIP/eVIP deleted behind our back while MASTER -> BACKUP, priority-0
 * advert, remove the rest, down timer = skew time only (so we normally take over again ~skew later).
 */
function onVipDeleted(b: Step, address: string): void {
  const p = b.p;
  if (b.snap.state !== 'MASTER') return;
  if (!p.vips.includes(address) && !p.evips.includes(address)) return;
  if (p.noTrackAddresses.includes(address)) return;
  b.log('debug', `IP ${address} removed externally`);
  b.patch({ master: null });
  leaveMasterToBackup(b, `address ${address} deleted externally`, skewTimeMs(b.snap.effectivePriority), true);
}

/** KEEPALIVED.md 3.5 STOP: priority 0 and address removal only from MASTER; notify STOP for all. */
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

/** KEEPALIVED.md 2.5: follow a sync-group decision (`vrrp_sync_master/backup/fault`). */
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
