/**
 * flock(2), which node does not offer, through koffi (already a dependency; src/io/libc.ts and
 * src/control/native.ts load it the same way). Loaded lazily on first use; a missing koffi or
 * libc is a value (null), never a throw, so the caller decides what to do without it.
 */
import { createRequire } from 'node:module';

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
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const fn = koffi.load('libc.so.6').func('int flock(int fd, int operation)');
    lib = { flock: (fd, op) => fn(fd, op) as number, errno: () => koffi.errno() };
  } catch {
    lib = null;
  }
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
