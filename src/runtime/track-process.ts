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
 * Where the count comes from, as keepalived: the kernel's process events (the proc connector,
 * ProcessEvents), subscribed to first, then one scan of /proc for the processes already running.
 * From then on no periodic scan: a fork counts the child wherever its parent counts (threads are
 * not processes), an exec reads the process again (its stat and, when a block needs it, its
 * cmdline), a comm change sets the comm-matched blocks from the event's comm, an exit removes the
 * process. After lost events (receive buffer overrun) keepalived waits a second and reads /proc
 * again; so does vrrpd ({@link PROCESS_RESYNC_MS}), the events that still come being used meanwhile.
 *
 * Where keepalived fails: in a network namespace other than the first (every container), the
 * kernel refuses the subscription (ECONNREFUSED); keepalived 2.2.7 logs "Failed to set/clear
 * process event listen - errno 111 - Connection refused", never reads /proc, counts no process,
 * and holds a weight-0 tracking instance in FAULT for good ("entering FAULT state (tracked process
 * NAME quorum not achieved)" with the process running; observed). vrrpd then reads /proc every
 * {@link PROCESS_SCAN_MS} ms instead (one bounded scan for all tracked processes: at most
 * {@link PROCESS_SCAN_MAX} processes, the comm from a short read of /proc/PID/stat and, only when
 * a block needs it, the first bytes of /proc/PID/cmdline), and says so once in the log with the
 * reason; so does it when the kernel refuses or does not confirm the subscription within
 * {@link PROCESS_EVENTS_ACK_MS} ms. Scanning, a process that dies is seen within a second (plus
 * its terminate_delay), and one that lives less than a scan interval may not be seen at all.
 */
import type { DeepReadonly, TrackProcess } from '../config/model.js';
import type { Log } from '../log.js';
import { ProcessMembers } from './process-members.js';
import type { MonotonicClock, ProcEntry, ProcEvent, ProcessEvents, ProcessTable, TimerHandle } from './ports/index.js';

/** How often /proc is scanned (ms). */
export const PROCESS_SCAN_MS = 1000;

/** How long the kernel has to confirm the events subscription before /proc is scanned instead (ms). */
export const PROCESS_EVENTS_ACK_MS = 1000;

/** After lost events, the wait before /proc is read again (ms; keepalived's TIMER_HZ). */
export const PROCESS_RESYNC_MS = 1000;

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

/** What feeds the counts: the kernel's process events, or a /proc scan every PROCESS_SCAN_MS. */
export type ProcessSource = 'events' | 'scan';

/** One tracked process as status shows it ({@link ProcessWatch.state}). */
export interface ProcessState {
  readonly count: number;
  readonly quorum: boolean;
  /** A fork_delay or terminate_delay is running. */
  readonly pending: boolean;
  readonly source: ProcessSource;
}

export interface ProcessWatchDeps {
  readonly clock: MonotonicClock;
  readonly log: Log;
  readonly table: ProcessTable | undefined;
  /** The kernel's process events; absent: scanning only. */
  readonly events?: ProcessEvents | undefined;
  readonly onChange: (name: string, quorum: boolean) => void;
}

/**
 * Keeps one ProcessQuorum per tracked vrrp_track_process, counted from the kernel's process events
 * after a scan at start, or from a /proc scan every PROCESS_SCAN_MS when those events are not
 * available (the module comment says when).
 */
export class ProcessWatch {
  readonly #quorums = new Map<string, ProcessQuorum>();
  readonly #members = new ProcessMembers();
  #timer: TimerHandle | undefined;
  #ackTimer: TimerHandle | undefined;
  #resyncTimer: TimerHandle | undefined;
  /** undefined: nothing tracked yet, or stopped. */
  #source: ProcessSource | undefined;
  /** The events failed once: scanning for good. */
  #scanOnly = false;
  #announced = false;
  #acked = false;
  #failed = false;
  #overruns = 0;
  /** The tracked blocks and the cmdline bytes they need, kept for the events (set by ensure and sync). */
  #defs: readonly Def[] = [];
  #cmdlineBytes = 0;

  constructor(private readonly deps: ProcessWatchDeps) {}

  /** Where the counts come from now (undefined: nothing tracked). */
  get source(): ProcessSource | undefined {
    return this.#source;
  }

  /** The quorum of `name` as last decided, or undefined when not tracked. */
  quorum(name: string): boolean | undefined {
    return this.#quorums.get(name)?.quorum;
  }

