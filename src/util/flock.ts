/**
 * flock(2), which node does not offer, through koffi (util/libc.ts). Loaded lazily on first use; a
 * missing koffi or libc is a value (null), never a throw, so the caller decides what to do without it.
 */
import { libc } from './libc.js';

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
/** EWOULDBLOCK (= EAGAIN on Linux): someone else holds the lock. */
export const EWOULDBLOCK = 11;

interface Flock {
  flock(fd: number, op: number): number;
  errno(): number;
}

let lib: Flock | null | undefined;

function load(): Flock | null {
  if (lib !== undefined) return lib;
  const c = libc();
  if (c === null) return (lib = null);
  const fn = c.lib.func('int flock(int fd, int operation)');
  lib = { flock: (fd, op) => fn(fd, op) as number, errno: c.errno };
  return lib;
}

/** flock(fd, op): 0, or the errno of the failure; null when flock cannot be called at all. */
export function flock(fd: number, op: number): number | null {
  const l = load();
  if (l === null) return null;
  // EINTR cannot happen with LOCK_NB; retry anyway for a blocking caller.
  for (;;) {
    if (l.flock(fd, op) === 0) return 0;
    const e = l.errno();
    if (e !== 4) return e;
  }
}
