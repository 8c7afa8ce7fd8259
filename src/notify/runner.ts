/**
 * Runs hook and check programs the way keepalived does (docs/keepalived-behaviour.md 4.1 "Execution"): the
 * configured argv (no shell), as the script user/group, in its own session and process group,
 * stdin/stdout/stderr on /dev/null, the daemon's environment unchanged. `killAll()` is for shutdown.
 *
 * Process trees (issue 10). A run that reaches its timeout is killed with everything it started,
 * including children that called `setsid` and double-forked daemons:
 *  - with cgroup v2 (hook-cgroups.ts): each run is born in its own cgroup, killed at the timeout
 *    with `cgroup.kill`. Works as root wherever /sys/fs/cgroup is writable: a plain root shell,
 *    and the shipped systemd unit (`Delegate=yes`, no `ProtectControlGroups=`);
 *  - otherwise (no cgroup2, read-only cgroup file system, kernel without cgroup.kill: each
 *    process then gets SIGKILL): the run's session and process group plus, by parent pid, every
 *    descendant of those, frozen with SIGSTOP while /proc is walked, then SIGKILL
 *    (util/process-group.ts). A process that both left the session and lost its parent (double
 *    fork + setsid) escapes this fallback; `treeTracking()` says which one is in use.
 * Background children of a hook that EXITED normally are left running, as keepalived (which never
 * waits for or kills notify scripts) leaves them: a `notify_master` that starts a service with `&`
 * keeps working. Only a hook still running at its timeout has its tree killed, and `killAll()`
 * signals the trees of the hooks still running, not what finished hooks left behind (under systemd
 * the unit's stop ends those, KillMode=mixed).
 *
 * Nothing here decides *when* to run: the notifier serializes hooks per instance, the vrrp_script
 * scheduler never overlaps a script with itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { signalGroup, signalTree } from '../util/process-group.js';
import type { ProcessRunner, RunResult, RunSpec } from '../runtime/ports/processes.js';
import { HookCgroups, type RunCgroup } from './hook-cgroups.js';

// The runner implements the runtime's port (runtime/ports/processes.ts).
export type { ProcessRunner, RunResult, RunSpec };

/** What {@link spawnTracked} starts: argv, user, group and umask of a run without its timeout. */
export type SpawnSpec = Omit<RunSpec, 'timeoutMs'>;

/** A process started by {@link spawnTracked}, with the handle on its whole tree. */
export interface TrackedChild {
  readonly child: ChildProcess;
  /** Its cgroup, or null when trees are tracked through /proc (or the cgroup could not be made). */
  readonly cgroup: RunCgroup | null;
  /**
   * Signal the whole tree: the cgroup (SIGKILL by cgroup.kill), else the session, process group
   * and /proc descendants. `leaderAlive: false` once the leader has exited.
   */
  signalTree(signal: NodeJS.Signals, leaderAlive?: boolean): void;
}

/**
 * Start `spec.argv` as keepalived starts scripts (own session, stdio on /dev/null, the script's
 * user, group and umask), in a cgroup of its own when `cgroups` is given. Throws what spawn()
 * throws synchronously (bad uid...); errors after the fork come as the child's 'error' event.
 * Used for every run below and for the notify FIFO's long-lived reader (fifo.ts).
 */
export function spawnTracked(spec: SpawnSpec, cgroups: HookCgroups | null): TrackedChild {
  const [cmd, ...args] = spec.argv;
  if (cmd === undefined) throw new Error('empty command');
  const start = (): ChildProcess => {
    // The child inherits the umask at fork, which happens inside spawn(): set it just around the
    // synchronous call. A file created by a libuv pool thread in that instant would get the
    // hook's mask too; vrrpd's own files set their mode explicitly.
    const oldMask = spec.umask !== undefined ? process.umask(spec.umask) : undefined;
    try {
      return spawn(cmd, args, {
        detached: true, // setsid(): own session and process group, like keepalived's setpgid(0,0)
        stdio: 'ignore',
        ...(spec.uid !== undefined && spec.uid !== process.getuid?.() ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined && spec.gid !== process.getgid?.() ? { gid: spec.gid } : {}),
      });
    } finally {
      if (oldMask !== undefined) process.umask(oldMask);
    }
  };
  let child: ChildProcess;
  let cgroup: RunCgroup | null = null;
  if (cgroups) {
    const r = cgroups.spawnIn(start);
    child = r.value;
    cgroup = r.cgroup;
  } else child = start();
  return {
    child,
    cgroup,
    signalTree(signal, leaderAlive = true) {
      if (signal === 'SIGKILL') cgroup?.kill();
      else cgroup?.signal(signal);
      if (child.pid === undefined) return;
      if (cgroup !== null && signal !== 'SIGKILL') signalGroup(child.pid, signal);
      else signalTree(child.pid, signal, { leaderAlive });
    },
  };
}

