/**
 * Several shipped daemons on one fake LAN and one fake clock, for the multi-node scenario and
 * property tests: each node is a real `Daemon` (config parsed from text, real Instance, state
 * machine, codec, receive path, GARP pacer, notifier) on its own FakeIo; the adverts one node's
 * socket sends go through the FakeLan to the others' FakeIo receive path. Nothing here interprets
 * the state machine: what a test sees is what the daemon did on its ports (packets sent, addresses
 * added and removed, GARP frames, hooks run, log lines) and its status().
 */
import { Daemon, type DaemonStatus } from '../../src/runtime/daemon.js';
import type { InstanceSnapshot } from '../../src/protocol/fsm-types.js';
import type { VrrpState } from '../../src/protocol/types.js';
import type { Log, LogFields, LogLevel } from '../../src/log.js';
import type { VipDeletedPolicy } from '../../src/runtime/host-state.js';
import type { DaemonIo, RuntimeClock, TimerHandle } from '../../src/runtime/ports/index.js';
import { FakeIo, testNotifier } from '../runtime/fake-io.js';
import { configFromText } from './config-host.js';
import { FakeClock } from './fake-clock.js';
import { FakeLan } from './fake-lan.js';

/** The interface every node's instance runs on. */
export const NODE_IFNAME = 'eth0';
/** The generic notify hook every node's config names (its runs are the node's notifies). */
export const NOTIFY_SCRIPT = '/bin/notify.sh';

/** One node's VRRP settings, written out as a keepalived.conf with one instance VI_1 on eth0. */
export interface NodeConfig {
  /** The node's address on eth0: its advert source and its id on the LAN. */
  readonly ip: string;
  readonly vrid?: number;
  /** Default 100. */
  readonly priority?: number;
  /** Default ['10.0.0.100']. */
  readonly vips?: readonly string[];
  /** advert_int in seconds (default 1; v3 takes centiseconds, e.g. 0.1). */
  readonly advertIntSec?: number;
  /** `version 3` in the instance (default: none, so VRRPv2). */
  readonly version?: 2 | 3;
  readonly nopreempt?: boolean;
  /** preempt_delay in seconds. */
  readonly preemptDelaySec?: number;
  /** auth_type PASS with this password; absent: no authentication. */
  readonly authPass?: string;
  /** track_interface { eth0 } (weight 0: the link down is a FAULT). */
  readonly trackInterface?: boolean;
  /** A vrrp_script of this name (script /bin/NAME, interval 1, rise 1, fall 1), tracked with weight 0. */
  readonly trackScript?: string;
  /** The daemon's policy for a VIP deleted behind its back (default the daemon's, 'restore'). */
  readonly vipDeleted?: VipDeletedPolicy;
}

