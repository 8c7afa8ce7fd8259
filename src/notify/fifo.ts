/**
 * keepalived's notify FIFOs (docs/keepalived-behaviour.md 4.2): `vrrp_notify_fifo` and `notify_fifo`, each with an
 * optional `*_fifo_script` reader. One line per event, written in one write(2):
 * `TYPE "NAME" STATE PRIORITY\n` (`INSTANCE "VI_1" MASTER 110`, `GROUP "G1" BACKUP 0`).
 *
 * Like keepalived: the FIFO is created when absent (mode 0644 & ~umask, so 0600 with keepalived's
 * 0177, owned by the FIFO's user: `PATH USER [GROUP]`, else the default script user) and removed
 * again on close if we created it; the reader script is started with the FIFO path appended to its
 * argv, in its own session (and cgroup, as hooks: runner.ts), stdio on /dev/null; the FIFO is opened O_RDWR|O_NONBLOCK so a
 * write never blocks the daemon (with no reader, or a full pipe, the line is dropped and counted).
 * Close (reload, stop) sends the script SIGTERM, so readers see EOF at every reload as with
 * keepalived.
 *
 * The path may be in a directory other users can write (/tmp), so nothing here follows a link or
 * trusts what it finds: the FIFO is created with mkfifo(3) (it fails on any existing name, a link
 * included, so creation cannot be raced into another file), opened with O_NOFOLLOW (a link planted
 * at the path is refused: the daemon never opens or writes another file through it), and what was
 * opened is checked on the descriptor (fstat): it must be a FIFO owned by root or by the FIFO's
 * user, else it is closed unused and the refusal logged. Mode and owner are set on the descriptor
 * (fchmod, fchown: the unit keeps CAP_CHOWN for this), and on close the path is unlinked only if
 * it still is the FIFO we created. The reader script passes the ScriptGate (security.ts) like
 * every other script: its file is checked, it runs as its user with keepalived's umask.
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { DeepReadonly, FifoSpec, GlobalDefs, ScriptCommand } from '../config/model.js';
import type { Log } from '../log.js';
import { libc } from '../util/libc.js';
import { HookCgroups } from './hook-cgroups.js';
import { spawnTracked, type TrackedChild } from './runner.js';
import type { ScriptGate } from './security.js';

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
  /** Why the FIFO is not open (refused or failed), null when it is. */
  readonly refused: string | null;
}

export interface FifoDeps {
  readonly log: Log;
  /** Identity of the FIFO's owner and reader script, and the reader script's check. */
  readonly gate: ScriptGate;
  /** umask (FIFO mode 0644 & ~umask, like keepalived's mkfifo under its umask). */
  readonly settings: Pick<DeepReadonly<GlobalDefs>, 'umask'>;
  /** mkfifo(3): 0 or an errno (tests may inject; default libc through koffi). */
  readonly mkfifo?: (path: string, mode: number) => number;
}

const EEXIST = 17;

let mkfifoFn: ((path: string, mode: number) => number) | null | undefined;

/** mkfifo(3) through koffi (node has no mkfifo); returns 0 or an errno (-1: libc unavailable). */
export function mkfifoLibc(path: string, mode: number): number {
  if (mkfifoFn === undefined) {
    const c = libc();
    const fn = c?.lib.func('int mkfifo(const char *path, uint32_t mode)') as ((p: string, m: number) => number) | undefined;
    mkfifoFn = c && fn ? (p, m) => (fn(p, m) === 0 ? 0 : c.errno()) : null;
  }
  if (mkfifoFn === null) return -1;
  if (path.includes('\0')) return 22; // EINVAL: not a C string
  return mkfifoFn(path, mode);
}

class Refused extends Error {}

export class NotifyFifo {
  readonly path: string;
  #fd: number | null = null;
  /** dev/ino of the FIFO we created (null: we did not create it); only that is unlinked. */
  #created: { dev: number; ino: number } | null = null;
  #script: TrackedChild | null = null;
  #written = 0;
  #dropped = 0;
  #refused: string | null = null;
  readonly #log: Log;

  constructor(spec: DeepReadonly<FifoSpec>, script: DeepReadonly<ScriptCommand> | null, deps: FifoDeps) {
    this.path = spec.path;
    this.#log = deps.log;
    try {
      this.#open(spec, deps);
      if (script && script.argv.length > 0) this.#startReader(script, deps);
    } catch (e) {
      this.#refused = e instanceof Error ? e.message : String(e);
      const msg = `notify fifo ${spec.path}: ${this.#refused}`;
      if (e instanceof Refused) deps.log.warn({ fifo: spec.path }, `Refusing ${msg}`);
      else deps.log.warn({ fifo: spec.path }, `cannot open ${msg}`);
    }
  }

