/**
 * The BACKUPs' Master_Down_Timers on one clock timer (InstanceEnv.downTimer). Every advert a
 * BACKUP accepts re-arms its Master_Down_Timer (RFC 3768 6.4.2), so with one clock timer per
 * instance the daemon cancelled and armed a timer for every received advert, though the timer
 * fires only when adverts stop. Here re-arming is a field update: the deadlines live in a set, and
 * one clock timer is armed for the earliest of them. When it wakes, whatever is due fires (in
 * deadline order) and it is re-armed for the new earliest, which adverts have usually pushed a few
 * seconds on: a steady BACKUP wakes for these timers about once every 2-3 seconds, not 255 times a
 * second at 255 instances.
 *
 * Precision is the same as a precise clock timer's (never early, late by one event-loop turn): the
 * wake-up before the deadline is a plain timer up to PRECISE_LEAD_MS early, and only the final
 * approach is a precise one.
 */
import type { MonotonicClock, TimerHandle } from './ports/index.js';

/** A plain wake-up this much before the earliest deadline, then a precise timer for the rest. */
export const PRECISE_LEAD_MS = 5;

interface Entry {
  readonly atMs: number;
  readonly cb: () => void;
}

export class DownTimers {
  readonly #entries = new Set<Entry>();
  #handle: TimerHandle | undefined;
  /** The deadline the clock timer is armed for (the precise one, or the plain wake-up before it). */
  #armedAt = Infinity;

  constructor(private readonly clock: MonotonicClock) {}

  /** Timers waiting (tests, status). */
  get size(): number {
    return this.#entries.size;
  }

  /** `cb` at `atMs` (monotonic ms), never before it. */
  timer(atMs: number, cb: () => void): TimerHandle {
    const e: Entry = { atMs, cb };
    this.#entries.add(e);
    if (atMs < this.#armedAt) this.#arm(atMs);
    const entries = this.#entries;
    return {
      cancel() {
        // The clock timer stays armed: when it wakes with nothing due it re-arms for the next.
        entries.delete(e);
      },
    };
  }

  #arm(atMs: number): void {
    this.#handle?.cancel();
    const rem = atMs - this.clock.nowMs();
    if (rem > PRECISE_LEAD_MS) {
      this.#armedAt = atMs - PRECISE_LEAD_MS;
      this.#handle = this.clock.setTimer(rem - PRECISE_LEAD_MS, () => this.#wake());
    } else {
      this.#armedAt = atMs;
      this.#handle = this.clock.setTimer(Math.max(0, rem), () => this.#wake(), true);
    }
  }

  #wake(): void {
    this.#handle = undefined;
    this.#armedAt = Infinity;
    const now = this.clock.nowMs();
    const due: Entry[] = [];
    let next = Infinity;
    for (const e of this.#entries) {
      if (e.atMs <= now) due.push(e);
      else if (e.atMs < next) next = e.atMs;
    }
    due.sort((x, y) => x.atMs - y.atMs);
    for (const e of due) this.#entries.delete(e);
    if (next < Infinity) this.#arm(next);
    for (const e of due) e.cb();
  }
}
