/**
 * keepalived's notify FIFOs (KEEPALIVED.md 4.2): `vrrp_notify_fifo` and `notify_fifo`, each with an
 * optional `*_fifo_script` reader. One line per event, written in one write(2):
 * `TYPE "NAME" STATE PRIORITY\n` (`INSTANCE "VI_1" MASTER 110`, `GROUP "G1" BACKUP 0`).
 *
 * Like keepalived: the FIFO is created (mode 0644) when absent and removed again on close if we
 * created it; the reader script is started with the FIFO path appended to its argv, in its own
 * process group, stdio on /dev/null; the FIFO is opened O_RDWR|O_NONBLOCK so a write never blocks
 * the daemon (with no reader, or a full pipe, the line is dropped and counted). Close (reload,
 * stop) sends the script SIGTERM, so readers see EOF at every reload as with keepalived.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, rmSync, writeSync, chownSync } from 'node:fs';
import type { DeepReadonly, FifoSpec, ScriptCommand } from '../config/model.js';
import type { Log } from '../log.js';
import { resolveIds } from './users.js';

/** The FIFO words keepalived writes (its `{UNKNOWN}` is never produced here). */
export type FifoState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED' | 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

/** keepalived's line: `INSTANCE "VI_1" MASTER 110\n` (name quoted, priority decimal). */
export function fifoLine(type: 'INSTANCE' | 'GROUP', name: string, state: FifoState, priority: number): string {
  return `${type} "${name}" ${state} ${priority}\n`;
}

export interface FifoStats {
  readonly path: string;
  readonly written: number;
  /** Lines lost because the pipe was full or could not be opened. */
  readonly dropped: number;
  readonly scriptPid: number | null;
}

export class NotifyFifo {
  readonly path: string;
  #fd: number | null = null;
  #created = false;
  #script: ChildProcess | null = null;
  #written = 0;
  #dropped = 0;
  readonly #log: Log;

  constructor(spec: DeepReadonly<FifoSpec>, script: DeepReadonly<ScriptCommand> | null, log: Log, defaultUser: string | null, defaultGroup: string | null) {
    this.path = spec.path;
    this.#log = log;
    const ids = resolveIds(spec.user ?? defaultUser, spec.group ?? defaultGroup);
    try {
      const st = lstatSync(spec.path, { throwIfNoEntry: false });
      if (st === undefined) {
        // Node has no mkfifo(3); mkfifo(1) applies the mode exactly (keepalived: 0644 & ~umask).
        const r = spawnSync('mkfifo', ['-m', '0644', spec.path], { stdio: 'ignore', timeout: 2000 });
        if (r.status !== 0) throw new Error(`mkfifo ${spec.path} failed`);
        this.#created = true;
        if (ids.uid !== undefined || ids.gid !== undefined) chownSync(spec.path, ids.uid ?? -1, ids.gid ?? -1);
      } else if (!st.isFIFO()) {
        throw new Error(`${spec.path} exists and is not a FIFO`);
      }
      if (script && script.argv.length > 0) {
        const sIds = resolveIds(script.user ?? defaultUser, script.group ?? defaultGroup);
        const [cmd, ...args] = script.argv;
        const child = spawn(cmd!, [...args, spec.path], {
          detached: true,
          stdio: 'ignore',
          ...(sIds.uid !== undefined && sIds.uid !== process.getuid?.() ? { uid: sIds.uid } : {}),
          ...(sIds.gid !== undefined && sIds.gid !== process.getgid?.() ? { gid: sIds.gid } : {}),
        });
        child.on('error', (e) => log.warn({ fifo: spec.path }, `notify fifo script ${cmd ?? ''} for ${spec.path} failed to start: ${e.message}`));
        child.unref();
        this.#script = child;
      }
      // O_RDWR: opening never blocks for want of a reader, and the pipe never reports EPIPE.
      this.#fd = openSync(spec.path, constants.O_RDWR | constants.O_NONBLOCK);
    } catch (e) {
      log.warn({ fifo: spec.path }, `cannot open notify fifo ${spec.path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Write one line; never blocks, never throws. */
  write(line: string): void {
    if (this.#fd === null) {
      this.#dropped++;
      return;
    }
    try {
      writeSync(this.#fd, line);
      this.#written++;
    } catch (e) {
      this.#dropped++;
      this.#log.debug({ fifo: this.path }, `notify fifo ${this.path}: line dropped (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }

  stats(): FifoStats {
    return { path: this.path, written: this.#written, dropped: this.#dropped, scriptPid: this.#script?.pid ?? null };
  }

  /** Close the FIFO, SIGTERM its reader script's process group, unlink it if we created it. */
  close(): void {
    if (this.#fd !== null) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
      this.#fd = null;
    }
    const pid = this.#script?.pid;
    if (pid !== undefined && this.#script?.exitCode === null) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    this.#script = null;
    if (this.#created) {
      rmSync(this.path, { force: true });
      this.#created = false;
    }
  }
}
