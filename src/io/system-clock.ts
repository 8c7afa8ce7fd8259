/**
 * The real clock and timers (DESIGN.md style 6: integer milliseconds, monotonic).
 *
 * `nowMs()` is CLOCK_MONOTONIC (process.hrtime.bigint) in whole milliseconds: it never jumps
 * with NTP or `date -s`, and it is the same timeline in every process on the host (handy for
 * comparing daemon logs with test or benchmark timestamps).
 */

/** A pending one-shot timer. `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/** What a timer callback learns about its own punctuality. */
export interface TimerFire {
  /** The monotonic time (ms) the timer was due. */
  readonly dueMs: number;
  /** How late it actually fired (ms, >= 0). Large values mean a blocked event loop or a stopped VM. */
  readonly lateMs: number;
}

export interface SystemClockOptions {
  /** Called when a timer fires later than `lateThresholdMs` (default 250 ms, issue 4 item 5). */
  onLateTimer?: (lateMs: number, dueMs: number) => void;
  lateThresholdMs?: number;
}

/** Monotonic milliseconds (integer). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** Monotonic microseconds (integer), for benchmarks that need sub-millisecond figures. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1_000n);
}

export class SystemClock {
  readonly #onLate: ((lateMs: number, dueMs: number) => void) | undefined;
  readonly #lateThresholdMs: number;

  constructor(opts: SystemClockOptions = {}) {
    this.#onLate = opts.onLateTimer;
    this.#lateThresholdMs = opts.lateThresholdMs ?? 250;
  }

  nowMs(): number {
    return monotonicMs();
  }

  /**
   * Run `cb` once, `delayMs` (clamped to >= 0) from now. Node's setTimeout has 1 ms granularity and
   * never fires early by more than that; `lateMs` reports the real delay against the monotonic due time.
   */
  setTimer(delayMs: number, cb: (fire: TimerFire) => void): TimerHandle {
    const dueMs = monotonicMs() + Math.max(0, Math.round(delayMs));
    let handle: NodeJS.Timeout | undefined = setTimeout(() => {
      handle = undefined;
      const lateMs = Math.max(0, monotonicMs() - dueMs);
      if (lateMs > this.#lateThresholdMs) this.#onLate?.(lateMs, dueMs);
      cb({ dueMs, lateMs });
    }, Math.max(0, Math.round(delayMs)));
    return {
      cancel() {
        if (handle) clearTimeout(handle);
        handle = undefined;
      },
    };
  }
}

export interface LagSample {
  /** Worst lag observed in the window (ms). */
  readonly maxLagMs: number;
  /** Most recent lag (ms). */
  readonly lastLagMs: number;
}

export interface EventLoopLagMonitorOptions {
  /** Probe period (ms); default 100. */
  intervalMs?: number;
  /** Called each time a probe is late by more than `thresholdMs` (default 250). */
  onLag?: (lagMs: number) => void;
  thresholdMs?: number;
}

/**
 * Measures event-loop lag by scheduling a probe every `intervalMs` and comparing when it ran with
 * when it was due. The probe timer is unref'd: it never keeps the process alive.
 */
export class EventLoopLagMonitor {
  readonly #intervalMs: number;
  readonly #thresholdMs: number;
  readonly #onLag: ((lagMs: number) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dueMs = 0;
  #maxLagMs = 0;
  #lastLagMs = 0;

  constructor(opts: EventLoopLagMonitorOptions = {}) {
    this.#intervalMs = opts.intervalMs ?? 100;
    this.#thresholdMs = opts.thresholdMs ?? 250;
    this.#onLag = opts.onLag;
  }

  start(): this {
    if (this.#timer) return this;
    this.#arm();
    return this;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Read the figures; `reset` starts a new window for `maxLagMs`. */
  sample(reset = false): LagSample {
    const s = { maxLagMs: this.#maxLagMs, lastLagMs: this.#lastLagMs };
    if (reset) this.#maxLagMs = 0;
    return s;
  }

  #arm(): void {
    this.#dueMs = monotonicMs() + this.#intervalMs;
    this.#timer = setTimeout(() => {
      const lag = Math.max(0, monotonicMs() - this.#dueMs);
      this.#lastLagMs = lag;
      if (lag > this.#maxLagMs) this.#maxLagMs = lag;
      if (lag > this.#thresholdMs) this.#onLag?.(lag);
      this.#arm();
    }, this.#intervalMs);
    this.#timer.unref();
  }
}
