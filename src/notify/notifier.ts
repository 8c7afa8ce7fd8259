/**
 * Instance and sync-group notify hooks (docs/keepalived-behaviour.md 4.1): for a state change, the state's own
 * script (`notify_master` ...; configured argv only), then the generic `notify` with
 * `INSTANCE|GROUP NAME STATE PRIORITY` appended. Serialized per instance/group: a hook starts only
 * after the previous one for the same name finished (or was killed at its timeout), so a slow
 * hook cannot make BACKUP run after MASTER. keepalived itself is fire-and-forget and may reorder
 * (its issues #1213, #1991); vrrpd keeps the order. `notify_stop` is killed after 1 s, as keepalived;
 * every other hook after `timeoutMs` (30 s). Each run (argv, start time, duration, exit status or
 * signal, timeout, refusal) is kept in a HookHistory for `vrrpd status`.
 *
 * Every hook passes the ScriptGate (security.ts) right before it is spawned: who it runs as, the
 * file check repeated (a hook whose path became unsafe after load is not run, and its history entry
 * says why), and the umask (keepalived's 0177: files a hook creates are 0600).
 *
 * Queue bound: behind a running (perhaps hung) hook, at most `maxQueued` state changes
 * (HOOK_QUEUE_BOUND, 16) wait per instance or group. One more, and the waiting ones are coalesced
 * to the newest state change's hooks: the hooks of the state the instance is now in still run, in
 * order, after the running one; the intermediate states' hooks are dropped, logged (rate-limited)
 * and counted (`dropped`). An operator's hooks set the host up for the current state (SNAT on, a
 * route, a state file), so running stale ones would only undo and redo; a `notify` hook that logs
 * every transition misses the dropped ones, which the log line lists.
 */
import type { DeepReadonly, NotifyKind as ConfigNotifyKind, ScriptCommand } from '../config/model.js';
import type { Log } from '../log.js';
import { RateLimiter } from '../log.js';
import type { HookRun, NotifyState } from '../runtime/ports/notifier.js';
import type { ProcessRunner, RunResult } from '../runtime/ports/processes.js';
import { openGate, type ScriptGate } from './security.js';

/** State changes that may wait per instance/group behind a running hook (see the file comment). */
export const HOOK_QUEUE_BOUND = 16;

// A run and a state word are the runtime's types (runtime/ports/notifier.ts).
export type { HookRun, NotifyState };

export interface NotifierOptions {
  runner: ProcessRunner;
  log: Log;
  /** Checks each hook right before its spawn and says as whom and with which umask it runs; default: no checks, the daemon's user, umask 0177. */
  gate?: ScriptGate;
  /** Timeout for hooks other than notify_stop (ms); default 30 s. */
  timeoutMs?: number;
  /** Where finished runs are recorded (kept across reloads by the owner). */
  history?: HookHistory;
  /** State changes that may wait per instance/group (default HOOK_QUEUE_BOUND). */
  maxQueued?: number;
  /** Clock for the log rate limit (ms); default Date.now. */
  nowMs?: () => number;
}

/** The last runs per instance/group (newest last), bounded. */
export class HookHistory {
  readonly #runs = new Map<string, HookRun[]>();
  readonly #observers: ((type: 'INSTANCE' | 'GROUP', name: string, run: HookRun) => void)[] = [];
  constructor(readonly keep = 10) {}

  /** Be told of every run as it is recorded (the metrics' counters and histogram). */
  observe(fn: (type: 'INSTANCE' | 'GROUP', name: string, run: HookRun) => void): void {
    this.#observers.push(fn);
  }

