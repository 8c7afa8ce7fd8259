/**
 * The real ConfigHost: files, globs and the running host's interfaces and script files.
 * Only `vrrpd check`/`run` use it; tests use in-memory hosts.
 */
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { posix as path } from 'node:path';
import { expandBraces } from '../config/braces.js';
import type { ConfigHost, FileStat, GlobLimits, GlobOverflow, InterfaceFacts, ReadOptions } from '../config/host.js';
import { DEFAULT_LOAD_LIMITS } from '../config/limits.js';
import { nodeScriptFs } from './script-fs.js';
import { nodeUserDb } from './user-db.js';

export interface NodeHostOptions {
  /** keepalived -i; default the host name up to the first dot. */
  readonly configId?: string;
  /** Check interfaces and scripts against this host (keepalived does). */
  readonly hostChecks?: boolean;
}

export function nodeConfigHost(opts: NodeHostOptions = {}): ConfigHost {
  const hostChecks = opts.hostChecks ?? true;
  let ifCache: ReadonlyMap<string, InterfaceFacts> | undefined;
  const host: ConfigHost = {
    ...(hostChecks ? { scriptFs: nodeScriptFs(), users: nodeUserDb() } : {}),
    configId: opts.configId ?? hostname().split('.')[0] ?? '',
    cwd: () => process.cwd(),
    readFile(p: string, o: ReadOptions = {}) {
      return readBounded(p, o);
    },
    glob(pattern: string, cwd: string, limits?: GlobLimits) {
      return globBounded(
        pattern,
        cwd,
        limits ?? { maxAlternatives: DEFAULT_LOAD_LIMITS.maxBraceAlternatives, budget: { entries: DEFAULT_LOAD_LIMITS.maxGlobEntries } },
      );
    },
    realPath(p: string) {
      try {
        return realpathSync(p);
      } catch {
        return undefined;
      }
    },
    stat(p: string): FileStat | undefined {
      try {
        const s = statSync(p);
        return { isFile: s.isFile(), executable: (s.mode & 0o111) !== 0 };
      } catch {
        return undefined;
      }
    },
  };
  if (hostChecks) {
    host.interfaces = () => (ifCache ??= listInterfaces());
  }
  return host;
}

/**
 * Read at most `maxBytes + 1` bytes (so the caller sees a file over its budget without holding the
 * rest). The file is opened O_NONBLOCK and checked on the descriptor, and no read ever blocks: a
 * FIFO swapped in after a stat() cannot hold the loader in open() or read() (a thread stuck in a
 * system call cannot be terminated, and holds its process at exit). With `regularOnly` anything but
 * a regular file gives undefined; otherwise (the main file of `check`: a pipe, /dev/stdin) it is
 * read in short sleeps while it has nothing to give, a FIFO until its writer has written and closed
 * it, for at most NON_REGULAR_WAIT_MS without data.
 */
function readBounded(p: string, o: ReadOptions): Uint8Array | undefined {
  const max = o.maxBytes ?? Number.MAX_SAFE_INTEGER;
  let fd = -1;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    const regular = st.isFile();
    if (!regular && o.regularOnly) return undefined;
    const chunks: Buffer[] = [];
    let total = 0;
    let idleMs = 0;
    // a regular file in one read of its size (one byte more shows growth); anything else 64 KiB at a time
    let want = Math.min(max + 1, regular ? st.size + 1 : 65536);
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.max(1, want));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || (idleMs += PAUSE_MS) > NON_REGULAR_WAIT_MS) throw e;
        pause(PAUSE_MS);
        continue;
      }
      if (n === 0) {
        // a FIFO nobody has written to yet reads as its end: wait for the writer
        if (st.isFIFO() && total === 0 && (idleMs += PAUSE_MS) <= NON_REGULAR_WAIT_MS) {
          pause(PAUSE_MS);
          continue;
        }
        break;
      }
      idleMs = 0;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      if (total > max) break;
      want = Math.min(max + 1 - total, 65536);
    }
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    return total > max ? all.subarray(0, max + 1) : all;
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** How long a pipe or FIFO may give nothing before it is an open problem. */
const NON_REGULAR_WAIT_MS = 10_000;
const PAUSE_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleep without a system call that could not be interrupted (a worker's terminate() ends it). */
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * glob(3) with GLOB_BRACE: braces expanded first (glibc's order, at most `maxAlternatives`), then
 * each alternative's wildcards, matches sorted per alternative. Relative patterns are matched from
 * `cwd` (keepalived chdir()s there), so braces or wildcards in the directory's own name are taken
 * literally.
 */
function globBounded(pattern: string, cwd: string, limits: GlobLimits): readonly string[] | GlobOverflow {
  const alts = expandBraces(pattern, limits.maxAlternatives);
  if (alts === undefined) return { overflow: 'maxBraceAlternatives' };
  const out: string[] = [];
  for (const a of alts) {
    const abs = path.isAbsolute(a);
    const base = abs ? '/' : cwd;
    const r = walkGlob(base, abs ? a.slice(1) : a, limits.budget);
    if (r === undefined) return { overflow: 'maxGlobEntries' };
    out.push(...r.sort().map((rel) => (abs ? `/${rel}` : path.join(cwd, rel))));
  }
  return out;
}

/**
 * One directory level per pattern segment from `base`, without GLOB_PERIOD (node 20 has no
 * fs.globSync). Returns paths relative to `base`, or undefined when the entry budget ran out.
 */
function walkGlob(base: string, pattern: string, budget: { entries: number }): string[] | undefined {
  let found = [''];
  for (const part of pattern.split('/')) {
    if (part === '') continue;
    const next: string[] = [];
    const wild = /[*?[]/.test(part);
    const re = wild ? globToRegExp(part) : undefined;
    for (const rel of found) {
      if (!re) {
        next.push(rel === '' ? part : `${rel}/${part}`);
        continue;
      }
      let entries: string[];
      try {
        entries = readdirSync(path.join(base, rel));
      } catch {
        continue; // not a directory
      }
      budget.entries -= entries.length;
      if (budget.entries < 0) return undefined;
      for (const e of entries) if (re.test(e) && !e.startsWith('.')) next.push(rel === '' ? e : `${rel}/${e}`);
    }
    found = next;
  }
  budget.entries -= found.length;
  if (budget.entries < 0) return undefined;
  return found.filter((rel) => {
    try {
      statSync(path.join(base, rel));
      return true;
    } catch {
      return false;
    }
  });
}

function globToRegExp(g: string): RegExp {
  let re = '^';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = g.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + g.slice(i + 1, end).replace(/^!/, '^') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

function listInterfaces(): ReadonlyMap<string, InterfaceFacts> {
  const out = new Map<string, InterfaceFacts>();
  // /sys/class/net lists every link, including those without addresses (os.networkInterfaces() does not)
  try {
    for (const name of readdirSync('/sys/class/net')) {
      let flags = 0;
      try {
        flags = parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
      } catch {
        /* keep 0 */
      }
      out.set(name, { name, loopback: (flags & 0x8) !== 0, multicast: (flags & 0x1000) !== 0 });
    }
  } catch {
    for (const [name, addrs] of Object.entries(networkInterfaces())) {
      out.set(name, { name, loopback: addrs?.some((a) => a.internal) ?? false, multicast: true });
    }
  }
  return out;
}