  /**
   * A tracked process's state (status, tests): its count of matching processes, its quorum, whether
   * a fork/terminate delay is running, and where the count comes from (the kernel's process events
   * or a /proc scan every PROCESS_SCAN_MS).
   */
  state(name: string): ProcessState | undefined {
    const q = this.#quorums.get(name);
    return q && { count: q.count, quorum: q.quorum, pending: q.pending, source: this.#source ?? 'scan' };
  }

  /** Track exactly these blocks (start, reload); new ones are counted now, without delay. */
  sync(defs: readonly Def[]): void {
    for (const [name, q] of this.#quorums) {
      const d = defs.find((x) => x.name === name);
      if (d === undefined || matchKey(d) !== matchKey(q.def)) {
        q.stop();
        this.#quorums.delete(name);
        this.#members.drop(name);
      }
    }
    this.ensure(defs);
    this.#keepDefs();
    if (this.#quorums.size === 0) this.stop();
  }

  #keepDefs(): void {
    this.#defs = [...this.#quorums.values()].map((q) => q.def);
    this.#cmdlineBytes = cmdlineBytesFor(this.#defs);
  }

  /** Track these blocks too (a reload's kept instance, before the full sync); new ones counted now. */
  ensure(defs: readonly Def[]): void {
    for (const d of defs) {
      const q = this.#quorums.get(d.name);
      if (q !== undefined && matchKey(d) === matchKey(q.def)) q.def = d;
      else q?.stop();
    }
    const fresh = defs.filter((d) => this.#quorums.get(d.name)?.def !== d);
    if (fresh.length === 0) return this.#keepDefs();
    // subscribe first, then scan (keepalived's order): nothing that happens in between is missed
    if (this.#source === undefined) this.#choose();
    // an unreadable /proc at start counts nothing: no quorum (weight 0: FAULT) until a scan reads it
    const found = this.#find(fresh) ?? new Map<string, number[]>();
    for (const d of fresh) {
      if (!d.fullCommand && d.process.length > COMM_MAX)
        this.deps.log.warn(
          { process: d.name },
          `track process ${d.name}: '${d.process}' is longer than the ${COMM_MAX} characters of a process's comm and never matches one; use full_command`,
        );
      const pids = found.get(d.name) ?? [];
      this.#members.reset(d.name, this.#source === 'events' ? pids : []);
      this.#quorums.set(d.name, new ProcessQuorum(d, pids.length, this.deps));
    }
    this.#keepDefs();
    if (this.#source === 'scan' && this.#timer === undefined) this.#arm();
  }

  /** Subscribe to the process events, or fall back to scanning (said once, with the reason). */
  #choose(): void {
    const { events, table } = this.deps;
    if (this.#scanOnly || events === undefined) return this.#fallBack(undefined);
    if (table?.entry === undefined) return this.#fallBack('no way to read one process of /proc');
    const r = events.start((ev) => this.#onEvent(ev));
    if (!r.ok) {
      const e = r.error;
      return this.#fallBack(`${e.syscall}: errno ${e.errno ?? '?'} (${e.code ?? '?'}) - ${e.message}`);
    }
    this.#source = 'events';
    if (!this.#acked)
      this.#ackTimer = this.deps.clock.setTimer(PROCESS_EVENTS_ACK_MS, () => {
        this.#ackTimer = undefined;
        this.#fallBack(`the kernel did not confirm PROC_CN_MCAST_LISTEN within ${PROCESS_EVENTS_ACK_MS} ms`);
      });
  }

  /** Scan every PROCESS_SCAN_MS from now on; `reason` (why the events are not used) logged once. */
  #fallBack(reason: string | undefined): void {
    const wasEvents = this.#source === 'events';
    if (wasEvents) this.deps.events?.stop();
    this.#cancelEventTimers();
    this.#members.clear();
    this.#source = 'scan';
    this.#scanOnly = true;
    if (!this.#announced) {
      this.#announced = true;
      const why = reason === undefined ? "the kernel's process events connector is not used" : reason;
      const line = `track_process: reading /proc every ${PROCESS_SCAN_MS / 1000} s (${why})`;
      if (reason === undefined) this.deps.log.info({}, line);
      else this.deps.log.warn({}, `${line}; keepalived 2.2.7 would count no process here`);
    }
    if (wasEvents) this.scan();
    if (this.#quorums.size > 0 && this.#timer === undefined) this.#arm();
  }

  #onEvent(ev: ProcEvent): void {
    if (this.#source !== 'events') return;
    switch (ev.kind) {
      case 'ack':
        return this.#onAck(ev.err);
      case 'fork':
        // a new thread is not a process; a new process counts wherever its parent does
        if (ev.childPid !== ev.childTgid) return;
        for (const b of this.#members.blocksOf(ev.parentTgid)) if (this.#members.set(ev.childTgid, b, true)) this.#observe(b);
        return;
      case 'exec':
        if (ev.pid === ev.tgid) this.#recheck(ev.tgid, undefined);
        return;
      case 'comm':
        if (ev.pid === ev.tgid) this.#recheck(ev.tgid, ev.comm);
        return;
      case 'exit':
        if (ev.pid === ev.tgid) for (const b of this.#members.remove(ev.tgid)) this.#observe(b);
        return;
      case 'overrun':
        return this.#onOverrun();
    }
  }

  #onAck(err: number): void {
    if (err !== 0) return this.#fallBack(`the kernel refused PROC_CN_MCAST_LISTEN: error ${err}`);
    this.#ackTimer?.cancel();
    this.#ackTimer = undefined;
    if (this.#acked) return;
    this.#acked = true;
    if (!this.#announced) {
      this.#announced = true;
      this.deps.log.info({}, "track_process: listening to the kernel's process events (proc connector); /proc read at start");
    }
  }

  /**
   * After an exec, read the process again and set its blocks; after a comm change, set the blocks
   * that match on the comm from the event's comm (those matching argv[0] do not change). As
   * keepalived, an exec of a process already gone changes nothing: its exit follows.
   */
  #recheck(pid: number, comm: string | undefined): void {
    const entry: ProcEntry | undefined =
      comm === undefined ? this.deps.table?.entry?.(pid, { cmdlineBytes: this.#cmdlineBytes }) : { pid, comm, zombie: false };
    if (entry === undefined) return;
    for (const d of this.#defs) {
      if (comm !== undefined && d.fullCommand) continue;
      if (this.#members.set(pid, d.name, processMatches(d, entry))) this.#observe(d.name);
    }
  }

  /**
   * Events were lost: as keepalived, wait PROCESS_RESYNC_MS for things to settle (the events
   * that still come are used), then count again from a full scan.
   */
  #onOverrun(): void {
    this.#overruns++;
    const msg = `track_process: process events were lost (receive buffer overrun ${this.#overruns}); reading /proc again in ${PROCESS_RESYNC_MS} ms`;
    if (this.#overruns === 1) this.deps.log.warn({}, msg);
    else this.deps.log.debug({}, msg);
    this.#resyncTimer?.cancel();
    this.#resyncTimer = this.deps.clock.setTimer(PROCESS_RESYNC_MS, () => {
      this.#resyncTimer = undefined;
      this.resync();
    });
  }

  /** Count every block again from a full scan, and feed the counts (after an overrun). */
  resync(): void {
    const found = this.#find([...this.#quorums.values()].map((q) => q.def));
    if (found === undefined) return;
    for (const q of this.#quorums.values()) {
      const pids = found.get(q.def.name) ?? [];
      if (this.#source === 'events') this.#members.reset(q.def.name, pids);
      q.observe(pids.length);
    }
  }

  #observe(block: string): void {
    this.#quorums.get(block)?.observe(this.#members.count(block));
  }

  #arm(): void {
    this.#timer = this.deps.clock.setTimer(PROCESS_SCAN_MS, () => {
      this.#timer = undefined;
      this.scan();
      if (this.#quorums.size > 0 && this.#source === 'scan') this.#arm();
    });
  }

  /** One scan: count every tracked block's processes and feed the counts. */
  scan(): void {
    this.resync();
  }

  /** Every block's matching pids, or undefined when the table cannot be read (logged once until it can again). */
  #find(defs: readonly Def[]): Map<string, number[]> | undefined {
    const found = new Map<string, number[]>(defs.map((d) => [d.name, []]));
    let procs: readonly ProcEntry[];
    try {
      procs = this.deps.table?.list({ cmdlineBytes: cmdlineBytesFor(defs), maxProcesses: PROCESS_SCAN_MAX }) ?? [];
      this.#failed = false;
    } catch (e) {
      if (!this.#failed) this.deps.log.error({}, `track_process: cannot read /proc: ${e instanceof Error ? e.message : String(e)}`);
      this.#failed = true;
      return undefined;
    }
    for (const p of procs) for (const d of defs) if (processMatches(d, p)) found.get(d.name)!.push(p.pid);
    return found;
  }

  #cancelEventTimers(): void {
    this.#ackTimer?.cancel();
    this.#ackTimer = undefined;
    this.#resyncTimer?.cancel();
    this.#resyncTimer = undefined;
  }

  /** Stop scanning or listening (nothing tracked any more, or daemon stop). */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#cancelEventTimers();
    if (this.#source === 'events') this.deps.events?.stop();
    this.#source = undefined;
    this.#members.clear();
    for (const q of this.#quorums.values()) q.stop();
  }
}