  #open(spec: DeepReadonly<FifoSpec>, deps: FifoDeps): void {
    const owner = deps.gate.identity(spec);
    if (owner !== undefined && !owner.ok) throw new Refused(`${owner.message}; no FIFO`);
    const selfUid = process.getuid?.() ?? 0;
    const selfGid = process.getgid?.() ?? 0;
    const uid = owner?.uid ?? selfUid;
    const gid = owner?.gid ?? selfGid;
    const mode = 0o644 & ~deps.settings.umask;
    const rc = (deps.mkfifo ?? mkfifoLibc)(spec.path, mode);
    if (rc !== 0 && rc !== EEXIST)
      throw new Error(rc === -1 ? 'mkfifo is not available (koffi/libc could not be loaded)' : `mkfifo failed (errno ${rc})`);
    const created = rc === 0;
    let fd: number;
    try {
      // O_NOFOLLOW: a link at the path (planted before or swapped in after mkfifo) fails with ELOOP
      fd = openSync(spec.path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new Refused('the path is a symbolic link (not followed)');
      throw new Error(`open failed: ${code ?? String(e)}`, { cause: e });
    }
    const st = fstatSync(fd);
    const bad = !st.isFIFO()
      ? `the path exists and is not a FIFO (${st.isFile() ? 'a regular file' : st.isDirectory() ? 'a directory' : 'not a FIFO'}, owner uid ${st.uid})`
      : st.uid !== selfUid && st.uid !== uid
        ? `the FIFO is owned by uid ${st.uid}, not by root or its user (uid ${uid}); remove it or fix its owner`
        : null;
    if (bad !== null) {
      closeSync(fd);
      throw new Refused(bad);
    }
    this.#fd = fd;
    if (!created) return;
    this.#created = { dev: st.dev, ino: st.ino };
    // on the descriptor, not the path: nothing can be swapped in between
    try {
      fchmodSync(fd, mode);
    } catch (e) {
      deps.log.warn(
        { fifo: spec.path },
        `Failed to set mode ${mode.toString(8)} on fifo ${spec.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    if (uid !== selfUid || gid !== selfGid) {
      try {
        fchownSync(fd, uid !== selfUid ? uid : -1, gid !== selfGid ? gid : -1);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        deps.log.warn(
          { fifo: spec.path },
          `Failed to set uid:gid ${uid}:${gid} for fifo ${spec.path}: ${code ?? String(e)}${code === 'EPERM' ? ' (the daemon needs CAP_CHOWN)' : ''}`,
        );
      }
    }
  }

  #startReader(script: DeepReadonly<ScriptCommand>, deps: FifoDeps): void {
    const launch = deps.gate.prepare(script, `notify fifo reader (${this.path})`, [this.path]);
    if (!launch.ok) return; // logged by the gate; lines are still written for a reader started elsewhere
    const cmd = launch.argv[0] ?? '';
    try {
      // Its own session and, where hooks get cgroups, its own cgroup: close() reaches every
      // process the reader started, as the timeout kill of a hook does (runner.ts).
      const probe = HookCgroups.probe();
      const tracked = spawnTracked(launch, probe.ok ? probe.cgroups : null);
      tracked.child.on('error', (e) =>
        deps.log.warn({ fifo: this.path }, `notify fifo script ${cmd} for ${this.path} failed to start: ${e.message}`),
      );
      tracked.child.unref();
      this.#script = tracked;
    } catch (e) {
      deps.log.warn(
        { fifo: this.path },
        `notify fifo script ${cmd} for ${this.path} failed to start: ${e instanceof Error ? e.message : String(e)}`,
      );
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
    return {
      path: this.path,
      written: this.#written,
      dropped: this.#dropped,
      scriptPid: this.#script?.child.pid ?? null,
      refused: this.#refused,
    };
  }

  /**
   * Unlink the FIFO if we created it and the path still is that FIFO (first, as keepalived: a
   * reader that reopens in a loop cannot reopen it), close it, SIGTERM its reader and everything
   * it started (its cgroup, else its session, process group and their descendants).
   */
  close(): void {
    if (this.#created !== null) {
      try {
        const st = lstatSync(this.path, { throwIfNoEntry: false });
        if (st !== undefined && st.isFIFO() && st.dev === this.#created.dev && st.ino === this.#created.ino) unlinkSync(this.path);
        else if (st !== undefined)
          this.#log.warn({ fifo: this.path }, `notify fifo ${this.path} was replaced since it was created; left in place`);
      } catch {
        // gone, or the directory changed: nothing of ours to remove
      }
      this.#created = null;
    }
    if (this.#fd !== null) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
      this.#fd = null;
    }
    const script = this.#script;
    if (script !== null) {
      if (script.child.exitCode === null && script.child.signalCode === null) script.signalTree('SIGTERM');
      script.cgroup?.release(false);
    }
    this.#script = null;
  }
}
