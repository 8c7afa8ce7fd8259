/**
 * The status snapshot: what `status` requests are answered from, so that no number of them can
 * queue ahead of adverts and timers. A snapshot is the report built on the daemon's work queue
 * (one consistent view between two protocol steps) and serialized once; requests share it.
 *
 * When a request comes, the current snapshot is reused if
 *  - it is younger than SNAPSHOT_COST_FACTOR times what it cost to build (a few instances: under
 *    15 ms; 1,000 instances: about 200 ms), so building reports never takes more than
 *    1/SNAPSHOT_COST_FACTOR of the daemon's time;
 *  - or SNAPSHOT_BUILDS_PER_SECOND builds were spent already (a token bucket holding
 *    SNAPSHOT_BUILD_BURST): a flood of requests gets at most that many builds a second (each one
 *    garbage for the collector), with data at most about 1/SNAPSHOT_BUILDS_PER_SECOND s old.
 * Otherwise a new one is built: a request that comes alone (the usual case: a command, a
 * monitoring poll) sees everything that happened before it, as before snapshots. A new one is
 * also built at once, whatever the above, when
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

/** A snapshot is reused while younger than this many times what it took to build. */
export const SNAPSHOT_COST_FACTOR = 20;
/** Builds a second once the burst is spent; beyond them requests share the current snapshot. */
export const SNAPSHOT_BUILDS_PER_SECOND = 10;
/** Builds that may follow each other at once (a few monitoring clients polling together). */
export const SNAPSHOT_BUILD_BURST = 5;

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
  /** Reuse a snapshot at least this long (ms; default 0). Tests lengthen it. */
  readonly reuseMs?: number;
  readonly costFactor?: number;
  readonly buildsPerSecond?: number;
  readonly buildBurst?: number;
}

export class StatusSnapshot {
  #current: (Snapshot & { readonly key: string }) | undefined;
  #building: { readonly key: string; readonly p: Promise<Snapshot> } | undefined;
  #generation = 0;
  /** Reports built so far, and the time they took in all (ms; tests, benchmarks). */
  builds = 0;
  buildMs = 0;
  #tokens: number;
  #tokensAtMs: number;

  constructor(private readonly o: StatusSnapshotOptions) {
    this.#tokens = o.buildBurst ?? SNAPSHOT_BUILD_BURST;
    this.#tokensAtMs = o.nowMs();
  }

  /** One build from the bucket, if there is one. */
  #takeBuild(now: number): boolean {
    const rate = this.o.buildsPerSecond ?? SNAPSHOT_BUILDS_PER_SECOND;
    this.#tokens = Math.min(this.o.buildBurst ?? SNAPSHOT_BUILD_BURST, this.#tokens + (Math.max(0, now - this.#tokensAtMs) / 1000) * rate);
    this.#tokensAtMs = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Drop the current snapshot: the next request builds a new one (after a command changed things). */
  invalidate(): void {
    this.#generation++;
  }

  /** The snapshot to answer with: the current one when still good, else a (shared) new build. */
  get(): Promise<Snapshot> {
    const key = `${this.#generation}|${this.o.fingerprint()}`;
    const c = this.#current;
    const now = this.o.nowMs();
    if (this.#building !== undefined && this.#building.key === key) return this.#building.p;
    if (c !== undefined && c.key === key) {
      if (now - c.builtAtMs < Math.max(this.o.reuseMs ?? 0, (this.o.costFactor ?? SNAPSHOT_COST_FACTOR) * c.costMs))
        return Promise.resolve(c);
      if (!this.#takeBuild(now)) return Promise.resolve(c);
    } else {
      // A change (or the first request) is never refused a build; it still counts.
      this.#takeBuild(now);
    }
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
