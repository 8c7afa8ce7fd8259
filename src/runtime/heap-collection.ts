/**
 * Periodic full garbage collections (DaemonOptions.collectGarbage; io/heap.ts says why): every
 * HEAP_COLLECT_INTERVAL_MS one, on the work queue, right after the next advert burst when MASTERs
 * advertise on the grid (so the pause delays no advert), else at once.
 */
import type { AdvertGrid } from './advert-grid.js';
import type { MonotonicClock, TimerHandle } from './ports/index.js';

/**
 * How often the daemon asks for a full garbage collection: the old generation then holds at most
 * this long's garbage (~2.5 MiB at the soak's rate) instead of growing to V8's next limit first.
 * Each costs one 5-20 ms pause, taken right after an advert burst so no advert waits for it: 12 an
 * hour.
 */
export const HEAP_COLLECT_INTERVAL_MS = 300_000;

export interface HeapCollectionDeps {
  readonly clock: MonotonicClock;
  readonly submit: (what: string, fn: () => void) => void;
  /** The advert grid, when there is one. */
  readonly grid: AdvertGrid | null;
  readonly collect: () => void;
  readonly stopping: () => boolean;
  /**
   * The first collections after start, each this long after the one before (the first after
   * start); then every HEAP_COLLECT_INTERVAL_MS. Default: none (every interval from the start).
   */
  readonly firstMs?: readonly number[];
}

export class HeapCollection {
  #timer: TimerHandle | undefined;
  /** Full collections run (status, tests). */
  count = 0;

  constructor(private readonly deps: HeapCollectionDeps) {}

  /** Arm the next collection (start, and after each one). */
  arm(): void {
    const { clock, submit, grid, collect, stopping, firstMs } = this.deps;
    if (stopping()) return;
    const inMs = firstMs?.[this.count] ?? HEAP_COLLECT_INTERVAL_MS;
    this.#timer = clock.setTimer(inMs, () => {
      const run = (): void =>
        submit('heap collection', () => {
          if (stopping()) return;
          collect();
          this.count++;
          this.arm();
        });
      // The next grid point with adverts waiting: its callbacks run in the order they were added,
      // so the instances' adverts are queued before the collection, and the next point is a grid
      // step (50 ms) away, longer than the pause.
      const next = grid?.nextPointMs();
      if (grid && next !== undefined) grid.timer(next, run);
      else run();
    });
  }

  cancel(): void {
    this.#timer?.cancel();
  }
}
