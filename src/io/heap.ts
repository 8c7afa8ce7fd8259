/**
 * A full garbage collection on request (issue 10 memory over time).
 *
 * Why: a quiet daemon promotes a little garbage to V8's old generation all the time (timers, hook
 * runs, status reads; ~0.5 MiB/min in the soak with hooks, a vrrp_script and status polling), and
 * V8 collects the old generation only when it reaches its next limit (live heap + at least 8 MiB,
 * often twice the live heap). Until then RSS climbs in a straight line: the +0.14-0.18 MiB/min the
 * issue-6 soaks measured, with a live heap that did not grow. A full collection every few minutes
 * (the daemon schedules it after an advert burst) keeps RSS at the live heap plus a few minutes of
 * garbage instead.
 *
 * How: V8's `gc()` is exposed only with `--expose-gc`; the flag is set for the moment it takes to
 * create one context that has it, then cleared, so no other code sees a `gc` global. Returns null
 * when that does not work (another engine or a future Node): the daemon then leaves GC to V8.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** A synchronous full (mark-compact) collection: ~5-20 ms for vrrpd's ~10 MiB heap. */
export function fullCollector(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    v8.setFlagsFromString('--no-expose-gc');
    if (typeof gc !== 'function') return null;
    return () => void (gc as () => unknown)();
  } catch {
    return null;
  }
}