export interface SpawnRunnerOptions {
  /**
   * 'auto' (default): a cgroup per run when cgroup v2 is usable, else the /proc walk;
   * 'proc': never cgroups (tests of the fallback).
   */
  readonly trees?: 'auto' | 'proc';
}

export class SpawnRunner implements ProcessRunner {
  readonly #running = new Map<number, { done: Promise<RunResult>; tracked: TrackedChild }>();
  readonly #trees: 'auto' | 'proc';
  /** undefined until the first run (or treeTracking()) probes. */
  #cgroups: HookCgroups | null | undefined;
  #why = '';

  constructor(o: SpawnRunnerOptions = {}) {
    this.#trees = o.trees ?? 'auto';
  }

  treeTracking(): { cgroups: boolean; detail: string; base?: string } {
    const cg = this.#probe();
    if (cg)
      return {
        cgroups: true,
        base: cg.base,
        detail: `a cgroup per hook run under ${cg.base}${cg.hasKill ? '' : ' (no cgroup.kill: killed process by process)'}`,
      };
    return {
      cgroups: false,
      detail: `session, process group and /proc parent links (${this.#why}): a hook's double-forked child that also called setsid escapes the timeout kill`,
    };
  }

  #probe(): HookCgroups | null {
    if (this.#cgroups !== undefined) return this.#cgroups;
    if (this.#trees === 'proc') {
      this.#why = 'cgroups disabled';
      this.#cgroups = null;
      return null;
    }
    const p = HookCgroups.probe();
    if (p.ok) this.#cgroups = p.cgroups;
    else {
      this.#why = p.reason;
      this.#cgroups = null;
    }
    return this.#cgroups;
  }

  run(spec: RunSpec): Promise<RunResult> {
    const started = Date.now();
    if (spec.argv[0] === undefined)
      return Promise.resolve({ code: null, signal: null, timedOut: false, error: 'empty command', durationMs: 0 });
    let tracked: TrackedChild;
    try {
      tracked = spawnTracked(spec, this.#probe());
    } catch (e) {
      return Promise.resolve({
        code: null,
        signal: null,
        timedOut: false,
        error: e instanceof Error ? e.message : String(e),
        durationMs: 0,
      });
    }
    const { child, cgroup } = tracked;
    const killTree = (leaderAlive: boolean): void => tracked.signalTree('SIGKILL', leaderAlive);
    const p = new Promise<RunResult>((resolve) => {
      let timedOut = false;
      let done = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killTree(true);
      }, spec.timeoutMs);
      const finish = (r: Omit<RunResult, 'durationMs' | 'timedOut'>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (child.pid !== undefined) this.#running.delete(child.pid);
        // After a timeout: whatever forked between the kill and the leader's exit goes too.
        if (timedOut) killTree(false);
        cgroup?.release(!timedOut);
        resolve({ ...r, timedOut, durationMs: Date.now() - started });
      };
      child.on('error', (err) => finish({ code: null, signal: null, error: err.message }));
      child.on('exit', (code, signal) => finish({ code, signal }));
    });
    if (child.pid !== undefined) this.#running.set(child.pid, { done: p, tracked });
    return p;
  }

  /** Signal the tree of every run still going (not what finished runs left behind). */
  killAll(signal: NodeJS.Signals): void {
    for (const r of this.#running.values()) r.tracked.signalTree(signal);
  }

  async drain(maxMs: number): Promise<void> {
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running.values()].map((r) => r.done)),
      new Promise<void>((r) => {
        timer = setTimeout(r, maxMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }
}
