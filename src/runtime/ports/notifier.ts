/**
 * What the daemon asks of the outside-world notifications (notify/notifications.ts implements it):
 * hooks, FIFO lines and state files for each state change, priority-change FIFO lines, the hook
 * history status shows, and the script gate vrrp_scripts pass. Every call returns at once: the
 * protocol never waits for a hook.
 */
import type { DeepReadonly, FrozenConfig, ScriptCommand } from '../../config/model.js';
import type { ScriptGatePort } from './processes.js';

/** What happened, in keepalived's notify STATE words. */
export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED' | 'MASTER_RX_LOWER_PRI';

/** An instance's or group's notify hooks by config key (`master`, `backup`, `generic`...). */
export type NotifyHooks = Readonly<Partial<Record<string, DeepReadonly<ScriptCommand>>>>;

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
  /** Why it did not start: a spawn error, or `not run: ...` when the gate refused it. */
  readonly error?: string;
}

export interface RuntimeNotifier {
  /** Every script spawn (hooks, FIFO readers, vrrp_scripts) passes it. */
  readonly gate: ScriptGatePort;
  /** Take a (new) config: at start and at every reload, before any notify of that config. */
  configure(cfg: FrozenConfig): void;
  /** An instance or sync group state change: hooks queued, FIFO lines, state files. Never blocks or throws. */
  notify(type: 'INSTANCE' | 'GROUP', name: string, hooks: NotifyHooks, state: NotifyState, priority: number): void;
  /** The effective priority of an instance in `state` changed (FIFO lines when configured). */
  priorityChanged(name: string, state: string, priority: number): void;
  /** The last hook runs of an instance, oldest first (bounded). */
  lastHooks(name: string): readonly HookRun[];
  /** The daemon is stopping: queued hooks other than notify_stop will not start. */
  stopping(): void;
  /** Resolves when queued hooks and state-file writes are done, or after `maxMs`. */
  idle(maxMs: number): Promise<void>;
  /** Stop: close what is open (FIFOs). */
  close(): void;
}
