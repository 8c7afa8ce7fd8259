/**
 * Process tracking (`vrrp_track_process`, docs/keepalived-behaviour.md 2.8): which processes count, how
 * their number makes the quorum, and the delays before a change of quorum is reported. The quorum
 * then acts like a track_script's result (src/protocol/tracking.ts `trackerShare`): weight 0 holds
 * the instance in FAULT without it, a weight moves the priority.
 *
 * Matching, as keepalived 2.2.7 matches:
 * - By default the `process` name is compared with the comm, the second field of /proc/PID/stat.
 *   The kernel keeps at most 15 characters of it, so a longer name never matches a comm (vrrpd
 *   says so once in the log); `full_command` is the way to match it.
 * - With `full_command` (or arguments on the `process` line, or `param_match`), the name is
 *   compared with argv[0], the first NUL-terminated string of /proc/PID/cmdline.
 * - The arguments are compared as the bytes of the command line after argv[0], each ending in a
 *   NUL: `exact` the same arguments and no more (no arguments configured: the process must have
 *   none); `partial` the configured arguments first, any after; `initial` the same, except that
 *   the last configured argument need only begin the process's one. partial or initial without
 *   configured arguments match any arguments.
 * - Zombies do not count; threads are not processes (only /proc/PID, not its tasks, is read).
 *
 * Quorum: held while quorum <= count <= quorum_max. The count is taken at start without delay
 * (no "Quorum gained" line: an instance starts in FAULT when a weight-0 process has no quorum).
 * Afterwards, a change of the count that changes the quorum waits: `fork_delay` when the count went
 * up, `terminate_delay` when it went down (`delay` sets both), then the quorum is taken again from
 * the count at that time. A count that returns to the old side before the delay ends cancels it,
 * so a process restarted within terminate_delay moves nothing. Each change is logged as keepalived
 * logs it: "Quorum gained for tracked process NAME" / "Quorum lost for tracked process NAME".
 *
 * Where the count comes from: keepalived subscribes to the kernel's process events (the proc
 * connector, fork/exec/comm/exit) and reads /proc only at start and after an overrun. In a network
 * namespace other than the first, the kernel refuses that subscription; keepalived 2.2.7 then logs
 * "Failed to set/clear process event listen - errno 111 - Connection refused", never reads /proc,
 * counts no process, and holds a weight-0 tracking instance in FAULT for good ("entering FAULT
 * state (tracked process NAME quorum not achieved)" with the process running; observed). vrrpd does not use the
 * connector: it reads /proc every {@link PROCESS_SCAN_MS} ms (one bounded scan for all tracked
 * processes: at most {@link PROCESS_SCAN_MAX} processes, the comm from a short read of
 * /proc/PID/stat and, only when a block needs it, the first bytes of /proc/PID/cmdline), and says so
 * once in the log. So a process that dies is seen within a second (plus its terminate_delay), and a
 * process that lives less than a scan interval may not be seen at all.
 */
import type { DeepReadonly, TrackProcess } from '../config/model.js';
import type { Log } from '../log.js';
import type { MonotonicClock, ProcEntry, ProcessTable, TimerHandle } from './ports/index.js';

/** How often /proc is scanned (ms). */
export const PROCESS_SCAN_MS = 1000;

/** At most this many processes are looked at per scan (the rest are not counted). */
export const PROCESS_SCAN_MAX = 65536;

/** Longest command line prefix read (bytes): enough for any name and arguments a config gives. */
export const PROCESS_CMDLINE_MAX = 4096;

/** The kernel's comm length (TASK_COMM_LEN 16, with its NUL). */
export const COMM_MAX = 15;

type Def = DeepReadonly<TrackProcess>;

/** The configured arguments as the command line holds them: each followed by a NUL. */
function paramBytes(def: Def): string {
  return (def.params ?? []).map((a) => `${a}\0`).join('');
}

/** Does this process count for `def`? (The rules are in the module comment.) */
export function processMatches(def: Def, p: ProcEntry): boolean {
  if (p.zombie) return false;
  if (!def.fullCommand) return p.comm === def.process;
  const cmd = p.cmdline ?? '';
  const end = cmd.indexOf('\0');
  const argv0 = end < 0 ? cmd : cmd.slice(0, end);
  if (argv0 !== def.process) return false;
  if (def.paramMatch === 'none') return true;
  const args = end < 0 ? '' : cmd.slice(end + 1);
  const want = paramBytes(def);
  switch (def.paramMatch) {
    case 'exact':
      return args === want;
    case 'partial':
      return args.startsWith(want);
    case 'initial':
      return want === '' || args.startsWith(want.slice(0, -1));
  }
}

/** Bytes of `s` in UTF-8 (the runtime layer has no Buffer). */
function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Bytes of cmdline to read so that every block can tell an exact match from a longer line. */
export function cmdlineBytesFor(defs: readonly Def[]): number {
  let n = 0;
  for (const d of defs) if (d.fullCommand) n = Math.max(n, utf8Length(d.process) + 1 + utf8Length(paramBytes(d)) + 1);
  return Math.min(n, PROCESS_CMDLINE_MAX);
}

/** Is `count` in [quorum, quorum_max]? */
export function inQuorum(def: Def, count: number): boolean {
  return count >= def.quorum && (def.quorumMax === null || count <= def.quorumMax);
}

/** One vrrp_track_process's count and quorum, with its delays on the clock. */
export class ProcessQuorum {
  def: Def;
  count = 0;
  quorum = false;
  #timer: TimerHandle | undefined;

  constructor(
    def: Def,
    first: number,
    private readonly deps: { clock: MonotonicClock; log: Log; onChange: (name: string, quorum: boolean) => void },
  ) {
    this.def = def;
    this.count = first;
    this.quorum = inQuorum(def, first);
  }

