/**
 * The daemon: builds instances from a config, owns the shared sockets (one per interface, not per
 * instance), routes packets, link and address events, script results and file values to the
 * instances, coordinates sync groups, and implements start, graceful stop and transactional
 * reload. Every input only pushes work on one WorkQueue (DESIGN.md style 8).
 *
 * Decisions (see also the report in the commit history):
 *  - Self-healing: a VIP/eVIP deleted by someone else while MASTER is re-added at once and
 *    announced with a GARP burst; no state change, no priority-0 advert, counted as `vipRestored`.
 *    keepalived's behaviour (BACKUP, priority 0, re-election after the skew time) is kept
 *    available: `vipDeleted: 'keepalived'` feeds the state machine's `vip-deleted-externally`.
 *  - A missing interface or source address is the synthetic SOURCE_TRACKER being down (params.ts):
 *    FAULT with a clear reason through the state machine's own tracking, BACKUP again when it
 *    appears.
 */
import type { DeepReadonly, FrozenConfig, AddressEntry, RouteEntry, RuleEntry, SyncGroup } from '../config/model.js';
import { peekVrid } from '../protocol/advert.js';
import { DROP_REASONS } from '../protocol/drop-reasons.js';
import { buildGratuitousArp } from '../protocol/arp-frame.js';
import type { FsmEvent, NotifyKind } from '../protocol/fsm-types.js';
import { step } from '../protocol/fsm.js';
import type { GarpPacket } from '../protocol/garp-schedule.js';
import { stepSyncGroup } from '../protocol/sync-group.js';
import type { TrackUpdate } from '../protocol/tracking.js';
import type { Log } from '../log.js';
import { RateLimiter } from '../log.js';
import type { HookRun, NotifyState } from '../notify/notifier.js';
import { Notifications } from '../notify/notifications.js';
import type { StateFilesOptions } from '../notify/state-files.js';
import { demux } from './demux.js';
import { GarpPacer } from './garp-pacer.js';
import { Instance, type AddressKindEntry, type InstanceEnv, type InstanceStatus } from './instance.js';
import { instanceSpecs, SOURCE_TRACKER, type InstanceSpec } from './params.js';
import type { AddrInfo, AddrSpec, DaemonIo, IoResult, LinkInfo, NetlinkEvent, ReceivedPacket, RouteSpec, RuleSpec, TimerHandle } from './ports.js';
import { listDiff, planReload } from './reload-diff.js';
import { ScriptScheduler, TrackFileWatcher } from './track-inputs.js';
import { WorkQueue } from './work-queue.js';

type R<T> = DeepReadonly<T>;

/**
 * The advert grid `vrrpd run` uses (DaemonOptions.advertGridMs): at most 20 advert bursts a second
 * however many instances, each advert at most 25 ms off its own schedule's phase.
 */
export const ADVERT_GRID_MS = 50;

/**
 * Received packets waiting on the work queue at most. The queue drains a packet in microseconds,
 * but while an item awaits the kernel (a netlink request: up to its 2 s timeout) a flood keeps
 * arriving: past this many, packets are dropped and counted (`queueDrops` per interface), as the
 * kernel drops at a full socket buffer. 10,000 is ten seconds of adverts from 1,000 instances;
 * each waiting packet holds ~300 bytes, so the bound is ~3 MB.
 */
export const WORK_QUEUE_MAX_PACKETS = 10_000;

/**
 * How often the daemon asks for a full garbage collection (DaemonOptions.collectGarbage): the old
 * generation then holds at most this long's garbage (~2.5 MiB at the soak's rate) instead of
 * growing to V8's next limit first (io/heap.ts says why). Each costs one 5-20 ms pause, taken right
 * after an advert burst so no advert waits for it: 12 an hour.
 */
export const HEAP_COLLECT_INTERVAL_MS = 300_000;

export interface DaemonOptions {
  readonly io: DaemonIo;
  readonly log: Log;
  /** What to do when a VIP is deleted behind our back while MASTER (default 'restore'). */
  readonly vipDeleted?: 'restore' | 'keepalived';
  /** Built-in state files (src/notify/state-files.ts); default none. */
  readonly stateFiles?: StateFilesOptions | null;
  /**
   * Check every script before its spawn against the host's files and users (ScriptGate.forHost):
   * `vrrpd run` does; default off (scripts run as the daemon, unchecked: fake runners).
   */
  readonly checkHooks?: boolean;
  /** Runs on the queue after the instances are built and before they start (manual holds). */
  readonly beforeStart?: () => void | Promise<void>;
  /**
   * Send periodic adverts on a shared grid of this many ms (see `InstanceEnv.advertTimer`);
   * `vrrpd run` uses ADVERT_GRID_MS, default 0 (every timer at its exact deadline).
   */
  readonly advertGridMs?: number;
  /**
   * A full garbage collection (io/heap.ts fullCollector), run every HEAP_COLLECT_INTERVAL_MS on the
   * work queue right after an advert burst; absent: garbage collection is left to V8.
   */
  readonly collectGarbage?: () => void;
}

export interface DaemonStatus {
  readonly pid: number;
  readonly configFile: string;
  readonly startedAtMs: number;
  readonly reloads: number;
  readonly instances: readonly (InstanceStatus & { readonly lastHooks: readonly HookRun[] })[];
  readonly interfaces: Readonly<Record<string, { readonly up: boolean; readonly ifindex: number | null; readonly malformed: number; readonly unknownVrid: number; readonly queueDrops: number }>>;
  readonly syncGroups: readonly { readonly name: string; readonly members: readonly string[] }[];
  readonly eventLoop: { readonly maxLagMs: number; readonly lateTimers: number };
}

