/**
 * The advert grid (DaemonOptions.advertGridMs, InstanceEnv.advertTimer): MASTERs' periodic
 * Adver_Timers fire at the grid point nearest their deadline, all callbacks of a point from one
 * clock timer, in the order they were added. So the daemon's instances send their adverts in a few
 * bursts a second instead of one wake-up each. A grid point's timer is a precise one (in `vrrpd run`
 * a timerfd deadline, io/timerfd.ts), so an advert leaves at its grid point, not up to 1 ms off it.
 */
import type { MonotonicClock, TimerHandle } from './ports/index.js';

/**
 * The advert grid `vrrpd run` uses (DaemonOptions.advertGridMs): at most 20 advert bursts a second
 * however many instances, each advert at most 25 ms off its own schedule's phase.
 */
export const ADVERT_GRID_MS = 50;

export class AdvertGrid {
  /** Grid points with callbacks waiting: one clock timer each. */
  readonly #points = new Map<number, { readonly handle: TimerHandle; readonly cbs: Set<() => void> }>();

  constructor(
    private readonly clock: MonotonicClock,
    /** Grid step (ms, > 0). */
    readonly stepMs: number,
  ) {}

  /** `cb` at the grid point nearest `deadlineMs`. */
  timer(deadlineMs: number, cb: () => void): TimerHandle {
    const atMs = Math.round(deadlineMs / this.stepMs) * this.stepMs;
    let point = this.#points.get(atMs);
    if (point === undefined) {
      const cbs = new Set<() => void>();
      // Precise: a plain timer is up to ~1 ms off, which would be every advert's interval jitter.
      const handle = this.clock.setTimer(
        Math.max(0, atMs - this.clock.nowMs()),
        () => {
          this.#points.delete(atMs);
          for (const f of cbs) f();
        },
        true,
      );
      point = { handle, cbs };
      this.#points.set(atMs, point);
    }
    const p = point;
    p.cbs.add(cb);
    return {
      cancel: () => {
        p.cbs.delete(cb);
        if (p.cbs.size === 0 && this.#points.get(atMs) === p) {
          p.handle.cancel();
          this.#points.delete(atMs);
        }
      },
    };
  }

  /** The next grid point with callbacks waiting, or undefined. */
  nextPointMs(): number | undefined {
    let next: number | undefined;
    for (const at of this.#points.keys()) if (next === undefined || at < next) next = at;
    return next;
  }
}
