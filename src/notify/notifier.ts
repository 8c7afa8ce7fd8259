/**
 * Instance and sync-group notify hooks (KEEPALIVED.md 4.1): for a state change, the state's own
 * script (`notify_master` ...; configured argv only), then the generic `notify` with
 * `INSTANCE|GROUP NAME STATE PRIORITY` appended. Serialized per instance/group: a hook starts only
 * after the previous one for the same name finished (or was killed at its timeout), so a slow
 * hook cannot make BACKUP run after MASTER. keepalived itself is fire-and-forget and may reorder
 * (its issues #1213, #1991); vrrpd keeps the order. `notify_stop` is killed after 1 s, as keepalived;
 * every other hook after `timeoutMs` (30 s). Each run (argv, start time, duration, exit status or
 * signal, timeout) is kept in a HookHistory for `vrrpd status`. Hooks run with keepalived's umask
 * 0177 (its `umask` default: files a hook creates are 0600, as under keepalived). Hooks found
 * unusable at load time (security.ts) are skipped with a warning. FIFOs and state files:
 * notifications.ts.
 */
import type { DeepReadonly, NotifyKind as ConfigNotifyKind, ScriptCommand } from '../config/model.js';
import type { Log } from '../log.js';
import type { ProcessRunner, RunResult } from './runner.js';
import { resolveIds } from './users.js';

/** What happened, in keepalived's notify STATE words. */
export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED' | 'MASTER_RX_LOWER_PRI';

export interface NotifierOptions {
  runner: ProcessRunner;
  log: Log;
  /** global_defs script_user / script_group (null = the daemon's user). */
  scriptUser: string | null;
  scriptGroup: string | null;
  /** Timeout for hooks other than notify_stop (ms); default 30 s. */
  timeoutMs?: number;
  /** Where finished runs are recorded (kept across reloads by the owner). */
  history?: HookHistory;
  /** Is this hook disabled (failed the load-time checks)? Disabled hooks are skipped. */
  disabled?: (cmd: DeepReadonly<ScriptCommand>) => boolean;
  /** umask the hooks run with (default keepalived's 0o177). */
  umask?: number;
}

/** One finished hook run, for status. Times are wall-clock ms since the epoch. */
export interface HookRun {
  /** `notify_master`, `notify`, ... */
  readonly hook: string;
  readonly argv: readonly string[];
  readonly state: NotifyState;
  readonly startedAtMs: number;
  readonly durationMs: number;
  /** Exit status; null when killed by a signal, timed out or not started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly error?: string;
}

/** The last runs per instance/group (newest last), bounded. */
export class HookHistory {
  readonly #runs = new Map<string, HookRun[]>();
  constructor(readonly keep = 10) {}

  add(type: 'INSTANCE' | 'GROUP', name: string, run: HookRun): void {
    const key = `${type}:${name}`;
    const list = this.#runs.get(key) ?? [];
    list.push(run);
    if (list.length > this.keep) list.splice(0, list.length - this.keep);
    this.#runs.set(key, list);
  }

  get(type: 'INSTANCE' | 'GROUP', name: string): readonly HookRun[] {
    return [...(this.#runs.get(`${type}:${name}`) ?? [])];
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

export class Notifier {
  readonly #chains = new Map<string, Promise<void>>();
  #o: NotifierOptions;
  #pending = 0;
  #stopping = false;

  constructor(o: NotifierOptions) {
    this.#o = o;
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

  /** A reloaded config's script_user / script_group (hooks already queued keep their order). */
  setScriptUser(user: string | null, group: string | null): void {
    this.#o = { ...this.#o, scriptUser: user, scriptGroup: group };
  }

  /** Hooks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Queue the hooks of one instance (or group, `type: 'GROUP'`) state change. Never throws. */
  notify(
    type: 'INSTANCE' | 'GROUP',
    name: string,
    hooks: Readonly<Partial<Record<string, DeepReadonly<ScriptCommand>>>>,
    state: NotifyState,
    priority: number,
  ): void {
    const runs: { argv: string[]; cmd: DeepReadonly<ScriptCommand>; what: string }[] = [];
    const kind = SPECIFIC[state];
    const specific = kind === undefined ? undefined : hooks[kind];
    // `notify_deleted` without a command only changes what the generic notify says.
    if (specific && specific.argv.length > 0) runs.push({ argv: [...specific.argv], cmd: specific, what: `notify_${kind}` });
    // keepalived: a deleted instance without notify_deleted is reported as FAULT
    if (state === 'DELETED' && !specific && hooks.fault) runs.push({ argv: [...hooks.fault.argv], cmd: hooks.fault, what: 'notify_fault' });
    const generic = hooks.generic;
    if (generic && state !== 'MASTER_RX_LOWER_PRI') {
      const st = state === 'DELETED' && !hooks.deleted ? 'FAULT' : state;
      runs.push({ argv: [...generic.argv, type, name, st, String(priority)], cmd: generic, what: 'notify' });
    }
    const disabled = this.#o.disabled;
    if (disabled) for (let i = runs.length - 1; i >= 0; i--) if (disabled(runs[i]!.cmd)) runs.splice(i, 1);
    if (runs.length === 0) return;
    const key = `${type}:${name}`;
    const timeoutMs = state === 'STOP' ? 1000 : (this.#o.timeoutMs ?? 30_000);
    this.#pending += runs.length;
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      for (const r of runs) {
        if (this.#stopping && state !== 'STOP') {
          this.#pending--;
          this.#o.log.debug({ instance: name, hook: r.what }, `${r.what} script ${r.argv[0] ?? ''} skipped: stopping`);
          continue;
        }
        const ids = resolveIds(r.cmd.user ?? this.#o.scriptUser, r.cmd.group ?? this.#o.scriptGroup);
        const startedAtMs = Date.now();
        const res = await this.#o.runner.run({ argv: r.argv, uid: ids.uid, gid: ids.gid, timeoutMs, umask: this.#o.umask ?? 0o177 });
        this.#pending--;
        this.#o.history?.add(type, name, record(r.what, r.argv, state, startedAtMs, res));
        if (res.error !== undefined) this.#o.log.warn({ instance: name, hook: r.what }, `Failed to exec ${r.what} script ${r.argv[0] ?? ''}: ${res.error}`);
        else if (res.timedOut) this.#o.log.warn({ instance: name, hook: r.what }, `${r.what} script ${r.argv[0] ?? ''} timed out after ${timeoutMs} ms - killed`);
        else this.#o.log.debug({ instance: name, hook: r.what, code: res.code }, `${r.what} script ${r.argv[0] ?? ''} exited with status ${res.code ?? res.signal}`);
      }
    });
    this.#chains.set(key, next);
    void next.then(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** Resolves when every queued hook has finished, or after `maxMs`. */
  async idle(maxMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#chains.values()]),
      new Promise<void>((r) => {
        timer = setTimeout(r, maxMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }
}
