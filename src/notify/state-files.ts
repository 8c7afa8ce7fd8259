/**
 * Built-in state files, written the way the cloud guides' `notify_action.sh` writes them
 * (test/fixtures/deployments/notify_action.sh), so users can drop that hook:
 *
 *  - `<dir>/state`: `MASTER` | `BACKUP` | `FAULT` | `STOP`, no newline (last transition of any
 *    instance, as when every instance calls the script);
 *  - `<dir>/vip_check_failed_count`: `0`, reset on every MASTER;
 *  - `<logFile>`: `[YYYY-mm-dd HH:MM:SS]  notify_master` appended (local time, like date(1));
 *  - `<dir>/<instance>.state`: the instance's own state (vrrpd's addition; `DELETED` too).
 *
 * The script's order per transition is kept (state, log line, counter). Every file goes through
 * the safe writer (src/util/safe-file.ts): replaced atomically (random `O_EXCL|O_NOFOLLOW` temp
 * file in the same directory, exact mode by fchmod, fsync, rename), so a reader never sees a
 * half-written or empty file and a link planted in the directory (which a `script_user` may own)
 * is never followed; the log line is appended in one write, to a regular file of the daemon's
 * with one link only (otherwise the line is dropped, counted and warned about). Missing
 * directories are created (0755) where no other user can interfere. Writes are asynchronous and
 * queued: the daemon's event loop never waits for a disk, and the order of transitions holds
 * (a queue that a stuck disk lets grow is compacted: STATE_WRITES_QUEUE_MAX).
 */
import { join } from 'node:path';
import type { Log } from '../log.js';
import { appendToFile, replaceFile, type SafeResult } from '../util/safe-file.js';

export interface StateFilesOptions {
  /** Directory for `state`, `vip_check_failed_count` and `<instance>.state` (default /var/keepalived). */
  readonly dir: string;
  /** Log file lines are appended to (default /var/log/keepalived.log); null = no log lines. */
  readonly logFile: string | null;
  /** File mode of the files written (default 0644: monitoring agents read them). */
  readonly mode?: number;
}

export const DEFAULT_STATE_DIR = '/var/keepalived';
export const DEFAULT_STATE_LOG = '/var/log/keepalived.log';

type Shared = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';
const LOG_WORD: Record<Shared, string> = { MASTER: 'notify_master', BACKUP: 'notify_backup', FAULT: 'notify_fault', STOP: 'notify_stop' };

const pad = (n: number): string => String(n).padStart(2, '0');

/** `date '+%Y-%m-%d %T'` in local time. */
export function scriptTimestamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The script's log line (`echo "[date] $1"` with `$1` = ` notify_master`): note the two spaces. */
export function stateLogLine(state: Shared, at: Date): string {
  return `[${scriptTimestamp(at)}]  ${LOG_WORD[state]}\n`;
}

/** Mode of directories the state files create. */
const DIR_MODE = 0o755;

/** A failed safe write as an exception (the write chain counts and logs it). */
function must(r: SafeResult): void {
  if (!r.ok) throw new Error(r.error);
}

/**
 * Replace `path` atomically with `content` through the safe writer (exact `mode`, whatever the
 * umask: hooks run with keepalived's 0177). Rejects with an Error naming the path.
 */
export async function writeAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  must(await replaceFile(path, content, { mode }));
}

/**
 * Transitions waiting for the disk before the queue is compacted. A write can hang (a stuck NFS
 * mount, a full disk that retries): the transitions behind it then wait in memory. Past this many,
 * each instance keeps only its newest transition (the files end the same; the intermediate log
 * lines and `vip_check_failed_count` resets are dropped and counted), so the queue never holds
 * more than this, or twice the number of instances that have a transition waiting.
 */
export const STATE_WRITES_QUEUE_MAX = 256;

interface PendingTransition {
  readonly instance: string;
  readonly state: string;
  readonly at: Date;
}

export class StateFiles {
  readonly #o: StateFilesOptions;
  readonly #log: Log;
  #pending: PendingTransition[] = [];
  #draining: Promise<void> = Promise.resolve();
  #busy = false;
  /** Queue length that triggers the next compaction (grows with the instances, so each is O(1) amortized). */
  #compactAt = STATE_WRITES_QUEUE_MAX;
  #errors = 0;
  #logDropped = 0;
  #coalesced = 0;