  /** Is a delay running? */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** A new count from a scan. */
  observe(count: number): void {
    const before = this.count;
    if (count === before) return;
    this.count = count;
    if (inQuorum(this.def, count) === this.quorum) {
      // back on the side the quorum is on: a delay running for the other side is dropped
      this.#cancel();
      return;
    }
    if (this.#timer !== undefined) return; // the running delay will take the count when it ends
    const delayMs = count > before ? this.def.forkDelayMs : this.def.terminateDelayMs;
    if (delayMs <= 0) {
      this.#settle();
      return;
    }
    this.#timer = this.deps.clock.setTimer(Math.ceil(delayMs), () => {
      this.#timer = undefined;
      this.#settle();
    });
  }

  #settle(): void {
    const now = inQuorum(this.def, this.count);
    if (now === this.quorum) return;
    this.quorum = now;
    this.deps.log.info(
      { process: this.def.name, count: this.count },
      `Quorum ${now ? 'gained' : 'lost'} for tracked process ${this.def.name}`,
    );
    this.deps.onChange(this.def.name, now);
  }

  #cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  stop(): void {
    this.#cancel();
  }
}

/**
 * Fields that decide which processes count and what makes the quorum: a reload that changes one
 * counts afresh (without delay); one that changes only weights or delays keeps the count.
 */
function matchKey(d: Def): string {
  return JSON.stringify([d.process, d.params, d.paramMatch, d.fullCommand, d.quorum, d.quorumMax]);
}

/** Scans /proc on a fixed interval and keeps one ProcessQuorum per tracked vrrp_track_process. */
export class ProcessWatch {
  readonly #quorums = new Map<string, ProcessQuorum>();
  #timer: TimerHandle | undefined;
  #announced = false;
  #failed = false;

  constructor(
    private readonly deps: {
      clock: MonotonicClock;
      log: Log;
      table: ProcessTable | undefined;
      onChange: (name: string, quorum: boolean) => void;
    },
  ) {}

  /** The quorum of `name` as last decided, or undefined when not tracked. */
  quorum(name: string): boolean | undefined {
    return this.#quorums.get(name)?.quorum;
  }

  /** The tracked processes' state (status, tests). */
  state(name: string): { count: number; quorum: boolean; pending: boolean } | undefined {
    const q = this.#quorums.get(name);
    return q && { count: q.count, quorum: q.quorum, pending: q.pending };
  }

  /** Track exactly these blocks (start, reload); new ones are counted now, without delay. */
  sync(defs: readonly Def[]): void {
    for (const [name, q] of this.#quorums) {
      const d = defs.find((x) => x.name === name);
      if (d === undefined || matchKey(d) !== matchKey(q.def)) {
        q.stop();
        this.#quorums.delete(name);
      }
    }
    this.ensure(defs);
    if (this.#quorums.size === 0) this.stop();
  }

  /** Track these blocks too (a reload's kept instance, before the full sync); new ones counted now. */
  ensure(defs: readonly Def[]): void {
    for (const d of defs) {
      const q = this.#quorums.get(d.name);
      if (q !== undefined && matchKey(d) === matchKey(q.def)) q.def = d;
      else q?.stop();
    }
    const fresh = defs.filter((d) => this.#quorums.get(d.name)?.def !== d);
    if (fresh.length === 0) return;
    // an unreadable /proc at start counts nothing: no quorum (weight 0: FAULT) until a scan reads it
    const counts = this.#count(fresh) ?? new Map<string, number>();
    for (const d of fresh) {
      if (!d.fullCommand && d.process.length > COMM_MAX)
        this.deps.log.warn(
          { process: d.name },
          `track process ${d.name}: '${d.process}' is longer than the ${COMM_MAX} characters of a process's comm and never matches one; use full_command`,
        );
      this.#quorums.set(d.name, new ProcessQuorum(d, counts.get(d.name) ?? 0, this.deps));
    }
    if (!this.#announced) {
      this.#announced = true;
      this.deps.log.info(
        {},
        `track_process: reading /proc every ${PROCESS_SCAN_MS / 1000} s (the kernel's process events connector is not used)`,
      );
    }
    if (this.#timer === undefined) this.#arm();
  }

  #arm(): void {
    this.#timer = this.deps.clock.setTimer(PROCESS_SCAN_MS, () => {
      this.#timer = undefined;
      this.scan();
      if (this.#quorums.size > 0) this.#arm();
    });
  }

  /** One scan: count every tracked block's processes and feed the counts. */
  scan(): void {
    const counts = this.#count([...this.#quorums.values()].map((q) => q.def));
    if (counts === undefined) return; // /proc unreadable this time: the counts stand
    for (const q of this.#quorums.values()) q.observe(counts.get(q.def.name) ?? 0);
  }

  /** The counts, or undefined when the table cannot be read (logged once until it can again). */
  #count(defs: readonly Def[]): Map<string, number> | undefined {
    const counts = new Map<string, number>(defs.map((d) => [d.name, 0]));
    let procs: readonly ProcEntry[];
    try {
      procs = this.deps.table?.list({ cmdlineBytes: cmdlineBytesFor(defs), maxProcesses: PROCESS_SCAN_MAX }) ?? [];
      this.#failed = false;
    } catch (e) {
      if (!this.#failed) this.deps.log.error({}, `track_process: cannot read /proc: ${e instanceof Error ? e.message : String(e)}`);
      this.#failed = true;
      return undefined;
    }
    for (const p of procs) for (const d of defs) if (processMatches(d, p)) counts.set(d.name, counts.get(d.name)! + 1);
    return counts;
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const q of this.#quorums.values()) q.stop();
  }
}
