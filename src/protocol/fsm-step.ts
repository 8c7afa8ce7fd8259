/**
 * The accumulator of one state-machine step (fsm.ts): the copy-on-write snapshot, the actions
 * emitted, timers and counters, and `transition()`, the only writer of `state`. Also the
 * snapshot's Master_Down_Interval, which every part of the step needs. Pure.
 */
import type { VrrpState } from './types.js';
import type { InstanceParams } from './instance-params.js';
import type { FsmAction, InstanceCounters, InstanceSnapshot, StepResult, SyncContext, TimerName } from './fsm-types.js';
import { TIMER_NAMES } from './fsm-types.js';
import { masterDownIntervalMs, masterDownIntervalV3Ms, skewTimeMs, skewTimeV3Ms } from './timing.js';

/** v3: the Master_Adver_Interval in centiseconds, learned or our own advert_int. */
function masterAdverIntCs(s: InstanceSnapshot): number {
  return Math.round((s.masterAdverIntMs ?? s.params.adverIntMs) / 10);
}

/**
 * Master_Down_Interval for the snapshot's current effective priority (docs/keepalived-behaviour.md 3.4). v3: RFC
 * 5798 6.1 at the Master_Adver_Interval learned from the master (timing.ts, keepalived's us / 1000).
 */
export function snapshotMasterDownMs(s: InstanceSnapshot): number {
  if (s.params.version === 3) return masterDownIntervalV3Ms(masterAdverIntCs(s), s.effectivePriority, s.params.downTimerAdverts);
  return masterDownIntervalMs(s.params.adverIntMs, s.effectivePriority, s.params.downTimerAdverts);
}

/** Skew_Time for the snapshot's effective priority: v2 independent of the interval, v3 scaled by it. */
export function snapshotSkewMs(s: InstanceSnapshot): number {
  return s.params.version === 3 ? skewTimeV3Ms(s.effectivePriority, masterAdverIntCs(s)) : skewTimeMs(s.effectivePriority);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Mutable accumulator used inside one step; the outside world only sees the immutable result.
 * Copy-on-write: the input snapshot (and its `counters` and `timers`) is never modified; the
 * first change of a step copies it once, later changes of the same step write into that copy
 * (an advert in BACKUP made five whole-snapshot copies before).
 */
export class Step {
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
    return d.timers;
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