/** keepalived.conf text for `c`. */
export function nodeConfigText(c: NodeConfig): string {
  const lines: string[] = [];
  if (c.trackScript !== undefined) {
    lines.push(`vrrp_script ${c.trackScript} {`, `  script /bin/${c.trackScript}`, '  interval 1', '  rise 1', '  fall 1', '}');
  }
  lines.push('vrrp_instance VI_1 {', `  interface ${NODE_IFNAME}`, `  virtual_router_id ${c.vrid ?? 51}`);
  lines.push(`  priority ${c.priority ?? 100}`, `  advert_int ${c.advertIntSec ?? 1}`);
  if (c.version !== undefined) lines.push(`  version ${c.version}`);
  if (c.nopreempt === true) lines.push('  nopreempt');
  if (c.preemptDelaySec !== undefined) lines.push(`  preempt_delay ${c.preemptDelaySec}`);
  if (c.authPass !== undefined) lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${c.authPass}`, '  }');
  if (c.trackInterface === true) lines.push('  track_interface {', `    ${NODE_IFNAME} weight 0`, '  }');
  if (c.trackScript !== undefined) lines.push('  track_script {', `    ${c.trackScript} weight 0`, '  }');
  lines.push('  virtual_ipaddress {', ...(c.vips ?? ['10.0.0.100']).map((v) => `    ${v}`), '  }');
  lines.push(`  notify ${NOTIFY_SCRIPT}`, '}');
  return `${lines.join('\n')}\n`;
}

export interface TransitionRecord {
  readonly atMs: number;
  readonly to: VrrpState;
  readonly reason: string;
}

export interface LogRecord {
  readonly atMs: number;
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields: LogFields;
}

/** A Log keeping every line with its fake-clock time while `keep()` says so (an old boot says nothing). */
class TimedLog implements Log {
  constructor(
    private readonly lines: LogRecord[],
    private readonly now: () => number,
    private readonly keep: () => boolean,
    private readonly bindings: LogFields = {},
  ) {}
  #push(level: LogLevel, fields: LogFields, msg: string): void {
    if (this.keep()) this.lines.push({ atMs: this.now(), level, msg, fields: { ...this.bindings, ...fields } });
  }
  debug(f: LogFields, msg: string): void {
    this.#push('debug', f, msg);
  }
  info(f: LogFields, msg: string): void {
    this.#push('info', f, msg);
  }
  warn(f: LogFields, msg: string): void {
    this.#push('warn', f, msg);
  }
  error(f: LogFields, msg: string): void {
    this.#push('error', f, msg);
  }
  child(bindings: LogFields): Log {
    return new TimedLog(this.lines, this.now, this.keep, { ...this.bindings, ...bindings });
  }
}

/** "(VI_1) Entering MASTER STATE", "(VI_1) Stopping": the daemon's transition lines. */
const TRANSITION_LINE = /^\(VI_1\) (?:Entering (MASTER|BACKUP|FAULT) STATE|(Stopping)$)/;

/**
 * One machine on the LAN. Each boot is a new FakeIo and a new Daemon (a crash loses everything);
 * the records below span every boot.
 */
export class NetNode {
  readonly id: string;
  config: NodeConfig;
  /** Every log line of every boot, with its time. */
  readonly logs: LogRecord[] = [];
  /** Adverts this node's sockets sent (every boot). */
  readonly advertsSent: { atMs: number; priority: number }[] = [];
  /** The FakeIo of every boot, oldest first (the last is the current machine). */
  readonly ios: FakeIo[] = [];
  #daemon: Daemon | null = null;
  #io: FakeIo | null = null;
  #alive = false;
  /** The current boot ended by power loss: no machine, no addresses. */
  #crashed = false;
  /** Timers the current boot armed (cancelled by a crash). */
  readonly #timers = new Set<TimerHandle>();
  /** Boot number: callbacks of an older boot do nothing. */
  #boot = 0;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(
    private readonly net: FakeNetwork,
    config: NodeConfig,
  ) {
    this.id = config.ip;
    this.config = config;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** The running daemon (throws when the node is down). */
  get daemon(): Daemon {
    if (this.#daemon === null) throw new Error(`${this.id} has no daemon`);
    return this.#daemon;
  }

  /** The current machine's fake host (throws before the first boot). */
  get io(): FakeIo {
    if (this.#io === null) throw new Error(`${this.id} never booted`);
    return this.#io;
  }

  /** The instance's state as the daemon reports it; 'INIT' when down. */
  get state(): VrrpState {
    if (!this.#alive || this.#daemon === null) return 'INIT';
    return this.#daemon.status().instances[0]?.state ?? 'INIT'; // INIT: still starting
  }

  /** The shipped instance's state-machine snapshot (timers, master). */
  get snapshot(): InstanceSnapshot {
    const inst = this.daemon.instances[0];
    if (inst === undefined) throw new Error(`${this.id}: no instance`);
    return inst.snapshot;
  }

  status(): DaemonStatus['instances'][number] {
    const s = this.daemon.status().instances[0];
    if (s === undefined) throw new Error(`${this.id}: no instance in status`);
    return s;
  }

  /** State changes, from the daemon's log lines ("Entering MASTER STATE", "Stopping"), every boot. */
  get transitions(): TransitionRecord[] {
    const out: TransitionRecord[] = [];
    for (const l of this.logs) {
      const m = TRANSITION_LINE.exec(l.msg);
      if (m === null) continue;
      const to = (m[1] ?? 'STOP') as VrrpState;
      out.push({ atMs: l.atMs, to, reason: typeof l.fields['reason'] === 'string' ? l.fields['reason'] : '' });
    }
    return out;
  }

  /** The VIPs configured on this machine's interfaces now (none after a crash: the machine is gone). */
  get held(): ReadonlySet<string> {
    if (this.#crashed || this.#io === null) return new Set();
    const vips = new Set(this.config.vips ?? ['10.0.0.100']);
    return new Set(this.#io.addrs.filter((a) => vips.has(a.address)).map((a) => a.address));
  }

  /** GARP frames sent, every boot. */
  get garps(): { atMs: number; ip: string }[] {
    return this.ios.flatMap((io) => io.garps.map((g) => ({ atMs: g.atMs, ip: g.ip })));
  }

  /** The generic notify hook's runs, every boot: kind (MASTER, BACKUP, ...) and priority. */
  get notifies(): { atMs: number; kind: string; priority: number }[] {
    return this.ios.flatMap((io) =>
      io.runs.filter((r) => r.argv[0] === NOTIFY_SCRIPT).map((r) => ({ atMs: r.atMs, kind: r.argv[3] ?? '', priority: Number(r.argv[4]) })),
    );
  }

  /** Something of this node is still running at this instant (a start, stop or reload; queued work). */
  get busy(): boolean {
    return this.#pending.size > 0 || (this.#daemon !== null && this.#daemon.queue.length > 0);
  }

  /** Resolves when what was busy has finished (more may be queued by then: see FakeNetwork.settle). */
  async idle(): Promise<void> {
    await Promise.all([...this.#pending]);
    if (this.#daemon !== null) await this.#daemon.queue.idle();
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    const done = (): void => void this.#pending.delete(p);
    p.then(done, done); // a failure surfaces where it is awaited (idle, settle)
    return p;
  }

  /** Boot: a new machine (FakeIo with eth0 = ip/24) and a daemon started on it. */
  start(): void {
    if (this.#alive) return;
    this.#alive = true;
    this.#crashed = false;
    const boot = ++this.#boot;
    const io = new FakeIo({ ifname: NODE_IFNAME, ip: this.config.ip, clock: this.net.clock });
    this.#io = io;
    this.ios.push(io);
    const current = (): boolean => this.#alive && this.#boot === boot;
    const log = new TimedLog(
      this.logs,
      () => this.net.clock.now(),
      () => this.#boot === boot,
    );
    const daemon = new Daemon({
      io: this.#ports(io, boot),
      log,
      notifier: testNotifier(io, log),
      ...(this.config.vipDeleted !== undefined ? { vipDeleted: this.config.vipDeleted } : {}),
    });
    this.#daemon = daemon;
    this.net.lan.attach(this.id, (pkt) => {
      if (current()) io.receive(NODE_IFNAME, pkt);
    });
    this.#track(
      daemon.start(this.net.configOf(this.config)).then((r) => {
        if (!r.ok) throw new Error(`${this.id}: daemon start failed: ${r.error.message}`);
      }),
    );
  }

  /**
   * Graceful stop (SIGTERM): the node is down at once (it hears nothing more), the daemon's stop
   * runs (priority 0 sent, addresses removed, hooks), then the node leaves the LAN.
   */
  stop(): Promise<void> {
    if (!this.#alive || this.#daemon === null) return Promise.resolve();
    this.#alive = false;
    const d = this.#daemon;
    const boot = this.#boot;
    return this.#track(
      d.stop().then(() => {
        if (this.#boot !== boot) return; // booted again meanwhile
        this.net.lan.detach(this.id);
        this.#cancelTimers();
      }),
    );
  }

  /** Power loss: no goodbye; timers die, and the machine's addresses with it. */
  crash(): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#crashed = true;
    this.#boot++;
    this.net.lan.detach(this.id);
    this.#cancelTimers();
    this.#daemon = null;
  }

  /** Boot again from scratch (a new machine), optionally with a new config. */
  restart(config?: NodeConfig): void {
    if (this.#alive) this.crash();
    if (config !== undefined) this.config = config;
    this.start();
  }

  /** A reload with a new config (the daemon keeps the instance and its state). */
  reconfigure(config: NodeConfig): Promise<void> {
    this.config = config;
    return this.#track(this.daemon.reload(this.net.configOf(config)));
  }

  #cancelTimers(): void {
    for (const h of this.#timers) h.cancel();
    this.#timers.clear();
  }

  /**
   * The FakeIo's ports as the daemon sees them: its timers are this boot's (so a crash can cancel
   * them) and every advert it sends also goes onto the LAN.
   */
  #ports(io: FakeIo, boot: number): DaemonIo {
    const timers = this.#timers;
    const gone = (): boolean => this.#boot !== boot;
    const clock: RuntimeClock = {
      nowMs: () => io.clock.nowMs(),
      wallMs: () => io.clock.wallMs(),
      setTimer: (delayMs, cb) => {
        if (gone()) return { cancel: () => {} };
        const h: TimerHandle = io.clock.setTimer(delayMs, () => {
          timers.delete(h);
          cb();
        });
        timers.add(h);
        return {
          cancel: () => {
            timers.delete(h);
            h.cancel();
          },
        };
      },
    };
    const sockets: DaemonIo['sockets'] = {
      ...io.sockets,
      send: async (ifname, pkt) => {
        if (gone()) return { ok: true, value: pkt.length }; // a dead machine's packets go nowhere
        this.advertsSent.push({ atMs: io.fake.now(), priority: pkt[22] ?? -1 });
        this.net.lan.send(this.id, Buffer.from(pkt));
        return io.sockets.send(ifname, pkt);
      },
    };
    return { clock, sockets, netlink: io.netlink, frames: io.frames, processes: io.processes, files: io.files };
  }
}

/** Bound on settle rounds at one instant: more means work that never ends (a bug). */
export const SETTLE_MAX_ROUNDS = 10_000;

/** One fake clock, one fake LAN, the nodes on it. */
export class FakeNetwork {
  readonly clock: FakeClock;
  readonly lan: FakeLan;
  readonly nodes: NetNode[] = [];
  readonly #configs = new Map<string, ReturnType<typeof configFromText>>();

  constructor(startMs = 0) {
    this.clock = new FakeClock(startMs);
    this.lan = new FakeLan(this.clock);
  }

  /** A node (not started). */
  node(config: NodeConfig): NetNode {
    const n = new NetNode(this, config);
    this.nodes.push(n);
    return n;
  }

  /** The parsed config for `c` (parsed once per distinct text: configs are frozen). */
  configOf(c: NodeConfig): ReturnType<typeof configFromText> {
    const text = nodeConfigText(c);
    let cfg = this.#configs.get(text);
    if (cfg === undefined) {
      cfg = configFromText(text);
      this.#configs.set(text, cfg);
    }
    return cfg;
  }

  /**
   * Run everything due at the current instant to completion: every node's queued work, starts and
   * stops, and the timers (packet deliveries, follow-up timers) it arms for this same instant.
   */
  async settle(): Promise<void> {
    for (let round = 0; ; round++) {
      if (round >= SETTLE_MAX_ROUNDS) {
        throw new Error(`FakeNetwork.settle: still busy after SETTLE_MAX_ROUNDS (${SETTLE_MAX_ROUNDS}) rounds at ${this.clock.now()} ms`);
      }
      const busy = this.nodes.filter((n) => n.busy);
      if (busy.length > 0) {
        await Promise.all(busy.map((n) => n.idle()));
        continue;
      }
      // Let promise chains outside the queues (a script's result, a send's completion) run.
      await new Promise<void>((r) => setImmediate(r));
      if (this.nodes.some((n) => n.busy)) continue;
      const next = this.clock.nextDeadline();
      if (next !== null && next <= this.clock.now()) {
        this.clock.advanceTo(this.clock.now());
        continue;
      }
      return;
    }
  }

  /** Advance the clock by `ms`, stopping at every deadline on the way to let the nodes work. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.clock.now() + ms);
  }

  async advanceTo(targetMs: number): Promise<void> {
    for (;;) {
      await this.settle();
      const next = this.clock.nextDeadline();
      if (next === null || next > targetMs) break;
      this.clock.advanceTo(next);
    }
    this.clock.advanceTo(targetMs);
    await this.settle();
  }
}