  add(type: 'INSTANCE' | 'GROUP', name: string, run: HookRun): void {
    for (const fn of this.#observers) fn(type, name, run);
    const key = `${type}:${name}`;
    const list = this.#runs.get(key) ?? [];
    list.push(run);
    if (list.length > this.keep) list.splice(0, list.length - this.keep);
    this.#runs.set(key, list);
  }

  get(type: 'INSTANCE' | 'GROUP', name: string): readonly HookRun[] {
    return [...(this.#runs.get(`${type}:${name}`) ?? [])];
  }

  /**
   * Forget every instance and group not named (a reload that removed or renamed them), so the
   * history holds at most `keep` runs for each name in the running config, whatever the reloads.
   */
  retain(instances: ReadonlySet<string>, groups: ReadonlySet<string>): void {
    for (const key of this.#runs.keys()) {
      const sep = key.indexOf(':');
      const names = key.slice(0, sep) === 'GROUP' ? groups : instances;
      if (!names.has(key.slice(sep + 1))) this.#runs.delete(key);
    }
  }
}

function record(what: string, argv: readonly string[], state: NotifyState, startedAtMs: number, res: RunResult): HookRun {
  return {
    hook: what,
    argv: [...argv],
    state,
    startedAtMs,
    durationMs: res.durationMs,
    exitCode: res.code,
    signal: res.signal,
    timedOut: res.timedOut,
    ...(res.error !== undefined ? { error: res.error } : {}),
  };
}

const SPECIFIC: Record<NotifyState, ConfigNotifyKind | undefined> = {
  MASTER: 'master',
  BACKUP: 'backup',
  FAULT: 'fault',
  STOP: 'stop',
  DELETED: 'deleted',
  MASTER_RX_LOWER_PRI: 'masterRxLowerPri',
};

interface Run {
  readonly argv: readonly string[];
  readonly cmd: DeepReadonly<ScriptCommand>;
  readonly what: string;
}

/** One state change's hooks, run in order. */
interface Batch {
  readonly state: NotifyState;
  readonly runs: readonly Run[];
  readonly timeoutMs: number;
}

/** One instance's or group's queue: the running batch is not in `waiting`. */
interface Lane {
  readonly type: 'INSTANCE' | 'GROUP';
  readonly name: string;
  readonly waiting: Batch[];
  readonly done: Promise<void>;
  finish(): void;
}

export class Notifier {
  readonly #lanes = new Map<string, Lane>();
  readonly #o: NotifierOptions;
  readonly #gate: ScriptGate;
  readonly #rate = new RateLimiter(10_000);
  #pending = 0;
  #dropped = 0;
  #refused = 0;
  #stopping = false;

  constructor(o: NotifierOptions) {
    this.#o = o;
    this.#gate = o.gate ?? openGate(o.log);
  }

  /**
   * The daemon is stopping: hooks still queued behind a running one are skipped (their state is
   * history; keepalived, which does not queue, would have run them long ago), only STOP hooks
   * still run. Without this, a hook queued behind a hung one started after the stop's kill and
   * outlived the daemon.
   */
  stopping(): void {
    this.#stopping = true;
  }

  /** Hooks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Hook runs dropped by the queue bound since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Hook runs the gate refused since start. */
  get refused(): number {
    return this.#refused;
  }

  /** Queue the hooks of one instance (or group, `type: 'GROUP'`) state change. Never throws. */
  notify(
    type: 'INSTANCE' | 'GROUP',
    name: string,
    hooks: Readonly<Partial<Record<string, DeepReadonly<ScriptCommand>>>>,
    state: NotifyState,
    priority: number,
  ): void {
    const runs: Run[] = [];
    const kind = SPECIFIC[state];
    const specific = kind === undefined ? undefined : hooks[kind];
    // `notify_deleted` without a command only changes what the generic notify says.
    if (specific && specific.argv.length > 0) runs.push({ argv: [], cmd: specific, what: `notify_${kind}` });
    // keepalived: a deleted instance without notify_deleted is reported as FAULT
    if (state === 'DELETED' && !specific && hooks.fault) runs.push({ argv: [], cmd: hooks.fault, what: 'notify_fault' });
    const generic = hooks.generic;
    if (generic && state !== 'MASTER_RX_LOWER_PRI') {
      const st = state === 'DELETED' && !hooks.deleted ? 'FAULT' : state;
      runs.push({ argv: [type, name, st, String(priority)], cmd: generic, what: 'notify' });
    }
    if (runs.length === 0) return;
    const key = `${type}:${name}`;
    const timeoutMs = state === 'STOP' ? 1000 : (this.#o.timeoutMs ?? 30_000);
    this.#pending += runs.length;
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      let finish = (): void => {};
      const done = new Promise<void>((r) => (finish = r));
      lane = { type, name, waiting: [], done, finish };
      this.#lanes.set(key, lane);
      lane.waiting.push({ state, runs, timeoutMs });
      void this.#drain(key, lane);
      return;
    }
    lane.waiting.push({ state, runs, timeoutMs });
    const bound = this.#o.maxQueued ?? HOOK_QUEUE_BOUND;
    if (lane.waiting.length > bound) this.#coalesce(lane, bound);
  }

  /** Keep only the newest waiting state change; the others' hooks are dropped and counted. */
  #coalesce(lane: Lane, bound: number): void {
    const gone = lane.waiting.splice(0, lane.waiting.length - 1);
    const n = gone.reduce((a, b) => a + b.runs.length, 0);
    this.#pending -= n;
    this.#dropped += n;
    const kept = lane.waiting[0]!;
    const r = this.#rate.check(`${lane.type}:${lane.name}`, (this.#o.nowMs ?? Date.now)());
    if (r === null) return;
    this.#o.log.warn(
      { instance: lane.name, dropped: n, total: this.#dropped },
      `(${lane.name}) hook queue full (more than ${bound} state changes waiting behind a running hook): dropped the hooks of ${gone.map((b) => b.state).join(', ')}; the hooks of ${kept.state} will run next${r.suppressed > 0 ? ` (${r.suppressed} earlier reports suppressed)` : ''}`,
    );
  }

  async #drain(key: string, lane: Lane): Promise<void> {
    try {
      for (let batch = lane.waiting.shift(); batch !== undefined; batch = lane.waiting.shift()) {
        for (const r of batch.runs) await this.#run(lane, batch, r);
      }
    } finally {
      this.#lanes.delete(key);
      lane.finish();
    }
  }

  async #run(lane: Lane, batch: Batch, r: Run): Promise<void> {
    const { type, name } = lane;
    const prog = r.cmd.argv[0] ?? '';
    if (this.#stopping && batch.state !== 'STOP') {
      this.#pending--;
      this.#o.log.debug({ instance: name, hook: r.what }, `${r.what} script ${prog} skipped: stopping`);
      return;
    }
    const startedAtMs = Date.now();
    const launch = this.#gate.prepare(r.cmd, `${r.what} (${name})`, r.argv);
    if (!launch.ok) {
      this.#pending--;
      this.#refused++;
      const argv = [...r.cmd.argv, ...r.argv];
      this.#o.history?.add(
        type,
        name,
        record(r.what, argv, batch.state, startedAtMs, {
          code: null,
          signal: null,
          timedOut: false,
          durationMs: 0,
          error: `not run: ${launch.reason}`,
        }),
      );
      return;
    }
    let res: RunResult;
    try {
      res = await this.#o.runner.run({
        argv: launch.argv,
        uid: launch.uid,
        gid: launch.gid,
        timeoutMs: batch.timeoutMs,
        umask: launch.umask,
      });
    } catch (e) {
      res = {
        code: null,
        signal: null,
        timedOut: false,
        durationMs: Date.now() - startedAtMs,
        error: e instanceof Error ? e.message : String(e),
      };
    }
    this.#pending--;
    this.#o.history?.add(type, name, record(r.what, launch.argv, batch.state, startedAtMs, res));
    if (res.error !== undefined)
      this.#o.log.warn({ instance: name, hook: r.what }, `Failed to exec ${r.what} script ${prog}: ${res.error}`);
    else if (res.timedOut)
      this.#o.log.warn({ instance: name, hook: r.what }, `${r.what} script ${prog} timed out after ${batch.timeoutMs} ms - killed`);
    else
      this.#o.log.debug(
        { instance: name, hook: r.what, code: res.code },
        `${r.what} script ${prog} exited with status ${res.code ?? res.signal}`,
      );
  }

  /** Resolves when every queued hook has finished, or after `maxMs`. */
  async idle(maxMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const all = async (): Promise<void> => {
      while (this.#lanes.size > 0) await Promise.allSettled([...this.#lanes.values()].map((l) => l.done));
    };
    await Promise.race([
      all(),
      new Promise<void>((r) => {
        timer = setTimeout(r, maxMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }
}
