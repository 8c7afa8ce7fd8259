/**
 * Signalling a child and what it forked, without cgroups (the fallback of notify/hook-cgroups.ts).
 *
 * A child started with `detached: true` leads its own session and process group; `kill(-pid)`
 * reaches every process still in that group. A descendant that called `setsid()` (or `setpgid()`)
 * has left the group: `processTree()` finds it again by walking /proc, taking every process in the
 * leader's session or group and, transitively, every child of a process already taken. What that
 * walk cannot find is a process that left the session AND lost its parent (a double fork with
 * `setsid` in the grandchild, whose parent then exited): it is re-parented to init and carries no
 * mark of where it came from. Only a cgroup tracks that one (hook-cgroups.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Signal a child started with `detached: true` (its own process group) and everything it forked
 * that is still in the group; falls back to the process alone when the group is gone, and ignores
 * a process already gone.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** One line of the process table (from /proc/PID/stat). */
export interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  /** `R`, `S`, `T`, `Z` (zombie: already dead, waiting to be reaped), ... */
  readonly state: string;
}

/** Processes listed at most when walking /proc (a bound on the work of one walk). */
export const PROC_SCAN_MAX = 100_000;

/**
 * Parse /proc/PID/stat: `pid (comm) state ppid pgrp session ...`; comm may hold spaces and
 * parentheses, so the fields are read after the LAST `)`. Undefined when unreadable.
 */
export function parseProcStat(text: string): ProcEntry | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  const f = text.slice(close + 2).split(' ');
  const [state, ppid, pgrp, session] = [f[0], Number(f[1]), Number(f[2]), Number(f[3])];
  if (!Number.isInteger(pid) || state === undefined || !Number.isInteger(ppid) || !Number.isInteger(pgrp) || !Number.isInteger(session))
    return undefined;
  return { pid, ppid, pgrp, session, state };
}

/** Every process now (those that vanish while reading are skipped). */
export function readProcTable(procRoot = '/proc'): ProcEntry[] {
  const out: ProcEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const n of names) {
    if (out.length >= PROC_SCAN_MAX) break;
    if (!/^\d+$/.test(n)) continue;
    try {
      const e = parseProcStat(readFileSync(`${procRoot}/${n}/stat`, 'utf8'));
      if (e) out.push(e);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * The processes that belong to `leader`'s tree in `table`: the leader (unless `withLeader` is
 * false), its session and process group, and every descendant of those by parent pid, whatever
 * session or group the descendant moved to. Never includes pid 1 or `exclude` (the caller). Pure.
 *
 * Once the leader has been reaped its pid may be reused by an unrelated process: pass
 * `withLeader: false` then. A session or group id is never reused while a process still carries it.
 */
export function processTree(leader: number, table: readonly ProcEntry[], exclude: number = process.pid, withLeader = true): Set<number> {
  const tree = new Set<number>();
  const children = new Map<number, number[]>();
  for (const e of table) {
    if (e.pid === 1 || e.pid === exclude) continue;
    if ((withLeader && e.pid === leader) || e.session === leader || e.pgrp === leader) tree.add(e.pid);
    const list = children.get(e.ppid);
    if (list) list.push(e.pid);
    else children.set(e.ppid, [e.pid]);
  }
  const todo = [...tree];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    for (const c of children.get(pid) ?? []) {
      if (tree.has(c)) continue;
      tree.add(c);
      todo.push(c);
    }
  }
  return tree;
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone, or not ours to signal
  }
}

/** Rounds of stop-and-rescan before the kill: a tree that keeps forking faster is killed as seen. */
const TREE_FREEZE_ROUNDS = 8;

/**
 * Signal `leader`'s whole tree (processTree). For SIGKILL the tree is first frozen: every member
 * found gets SIGSTOP and /proc is read again until no new member appears, so nothing forks or
 * loses its parent between the walk and the kill; then SIGKILL to each. Other signals: one walk.
 * `leaderAlive: false` once the leader has been reaped (its pid is then never signalled itself).
 * Returns the pids signalled.
 */
export function signalTree(leader: number, signal: NodeJS.Signals, o: { leaderAlive?: boolean; procRoot?: string } = {}): number[] {
  const alive = o.leaderAlive ?? true;
  const walk = (): Set<number> => processTree(leader, readProcTable(o.procRoot), process.pid, alive);
  const group = (sig: NodeJS.Signals): void => {
    if (alive) signalGroup(leader, sig);
    else send(-leader, sig);
  };
  if (signal !== 'SIGKILL') {
    // Walk first: once the leader has the signal its children may lose their parent link.
    const tree = walk();
    for (const pid of tree) send(pid, signal);
    group(signal);
    return [...tree];
  }
  group('SIGSTOP');
  let tree = walk();
  const stopped = new Set<number>();
  for (let round = 0; round < TREE_FREEZE_ROUNDS; round++) {
    let fresh = 0;
    for (const pid of tree) {
      if (stopped.has(pid)) continue;
      stopped.add(pid);
      send(pid, 'SIGSTOP');
      fresh++;
    }
    if (fresh === 0) break;
    tree = walk();
  }
  for (const pid of stopped) send(pid, 'SIGKILL');
  group('SIGKILL');
  return [...stopped];
}
