/**
 * Runs hook and check programs the way keepalived does (KEEPALIVED.md 4.1 "Execution"): the
 * configured argv (no shell), as the script user/group, in its own process group, stdin/stdout/
 * stderr on /dev/null, the daemon's environment unchanged. A timeout kills the whole process group
 * (SIGKILL), so a hook's children cannot outlive it. `killAll()` is for shutdown.
 *
 * Nothing here decides *when* to run: the notifier serializes hooks per instance, the vrrp_script
 * scheduler never overlaps a script with itself.
 */
import { spawn } from 'node:child_process';
import { signalGroup } from '../util/process-group.js';

export interface RunSpec {
  readonly argv: readonly string[];
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** Kill the process group after this long (ms). */
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

/** The port the runtime uses (tests give a fake). */
export interface ProcessRunner {
  run(spec: RunSpec): Promise<RunResult>;
  /** Signal every running process group (shutdown, reload). */
  killAll(signal: NodeJS.Signals): void;
  /** Resolves when nothing is running any more, or after `maxMs`. */
  drain(maxMs: number): Promise<void>;
}


export class SpawnRunner implements ProcessRunner {
  readonly #running = new Map<number, Promise<RunResult>>();

  run(spec: RunSpec): Promise<RunResult> {
    const started = Date.now();
    const [cmd, ...args] = spec.argv;
    if (cmd === undefined) return Promise.resolve({ code: null, signal: null, timedOut: false, error: 'empty command', durationMs: 0 });
    let child;
    // The child inherits the umask at fork, which happens inside spawn(): set it just around the
    // synchronous call. A file created by a libuv pool thread in that instant would get the hook's
    // mask too; vrrpd's own files set their mode explicitly (state-files.ts chmods before rename).
    const oldMask = spec.umask !== undefined ? process.umask(spec.umask) : undefined;
    try {
      child = spawn(cmd, args, {
        detached: true, // setsid(): own session and process group, like keepalived's setpgid(0,0)
        stdio: 'ignore',
        ...(spec.uid !== undefined && spec.uid !== process.getuid?.() ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined && spec.gid !== process.getgid?.() ? { gid: spec.gid } : {}),
      });
    } catch (e) {
      return Promise.resolve({ code: null, signal: null, timedOut: false, error: e instanceof Error ? e.message : String(e), durationMs: 0 });
    } finally {
      if (oldMask !== undefined) process.umask(oldMask);
    }
    const p = new Promise<RunResult>((resolve) => {
      let timedOut = false;
      let done = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      }, spec.timeoutMs);
      const finish = (r: Omit<RunResult, 'durationMs' | 'timedOut'>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (child.pid !== undefined) this.#running.delete(child.pid);
        resolve({ ...r, timedOut, durationMs: Date.now() - started });
      };
      child.on('error', (err) => finish({ code: null, signal: null, error: err.message }));
      child.on('exit', (code, signal) => {
        // The leader is gone; anything it left in its group goes too after a timeout.
        if (timedOut && child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        finish({ code, signal });
      });
    });
    if (child.pid !== undefined) this.#running.set(child.pid, p);
    return p;
  }

  killAll(signal: NodeJS.Signals): void {
    for (const pid of this.#running.keys()) signalGroup(pid, signal);
  }

  async drain(maxMs: number): Promise<void> {
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running.values()]),
      new Promise<void>((r) => {
        timer = setTimeout(r, maxMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }
}
