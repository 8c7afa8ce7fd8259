/**
 * The one place libc is loaded through koffi (a dependency for exactly this: the few C calls Node
 * does not offer: raw-socket options, SO_PEERCRED, flock, mkfifo, getpwnam_r, strerror). Loaded on
 * first use, so importing a module that may call libc costs nothing and needs no native module;
 * each caller declares the functions of its own concern with `lib.func(...)` and keeps them. A
 * missing koffi or libc is `null`, never a throw: the caller decides what to do without it.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import type { LibraryHandle } from 'koffi';

export interface LibcHandle {
  readonly koffi: typeof import('koffi');
  readonly lib: LibraryHandle;
  /** errno of the last failed call on this thread: read it right after the call. */
  readonly errno: () => number;
}

let handle: LibcHandle | null | undefined;

/**
 * libc.so.6 and koffi, loaded once; null when either cannot be loaded, and always null off the main
 * thread. koffi 3.3.4 never frees what it allocates for a Node environment (a 2 MiB call stack, a
 * 1 MiB heap and its type tables, on the thread's malloc arena): loaded in the config loader's
 * worker threads, every reload of a long-running daemon left that behind (BENCHMARKS.md, "Where the
 * remaining creep is"). Code that runs in a worker has another way (host/user-db.ts: getent).
 */
export function libc(): LibcHandle | null {
  if (handle !== undefined) return handle;
  if (!isMainThread) return (handle = null);
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    handle = { koffi, lib: koffi.load('libc.so.6'), errno: () => koffi.errno() };
  } catch {
    handle = null;
  }
  return handle;
}

export interface ProcessSymbolsHandle {
  readonly koffi: typeof import('koffi');
  /** The running program's own symbols (dlopen(NULL)): Node's exported libuv functions. */
  readonly lib: LibraryHandle;
}

let self: ProcessSymbolsHandle | null | undefined;

/**
 * The running Node process's own symbol table, loaded once through koffi (dlopen(NULL)); null when
 * it cannot be loaded. io/uv-poll.ts reaches libuv through it (Node exports libuv for addons), so
 * a socket opened through libc can be watched by the event loop like any Node socket.
 */
export function processSymbols(): ProcessSymbolsHandle | null {
  if (self !== undefined) return self;
  const c = libc();
  try {
    self = c === null ? null : { koffi: c.koffi, lib: c.koffi.load(null) };
  } catch {
    self = null;
  }
  return self;
}

/**
 * A module's own libc functions, declared on first use and kept: `declare` runs once, with libc
 * loaded, on a 64-bit process (every caller lays out C structs for LP64). Null when libc cannot
 * be loaded here, the process is not 64-bit, or a declaration throws (a symbol libc lacks).
 */
export function lazyLibc<T>(declare: (c: LibcHandle) => T): () => T | null {
  let value: T | null | undefined;
  return () => {
    if (value !== undefined) return value;
    const c = libc();
    try {
      value = c === null || c.koffi.sizeof('void *') !== 8 ? null : declare(c);
    } catch {
      value = null;
    }
    return value;
  };
}
