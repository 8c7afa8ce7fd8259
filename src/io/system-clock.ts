/**
 * The real clock and timers (DESIGN.md style 6: milliseconds, monotonic).
 *
 * `nowMs()` is CLOCK_MONOTONIC (process.hrtime.bigint) in milliseconds with a microsecond
 * fraction: it never jumps with NTP or `date -s`, and it is the same timeline in every process on
 * the host (handy for comparing daemon logs with test or benchmark timestamps). The fraction is
 * kept so that deadlines computed from a packet's receive time do not lose up to 1 ms to rounding
 * (the Master_Down_Timer fired 1.5-2 ms late with whole milliseconds).
 */
import type { TimerHandle } from '../runtime/ports/clock.js';

/** A pending one-shot timer: the runtime's type (runtime/ports/clock.ts). */
export type { TimerHandle };

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

/** Monotonic milliseconds with a microsecond fraction (same timeline as `monotonicMs`). */
export function monotonicPreciseMs(): number {
  return Number(process.hrtime.bigint() / 1_000n) / 1000;
}

/**
 * A precise timer wakes from setTimeout at least this long (minus 1 ms) before its deadline, then polls the clock once
 * per event-loop turn (setImmediate: I/O keeps being served) until the deadline. setTimeout alone
 * is up to ~1 ms late (libuv's loop time is whole milliseconds) and can even be early (the loop
 * time is cached at the start of the turn).
 */
export const PRECISE_SPIN_MS = 1.2;

/** Monotonic microseconds (integer), for benchmarks that need sub-millisecond figures. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1_000n);
}

/** Timers at absolute monotonic deadlines that need no polling (io/timerfd.ts). */
export interface DeadlineTimers {
  at(dueMs: number, cb: () => void): TimerHandle;
}

export class SystemClock {
  readonly #onLate: ((lateMs: number, dueMs: number) => void) | undefined;
  readonly #lateThresholdMs: number;
  #deadlines: DeadlineTimers | null = null;

  constructor(opts: SystemClockOptions = {}) {
    this.#onLate = opts.onLateTimer;
    this.#lateThresholdMs = opts.lateThresholdMs ?? 250;
  }

  /**
   * From now on, `precise` timers wait on `timers` (a timerfd: no polling) instead of a setTimeout
   * followed by PRECISE_SPIN_MS of polling. Timers already set keep their way.
   */
  useDeadlineTimers(timers: DeadlineTimers | null): void {
    this.#deadlines = timers;
  }

  /** Precise timers wait on a timerfd (useDeadlineTimers), not by polling. */
  get preciseIsCheap(): boolean {
    return this.#deadlines !== null;
  }

  /** Monotonic ms with a microsecond fraction. */
  nowMs(): number {
    return monotonicPreciseMs();
  }

  /**
   * Run `cb` once, `delayMs` (clamped to >= 0, fractions kept) from now; `lateMs` reports the real
   * delay against the monotonic due time.
   *
   * Default: one setTimeout (1 ms granularity, so up to ~1 ms late or early; callers that must not
   * act early clamp to their deadline). `precise`: never early, and late by one event-loop turn
   * (tens of microseconds on an idle loop) instead of up to a millisecond, at the cost of polling
   * during the last PRECISE_SPIN_MS: meant for timers that rarely fire (the Master_Down_Timer is
   * re-armed by every advert and fires only on a failover), not for periodic ones. With
   * useDeadlineTimers, a precise timer is a timerfd deadline instead: as punctual, and no polling.
   */
  setTimer(delayMs: number, cb: (fire: TimerFire) => void, precise = false): TimerHandle {
    const dueMs = monotonicPreciseMs() + Math.max(0, delayMs);
    let handle: NodeJS.Timeout | undefined;
    let spin: NodeJS.Immediate | undefined;
    let done = false;
    const fire = (): void => {
      done = true;
      const lateMs = Math.max(0, monotonicPreciseMs() - dueMs);
      if (lateMs > this.#lateThresholdMs) this.#onLate?.(lateMs, dueMs);
      cb({ dueMs, lateMs });
    };
    const check = (): void => {
      handle = undefined;
      spin = undefined;
      if (done) return;
      const remMs = dueMs - monotonicPreciseMs();
      // setTimeout(k) fires within [k - 1, k + 1) ms of real time (whole-ms loop time), so wake
      // at least PRECISE_SPIN_MS - 1 ms early and poll the rest.
      const k = Math.floor(remMs - PRECISE_SPIN_MS);
      if (remMs <= 0) fire();
      else if (k >= 1) handle = setTimeout(check, k);
      else spin = setImmediate(check);
    };
    if (precise && this.#deadlines !== null) {
      const t = this.#deadlines.at(dueMs, fire);
      return {
        cancel() {
          done = true;
          t.cancel();
        },
      };
    }
    if (precise) check();
    else {
      handle = setTimeout(
        () => {
          handle = undefined;
          fire();
        },
        Math.max(0, Math.round(delayMs)),
      );
    }
    return {
      cancel() {
        done = true;
        if (handle) clearTimeout(handle);
        if (spin) clearImmediate(spin);
        handle = undefined;
        spin = undefined;
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
  /** Called with every probe's lag (the metrics histogram). */
  onSample?: (lagMs: number) => void;
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
  readonly #onSample: ((lagMs: number) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dueMs = 0;
  #maxLagMs = 0;
  #lastLagMs = 0;

  constructor(opts: EventLoopLagMonitorOptions = {}) {
    this.#intervalMs = opts.intervalMs ?? 100;
    this.#thresholdMs = opts.thresholdMs ?? 250;
    this.#onLag = opts.onLag;
    this.#onSample = opts.onSample;
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
      this.#onSample?.(lag);
      this.#arm();
    }, this.#intervalMs);
    this.#timer.unref();
  }
}
