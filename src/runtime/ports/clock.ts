/**
 * Time as the runtime sees it (DESIGN.md style 6): a monotonic clock with one-shot timers for
 * everything the protocol times, and a wall clock read only for what people read (status, dumps,
 * the peers table), never for a deadline.
 */

/** A pending one-shot timer. `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/** Monotonic ms (may carry a sub-millisecond fraction) and one-shot timers. */
export interface MonotonicClock {
  nowMs(): number;
  /**
   * Run `cb` after `delayMs` (fractions allowed). Plain timers may be up to ~1 ms early or late
   * (the caller clamps); `precise` ones are never early and late by one event-loop turn, for the
   * Master_Down_Timer (io/system-clock.ts).
   */
  setTimer(delayMs: number, cb: () => void, precise?: boolean): TimerHandle;
}

/** Wall-clock time: ms since the epoch (it jumps with NTP or `date -s`: display only). */
export interface WallClock {
  wallMs(): number;
}

/** The daemon's clock: monotonic for timing, wall for what status and dumps show. */
export interface RuntimeClock extends MonotonicClock, WallClock {}
