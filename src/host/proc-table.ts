/**
 * The real process table (runtime/ports/processes.ts ProcessTable): one pass over /proc, bounded.
 * For each numeric entry (at most `maxProcesses`) it reads the first 128 bytes of /proc/PID/stat
 * (the comm, between the first '(' and the last ')', then the state letter) and, when asked, the
 * first `cmdlineBytes` bytes of /proc/PID/cmdline. Reads are synchronous and small: a scan of a
 * thousand processes takes a few milliseconds of the event loop. A process gone between the
 * listing and the read is skipped.
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

/** The process table of `root` (/proc; tests give another directory). */
export function procTable(root = '/proc'): ProcessTable {
  let buf = Buffer.alloc(STAT_BYTES);
  return {
    list: ({ cmdlineBytes, maxProcesses }) => {
      if (buf.length < Math.max(STAT_BYTES, cmdlineBytes)) buf = Buffer.alloc(Math.max(STAT_BYTES, cmdlineBytes));
      const out: ProcEntry[] = [];
      for (const name of readdirSync(root)) {
        if (out.length >= maxProcesses) break;
        if (!/^[1-9]\d*$/.test(name)) continue;
        const statText = readPrefix(`${root}/${name}/stat`, buf, STAT_BYTES);
        const st = statText === undefined ? undefined : parseStat(statText);
        if (st === undefined) continue;
        if (cmdlineBytes <= 0) {
          out.push({ pid: Number(name), comm: st.comm, zombie: st.zombie });
          continue;
        }
        const cmdline = readPrefix(`${root}/${name}/cmdline`, buf, cmdlineBytes);
        if (cmdline === undefined) continue;
        out.push({ pid: Number(name), comm: st.comm, zombie: st.zombie, cmdline });
      }
      return out;
    },
  };
}
