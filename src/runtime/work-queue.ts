/**
 * The daemon's one serialized path (DESIGN.md style 8): packets, timers, netlink events, script
 * results, signals and control requests only `push()` work here; items run one at a time, in
 * order, each to completion (including its awaited netlink/socket calls) before the next starts.
 * So every state-machine step and its actions are atomic with respect to each other.
 */
import type { Log } from '../log.js';

export class WorkQueue {
  readonly #items: { what: string; fn: () => void | Promise<void> }[] = [];
  #running = false;
  #idleWaiters: (() => void)[] = [];

  constructor(private readonly log: Log) {}

  get length(): number {
    return this.#items.length + (this.#running ? 1 : 0);
  }

  push(what: string, fn: () => void | Promise<void>): void {
    this.#items.push({ what, fn });
    if (!this.#running) void this.#drain();
  }

  /** Push and resolve when that item has run. */
  run<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.push(what, async () => {
        try {
          resolve(await fn());
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }

  /** Resolves when the queue is empty and nothing runs. */
  idle(): Promise<void> {
    if (!this.#running && this.#items.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  async #drain(): Promise<void> {
    this.#running = true;
    for (let item = this.#items.shift(); item !== undefined; item = this.#items.shift()) {
      try {
        await item.fn();
      } catch (e) {
        // A throw here is a bug (io returns values); keep the daemon alive and say where.
        this.log.error(
          { work: item.what, err: e instanceof Error ? (e.stack ?? e.message) : String(e) },
          `internal error in ${item.what}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    this.#running = false;
    const w = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const r of w) r();
  }
}
