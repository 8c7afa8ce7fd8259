/**
 * Programs the daemon runs (vrrp_script checks; notify hooks run behind the notifier): the process
 * runner (notify/runner.ts) and the script gate every spawn passes first (notify/security.ts).
 */
import type { DeepReadonly, ScriptCommand } from '../../config/model.js';
import type { IoResult } from './results.js';

export interface RunSpec {
  readonly argv: readonly string[];
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** Kill the run's whole process tree after this long (ms). */
  readonly timeoutMs: number;
  /** File-creation mask for the child (keepalived runs hooks with its umask, 0177 by default). */
  readonly umask?: number | undefined;
}

export interface RunResult {
  /** Exit status, or null when killed by a signal or not started. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** spawn failure (ENOENT, EACCES...), when the program could not start. */
  readonly error?: string;
  readonly durationMs: number;
}

/** Runs programs, each in its own process tree, killed whole at its timeout. */
export interface ProcessRunner {
  run(spec: RunSpec): Promise<RunResult>;
  /** Signal every running process group (shutdown, reload). */
  killAll(signal: NodeJS.Signals): void;
  /** Resolves when nothing is running any more, or after `maxMs`. */
  drain(maxMs: number): Promise<void>;
  /** How process trees are tracked, in words for the start-up log (when the runner knows). */
  treeTracking?(): { cgroups: boolean; detail: string; base?: string };
}

/** Approved: spawn exactly this. uid/gid undefined = the daemon's own. */
export interface Launch {
  readonly ok: true;
  readonly argv: readonly string[];
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly umask: number;
}

export interface Refusal {
  readonly ok: false;
  /** keepalived's wording of the failed check, then what is wrong and how to fix it. */
  readonly reason: string;
}

/** The check a script passes right before each spawn: as whom, with which umask, which file. */
export interface ScriptGatePort {
  /**
   * Check `cmd` now and say what to spawn (`extraArgs` appended). `what` names the script in the
   * log (`vrrp_script chk`). Never throws; a refusal means: do not run it (count it as failed).
   */
  prepare(cmd: DeepReadonly<ScriptCommand>, what: string, extraArgs?: readonly string[]): Launch | Refusal;
}

/** One process as /proc shows it (src/runtime/track-process.ts matches these). */
export interface ProcEntry {
  readonly pid: number;
  /** The comm (second field of /proc/PID/stat: at most 15 characters, the kernel truncates it). */
  readonly comm: string;
  /** Its state is Z: exited, not yet reaped (never counted). */
  readonly zombie: boolean;
  /** /proc/PID/cmdline, its NULs kept, cut at `cmdlineBytes`; undefined when not asked for. */
  readonly cmdline?: string;
}

/** The process table, read by track_process (a bounded scan of /proc). */
export interface ProcessTable {
  /**
   * Every process (up to `maxProcesses`); `cmdlineBytes` > 0 also reads that many bytes of each
   * command line. A process that ends during the scan is left out.
   */
  list(opts: { readonly cmdlineBytes: number; readonly maxProcesses: number }): readonly ProcEntry[];
  /**
   * One process, read as `list` reads each (after an exec event); undefined when it is gone or
   * cannot be read. Absent: the table can only be listed whole.
   */
  entry?(pid: number, opts: { readonly cmdlineBytes: number }): ProcEntry | undefined;
}

/**
 * One message of the kernel's process events connector (src/io/proc-connector.ts), as the runtime
 * uses it (src/runtime/track-process.ts). `pid` is the thread id and `tgid` the process id: a thread's
 * events have pid !== tgid. `ack` answers our subscription (err 0: listening); `overrun` says events
 * were lost (the socket's receive buffer overflowed: ENOBUFS).
 */
export type ProcEvent =
  | { readonly kind: 'ack'; readonly err: number }
  | { readonly kind: 'fork'; readonly parentTgid: number; readonly childPid: number; readonly childTgid: number }
  | { readonly kind: 'exec'; readonly pid: number; readonly tgid: number }
  | { readonly kind: 'comm'; readonly pid: number; readonly tgid: number; readonly comm: string }
  | { readonly kind: 'exit'; readonly pid: number; readonly tgid: number }
  | { readonly kind: 'overrun' };

/** What the events source counted (status, tests). */
export interface ProcEventCounters {
  /** Messages read from the socket. */
  readonly received: number;
  /** Messages dropped as malformed, truncated or not the kernel's. */
  readonly dropped: number;
  /** Receive-buffer overruns (ENOBUFS). */
  readonly overruns: number;
}

/** The kernel's process events (NETLINK_CONNECTOR, CN_IDX_PROC), as a subscription. */
export interface ProcessEvents {
  /**
   * Open, bind and send PROC_CN_MCAST_LISTEN; then `onEvent` hears every event (on the main
   * thread, never re-entrantly). A failure is a value (in a network namespace other than the first:
   * ECONNREFUSED) and leaves nothing open. A second start while started fails with EALREADY.
   */
  start(onEvent: (ev: ProcEvent) => void): IoResult<void>;
  /** Send PROC_CN_MCAST_IGNORE and close (idempotent). */
  stop(): void;
  counters(): ProcEventCounters;
}
