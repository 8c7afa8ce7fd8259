/**
 * The advert grid (DaemonOptions.advertGridMs, InstanceEnv.advertTimer): MASTERs' periodic
 * Adver_Timers fire on points of a grid, all callbacks of a point from one clock timer, in the order
 * they were added. So the daemon's instances send their adverts in a few bursts a second instead of
 * one wake-up each. A grid point's timer is a precise one (in `vrrpd run` a timerfd deadline,
 * io/timerfd.ts), so an advert leaves at its grid point, not up to 1 ms off it.
 *
 * Each instance has a lane (`lane()`): its advert is placed at a grid point no later than its
 * deadline, and, once placed, stays at the same point of its schedule from one advert to the next
 * (sticky). A new schedule (becoming MASTER, an advert sent at once) is placed at the latest point
 * before the deadline that has fewer than `burst` adverts waiting. Why (BENCHMARKS.md, "The advert
 * grid on a timerfd"): instances that become MASTER together would otherwise all share the one or
 * two points nearest their deadlines, and an advert's place in a burst of a hundred moves by
 * milliseconds from one second to the next with the work of every advert before it: that was the
 * interval jitter at 255 instances. Bursts of at most `burst` keep that term small. Never later: a
 * late advert eats into the backup's Master_Down_Timer; an early one is harmless, and the state
 * machine's deadlines do not move with it (its event time is never before them), so the adverts of
 * a placed instance stay exactly Adver_Interval apart.
 */
import type { MonotonicClock, TimerHandle } from './ports/index.js';

/**
 * The advert grid `vrrpd run` uses (DaemonOptions.advertGridMs): at most 20 advert bursts a second
 * however many instances.
 */
export const ADVERT_GRID_MS = 50;

/** At most this many adverts placed on one grid point while a later-to-earlier point has room. */
export const ADVERT_BURST = 16;

/** An instance's advert timer on the grid: `cb` at a grid point chosen for `deadlineMs`. */
export type GridTimer = (deadlineMs: number, cb: () => void, intervalMs: number) => TimerHandle;

interface Placed {
  readonly deadlineMs: number;
  readonly atMs: number;
}

interface Point {
  readonly handle: TimerHandle;
  readonly cbs: Set<() => void>;
}

export class AdvertGrid {
  /** Grid points with callbacks waiting: one clock timer each. */
  readonly #points = new Map<number, Point>();

  constructor(
    private readonly clock: MonotonicClock,
    /** Grid step (ms, > 0). */
    readonly stepMs: number,
    /** Adverts per point before a placement looks at earlier points (>= 1). */
    readonly burst = ADVERT_BURST,
  ) {}

  /** `cb` at the grid point nearest `deadlineMs` (a point already waiting, for HeapCollection). */
  timer(deadlineMs: number, cb: () => void): TimerHandle {
    return this.#at(Math.round(deadlineMs / this.stepMs) * this.stepMs, cb);
  }

  /**
   * One instance's advert timer: never later than the deadline and less than an Adver_Interval
   * before it; the same place in its schedule while the schedule goes on; a new schedule at the
   * latest point with room (see the file's comment). An interval that is not a whole number of grid
   * steps gets exact timers: it could keep no place on the grid.
   */
  lane(): GridTimer {
    let last: Placed | undefined;
    return (deadlineMs, cb, intervalMs) => {
      const atMs = intervalMs % this.stepMs === 0 && intervalMs > 0 ? this.#place(deadlineMs, intervalMs, last) : null;
      if (atMs === null) {
        last = undefined;
        return this.clock.setTimer(Math.max(0, deadlineMs - this.clock.nowMs()), cb, true);
      }
      last = { deadlineMs, atMs };
      return this.#at(atMs, cb);
    };
  }

  /** The next grid point with callbacks waiting, or undefined. */
  nextPointMs(): number | undefined {
    let next: number | undefined;
    for (const at of this.#points.keys()) if (next === undefined || at < next) next = at;
    return next;
  }

  /**
   * A point in (deadline - interval, deadline], not before now and after the lane's last one: each
   * advert then leaves an interval after the one before (the state machine's next deadline is its
   * deadline plus the interval when the point came early), never two at one point.
   */
  #place(deadlineMs: number, intervalMs: number, last: Placed | undefined): number | null {
    const step = this.stepMs;
    const now = this.clock.nowMs();
    const fits = (at: number): boolean =>
      at <= deadlineMs && at > deadlineMs - intervalMs && at >= now && (last === undefined || at > last.atMs);
    if (last !== undefined) {
      // the schedule goes on (a late wake-up moves its deadline by less than half a step)
      const at = last.atMs + Math.round((deadlineMs - last.deadlineMs) / step) * step;
      if (fits(at)) return at;
    }
    let best: number | null = null;
    let bestLoad = Infinity;
    for (let at = Math.floor(deadlineMs / step) * step; fits(at) && bestLoad >= this.burst; at -= step) {
      const load = this.#load(at);
      if (load < bestLoad) {
        best = at;
        bestLoad = load;
      }
    }
    return best;
  }

  #load(atMs: number): number {
    return this.#points.get(atMs)?.cbs.size ?? 0;
  }

  #at(atMs: number, cb: () => void): TimerHandle {
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
}