interface IfState {
  up: boolean;
  ifindex: number | null;
  malformed: number;
  unknownVrid: number;
  /** Packets dropped because WORK_QUEUE_MAX_PACKETS were already waiting. */
  queueDrops: number;
}

const NOTIFY_STATE: Record<NotifyKind, NotifyState> = {
  MASTER: 'MASTER',
  BACKUP: 'BACKUP',
  FAULT: 'FAULT',
  STOP: 'STOP',
  MASTER_RX_LOWER_PRI: 'MASTER_RX_LOWER_PRI',
};

export class Daemon {
  readonly queue: WorkQueue;
  readonly #io: DaemonIo;
  readonly #log: Log;
  readonly #vipDeleted: 'restore' | 'keepalived';
  readonly #beforeStart: (() => void | Promise<void>) | undefined;
  readonly #pacer: GarpPacer;
  readonly #rate = new RateLimiter(10_000);
  #cfg: FrozenConfig | undefined;
  readonly #notifier: Notifications;
  #instances: Instance[] = [];
  readonly #advertGridMs: number;
  /** Advert grid points with callbacks waiting (InstanceEnv.advertTimer): one clock timer each. */
  readonly #gridPoints = new Map<number, { readonly handle: TimerHandle; readonly cbs: Set<() => void> }>();
  /** #instances by VRID (a VRID never changes for an instance: reload matches on it); null = rebuild. */
  #byVrid: Map<number, Instance[]> | null = null;
  #groups = new Map<string, R<SyncGroup>>();
  #scripts = new Map<string, ScriptScheduler>();
  #files = new Map<string, TrackFileWatcher>();
  /** Link up/down as last reported ("Netlink reports X up/down" once per change). */
  readonly #ifs = new Map<string, IfState>();
  /** Socket per interface: ifindex it was opened on and groups joined. */
  readonly #sockets = new Map<string, { ifindex: number; groups: string }>();
  /** Instances being deleted by a reload: their STOP notify reads DELETED. */
  readonly #deleting = new Set<Instance>();
  /** Packets pushed on the queue and not yet handled (WORK_QUEUE_MAX_PACKETS). */
  #queuedPackets = 0;
  #startedAtMs = Date.now();
  #reloads = 0;
  #stopping = false;
  #stopped = false;
  readonly #collectGarbage: (() => void) | undefined;
  #heapTimer: TimerHandle | undefined;
  /** Full collections run (status). */
  heapCollections = 0;
  maxLagMs = 0;
  lateTimers = 0;

  constructor(o: DaemonOptions) {
    this.#io = o.io;
    this.#log = o.log;
    this.#vipDeleted = o.vipDeleted ?? 'restore';
    this.#beforeStart = o.beforeStart;
    this.#advertGridMs = o.advertGridMs ?? 0;
    this.#collectGarbage = o.collectGarbage;
    this.queue = new WorkQueue(o.log);
    this.#pacer = new GarpPacer(o.io.clock, (ifname, addresses) => this.#sendGarps(ifname, addresses));
    this.#notifier = new Notifications({ runner: o.io.processes, log: o.log, stateFiles: o.stateFiles ?? null, checkScripts: o.checkHooks ?? false });
  }

