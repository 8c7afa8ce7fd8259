/**
 * The daemon's pid file, held with flock(2) for the daemon's whole life instead of probed with
 * kill(pid, 0): a stale file whose pid now belongs to another process no longer blocks start-up,
 * and two daemons on one file cannot both run (the kernel drops the lock when the holder dies,
 * whatever the way).
 *
 * The file is opened `O_RDWR|O_CREAT|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC` (a planted symlink is
 * refused, a planted FIFO cannot block, hooks never inherit the descriptor and so never the lock),
 * in a directory resolved by the safe writer's rule (src/util/safe-file.ts: every lookup stable).
 * `fstat` must show a regular file owned by root (or the daemon's uid) with one link, else start-up
 * is refused (a hard link to a root file in a user-writable state directory is not written). The
 * file is truncated and the pid written only once the lock is held. After locking, the name must
 * still lead to the locked file: a holder that exits unlinks it first, so a daemon that opened the
 * old file and locked it after the holder released it tries again on a fresh one.
 */
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EWOULDBLOCK, flock, LOCK_EX, LOCK_NB } from './flock.js';
import { ensureDirSync } from './safe-file.js';

/** Opens tried when the file is replaced between our open and our lock. */
export const PID_LOCK_ATTEMPTS = 3;
/** Mode of the pid file (fchmod: exact, whatever the umask). */
export const PID_FILE_MODE = 0o644;

const O_CLOEXEC = 0o2000000;
const { O_RDWR, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

export interface PidLock {
  /** The path as given. */
  readonly path: string;
  /** Remove the file (if it is still ours) and drop the lock. Idempotent. */
  release(): void;
}

export type PidLockResult =
  | { readonly ok: true; readonly value: PidLock }
  | {
      readonly ok: false;
      readonly error: string;
      readonly code: string;
      /** pid of the daemon holding the lock */ readonly holder?: number;
    };

function holderPid(fd: number): number | undefined {
  try {
    const buf = Buffer.alloc(32);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const pid = Number(buf.subarray(0, n).toString('latin1').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing to do
  }
}

/**
 * Take the pid file at `path` for this process (creating its directory with `dirMode` where a
 * non-root user cannot interfere) and write `pid` into it. Never throws.
 */
export function acquirePidFile(path: string, pid: number = process.pid, dirMode = 0o755): PidLockResult {
  const full = resolve(path);
  const dir = ensureDirSync(dirname(full), dirMode);
  if (!dir.ok) return { ok: false, code: dir.code, error: `cannot use pid file ${path}: ${dir.error}` };
  const file = join(dir.value, basename(full));
  const me = process.geteuid?.() ?? 0;
  for (let attempt = 0; attempt < PID_LOCK_ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, PID_FILE_MODE);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ELOOP') return { ok: false, code: 'UNSAFE', error: `refusing pid file ${path}: it is a symbolic link` };
      return { ok: false, code: err.code ?? 'EIO', error: `cannot open pid file ${path}: ${err.message}` };
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile() || (st.uid !== 0 && st.uid !== me) || st.nlink !== 1) {
      closeQuietly(fd);
      const what = !st.isFile()
        ? 'it is not a regular file'
        : st.nlink !== 1
          ? `it has ${st.nlink} hard links`
          : `it is owned by uid ${st.uid}`;
      return { ok: false, code: 'UNSAFE', error: `refusing pid file ${path}: ${what}; remove it if no vrrpd runs` };
    }
    const locked = flock(fd, LOCK_EX | LOCK_NB);
    if (locked !== 0) {
      const holder = locked === EWOULDBLOCK ? holderPid(fd) : undefined;
      closeQuietly(fd);
      if (locked === null)
        return { ok: false, code: 'ENOSYS', error: `cannot lock pid file ${path}: flock(2) is unavailable (koffi could not be loaded)` };
      if (locked === EWOULDBLOCK)
        return {
          ok: false,
          code: 'EWOULDBLOCK',
          error: `another daemon (pid ${holder ?? 'unknown'}) holds ${path}`,
          ...(holder !== undefined ? { holder } : {}),
        };
      return { ok: false, code: `errno ${locked}`, error: `cannot lock pid file ${path}: flock failed with errno ${locked}` };
    }
    let now: fs.Stats | undefined;
    try {
      now = fs.lstatSync(file);
    } catch {
      now = undefined;
    }
    if (now === undefined || now.ino !== st.ino || now.dev !== st.dev) {
      closeQuietly(fd); // the holder we raced removed it: start over on the new file
      continue;
    }
    try {
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, `${pid}\n`, 0);
      fs.fchmodSync(fd, PID_FILE_MODE);
    } catch (e) {
      closeQuietly(fd);
      return {
        ok: false,
        code: (e as NodeJS.ErrnoException).code ?? 'EIO',
        error: `cannot write pid file ${path}: ${(e as Error).message}`,
      };
    }
    return { ok: true, value: heldLock(path, file, fd, st) };
  }
  return {
    ok: false,
    code: 'EAGAIN',
    error: `cannot lock pid file ${path}: replaced ${PID_LOCK_ATTEMPTS} times while locking (PID_LOCK_ATTEMPTS)`,
  };
}

/** The held lock on `file` (open as `fd`, identity `st`): release unlinks it if still ours, then closes. */
function heldLock(path: string, file: string, fd: number, st: fs.Stats): PidLock {
  let held = true;
  return {
    path,
    release: () => {
      if (!held) return;
      held = false;
      try {
        const cur = fs.lstatSync(file);
        // Unlink before closing: a daemon that opens the old file now fails its name check.
        if (cur.ino === st.ino && cur.dev === st.dev) fs.unlinkSync(file);
      } catch {
        // already gone
      }
      closeQuietly(fd);
    },
  };
}
