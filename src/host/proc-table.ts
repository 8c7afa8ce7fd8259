/**
 * The real process table (runtime/ports/processes.ts ProcessTable): one pass over /proc, bounded.
 * For each numeric entry (at most `maxProcesses`) it reads the first 128 bytes of /proc/PID/stat
 * (the comm, between the first '(' and the last ')', then the state letter) and, when asked, the
 * first `cmdlineBytes` bytes of /proc/PID/cmdline. Reads are synchronous and small: a scan of a
 * thousand processes takes a few milliseconds of the event loop. A process gone between the
 * listing and the read is skipped. `entry` reads one process the same way (after an exec event).
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import type { ProcEntry, ProcessTable } from '../runtime/ports/processes.js';

/** How much of /proc/PID/stat is read: pid, "(comm)" (at most 15 characters) and the state. */
const STAT_BYTES = 128;

/** Read at most `n` bytes of `path` into `buf`; undefined when it cannot be opened or read. */
function readPrefix(path: string, buf: Buffer, n: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    let got = 0;
    while (got < n) {
      const r = readSync(fd, buf, got, n - got, null);
      if (r <= 0) break;
      got += r;
    }
    return buf.toString('utf8', 0, got);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** comm and zombie from the start of /proc/PID/stat ("PID (COMM) S ..."). */
export function parseStat(text: string): { comm: string; zombie: boolean } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  return { comm: text.slice(open + 1, close), zombie: text[close + 2] === 'Z' };
}

/** One process's entry (stat, and cmdline when `cmdlineBytes` > 0); undefined when gone or unreadable. */
function readEntry(root: string, pid: number, buf: Buffer, cmdlineBytes: number): ProcEntry | undefined {
  const statText = readPrefix(`${root}/${pid}/stat`, buf, STAT_BYTES);
  const st = statText === undefined ? undefined : parseStat(statText);
  if (st === undefined) return undefined;
  if (cmdlineBytes <= 0) return { pid, comm: st.comm, zombie: st.zombie };
  const cmdline = readPrefix(`${root}/${pid}/cmdline`, buf, cmdlineBytes);
  if (cmdline === undefined) return undefined;
  return { pid, comm: st.comm, zombie: st.zombie, cmdline };
}

/** The process table of `root` (/proc; tests give another directory). */
export function procTable(root = '/proc'): ProcessTable {
  let buf = Buffer.alloc(STAT_BYTES);
  const sized = (cmdlineBytes: number): Buffer => {
    if (buf.length < Math.max(STAT_BYTES, cmdlineBytes)) buf = Buffer.alloc(Math.max(STAT_BYTES, cmdlineBytes));
    return buf;
  };
  return {
    list: ({ cmdlineBytes, maxProcesses }) => {
      const b = sized(cmdlineBytes);
      const out: ProcEntry[] = [];
      for (const name of readdirSync(root)) {
        if (out.length >= maxProcesses) break;
        if (!/^[1-9]\d*$/.test(name)) continue;
        const e = readEntry(root, Number(name), b, cmdlineBytes);
        if (e !== undefined) out.push(e);
      }
      return out;
    },
    entry: (pid, { cmdlineBytes }) =>
      Number.isSafeInteger(pid) && pid > 0 ? readEntry(root, pid, sized(cmdlineBytes), cmdlineBytes) : undefined,
  };
}
