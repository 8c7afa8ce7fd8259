/**
 * The daemon: a thin coordinator. It builds instances from a config and gives each its environment,
 * coordinates sync groups, and wires the capabilities, each in its own module:
 *  - receive.ts: packets from the sockets to their instance, drops counted per interface;
 *  - host-state.ts: links, addresses and source addresses from netlink, VIP self-healing;
 *  - socket-pool.ts: one VRRP socket per interface in use;
 *  - trackers.ts: vrrp_script and track_file inputs;
 *  - garp.ts: every gratuitous ARP, paced per interface;
 *  - reload.ts: a new config applied as one transaction;
 *  - instance.ts: each instance's state machine and the one interpreter of its actions, the only
 *    path to host addresses (host-addresses.ts) and GARPs.
 * Every input only pushes work on one WorkQueue (DESIGN.md style 8). The host comes in through the
 * ports (ports/), the notifier too: nothing here builds an adapter.
 */
import type { FrozenConfig, SyncGroup, DeepReadonly } from '../config/model.js';
import type { FsmEvent, NotifyKind } from '../protocol/fsm-types.js';
import { step } from '../protocol/fsm.js';
import { stepSyncGroup } from '../protocol/sync-group.js';
import type { Log } from '../log.js';
import { AdvertGrid } from './advert-grid.js';
import { DownTimers } from './down-timers.js';
import { instanceStatus, vmacStatus, type DaemonStatus } from './daemon-status.js';
import { Garp } from './garp.js';
import { HeapCollection } from './heap-collection.js';
import { changeEntry } from './host-addresses.js';
import { HostState, type VipDeletedPolicy } from './host-state.js';
import { Instance, type InstanceEnv } from './instance.js';
import { InterfaceTable, type InterfaceRecord } from './interfaces.js';
import { instanceSpecs, type InstanceSpec } from './params.js';
import type { AddrInfo, DaemonIo, IoResult, LinkInfo, NotifyState, RuntimeNotifier } from './ports/index.js';
import { Receiver } from './receive.js';
import { applyReload } from './reload.js';
import { SocketPool } from './socket-pool.js';
import type { ProcessState } from './track-process.js';
import { Trackers } from './trackers.js';
import { vmacLinks } from './addr-vmac.js';
import { Vmacs, vmacStep } from './vmac.js';
import { WorkQueue } from './work-queue.js';

export { ADVERT_GRID_MS } from './advert-grid.js';
export type { DaemonStatus } from './daemon-status.js';
export { HEAP_COLLECT_INTERVAL_MS } from './heap-collection.js';
export { addrSpec, routeSpec, ruleSpec } from './host-addresses.js';
export { WORK_QUEUE_MAX_PACKETS } from './receive.js';

export interface DaemonOptions {
  readonly io: DaemonIo;
  readonly log: Log;
  /** Hooks, FIFOs and state files (notify/notifications.ts; the composition root builds it). */
  readonly notifier: RuntimeNotifier;
  /** What to do when a VIP is deleted behind our back while MASTER (default 'restore'). */
  readonly vipDeleted?: VipDeletedPolicy;
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
  /**
   * The first of those collections, each this long after the one before (the first after start);
   * then every HEAP_COLLECT_INTERVAL_MS.
   */
  readonly firstCollectionsMs?: readonly number[];
}