  constructor(o: StateFilesOptions, log: Log) {
    this.#o = o;
    this.#log = log;
  }

  get options(): StateFilesOptions {
    return this.#o;
  }

  /** Failed writes so far. */
  get errors(): number {
    return this.#errors;
  }

  /** Record an instance state change (queued, written in order; never throws). `at` is when it happened. */
  transition(instance: string, state: string, at: Date = new Date()): void {
    this.#pending.push({ instance, state, at });
    if (this.#pending.length > this.#compactAt) this.#compact();
    if (!this.#busy) {
      this.#busy = true;
      this.#draining = this.#drain();
    }
  }

  /** State log lines dropped because the log file was not safe to append to (a link, not ours, ...). */
  get logLinesDropped(): number {
    return this.#logDropped;
  }

  /** Transitions dropped from a queue that outgrew {@link STATE_WRITES_QUEUE_MAX} (a newer one of the same instance was kept). */
  get coalesced(): number {
    return this.#coalesced;
  }

  /** Transitions waiting to be written. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Resolves once every queued write is done. */
  flush(): Promise<void> {
    return this.#draining;
  }

  async #drain(): Promise<void> {
    for (let p = this.#pending.shift(); p !== undefined; p = this.#pending.shift()) {
      try {
        await this.#write(p.instance, p.state, p.at);
      } catch (e) {
        this.#errors++;
        this.#log.warn(
          { instance: p.instance, stateDir: this.#o.dir },
          `cannot write state files in ${this.#o.dir}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    this.#busy = false;
  }

  #compact(): void {
    const newest = new Map<string, number>();
    this.#pending.forEach((p, i) => newest.set(p.instance, i));
    const kept = this.#pending.filter((p, i) => newest.get(p.instance) === i);
    const dropped = this.#pending.length - kept.length;
    this.#pending = kept;
    this.#compactAt = Math.max(STATE_WRITES_QUEUE_MAX, 2 * kept.length);
    if (dropped === 0) return;
    this.#coalesced += dropped;
    this.#log.warn(
      { stateDir: this.#o.dir, dropped, coalesced: this.#coalesced },
      `state files in ${this.#o.dir} are ${STATE_WRITES_QUEUE_MAX} transitions behind (is the disk stuck?): ${dropped} older transitions dropped, each instance's newest kept`,
    );
  }

  async #write(instance: string, state: string, at: Date): Promise<void> {
    const o = { mode: this.#o.mode ?? 0o644, dirMode: DIR_MODE };
    if (state === 'MASTER' || state === 'BACKUP' || state === 'FAULT' || state === 'STOP') {
      must(await replaceFile(join(this.#o.dir, 'state'), state, o));
      if (this.#o.logFile !== null) {
        const r = await appendToFile(this.#o.logFile, stateLogLine(state, at), o);
        if (!r.ok) {
          this.#logDropped++;
          this.#log.warn({ instance, stateLog: this.#o.logFile, dropped: this.#logDropped }, `state log line dropped: ${r.error}`);
        }
      }
      if (state === 'MASTER') must(await replaceFile(join(this.#o.dir, 'vip_check_failed_count'), '0', o));
    }
    must(await replaceFile(join(this.#o.dir, `${safeName(instance)}.state`), state, o));
  }
}

/** Instance names are config words; keep them inside the directory whatever they contain. */
function safeName(name: string): string {
  return name.replace(/[/\0]/g, '_').replace(/^\.+/, '_');
}

/**
 * `vrrpd run`'s flags -> options: on unless `enabled` is false; `--state-dir DIR` moves the files
 * and (unless `--state-log` says otherwise) the log to DIR/keepalived.log, so a daemon started
 * with only `--state-dir` writes nothing outside DIR; `--state-log ''` drops the log lines.
 */
export function stateFilesOptions(enabled: boolean, stateDir: string | undefined, stateLog: string | undefined): StateFilesOptions | null {
  if (!enabled) return null;
  const dir = stateDir ?? DEFAULT_STATE_DIR;
  const logFile =
    stateLog !== undefined
      ? stateLog === ''
        ? null
        : stateLog
      : stateDir !== undefined
        ? join(stateDir, 'keepalived.log')
        : DEFAULT_STATE_LOG;
  return { dir, logFile };
}
