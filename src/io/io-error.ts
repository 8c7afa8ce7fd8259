/**
 * IoError: the one error value the io/ adapters return (DESIGN.md style 5). Network and kernel
 * failures are values carrying errno and syscall; callers warn, then retry or go to FAULT.
 * Nothing in io/ throws on an I/O failure; a throw from io/ is a bug.
 */
import { constants as osConstants } from 'node:os';
import type { IoError, IoResult } from '../runtime/ports/results.js';
import { libc } from '../util/libc.js';

// The shapes are the runtime's (runtime/ports/results.ts): io implements them.
export type { IoError, IoResult };

export const ok = <T>(value: T): IoResult<T> => ({ ok: true, value });
export const fail = <T = never>(error: IoError): IoResult<T> => ({ ok: false, error });

const ERRNO_BY_CODE = osConstants.errno as Record<string, number>;
let codeByErrno: Map<number, string> | undefined;
let errnoByStrerror: Map<string, number> | undefined;

/** Symbolic name for an errno number (`19` -> `ENODEV`). */
export function errnoCode(errno: number): string | undefined {
  if (!codeByErrno) {
    codeByErrno = new Map();
    for (const [name, num] of Object.entries(ERRNO_BY_CODE)) {
      // Keep the first name for aliases (EAGAIN/EWOULDBLOCK, EDEADLK/EDEADLOCK).
      if (!codeByErrno.has(num)) codeByErrno.set(num, name);
    }
  }
  return codeByErrno.get(errno);
}

/**
 * raw-socket reports failures as `new Error(strerror(errno))` with no errno property, so we
 * recover the number by matching glibc's strerror text (table built lazily with koffi, once).
 */
function errnoFromStrerror(text: string): number | undefined {
  if (!errnoByStrerror) {
    errnoByStrerror = new Map();
    // Without koffi the message still carries the text; errno stays undefined.
    const strerror = libc()?.lib.func('const char *strerror(int errnum)') as ((n: number) => string) | undefined;
    if (strerror) for (let n = 1; n < 134; n++) errnoByStrerror.set(strerror(n), n);
  }
  return errnoByStrerror.get(text);
}

/** Build an IoError from anything a library threw or passed to a callback. */
export function toIoError(syscall: string, err: unknown, ifname?: string): IoError {
  let errno: number | undefined;
  let code: string | undefined;
  let message: string;
  if (err instanceof Error) {
    message = err.message;
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code in ERRNO_BY_CODE) code = e.code;
    if (typeof e.errno === 'number') errno = Math.abs(e.errno);
    // netlink: "Request rejected: EEXIST"
    const m = /\b(E[A-Z0-9]{2,})\b/.exec(message);
    if (!code && m?.[1] && m[1] in ERRNO_BY_CODE) code = m[1];
    if (errno === undefined && code) errno = ERRNO_BY_CODE[code];
    if (errno === undefined) errno = errnoFromStrerror(message);
  } else {
    message = String(err);
  }
  if (errno !== undefined && !code) code = errnoCode(errno);
  return { kind: 'IoError', syscall, errno, code, message, ifname };
}

/** IoError from a libc call that returned -1, with errno read by the caller (koffi.errno()). */
export function errnoIoError(syscall: string, errno: number, ifname?: string, message?: string): IoError {
  const code = errnoCode(errno);
  return { kind: 'IoError', syscall, errno, code, message: message ?? `${syscall} failed: ${code ?? errno}`, ifname };
}

/** One line for logs: `sendto on eth0: ENETUNREACH (Network is unreachable)`. */
export function formatIoError(e: IoError): string {
  const where = e.ifname ? ` on ${e.ifname}` : '';
  return `${e.syscall}${where}: ${e.code ?? e.errno ?? '?'} (${e.message})`;
}