  get instances(): readonly Instance[] {
    return this.#instances;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The kernel's addresses and links as netlink last reported them (status: VIP presence). */
  hostAddresses(): readonly AddrInfo[] {
    return this.#io.netlink.addresses();
  }

  hostLinks(): readonly LinkInfo[] {
    return this.#io.netlink.links();
  }

  /** The daemon's monotonic clock (ms), for events built outside (control requests). */
  nowMs(): number {
    return this.#io.clock.nowMs();
  }

  /** Open netlink, build the instances, open sockets, start tracking and the state machines. */
  async start(cfg: FrozenConfig): Promise<IoResult<true>> {
    this.#cfg = cfg;
    this.#notifier.configure(cfg);
    const trees = this.#io.processes.treeTracking?.();
    if (trees) this.#log[trees.cgroups ? 'debug' : 'info']({}, `Hook process trees tracked by ${trees.detail}`);
    this.#io.sockets.setHandler((p) => this.#enqueuePacket(p));
    const nl = await this.#io.netlink.start((e) => this.queue.push(`netlink ${e.kind} ${e.op}`, () => this.#onNetlink(e)));
    if (!nl.ok) return nl;
    await this.queue.run('start', async () => {
      for (const l of this.#io.netlink.links()) this.#ifs.set(l.ifname, { up: linkUp(l), ifindex: l.ifindex, malformed: 0, unknownVrid: 0, queueDrops: 0 });
      this.#groups = new Map(cfg.syncGroups.map((g) => [g.name, g]));
      this.#instances = instanceSpecs(cfg).map((s) => this.#newInstance(s));
      this.#byVrid = null;
      this.#syncTrackers(cfg);
      for (const inst of this.#instances) inst.ifname = this.#resolveIfname(inst);
      this.#openSockets();
      for (const inst of this.#instances) this.#prepare(inst);
    });
    const delay = cfg.global.vrrpStartupDelayMs;
    const go = (): void => {
      this.queue.push('start instances', async () => {
        await this.#beforeStart?.();
        for (const inst of this.#instances) if (!inst.snapshot.started) await inst.handle({ type: 'start', nowMs: this.#io.clock.nowMs() });
        // After the first state, not before it: the GARP socket (and the FFI library behind it).
        this.queue.push('open packet socket', () => this.#io.frames.open?.());
      });
    };
    this.#armHeapCollection();
    if (delay > 0) {
      this.#log.info({}, `Delaying startup for ${delay / 1000} seconds`);
      this.#io.clock.setTimer(delay, go);
    } else go();
    await this.queue.idle();
    return { ok: true, value: true };
  }

  // -------------------------------------------------------------------------------------------
  // Instances and their environment

  #newInstance(spec: InstanceSpec): Instance {
    const env: InstanceEnv = {
      clock: this.#io.clock,
      log: this.#log,
      ...(this.#advertGridMs > 0 ? { advertTimer: (deadlineMs: number, cb: () => void) => this.#advertTimer(deadlineMs, cb) } : {}),
      submit: (what, fn) => this.queue.push(what, fn),
      step: (inst, e) => this.#step(inst, e),
      sendPacket: (ifname, pkt) => this.#io.sockets.send(ifname, pkt),
      setAddress: (add, item, defaultIf) => this.#setAddress(add, item, defaultIf),
      garp: (ifname, packets, intervalMs, valid) => this.#garp(ifname, packets, intervalMs, valid),
      notify: (inst, kind, priority) => this.#notify(inst, kind, priority),
      priorityChanged: (inst, priority) => this.#notifier.priorityChanged(inst.name, inst.state, priority),
    };
    return new Instance(spec, env);
  }

  /** InstanceEnv.advertTimer: `cb` at the advert grid point nearest `deadlineMs`. */
  #advertTimer(deadlineMs: number, cb: () => void): TimerHandle {
    const atMs = Math.round(deadlineMs / this.#advertGridMs) * this.#advertGridMs;
    let point = this.#gridPoints.get(atMs);
    if (point === undefined) {
      const cbs = new Set<() => void>();
      const handle = this.#io.clock.setTimer(Math.max(0, atMs - this.#io.clock.nowMs()), () => {
        this.#gridPoints.delete(atMs);
        for (const f of cbs) f();
      });
      point = { handle, cbs };
      this.#gridPoints.set(atMs, point);
    }
    const p = point;
    p.cbs.add(cb);
    return {
      cancel: () => {
        p.cbs.delete(cb);
        if (p.cbs.size === 0 && this.#gridPoints.get(atMs) === p) {
          p.handle.cancel();
          this.#gridPoints.delete(atMs);
        }
      },
    };
  }

  /**
   * Every HEAP_COLLECT_INTERVAL_MS: a full collection, queued right after the next advert burst
   * when a MASTER is advertising on the grid (so the pause delays no advert), else at once.
   */
  #armHeapCollection(): void {
    const collect = this.#collectGarbage;
    if (collect === undefined || this.#stopping) return;
    this.#heapTimer = this.#io.clock.setTimer(HEAP_COLLECT_INTERVAL_MS, () => {
      const run = (): void =>
        this.queue.push('heap collection', () => {
          if (this.#stopping) return;
          collect();
          this.heapCollections++;
          this.#armHeapCollection();
        });
      // The next grid point with adverts waiting: its callbacks run in the order they were added,
      // so the instances' adverts are queued before the collection, and the next point is a grid
      // step (50 ms) away, longer than the pause.
      let next: number | undefined;
      for (const at of this.#gridPoints.keys()) if (next === undefined || at < next) next = at;
      if (next !== undefined) this.#advertTimer(next, run);
      else run();
    });
  }

  /** Initial tracking (before `start`, so the state machine only records it) and source address. */
  #prepare(inst: Instance): void {
    this.#refreshSource(inst, true);
    for (const t of inst.snapshot.params.trackInterfaces) {
      if (t.name === SOURCE_TRACKER) continue;
      const up = this.#ifs.get(t.name)?.up ?? false;
      if (!up) this.#trackNow(inst, { kind: 'interface', name: t.name, up });
    }
    for (const s of inst.spec.scripts) {
      const last = this.#scripts.get(s.name)?.lastResult;
      if (last !== undefined) this.#trackNow(inst, { kind: 'script', name: s.name, ok: last });
    }
    for (const f of inst.spec.trackFiles) {
      const v = this.#files.get(f.name)?.value;
      if (v !== undefined) this.#trackNow(inst, { kind: 'file', name: f.name, value: v });
    }
  }

  /** Apply a track update synchronously (only before `start`: nothing but bookkeeping happens). */
  #trackNow(inst: Instance, update: TrackUpdate): void {
    const r = step(inst.snapshot, { type: 'track', update, nowMs: this.#io.clock.nowMs() });
    inst.snapshot = r.snapshot;
    for (const a of r.actions) {
      if (a.type === 'priority-changed') inst.log.info({ from: a.from, to: a.to }, `(${inst.name}) Changing effective priority from ${a.from} to ${a.to}`);
    }
  }

  /** Step one instance (through its sync group when it has one) and perform the actions. */
  async #step(inst: Instance, e: FsmEvent): Promise<void> {
    const gname = inst.snapshot.params.syncGroup;
    const members = gname === null ? [] : this.#instances.filter((i) => i.snapshot.params.syncGroup === gname);
    if (gname === null || members.length < 2) {
      await inst.apply(step(inst.snapshot, e));
      return;
    }
    const r = stepSyncGroup({ name: gname, members: Object.fromEntries(members.map((m) => [m.name, m.snapshot])) }, inst.name, e);
    for (const m of members) m.snapshot = r.group.members[m.name] ?? m.snapshot;
    for (const { member, actions } of r.actions) {
      const m = members.find((x) => x.name === member);
      if (m) await m.apply({ snapshot: m.snapshot, actions });
    }
    if (r.groupNotify !== null) {
      this.#log.info({ group: gname, state: r.groupNotify }, `VRRP_Group(${gname}) Syncing instances to ${r.groupNotify} state`);
      const g = this.#groups.get(gname);
      if (g) this.#notifier.notify('GROUP', gname, g.notify, r.groupNotify, 0);
    }
  }

  #notify(inst: Instance, kind: NotifyKind, priority: number): void {
    const state = kind === 'STOP' && this.#deleting.has(inst) ? 'DELETED' : NOTIFY_STATE[kind];
    this.#notifier.notify('INSTANCE', inst.name, inst.spec.notify, state, priority);
  }

  /** Track update for every instance tracking `name` of this kind (on the queue). */
  async #track(update: TrackUpdate): Promise<void> {
    for (const inst of [...this.#instances]) {
      const p = inst.snapshot.params;
      const tracks =
        update.kind === 'interface'
          ? p.trackInterfaces.some((t) => t.name === update.name)
          : update.kind === 'script'
            ? p.trackScripts.some((t) => t.name === update.name)
            : p.trackFiles.some((t) => t.name === update.name);
      if (tracks) await inst.handle({ type: 'track', update, nowMs: this.#io.clock.nowMs() });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Source address and sockets

  /**
   * Resolve the instance's interface and source address (KEEPALIVED.md 3.1 "Source address") and
   * report the synthetic SOURCE_TRACKER. `initial`: before `start` (no actions are performed).
   */
  #refreshSource(inst: Instance, initial: boolean): Promise<void> | void {
    const spec = inst.spec;
    const links = this.#batch?.links ?? this.#io.netlink.links();
    const addrs = this.#batch?.addrs ?? this.#io.netlink.addresses();
    const ifname = this.#resolveIfname(inst);
    let src: string | null = null;
    let problem: string | null = null;
    if (ifname === null) problem = `unicast_src_ip ${spec.configuredSrcIp ?? '?'} is not on any interface`;
    if (ifname !== null) {
      const link = links.find((l) => l.ifname === ifname);
      if (link === undefined) problem = `interface ${ifname} does not exist`;
      else if (spec.configuredSrcIp !== null) {
        const present = addrs.some((a) => a.ifindex === link.ifindex && a.address === spec.configuredSrcIp);
        // keepalived only notices a vanished source address with track_src_ip.
        if (present || (inst.srcIp === spec.configuredSrcIp && !spec.trackSrcIp)) src = spec.configuredSrcIp;
        else problem = `${spec.unicast ? 'unicast_src_ip' : 'mcast_src_ip'} ${spec.configuredSrcIp} is not on ${ifname}`;
      } else {
        const primary = addrs.find((a) => a.ifindex === link.ifindex && !a.secondary && a.scope === 0 && !this.#isVip(a.address));
        if (primary) src = inst.srcIp !== null && !spec.trackSrcIp && addrs.some((a) => a.address === inst.srcIp) ? inst.srcIp : primary.address;
        else if (inst.srcIp !== null && !spec.trackSrcIp) src = inst.srcIp;
        else problem = `no IPv4 address for interface ${ifname}`;
      }
      const sock = this.#sockets.get(ifname);
      if (problem === null && link !== undefined && sock === undefined) problem = `no VRRP socket on ${ifname}`;
    }
    if (ifname !== null) inst.ifname = ifname;
    const wasUp = inst.snapshot.tracking.interfaces[SOURCE_TRACKER] ?? true;
    inst.setSource(src, problem);
    const up = problem === null;
    if (initial) {
      if (!up) this.#trackNow(inst, { kind: 'interface', name: SOURCE_TRACKER, up });
      return;
    }
    if (up !== wasUp) return inst.handle({ type: 'track', update: { kind: 'interface', name: SOURCE_TRACKER, up }, nowMs: this.#io.clock.nowMs() });
  }

  /** The configured interface, or (unicast without `interface`) the one carrying unicast_src_ip. */
  #resolveIfname(inst: Instance): string | null {
    if (inst.spec.interface !== null) return inst.spec.interface;
    const a = this.#io.netlink.addresses().find((x) => x.address === inst.spec.configuredSrcIp);
    const l = a && this.#io.netlink.links().find((x) => x.ifindex === a.ifindex);
    return l?.ifname ?? inst.ifname;
  }

  /**
   * Every instance after a link or address event, with one snapshot of links, addresses and the
   * VIP set for the whole pass: per instance it was O(addresses) copies plus O(instances x VIPs) per
   * #isVip, so 1,000 instances adding 1,000 VIPs took minutes of CPU (issue 6 scale run).
   * The instances' own VIP changes during the pass cannot change a source choice (VIPs are excluded).
   */
  async #refreshAll(): Promise<void> {
    const vips = new Set<string>();
    for (const i of this.#instances) for (const e of [...i.spec.vipEntries, ...i.spec.evipEntries]) vips.add(e.address);
    this.#batch = { links: this.#io.netlink.links(), addrs: this.#io.netlink.addresses(), vips };
    try {
      for (const inst of [...this.#instances]) await this.#refreshSource(inst, false);
    } finally {
      this.#batch = null;
    }
  }

  #batch: { links: ReturnType<DaemonIo['netlink']['links']>; addrs: ReturnType<DaemonIo['netlink']['addresses']>; vips: ReadonlySet<string> } | null = null;

  #isVip(address: string): boolean {
    if (this.#batch) return this.#batch.vips.has(address);
    return this.#instances.some((i) => i.spec.vipEntries.some((e) => e.address === address) || i.spec.evipEntries.some((e) => e.address === address));
  }

  /** Open (or re-open, after an interface was re-created) one socket per interface in use. */
  #openSockets(): void {
    const want = new Map<string, Set<string>>();
    for (const inst of this.#instances) {
      const ifname = inst.ifname ?? inst.spec.interface;
      if (ifname === null) continue;
      const g = want.get(ifname) ?? new Set<string>();
      if (!inst.spec.unicast) g.add(inst.spec.mcastGroup);
      want.set(ifname, g);
    }
    for (const [ifname, s] of [...this.#sockets]) {
      if (!want.has(ifname)) {
        this.#io.sockets.close(ifname);
        this.#sockets.delete(ifname);
      }
    }
    for (const [ifname, groups] of want) {
      const link = this.#io.netlink.links().find((l) => l.ifname === ifname);
      const cur = this.#sockets.get(ifname);
      const gkey = [...groups].sort().join(',');
      if (link === undefined) {
        if (cur) {
          this.#io.sockets.close(ifname);
          this.#sockets.delete(ifname);
        }
        continue;
      }
      if (cur && cur.ifindex === link.ifindex && cur.groups === gkey) continue;
      const r = this.#io.sockets.open(ifname, [...groups]);
      if (r.ok) {
        this.#sockets.set(ifname, { ifindex: r.value.ifindex, groups: gkey });
        this.#log.debug({ ifname }, `VRRP sockpool: [ifindex(${String(r.value.ifindex).padStart(3)}), family(IPv4), proto(112), ${groups.size > 0 ? `multicast, address(${[...groups].join(',')})` : 'unicast'}]`);
      } else {
        this.#sockets.delete(ifname);
        this.#log.warn({ ifname, errno: r.error.code }, `cannot open VRRP socket on ${ifname}: ${r.error.code ?? ''} (${r.error.message})`);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Inputs

  #vridIndex(): Map<number, Instance[]> {
    if (this.#byVrid === null) {
      this.#byVrid = new Map();
      for (const i of this.#instances) {
        const list = this.#byVrid.get(i.spec.vrid);
        if (list) list.push(i);
        else this.#byVrid.set(i.spec.vrid, [i]);
      }
    }
    return this.#byVrid;
  }

  #enqueuePacket(p: ReceivedPacket): void {
    if (this.#queuedPackets >= WORK_QUEUE_MAX_PACKETS) {
      const ifs = this.#ifs.get(p.ifname);
      if (ifs) ifs.queueDrops++;
      return;
    }
    this.#queuedPackets++;
    this.queue.push('packet', () => {
      this.#queuedPackets--;
      return this.#onPacket(p);
    });
  }

  async #onPacket(p: ReceivedPacket): Promise<void> {
    if (this.#stopping) return;
    // demux() only looks at the instances with this interface and VRID: hand it just those (from
    // an index by VRID), not one new object per instance for every packet.
    const vrid = peekVrid(p.packet);
    const candidates = vrid === undefined ? [] : this.#vridIndex().get(vrid) ?? [];
    const d = demux(
      candidates
        .filter((i) => i.ifname === p.ifname)
        .map((i) => ({ inst: i, ifname: i.ifname, vrid: i.spec.vrid, unicast: i.spec.unicast, srcIp: i.srcIp, mcastGroup: i.spec.mcastGroup, peers: i.spec.peers })),
      p.ifname,
      p.packet,
    );
    const ifs = this.#ifs.get(p.ifname);
    switch (d.kind) {
      case 'instance':
        await d.target.inst.receive(p);
        return;
      case 'malformed':
        if (ifs) ifs.malformed++;
        return;
      case 'unknown-vrid':
        if (ifs) ifs.unknownVrid++;
        if (this.#cfg?.global.logUnknownVrids && this.#rate.check(`vrid:${p.ifname}:${d.vrid}`, this.#io.clock.nowMs()) !== null) {
          this.#log.info({ vrid: d.vrid }, `Unknown VRID(${d.vrid}) received on interface(${p.ifname}). ignoring...`);
        }
        return;
    }
  }

  async #onNetlink(e: NetlinkEvent): Promise<void> {
    if (this.#stopping) return;
    if (e.kind === 'link') {
      const l = e.link;
      const up = e.op === 'new' && linkUp(l);
      const st = this.#ifs.get(l.ifname);
      const was = st?.up;
      this.#ifs.set(l.ifname, { up, ifindex: e.op === 'new' ? l.ifindex : null, malformed: st?.malformed ?? 0, unknownVrid: st?.unknownVrid ?? 0, queueDrops: st?.queueDrops ?? 0 });
      if (was !== up) {
        if (was !== undefined || !up) this.#log.info({ ifname: l.ifname }, `Netlink reports ${l.ifname} ${up ? 'up' : 'down'}`);
        this.#openSockets();
        await this.#refreshAll();
        await this.#track({ kind: 'interface', name: l.ifname, up });
      } else if (e.op === 'new') {
        // Re-created with a new ifindex, or flags we do not track changed: keep sockets right.
        this.#openSockets();
        await this.#refreshAll();
      }
      // A link nothing here refers to is forgotten when it goes or is renamed: on a host where
      // containers' veths come and go, each name would otherwise stay in #ifs for good.
      if (e.op === 'del') this.#forgetLink(l.ifname);
      else if (e.previous !== undefined && e.previous.ifname !== l.ifname) this.#forgetLink(e.previous.ifname);
      return;
    }
    // Address events.
    const a = e.addr;
    if (e.op === 'del' && e.origin !== 'self') {
      const by = e.origin === 'kernel' ? 'the kernel' : `another process (netlink port ${e.port})`;
      for (const inst of [...this.#instances]) {
        if (inst.state !== 'MASTER' || !inst.tracksAddress(a.address, e.ifname)) continue;
        inst.log.debug({}, `Netlink reflector reports IP ${a.address} removed from ${e.ifname ?? a.ifindex}`);
        if (this.#vipDeleted === 'restore') await inst.restoreAddress(a.address, by);
        else await inst.handle({ type: 'vip-deleted-externally', address: a.address, nowMs: this.#io.clock.nowMs() });
      }
    }
    // A VIP/eVIP coming or going cannot change any instance's source address (a VIP is never
    // chosen as one): skip the pass over every instance, which a mass takeover (1,000 VIPs) paid
    // 1,000 times.
    if (this.#isVip(a.address) && !this.#instances.some((i) => i.spec.configuredSrcIp === a.address)) return;
    await this.#refreshAll();
    // An instance found by its unicast_src_ip may have just got its interface.
    this.#openSockets();
  }

  /** Drop a link's state unless a socket, an instance, a tracker or a VIP's `dev` names it. */
  #forgetLink(ifname: string): void {
    if (this.#sockets.has(ifname)) return;
    for (const i of this.#instances) {
      if (i.ifname === ifname || i.spec.interface === ifname) return;
      if (i.snapshot.params.trackInterfaces.some((t) => t.name === ifname)) return;
      if (i.spec.vipEntries.some((v) => v.dev === ifname) || i.spec.evipEntries.some((v) => v.dev === ifname)) return;
    }
    this.#ifs.delete(ifname);
  }

  /** Link names the daemon keeps state for (audit and tests: bounded by the host's links plus the config's). */
  knownLinks(): readonly string[] {
    return [...this.#ifs.keys()];
  }

  #syncTrackers(cfg: FrozenConfig): void {
    const wantScripts = new Map<string, R<import('../config/model.js').VrrpScript>>();
    const wantFiles = new Map<string, R<import('../config/model.js').TrackFile>>();
    for (const inst of this.#instances) {
      for (const s of inst.spec.scripts) wantScripts.set(s.name, s);
      for (const f of inst.spec.trackFiles) wantFiles.set(f.name, f);
    }
    for (const [name, s] of this.#scripts) {
      const def = wantScripts.get(name);
      if (def === undefined) {
        s.stop();
        this.#scripts.delete(name);
      } else {
        s.def = def;
        this.#log.info({ script: name }, `VRRP_Script(${name}) considered ${s.lastResult === false ? 'failed' : 'successful'} on reload`);
      }
    }
    for (const [name, def] of wantScripts) {
      if (this.#scripts.has(name)) continue;
      const s = new ScriptScheduler(def, {
        clock: this.#io.clock,
        runner: this.#io.processes,
        log: this.#log,
        gate: this.#notifier.gate,
        onResult: (n, ok) => this.queue.push(`script ${n}`, () => this.#track({ kind: 'script', name: n, ok })),
      });
      this.#scripts.set(name, s);
      s.start();
    }
    for (const [name, w] of this.#files) {
      const def = wantFiles.get(name);
      if (def === undefined || def.file !== w.def.file) {
        w.stop();
        this.#files.delete(name);
      }
    }
    for (const [name, def] of wantFiles) {
      if (this.#files.has(name)) continue;
      const w = new TrackFileWatcher(def, {
        io: this.#io.files,
        log: this.#log,
        onValue: (n, value) => this.queue.push(`track_file ${n}`, () => this.#track({ kind: 'file', name: n, value })),
      });
      this.#files.set(name, w);
      w.start();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Host actions

  #linkByName(ifname: string): LinkInfo | undefined {
    return this.#io.netlink.links().find((l) => l.ifname === ifname);
  }

  async #setAddress(add: boolean, item: AddressKindEntry, defaultIf: string | null): Promise<IoResult<unknown>> {
    const nl = this.#io.netlink;
    const noDev = (ifname: string | null): IoResult<never> => ({ ok: false, error: { kind: 'IoError', syscall: add ? 'RTM_NEWADDR' : 'RTM_DELADDR', errno: 19, code: 'ENODEV', message: `no interface ${ifname ?? '(none)'}`, ifname: ifname ?? undefined } });
    switch (item.kind) {
      case 'vips':
      case 'evips': {
        const ifname = item.entry.dev ?? defaultIf;
        const link = ifname === null ? undefined : this.#linkByName(ifname);
        if (link === undefined) return noDev(ifname);
        const spec = addrSpec(item.entry, link.ifindex);
        return add ? nl.addAddress(spec) : nl.delAddress(spec);
      }
      case 'routes': {
        const spec = routeSpec(item.entry, (n) => this.#linkByName(n)?.ifindex);
        if (!spec.ok) return spec;
        return add ? nl.addRoute(spec.value) : nl.delRoute(spec.value);
      }
      case 'rules': {
        const spec = ruleSpec(item.entry);
        if (!spec.ok) return spec;
        return add ? nl.addRule(spec.value) : nl.delRule(spec.value);
      }
    }
  }

  #garp(ifname: string, packets: readonly GarpPacket[], intervalMs: number, valid: () => boolean): void {
    this.#pacer.schedule(ifname, packets, intervalMs, valid);
  }

  /**
   * GARPs due now on one interface, back to back: one link lookup, one frame per address, every
   * sendto before any log line (a -D log line is a write(2) that would sit between two GARPs).
   */
  #sendGarps(ifname: string, addresses: readonly string[]): void {
    const link = this.#linkByName(ifname);
    if (link === undefined || link.noarp || link.mac === undefined) return; // KEEPALIVED.md 3.7: not on NOARP links
    const frames = new Map<string, Uint8Array>();
    const results: { address: string; r: IoResult<number> }[] = [];
    for (const address of addresses) {
      let frame = frames.get(address);
      if (frame === undefined) frames.set(address, (frame = buildGratuitousArp(link.mac, address)));
      results.push({ address, r: this.#io.frames.send(link.ifindex, frame, ifname) });
    }
    for (const { address, r } of results) {
      if (r.ok) this.#log.debug({ ifname, address }, `Sending gratuitous ARP on ${ifname} for ${address}`);
      else if (this.#rate.check(`garp:${ifname}:${r.error.code ?? ''}`, this.#io.clock.nowMs()) !== null) {
        this.#log.warn({ ifname, address, errno: r.error.code }, `Error ${r.error.errno ?? '?'} (${r.error.message}) sending gratuitous ARP on ${ifname} for ${address}`);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Stop and reload

  /**
   * Graceful stop (KEEPALIVED.md 3.5 STOP): track scripts killed, priority 0 from every MASTER and
   * its addresses removed, notify_stop for every instance (given up to `notifyGraceMs`), then
   * every socket closed. Runs on the queue after whatever is pending.
   */
  stop(notifyGraceMs = 1200): Promise<void> {
    if (this.#stopping) return this.queue.idle();
    this.#stopping = true;
    return this.queue.run('stop', async () => {
      this.#log.info({}, 'Stopping');
      this.#heapTimer?.cancel();
      for (const s of this.#scripts.values()) s.stop();
      for (const f of this.#files.values()) f.stop();
      this.#notifier.stopping();
      this.#io.processes.killAll('SIGTERM');
      for (const inst of this.#instances) await inst.handle({ type: 'stop', nowMs: this.#io.clock.nowMs() });
      for (const inst of this.#instances) inst.dispose();
      this.#pacer.cancelAll();
      await this.#notifier.idle(notifyGraceMs);
      this.#io.processes.killAll('SIGTERM'); // a notify_stop still running after its grace
      this.#notifier.close();
      this.#io.sockets.closeAll();
      this.#io.netlink.stop();
      this.#stopped = true;
      this.#log.info({}, 'Stopped');
    });
  }

  /**
   * Apply a new, already validated config (KEEPALIVED.md 6): instances matched by VRID, family,
   * interface, unicast/multicast and source/group keep their state, timers and VIPs (a MASTER gets
   * new VIPs added with a GARP burst and removed ones dropped, and sends an advert at once);
   * removed instances stop like SIGTERM (notify DELETED); new ones start. Runs on the queue.
   */
  reload(cfg: FrozenConfig): Promise<void> {
    return this.queue.run('reload', async () => {
      if (this.#stopping) return;
      this.#log.info({}, 'Reloading');
      const plan = planReload(this.#instances.map((i) => ({ inst: i, matchKey: i.spec.matchKey })), instanceSpecs(cfg));
      // Removed first, so their addresses are gone before a new instance could want them.
      for (const { inst } of plan.removed) {
        this.#deleting.add(inst);
        await inst.handle({ type: 'stop', nowMs: this.#io.clock.nowMs() });
        inst.dispose();
        this.#deleting.delete(inst);
        this.#log.info({ instance: inst.name }, `(${inst.name}) removed by reload`);
      }
      const removed = new Set(plan.removed.map((r) => r.inst));
      this.#instances = this.#instances.filter((i) => !removed.has(i));
      this.#cfg = cfg;
      this.#groups = new Map(cfg.syncGroups.map((g) => [g.name, g]));
      this.#notifier.configure(cfg);
      for (const [{ inst }, spec] of plan.kept) await this.#reconfigure(inst, spec);
      const fresh = plan.added.map((s) => this.#newInstance(s));
      this.#instances.push(...fresh);
      this.#byVrid = null;
      this.#syncTrackers(cfg);
      this.#openSockets();
      for (const inst of fresh) this.#prepare(inst);
      for (const inst of fresh) await inst.handle({ type: 'start', nowMs: this.#io.clock.nowMs() });
      this.#reloads++;
      this.#log.info({}, 'Reload complete');
    });
  }

  async #reconfigure(inst: Instance, spec: InstanceSpec): Promise<void> {
    const old = inst.spec;
    const wasMaster = inst.state === 'MASTER';
    inst.setSpec(spec);
    if (wasMaster) {
      const key = (e: R<AddressEntry>): string => `${e.address}/${e.prefixLength}/${e.dev ?? ''}/${e.label ?? ''}`;
      const rkey = (e: R<RouteEntry> | R<RuleEntry>): string => e.words.join(' ');
      const v = listDiff(old.vipEntries, spec.vipEntries, key);
      const ev = listDiff(old.evipEntries, spec.evipEntries, key);
      const rt = listDiff(old.routes, spec.routes, rkey);
      const ru = listDiff(old.rules, spec.rules, rkey);
      for (const e of ru.gone) await this.#setAddress(false, { kind: 'rules', entry: e }, inst.ifname);
      for (const e of rt.gone) await this.#setAddress(false, { kind: 'routes', entry: e }, inst.ifname);
      for (const [kind, d] of [['evips', ev], ['vips', v]] as const) {
        for (const e of d.gone) {
          await this.#setAddress(false, { kind, entry: e }, old.interface ?? inst.ifname);
          inst.log.info({}, `(${inst.name}) ip address ${e.address}/${e.prefixLength} dev ${e.dev ?? inst.ifname ?? ''}, no longer exist`);
        }
      }
      for (const [kind, d] of [['vips', v], ['evips', ev]] as const) for (const e of d.added) await this.#setAddress(true, { kind, entry: e }, inst.ifname);
      for (const e of rt.added) await this.#setAddress(true, { kind: 'routes', entry: e }, inst.ifname);
      for (const e of ru.added) await this.#setAddress(true, { kind: 'rules', entry: e }, inst.ifname);
      const fresh = [...v.added, ...ev.added].map((e) => e.address);
      const p = inst.snapshot.params;
      if (fresh.length > 0) this.#garpBurst(inst, fresh, p.garp.masterRepeat);
    }
    // Re-evaluate tracking with the new weights and items (a no-op update triggers it).
    await this.#refreshSource(inst, false);
    const up = inst.snapshot.tracking.interfaces[SOURCE_TRACKER] ?? true;
    await inst.handle({ type: 'track', update: { kind: 'interface', name: SOURCE_TRACKER, up }, nowMs: this.#io.clock.nowMs() });
    for (const t of inst.snapshot.params.trackInterfaces) {
      if (t.name === SOURCE_TRACKER) continue;
      const ifUp = this.#ifs.get(t.name)?.up ?? false;
      if ((inst.snapshot.tracking.interfaces[t.name] ?? true) !== ifUp) {
        await inst.handle({ type: 'track', update: { kind: 'interface', name: t.name, up: ifUp }, nowMs: this.#io.clock.nowMs() });
      }
    }
    // KEEPALIVED.md 6 step 5 (`reload_master`): a MASTER advertises at once; the cadence is kept.
    if (inst.state === 'MASTER') await inst.apply({ snapshot: inst.snapshot, actions: [{ type: 'send-advert', priority: inst.snapshot.effectivePriority }] });
  }

  #garpBurst(inst: Instance, addresses: string[], rounds: number): void {
    const p = inst.snapshot.params;
    void inst.apply({ snapshot: inst.snapshot, actions: [{ type: 'send-garp', burst: 'master', rounds: Math.max(1, rounds), addresses, intervalMs: p.garp.intervalMs }] });
  }

  // -------------------------------------------------------------------------------------------
  // Status

  /** JSON-safe snapshot of everything (for the control socket and tests). */
  status(): DaemonStatus {
    const interfaces: Record<string, { up: boolean; ifindex: number | null; malformed: number; unknownVrid: number; queueDrops: number }> = {};
    for (const [n, s] of this.#ifs) if (this.#sockets.has(n)) interfaces[n] = { ...s };
    return {
      pid: process.pid,
      configFile: this.#cfg?.file ?? '',
      startedAtMs: this.#startedAtMs,
      reloads: this.#reloads,
      instances: this.#instances.map((i) => {
        const s = i.status();
        const drops: Record<string, number> = {};
        for (const r of DROP_REASONS) drops[r] = s.drops[r] ?? 0;
        return { ...s, drops, lastHooks: this.#notifier.lastHooks(i.name) };
      }),
      interfaces,
      syncGroups: [...this.#groups.values()].map((g) => ({ name: g.name, members: [...g.members] })),
      eventLoop: { maxLagMs: this.maxLagMs, lateTimers: this.lateTimers },
    };
  }
}

function linkUp(l: LinkInfo): boolean {
  return l.up && l.running;
}

/** A VIP entry as an rtnetlink request (`ip addr add A/P [brd B] [scope S] [label L] [peer P] dev IF`). */
export function addrSpec(e: R<AddressEntry>, ifindex: number): AddrSpec {
  return {
    ifindex,
    address: e.address,
    prefixLen: e.prefixLength,
    ...(e.broadcast !== null ? { broadcast: e.broadcast } : {}),
    scope: e.scope,
    ...(e.label !== null ? { label: e.label } : {}),
    ...(e.peer !== null ? { peer: e.peer } : {}),
  };
}

const TABLES: Record<string, number> = { main: 254, local: 255, default: 253 };

function tableNumber(t: string | null): number | undefined {
  if (t === null) return undefined;
  return TABLES[t] ?? (/^\d+$/.test(t) ? Number(t) : undefined);
}

function prefix(s: string): { address: string; prefixLen: number } {
  if (s === 'default') return { address: '0.0.0.0', prefixLen: 0 };
  const [a, p] = s.split('/');
  return { address: a ?? s, prefixLen: p === undefined ? 32 : Number(p) };
}

/** A virtual_routes entry as an rtnetlink request. */
export function routeSpec(r: R<RouteEntry>, ifindexOf: (ifname: string) => number | undefined): IoResult<RouteSpec> {
  const bad = (message: string): IoResult<never> => ({ ok: false, error: { kind: 'IoError', syscall: 'RTM_NEWROUTE', errno: 22, code: 'EINVAL', message } });
  if (r.to === null) return bad(`cannot read route "${r.words.join(' ')}"`);
  const dst = prefix(r.to);
  let ifindex: number | undefined;
  if (r.dev !== null) {
    ifindex = ifindexOf(r.dev);
    if (ifindex === undefined) return { ok: false, error: { kind: 'IoError', syscall: 'RTM_NEWROUTE', errno: 19, code: 'ENODEV', message: `no interface ${r.dev}`, ifname: r.dev } };
  }
  return {
    ok: true,
    value: {
      dst: dst.address,
      prefixLen: dst.prefixLen,
      gateway: r.via ?? undefined,
      ifindex,
      src: r.src ?? undefined,
      metric: r.metric ?? undefined,
      table: tableNumber(r.table),
      type: r.blackhole ? 'blackhole' : 'unicast',
    },
  };
}

/** A virtual_rules entry as an rtnetlink request. */
export function ruleSpec(r: R<RuleEntry>): IoResult<RuleSpec> {
  const table = tableNumber(r.table);
  if (table === undefined) return { ok: false, error: { kind: 'IoError', syscall: 'RTM_NEWRULE', errno: 22, code: 'EINVAL', message: `rule "${r.words.join(' ')}" needs a numeric or main/local/default table` } };
  return {
    ok: true,
    value: {
      table,
      ...(r.from !== null ? { from: prefix(r.from) } : {}),
      ...(r.to !== null ? { to: prefix(r.to) } : {}),
      ...(r.preference !== null ? { priority: r.preference } : {}),
    },
  };
}
