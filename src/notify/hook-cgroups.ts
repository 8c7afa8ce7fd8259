/**
 * One cgroup v2 per hook run, so a timeout kill reaches every process the hook started, whatever
 * it did to escape: `setsid`, double forks, re-parenting to init. The kernel keeps every
 * descendant in its parent's cgroup, and `cgroup.kill` (Linux 5.14) kills the whole cgroup at once.
 *
 * Layout, under the daemon's own cgroup (from /proc/self/cgroup `0::PATH`, on the cgroup2 mount
 * found in /proc/self/mountinfo): `vrrpd-hooks-PID/run-N` per running hook and
 * `vrrpd-hooks-PID/left` for what hooks that exited normally left running. Under systemd the
 * daemon's cgroup is `/system.slice/vrrpd.service`, which the unit delegates to it (`Delegate=yes`;
 * `ProtectControlGroups=` must stay off, or /sys/fs/cgroup is read-only and this falls back). No
 * controller is enabled below the daemon's cgroup, so the daemon may stay in it beside the
 * sub-cgroups (cgroup v2's "no internal processes" rule only binds cgroups with controllers).
 *
 * Placing the child: Node cannot spawn into a cgroup, and moving the child after spawn() would
 * race a hook that forks at once. So the daemon moves ITSELF into the run's cgroup, spawns (the
 * child is born there: fork inherits the cgroup) and moves itself back, all in one synchronous
 * call, so nothing else of the daemon runs in between. Cost: two cgroup.procs writes per hook,
 * ~0.2-0.8 ms measured. A cgroup the daemon could not leave is never killed through cgroup.kill.
 *
 * Background children: a hook that exits normally may leave children on purpose (keepalived is
 * fire-and-forget; `notify_master` starting a service with `&` is common). Those are moved to
 * `left`, which vrrpd never kills, and the run's cgroup is removed. Only a hook that hits its
 * timeout has its whole cgroup killed. Bounds: one cgroup per running hook, plus `left`, plus
 * run cgroups still emptying after a kill (retried at every spawn and release).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';

/** The cgroups to use, or why they cannot be used. */
export type CgroupProbe = { ok: true; cgroups: HookCgroups } | { ok: false; reason: string };

let shared: CgroupProbe | undefined;

