/**
 * A deterministic fake monotonic clock for tests: timers fire in deadline order (ties in the order
 * they were armed) when `advance()` moves time past them. Integer ms.
 */

interface Pending {
  readonly id: number;
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class FakeClock {
  private nowMsValue: number;
  private seq = 0;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(startMs = 0) {
    this.nowMsValue = startMs;
  }

  /** Current time in ms. */
  now(): number {
    return this.nowMsValue;
  }

  /** Run `fn` at `atMs` (clamped to now). Returns an id for `cancel()`. */
  setAt(atMs: number, fn: () => void): number {
    const id = this.nextId++;
    this.pending.set(id, { id, atMs: Math.max(atMs, this.nowMsValue), seq: this.seq++, fn });
    return id;
  }

  /** Run `fn` after `delayMs`. */
  setTimeout(fn: () => void, delayMs: number): number {
    return this.setAt(this.nowMsValue + delayMs, fn);
  }

  cancel(id: number): void {
    this.pending.delete(id);
  }

  /** Number of armed timers. */
  get size(): number {
    return this.pending.size;
  }

  /** Deadline of the earliest armed timer, or null. */
  nextDeadline(): number | null {
    const n = this.earliest();
    return n === undefined ? null : n.atMs;
  }

  /**
   * Move time forward by `ms`, firing every timer due at or before the new time in deadline order
   * (timers armed by callbacks fire too if due). Time reads inside a callback give its deadline.
   */
  advance(ms: number): void {
    if (ms < 0 || !Number.isFinite(ms)) throw new RangeError(`cannot advance by ${ms}`);
    this.advanceTo(this.nowMsValue + ms);
  }

  /** Move time forward to `targetMs` (see `advance`). */
  advanceTo(targetMs: number): void {
    if (targetMs < this.nowMsValue) throw new RangeError(`time cannot go back (${targetMs} < ${this.nowMsValue})`);
    for (;;) {
      const n = this.earliest();
      if (n === undefined || n.atMs > targetMs) break;
      this.pending.delete(n.id);
      this.nowMsValue = n.atMs;
      n.fn();
    }
    this.nowMsValue = targetMs;
  }

  private earliest(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending.values()) {
      if (best === undefined || p.atMs < best.atMs || (p.atMs === best.atMs && p.seq < best.seq)) best = p;
    }
    return best;
  }
}
