/**
 * The status snapshot: what `status` requests are answered from, so that no number of them can
 * queue ahead of adverts and timers. A snapshot is the report built on the daemon's work queue
 * (one consistent view between two protocol steps) and serialized once; requests share it.
 *
 * A request is answered from the current snapshot while it is younger than SNAPSHOT_MIN_REUSE_MS
 * or SNAPSHOT_COST_FACTOR times what it cost to build, whichever is longer (a few instances:
 * 20 ms; 1,000 instances: about 200 ms). However many requests arrive, building reports then takes
 * at most 1/SNAPSHOT_COST_FACTOR of the daemon's time and at most 50 builds a second (each one
 * garbage for the collector), while a request that comes alone (the usual case: a command, a
 * monitoring poll) still sees everything that happened more than 20 ms before it. A new one is
 * built at once, whatever its age, when
 *  - the daemon changed in a way a reader waits for: an instance's state, effective priority or
 *    last transition, or the set of instances (a reload): a fingerprint compared on each request,
 *    O(instances) reads of memory, no queue;
 *  - or a caller said so (`invalidate()`, after a command).
 * At most one build is on the queue at a time for a given fingerprint; concurrent requests wait
 * for it together. A build is one queue item, the cost of one report, as a status request was
 * before snapshots.
 */
import type { StatusReport } from './protocol.js';
import { EncodedResponse } from './protocol.js';

/** A snapshot is reused while younger than this many times what it took to build... */
export const SNAPSHOT_COST_FACTOR = 20;
/** ... and at least this long (ms). */
export const SNAPSHOT_MIN_REUSE_MS = 20;

export interface Snapshot {
  readonly report: StatusReport;
  /** `{"ok":true,"status":...}`, serialized once. */
  readonly response: EncodedResponse;
  /** Monotonic ms when it was built. */
  readonly builtAtMs: number;
  /** How long the build took (ms): queue item plus serialization. */
  readonly costMs: number;
}

export interface StatusSnapshotOptions {
  /** Build the report on the daemon's work queue; `costMs`: how long the queue item took. */
  readonly build: () => Promise<{ readonly report: StatusReport; readonly costMs: number }>;
  /** A cheap summary of what a reader waits for (state, priority, transitions); compared with ===. */
  readonly fingerprint: () => string | number;
  /** Monotonic clock, ms. */
  readonly nowMs: () => number;
  /** Reuse a snapshot at least this long (ms; default SNAPSHOT_MIN_REUSE_MS). Tests lengthen it. */
  readonly reuseMs?: number;
  readonly costFactor?: number;
}

export class StatusSnapshot {
  #current: (Snapshot & { readonly key: string }) | undefined;
  #building: { readonly key: string; readonly p: Promise<Snapshot> } | undefined;
  #generation = 0;
  /** Reports built so far, and the time they took in all (ms; tests, benchmarks). */
  builds = 0;
  buildMs = 0;

  constructor(private readonly o: StatusSnapshotOptions) {}

  /** Drop the current snapshot: the next request builds a new one (after a command changed things). */
  invalidate(): void {
    this.#generation++;
  }

  /** The snapshot to answer with: the current one when still good, else a (shared) new build. */
  get(): Promise<Snapshot> {
    const key = `${this.#generation}|${this.o.fingerprint()}`;
    const c = this.#current;
    if (c !== undefined && c.key === key && this.o.nowMs() - c.builtAtMs < Math.max(this.o.reuseMs ?? SNAPSHOT_MIN_REUSE_MS, (this.o.costFactor ?? SNAPSHOT_COST_FACTOR) * c.costMs)) {
      return Promise.resolve(c);
    }
    if (this.#building !== undefined && this.#building.key === key) return this.#building.p;
    const p = this.#build(key);
    const b = { key, p };
    this.#building = b;
    const clear = (): void => {
      if (this.#building === b) this.#building = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  async #build(key: string): Promise<Snapshot> {
    const { report, costMs } = await this.o.build();
    const t0 = this.o.nowMs();
    const response = new EncodedResponse(JSON.stringify({ ok: true, status: report }));
    const now = this.o.nowMs();
    const s = { report, response, builtAtMs: now, costMs: costMs + (now - t0), key };
    this.builds++;
    this.buildMs += s.costMs;
    this.#current = s;
    return s;
  }
}