/** The cgroup2 directory of the calling process, from /proc/self/{cgroup,mountinfo}. Pure on the given texts. */
export function ownCgroupDir(procCgroup: string, mountinfo: string): string | { reason: string } {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) return { reason: 'no cgroup v2 membership in /proc/self/cgroup' };
  const path = line.slice(3);
  for (const m of mountinfo.split('\n')) {
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    const sep = m.indexOf(' - ');
    if (sep < 0 || !m.slice(sep + 3).startsWith('cgroup2 ')) continue;
    const f = m.slice(0, sep).split(' ');
    const root = unescapeMount(f[3] ?? '');
    const point = unescapeMount(f[4] ?? '');
    if (root === '/' || root === '') return point + (path === '/' ? '' : path);
    if (path === root || path.startsWith(`${root}/`)) return point + path.slice(root.length);
  }
  return { reason: 'no cgroup2 file system mounted' };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** statfs(2) f_type of cgroup2 (linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

function mkdirIfAbsent(path: string): void {
  try {
    mkdirSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message) : String(e);
}

/** A hook run's cgroup. */
export interface RunCgroup {
  readonly path: string;
  /** Pids in the run's cgroup now. */
  pids(): number[];
  /** Kill every process in it (cgroup.kill, or SIGKILL to each until it is empty). */
  kill(): void;
  /** Send `signal` to every process in it. */
  signal(signal: NodeJS.Signals): void;
  /**
   * The run ended: after a normal exit, move what it left running to `left`; then remove the
   * cgroup (retried later while it is not empty yet).
   */
  release(normalExit: boolean): void;
}

export class HookCgroups {
  readonly #own: string;
  readonly #base: string;
  readonly #left: string;
  readonly #hasKill: boolean;
  #seq = 0;
  /** Run cgroups released but not yet empty (killed processes still exiting). */
  readonly #pending = new Set<string>();
  /** Set when the daemon could not move back out of a run cgroup: that one is never cgroup.kill'ed. */
  #stuckIn: string | null = null;

  private constructor(own: string, base: string) {
    this.#own = own;
    this.#base = base;
    this.#left = `${base}/left`;
    this.#hasKill = existsSync(`${base}/cgroup.kill`);
  }

  /**
   * Find the daemon's cgroup2 directory and create `vrrpd-hooks-PID` in it. Fails (with the
   * reason) without cgroup2, on a read-only cgroup file system (systemd `ProtectControlGroups=yes`)
   * or without the right to write there. Also removes empty `vrrpd-hooks-*` left by daemons that
   * no longer run.
   */
  static probe(procRoot = '/proc'): CgroupProbe {
    // One per process: every runner shares the `vrrpd-hooks-PID` tree and its run numbers.
    if (procRoot === '/proc' && shared !== undefined) return shared;
    const r = HookCgroups.#probe(procRoot);
    if (procRoot === '/proc') {
      shared = r;
      // Empty cgroups are removed at exit; a hook's background children keep theirs (and
      // `vrrpd-hooks-PID`) until they end: the next daemon's probe removes them once empty.
      if (r.ok) process.once('exit', () => r.cgroups.close());
    }
    return r;
  }

  static #probe(procRoot: string): CgroupProbe {
    let own: string | { reason: string };
    try {
      own = ownCgroupDir(readFileSync(`${procRoot}/self/cgroup`, 'utf8'), readFileSync(`${procRoot}/self/mountinfo`, 'utf8'));
    } catch (e) {
      return { ok: false, reason: `cannot read ${procRoot}/self/cgroup: ${errText(e)}` };
    }
    if (typeof own !== 'string') return { ok: false, reason: own.reason };
    // mountinfo still lists a cgroup2 mount that another mount hides (a fresh sysfs on /sys, as in
    // a container or a test's mount namespace): what is at the path must really be cgroup2.
    try {
      if (statfsSync(own).type !== CGROUP2_SUPER_MAGIC)
        return { ok: false, reason: `${own} is not on a cgroup2 file system (the cgroup2 mount is hidden by another mount)` };
    } catch (e) {
      return { ok: false, reason: `cannot stat ${own}: ${errText(e)}` };
    }
    sweepStale(own, procRoot);
    const base = `${own}/vrrpd-hooks-${process.pid}`;
    try {
      // Not recursive: `own` exists (checked above); Node's recursive mkdir can spin for ever on
      // a file system that answers mkdir oddly (it did on sysfs).
      mkdirIfAbsent(base);
      mkdirIfAbsent(`${base}/left`);
    } catch (e) {
      return { ok: false, reason: `cannot create ${base}: ${errText(e)}` };
    }
    return { ok: true, cgroups: new HookCgroups(own, base) };
  }

  /** The daemon's `vrrpd-hooks-PID` directory. */
  get base(): string {
    return this.#base;
  }

  /** Whether the kernel has cgroup.kill (else processes are killed one by one). */
  get hasKill(): boolean {
    return this.#hasKill;
  }

  /** Run cgroups waiting to be removed (bounded by the hooks killed recently). */
  get pendingRemovals(): number {
    return this.#pending.size;
  }

  /**
   * Create a run cgroup and call `spawn` with the daemon inside it, so the child is born there.
   * On any cgroup error `spawn` still runs, outside (cgroup: null, with the reason).
   */
  spawnIn<T>(spawn: () => T): { value: T; cgroup: RunCgroup | null; error?: string } {
    this.#sweep();
    const path = `${this.#base}/run-${++this.#seq}`;
    try {
      mkdirSync(path);
    } catch (e) {
      return { value: spawn(), cgroup: null, error: `mkdir ${path}: ${errText(e)}` };
    }
    try {
      writeFileSync(`${path}/cgroup.procs`, String(process.pid));
    } catch (e) {
      tryRmdir(path);
      return { value: spawn(), cgroup: null, error: `cannot enter ${path}: ${errText(e)}` };
    }
    let value: T;
    try {
      value = spawn();
    } catch (e) {
      this.#leave(path);
      tryRmdir(path);
      throw e;
    }
    this.#leave(path);
    return { value, cgroup: this.#run(path) };
  }

  /** Move the daemon back to its own cgroup (tried twice; remembered if it fails). */
  #leave(path: string): void {
    for (let i = 0; i < 2; i++) {
      try {
        writeFileSync(`${this.#own}/cgroup.procs`, String(process.pid));
        return;
      } catch {
        // retried once, then remembered
      }
    }
    this.#stuckIn = path;
  }

  #run(path: string): RunCgroup {
    const pids = (): number[] => readPids(path);
    const signal = (sig: NodeJS.Signals): void => {
      for (const pid of pids()) {
        if (pid === process.pid) continue;
        try {
          process.kill(pid, sig);
        } catch {
          // gone
        }
      }
    };
    return {
      path,
      pids,
      signal,
      kill: () => {
        if (this.#hasKill && this.#stuckIn !== path && !pids().includes(process.pid)) {
          try {
            writeFileSync(`${path}/cgroup.kill`, '1');
            return;
          } catch {
            // fall through to one by one
          }
        }
        // Without cgroup.kill: SIGKILL whatever is listed until nothing new appears.
        for (let round = 0; round < 8; round++) {
          const left = pids().filter((p) => p !== process.pid);
          if (left.length === 0) return;
          signal('SIGKILL');
        }
      },
      release: (normalExit) => {
        if (normalExit) {
          for (const pid of pids()) {
            if (pid === process.pid) continue;
            try {
              writeFileSync(`${this.#left}/cgroup.procs`, String(pid));
            } catch {
              // exited meanwhile
            }
          }
        }
        if (!tryRmdir(path)) this.#pending.add(path);
        this.#sweep();
      },
    };
  }

  /** Remove released run cgroups that have emptied. */
  #sweep(): void {
    for (const p of this.#pending) if (tryRmdir(p)) this.#pending.delete(p);
  }

  /** Daemon stop: remove what is empty (`left` and the base stay while hooks' children live). */
  close(): void {
    this.#sweep();
    tryRmdir(this.#left);
    tryRmdir(this.#base);
  }
}

function readPids(path: string): number[] {
  try {
    return readFileSync(`${path}/cgroup.procs`, 'utf8')
      .split('\n')
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function tryRmdir(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Remove empty `vrrpd-hooks-PID` trees of daemons that no longer run (a kill -9 leaves them). */
function sweepStale(own: string, procRoot: string): void {
  let names: string[];
  try {
    names = readdirSync(own);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^vrrpd-hooks-(\d+)$/.exec(n);
    if (!m || Number(m[1]) === process.pid || existsSync(`${procRoot}/${m[1]}`)) continue;
    const dir = `${own}/${n}`;
    try {
      for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) tryRmdir(`${dir}/${sub.name}`);
    } catch {
      continue;
    }
    tryRmdir(dir);
  }
}
