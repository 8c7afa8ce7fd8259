/**
 * An instance's state changes: the last TRANSITION_HISTORY of them with their time and reason
 * (`vrrpd status`), and how many of each (from, to, cause) since the daemon started (the
 * `vrrpd_transitions_total` metric). Both are bounded: the history by its length, the counts by
 * the five states and the fixed list of causes.
 */
import { transitionCause, type TransitionCause } from '../protocol/transition-cause.js';
import type { VrrpState } from '../protocol/types.js';

/** Transitions `vrrpd status` shows per instance (FRR's `show vrrp` keeps a similar tail). */
export const TRANSITION_HISTORY = 10;

export interface TransitionEntry {
  /** Wall-clock time, ms since the epoch. */
  readonly atMs: number;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: string;
  readonly cause: TransitionCause;
}

export interface TransitionCount {
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly cause: TransitionCause;
  readonly count: number;
}

export class TransitionLog {
  readonly #recent: TransitionEntry[] = [];
  readonly #counts = new Map<string, { from: VrrpState; to: VrrpState; cause: TransitionCause; count: number }>();

  record(atMs: number, from: VrrpState, to: VrrpState, reason: string): void {
    const cause = transitionCause(to, reason);
    this.#recent.push({ atMs, from, to, reason, cause });
    if (this.#recent.length > TRANSITION_HISTORY) this.#recent.shift();
    const key = `${from}>${to}>${cause}`;
    const c = this.#counts.get(key);
    if (c === undefined) this.#counts.set(key, { from, to, cause, count: 1 });
    else c.count++;
  }

  /** The last transitions, oldest first. */
  recent(): readonly TransitionEntry[] {
    return [...this.#recent];
  }

  counts(): readonly TransitionCount[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }
}