/** An IPv6 advert with no open channel (its source tracker reports the missing socket). */
function noChannel(ifname: string): IoResult<number> {
  return {
    ok: false,
    error: { kind: 'IoError', syscall: 'sendmsg', errno: 9, code: 'EBADF', message: `no IPv6 VRRP socket on ${ifname}`, ifname },
  };
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
  readonly #notifier: RuntimeNotifier;
  readonly #beforeStart: (() => void | Promise<void>) | undefined;
  readonly #grid: AdvertGrid | null;
  readonly #down: DownTimers;
  readonly #garp: Garp;
  readonly #ifs = new InterfaceTable();
  readonly #sockets: SocketPool;
  readonly #host: HostState;
  readonly #receiver: Receiver;
  readonly #trackers: Trackers;
  readonly #heap: HeapCollection | null;
  readonly #vmacs: Vmacs;
  #cfg: FrozenConfig | undefined;
  #instances: Instance[] = [];
  #groups = new Map<string, DeepReadonly<SyncGroup>>();
  /** Instances being deleted by a reload: their STOP notify reads DELETED. */
  readonly #deleting = new Set<Instance>();
  readonly #startedAtMs: number;
  #reloads = 0;
  #stopping = false;
  #stopped = false;
  maxLagMs = 0;
  lateTimers = 0;

  constructor(o: DaemonOptions) {
    const { io, log } = o;
    this.#io = io;
    this.#log = log;
    this.#notifier = o.notifier;
    this.#beforeStart = o.beforeStart;
    this.#startedAtMs = io.clock.wallMs();
    this.queue = new WorkQueue(log);
    const submit = (what: string, fn: () => void | Promise<void>): void => this.queue.push(what, fn);
    const instances = (): readonly Instance[] => this.#instances;
    const stopping = (): boolean => this.#stopping;
    this.#grid = (o.advertGridMs ?? 0) > 0 ? new AdvertGrid(io.clock, o.advertGridMs ?? 0) : null;
    this.#down = new DownTimers(io.clock);
    this.#garp = new Garp({ clock: io.clock, frames: io.frames, link: (n) => this.#host.link(n), log, ipv6Forwarding: io.ipv6Forwarding });
    this.#sockets = new SocketPool(
      io.sockets,
      () => io.netlink.links(),
      log,
      io.sockets6,
      () => io.netlink.addresses(),
    );
    this.#trackers = new Trackers({
      clock: io.clock,
      runner: io.processes,
      files: io.files,
      ...(io.procTable ? { procTable: io.procTable } : {}),
      ...(io.procEvents ? { procEvents: io.procEvents } : {}),
      gate: o.notifier.gate,
      log,
      submit,
      instances,
      isUp: (n) => this.#host.isUp(n),
    });
    this.#host = new HostState({
      netlink: io.netlink,
      clock: io.clock,
      log,
      ifs: this.#ifs,
      sockets: this.#sockets,
      instances,
      vipDeleted: o.vipDeleted ?? 'restore',
      ownsVmac: (n) => this.#vmacs.has(n),
      track: (u) => this.#trackers.track(u),
      linkEvent: (op, n, i) => this.#linkEvent(op, n, i),
    });
    const logUnknownVrids = (): boolean => this.#cfg?.global.logUnknownVrids ?? false;
    this.#receiver = new Receiver({ clock: io.clock, log, submit, drops: (n) => this.#ifs.get(n), instances, logUnknownVrids, stopping });
    this.#vmacs = new Vmacs({ links: io.linkCommands, sysctls: io.sysctls, netlink: io.netlink, log });
    const collect = o.collectGarbage;
    const firstMs = o.firstCollectionsMs;
    this.#heap = collect
      ? new HeapCollection({ clock: io.clock, submit, grid: this.#grid, collect, stopping, ...(firstMs !== undefined ? { firstMs } : {}) })
      : null;
  }

  get instances(): readonly Instance[] {
    return this.#instances;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Full collections run (status). */
  get heapCollections(): number {
    return this.#heap?.count ?? 0;
  }

  /** The kernel's addresses and links as netlink last reported them (status: VIP presence). */
  hostAddresses(): readonly AddrInfo[] {
    return this.#host.addresses();
  }

  hostLinks(): readonly LinkInfo[] {
    return this.#host.links();
  }

  /** A tracked process's count, quorum and source (status); undefined when not tracked. */
  trackedProcess(name: string): ProcessState | undefined {
    return this.#trackers.process(name);
  }

  /** Link names the daemon keeps state for (audit and tests: bounded by the host's links plus the config's). */
  knownLinks(): readonly string[] {
    return this.#host.knownLinks();
  }

  /** The daemon's monotonic clock (ms), for events built outside (control requests). */
  nowMs(): number {
    return this.#io.clock.nowMs();
  }

  /** Open netlink, build the instances, open sockets, start tracking and the state machines. */
  async start(cfg: FrozenConfig): Promise<IoResult<true>> {
    this.#configure(cfg);
    const trees = this.#io.processes.treeTracking?.();
    if (trees) this.#log[trees.cgroups ? 'debug' : 'info']({}, `Hook process trees tracked by ${trees.detail}`);
    this.#io.sockets.setHandler((p) => this.#receiver.enqueue(p));
    this.#io.sockets6?.setHandler((p) => this.#receiver.enqueue(p));
    const nl = await this.#io.netlink.start((e) =>
      this.queue.push(`netlink ${e.kind} ${e.op}`, () => (this.#stopping ? undefined : this.#host.onNetlink(e))),
    );
    if (!nl.ok) return nl;
    await this.queue.run('start', async () => {
      this.#host.init();
      this.#instances = instanceSpecs(cfg).map((s) => this.#newInstance(s));
      this.#receiver.instancesChanged();
      this.#trackers.sync();
      for (const inst of this.#instances) await vmacStep(inst, 'vmac-create');
      for (const inst of this.#instances) inst.ifname = this.#host.resolveIfname(inst);
      this.#host.syncSockets();
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
    this.#heap?.arm();
    if (delay > 0) {
      this.#log.info({}, `Delaying startup for ${delay / 1000} seconds`);
      this.#io.clock.setTimer(delay, go);
    } else go();
    await this.queue.idle();
    return { ok: true, value: true };
  }

  /** Take a config: sync groups and the notifier (start, reload). */
  #configure(cfg: FrozenConfig): void {
    this.#cfg = cfg;
    this.#groups = new Map(cfg.syncGroups.map((g) => [g.name, g]));
    this.#notifier.configure(cfg);
  }

  /** A reload changed the set of instances: the VRID index, the trackers and the sockets follow. */
  #instancesChanged(): void {
    this.#receiver.instancesChanged();
    this.#trackers.sync();
    this.#host.syncSockets();
  }

  /** Initial tracking (before `start`, so the state machine only records it) and source address. */
  #prepare(inst: Instance): void {
    // initial: the source is only recorded (trackBeforeStart), no action runs, nothing is returned.
    void this.#host.refreshSource(inst, true);
    this.#trackers.prepare(inst);
  }

  #newInstance(spec: InstanceSpec): Instance {
    const io = this.#io;
    const grid = this.#grid;
    const down = this.#down;
    const env: InstanceEnv = {
      clock: io.clock,
      log: this.#log,
      ...(grid ? { advertTimer: grid.lane() } : {}),
      downTimer: (deadlineMs, cb) => down.timer(deadlineMs, cb),
      submit: (what, fn) => this.queue.push(what, fn),
      step: (inst, e) => this.#step(inst, e),
      sendPacket: (ifname, pkt) => io.sockets.send(ifname, pkt),
      sendPacket6: (inst, ifname, message, to) => {
        const key = this.#sockets.key6(inst, ifname);
        if (key === undefined || io.sockets6 === undefined) return noChannel(ifname);
        return io.sockets6.send(key, message, to);
      },
      setAddress: (add, item, defaultIf) => changeEntry(io.netlink, add, item, defaultIf),
      vmac: (add, link) => (add ? this.#vmacs.create(link) : this.#vmacs.remove(link)),
      garp: (ifname, packets, intervalMs, valid) => this.#garp.schedule(ifname, packets, intervalMs, valid),
      notify: (inst, kind, priority) => this.#notify(inst, kind, priority),
      priorityChanged: (inst, priority) => this.#notifier.priorityChanged(inst.name, inst.state, priority),
    };
    return new Instance(spec, env);
  }

  /**
   * A VMAC of ours deleted behind our back is made again through its instance's interpreter, as
   * keepalived 2.2.7 does (docs/vmac.md "Deleted behind the daemon's back"): the instance went FAULT
   * with the link (its source tracker), and the new VMAC coming up takes it to BACKUP, from where
   * it wins the election again (VIPs and GARPs on the new VMAC). Not while the parent is missing
   * (the kernel deletes a macvlan with its parent): then when the parent comes back.
   */
  async #linkEvent(op: 'new' | 'del', ifname: string, ifindex: number): Promise<void> {
    if (op === 'del' && this.#vmacs.lost(ifname, ifindex)) this.#log.info({ ifname }, `Interface ${ifname} deleted`);
    for (const inst of this.#instances) {
      const lost = vmacLinks(inst.spec).filter((v) => this.#vmacs.isLost(v.ifname) && (v.ifname === ifname || v.parent === ifname));
      if (!lost.some((v) => this.#host.link(v.parent) !== undefined)) continue;
      await vmacStep(inst, 'vmac-create');
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

  /**
   * Graceful stop (docs/keepalived-behaviour.md 3.5 STOP): track scripts killed, priority 0 from every MASTER and
   * its addresses removed, notify_stop for every instance (given up to `notifyGraceMs`), then
   * every socket closed. Runs on the queue after whatever is pending.
   */
  stop(notifyGraceMs = 1200): Promise<void> {
    if (this.#stopping) return this.queue.idle();
    this.#stopping = true;
    return this.queue.run('stop', async () => {
      this.#log.info({}, 'Stopping');
      this.#heap?.cancel();
      this.#trackers.stop();
      this.#notifier.stopping();
      this.#io.processes.killAll('SIGTERM');
      for (const inst of this.#instances) await inst.handle({ type: 'stop', nowMs: this.#io.clock.nowMs() });
      for (const inst of this.#instances) inst.dispose();
      for (const inst of this.#instances) await vmacStep(inst, 'vmac-delete');
      this.#vmacs.restoreRpFilter();
      this.#garp.cancelAll();
      await this.#notifier.idle(notifyGraceMs);
      this.#io.processes.killAll('SIGTERM'); // a notify_stop still running after its grace
      this.#notifier.close();
      this.#io.sockets.closeAll();
      this.#io.sockets6?.closeAll();
      this.#io.netlink.stop();
      this.#stopped = true;
      this.#log.info({}, 'Stopped');
    });
  }

  /** Apply a new, already validated config (reload.ts). Runs on the queue. */
  reload(cfg: FrozenConfig): Promise<void> {
    return this.queue.run('reload', async () => {
      if (this.#stopping) return;
      await applyReload(
        {
          log: this.#log,
          clock: this.#io.clock,
          host: this.#host,
          trackers: this.#trackers,
          deleting: this.#deleting,
          instances: () => this.#instances,
          setInstances: (list) => void (this.#instances = [...list]),
          newInstance: (s) => this.#newInstance(s),
          configure: (c) => this.#configure(c),
          instancesChanged: () => this.#instancesChanged(),
          prepare: (inst) => this.#prepare(inst),
          vmacIfindex: (n) => this.#vmacs.madeIfindex(n),
        },
        cfg,
      );
      this.#reloads++;
    });
  }

  /** JSON-safe snapshot of everything (for the control socket and tests). */
  status(): DaemonStatus {
    const interfaces: Record<string, InterfaceRecord> = {};
    for (const [n, s] of this.#ifs.entries()) if (this.#sockets.has(n)) interfaces[n] = { ...s };
    return {
      pid: process.pid,
      configFile: this.#cfg?.file ?? '',
      startedAtMs: this.#startedAtMs,
      reloads: this.#reloads,
      instances: this.#instances.map((i) =>
        instanceStatus(
          i.status(),
          this.#notifier.lastHooks(i.name),
          vmacStatus(i.spec, (n) => this.#vmacs.has(n)),
        ),
      ),
      interfaces,
      syncGroups: [...this.#groups.values()].map((g) => ({ name: g.name, members: [...g.members] })),
      sockets: [...(this.#io.sockets.stats?.() ?? []), ...(this.#io.sockets6?.stats?.() ?? [])],
      eventLoop: { maxLagMs: this.maxLagMs, lateTimers: this.lateTimers },
    };
  }
}
