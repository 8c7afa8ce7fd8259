/**
 * One VRRP instance at run time: owns its state-machine snapshot, performs the state machine's
 * actions on the ports in the order given (timers, adverts, addresses, GARPs, notifies, log lines),
 * decodes the packets the daemon routed to it, and keeps its counters.
 *
 * `apply()` is the ONE interpreter of actions: every change to host addresses (VIPs, eVIPs, routes,
 * rules) and every GARP goes through it, the state machine's and the runtime's own alike (a
 * self-healed VIP, a reload's diff: instance-actions.ts). Nothing else calls the host for them.
 *
 * Everything here runs on the daemon's work queue (DESIGN.md style 8): timers only push work, and
 * `apply()` performs the actions in order. An advert is issued, not awaited: the VIP requests that
 * follow go out at once (keepalived's order of issuing: advert, then netlink), and a GARP burst
 * goes out as soon as both the netlink acknowledgements and the step's adverts have completed, so
 * "advert, then VIPs, then GARP" still holds on the wire without a round trip per step.
 */
import { addressCheckApplies, acceptsAdverts, initialSnapshot, step } from '../protocol/fsm.js';
import type { FsmEvent, InstanceSnapshot, NotifyKind, TimerName } from '../protocol/fsm-types.js';
import type { DropReason } from '../protocol/drop-reasons.js';
import { expandGarpBurst, type GarpPacket, type SendGarpAction } from '../protocol/garp-schedule.js';
import { masterDownIntervalMs } from '../protocol/timing.js';
import type { TrackUpdate } from '../protocol/tracking.js';
import type { VrrpState } from '../protocol/types.js';
import { assertNever } from '../util/assert-never.js';
import type { Log } from '../log.js';
import { RateLimiter } from '../log.js';
import { vmacLinks, type VmacLink } from './addr-vmac.js';
import { AdvertIn } from './advert-in.js';
import { advertCopies, advertMessages6 } from './advert-out.js';
import type { Received } from './advert-in.js';
import { addressItem, entryByKey, entryText, type AddressKindEntry, type VipEntry } from './entries.js';
import type { InstanceAction, InstanceStep } from './instance-actions.js';
import { statusOf, type InstanceStatus, type RuntimeCounters } from './instance-status.js';
import { PEER_EXPIRY_DOWN_INTERVALS, PEER_TABLE_MAX, PeerTable } from './peer-table.js';
import type { IoResult, ReceivedPacket, ReceivedPacket6, RuntimeClock, TimerHandle, Vrrp6Send } from './ports/index.js';
import { SOURCE_TRACKER, withSrcIp, type InstanceSpec } from './params.js';
import { reloadAddressActions } from './reload-diff.js';
import { advertIfname } from './source-address.js';
import { TransitionLog } from './transition-log.js';

export type { AddressKindEntry } from './entries.js';
export type { InstanceStatus, RuntimeCounters } from './instance-status.js';

/** What an instance needs from the daemon. */
export interface InstanceEnv {
  readonly clock: RuntimeClock;
  readonly log: Log;
  /**
   * Arm a MASTER's periodic Adver_Timer on the daemon's advert grid (DaemonOptions.advertGridMs,
   * runtime/advert-grid.ts): `cb` runs at a grid point no later than `deadlineMs`, together with the
   * other callbacks of that point, in the order they were added. The daemon's instances then send
   * their adverts in bursts of a few (at most ADVERT_BURST while a point has room) instead of one
   * wake-up each, each instance keeping its point from one second to the next, and a backup
   * receiving them wakes once per burst. The state machine's deadlines are unchanged (its event time
   * is never before them), so there is no drift: each instance's adverts stay Adver_Interval apart;
   * only the first one after a new schedule (becoming MASTER) may come early, by less than an
   * Adver_Interval. The advert on becoming MASTER and the answers to priority-0 or lower-priority
   * adverts are not timers and go out at once. Absent: every timer at its deadline.
   */
  advertTimer?(deadlineMs: number, cb: () => void, intervalMs: number): TimerHandle;
  /**
   * The Master_Down_Timer on the daemon's shared deadline timer (down-timers.ts): re-armed by every
   * accepted advert without a clock timer each time; never early. Absent: a precise clock timer.
   */
  downTimer?(deadlineMs: number, cb: () => void): TimerHandle;
  /** Push work on the daemon's serialized path. */
  submit(what: string, fn: () => void | Promise<void>): void;
  /** Step this instance with an event (directly, or through its sync group) and apply the result. */
  step(inst: Instance, e: FsmEvent): Promise<void>;
  sendPacket(ifname: string, ipPacket: Uint8Array): Promise<IoResult<number>>;
  /** Send one IPv6 VRRP message on this instance's channel on `ifname`. */
  sendPacket6(inst: Instance, ifname: string, message: Uint8Array, to: Vrrp6Send): IoResult<number>;
  /** Add or remove one VIP/eVIP/route/rule; `defaultIf` is the interface of an entry without `dev`. */
  setAddress(add: boolean, item: AddressKindEntry, defaultIf: string | null): Promise<IoResult<unknown>>;
  /** Make (true) or remove one of the instance's VMACs (vmac.ts): null when done, undefined when there already, else why not. */
  vmac?(add: boolean, link: VmacLink): Promise<string | null | undefined>;
  /** Send GARPs for `packets` on `ifname`, paced per interface. */
  garp(ifname: string, packets: readonly GarpPacket[], intervalMs: number, valid: () => boolean): void;
  notify(inst: Instance, kind: NotifyKind, priority: number): void;
  /** The effective priority changed (notify FIFO priority lines). */
  priorityChanged?(inst: Instance, priority: number): void;
}

export class Instance {
  spec: InstanceSpec;
  snapshot: InstanceSnapshot;
  /** Interface the adverts use (configured, or found from unicast_src_ip); null until known. */
  ifname: string | null;
  /** Resolved advert source, or null while there is none (FAULT through SOURCE_TRACKER). */
  srcIp: string | null = null;
  /** Why the source tracker is down, for logs and status. */
  sourceProblem: string | null = null;
  readonly counters: RuntimeCounters = {
    advertSent: 0,
    advertSendErrors: 0,
    garpPackets: 0,
    vipRestored: 0,
    addressErrors: 0,
    peersEvicted: 0,
  };
  readonly drops = new Map<DropReason, number>();
  lastTransitionMs: number | null = null;
  /** The last transitions and their counts by cause (status, metrics). */
  readonly transitions = new TransitionLog();
  /**
   * Routers heard from (valid adverts): source IP -> wall-clock ms and priority of the last one
   * (status). Expires and is capped (peer-table.ts).
   */
  readonly peers: PeerTable;
  /** Wall-clock ms of the last GARP burst scheduled, or null (status). */
  lastGarpMs: number | null = null;
  readonly log: Log;
  readonly #env: InstanceEnv;
  readonly #timers = new Map<TimerName, TimerHandle>();
  readonly #rate = new RateLimiter(10_000);
  #ipId = 0;
  /** Decoding received adverts (v2 or v3) and the v3 checksum form in use. */
  readonly #in = new AdvertIn();
  #removed = false;
  /** nowMs of the last event handed to the state machine: keeps its time monotonic. */
  #lastEventMs = Number.NEGATIVE_INFINITY;

  constructor(spec: InstanceSpec, env: InstanceEnv) {
    this.spec = spec;
    this.#env = env;
    this.ifname = spec.vmac?.ifname ?? spec.interface;
    this.snapshot = initialSnapshot(spec.params);
    this.log = env.log.child({ instance: spec.name, vrid: spec.vrid });
    this.peers = new PeerTable(
      () => env.clock.nowMs(),
      () => {
        const p = this.snapshot.params;
        return PEER_EXPIRY_DOWN_INTERVALS * masterDownIntervalMs(p.adverIntMs, this.snapshot.effectivePriority, p.downTimerAdverts);
      },
      PEER_TABLE_MAX,
      () => this.snapshot.master?.ip ?? null,
    );
  }

  get name(): string {
    return this.spec.name;
  }

  get state(): VrrpState {
    return this.snapshot.state;
  }

  /**
   * The interface the adverts are sent and received on: `ifname`, or with `vmac_xmit_base` the
   * VMAC's parent (the VIPs and GARPs stay on the VMAC, `ifname`; docs/vmac.md).
   */
  get advertIfname(): string | null {
    return advertIfname(this.spec, this.ifname);
  }

  /** Step through the env (sync groups) and apply. Must run on the work queue. */
  handle(e: FsmEvent): Promise<void> {
    if (e.nowMs > this.#lastEventMs) this.#lastEventMs = e.nowMs;
    return this.#env.step(this, e);
  }

  /**
   * Take a step's snapshot and perform its actions in order: the one interpreter (file comment).
   * A state-machine `StepResult` is an InstanceStep. Must run on the work queue.
   */
  async apply(r: InstanceStep): Promise<void> {
    this.snapshot = r.snapshot;
    // Adverts issued in this step whose result is not in yet (the io sends at once when it can;
    // a full socket buffer queues the packet until POLLOUT).
    let adverts: Promise<void>[] = [];
    for (const a of r.actions) {
      if (a.type === 'send-advert') adverts.push(this.#sendAdvert(a.priority));
      else if (a.type === 'send-garp') {
        // Our advert first on the wire (docs/keepalived-behaviour.md 3.5: the old master drops the VIPs before
        // our GARPs). By now the netlink acks have come back and the adverts, issued earlier,
        // have gone too: this await costs no extra turn of the event loop.
        if (adverts.length > 0) await Promise.all(adverts);
        adverts = [];
        this.#garp(a);
      } else await this.#perform(a);
    }
    if (adverts.length > 0) await Promise.all(adverts);
  }

  /** Replace the params (reload of a kept instance, or the source address resolved) keeping state. */
  setSpec(spec: InstanceSpec): void {
    this.spec = spec;
    this.ifname = spec.vmac?.ifname ?? spec.interface ?? this.ifname;
    const params = withSrcIp(spec.params, this.srcIp ?? spec.params.srcIp);
    this.snapshot = { ...this.snapshot, params };
  }

  /** Resolved source address (or null = none): updates the params used for the tie-break. */
  setSource(srcIp: string | null, problem: string | null): void {
    this.srcIp = srcIp;
    this.sourceProblem = problem;
    if (srcIp !== null) this.snapshot = { ...this.snapshot, params: withSrcIp(this.snapshot.params, srcIp) };
  }

  /**
   * Reload of a kept instance (docs/keepalived-behaviour.md 6 step 5): take the new settings keeping the state;
   * a MASTER performs its address diff (reload-diff.ts) as actions: entries gone from the config
   * removed, new ones added and announced with a GARP burst. Must run on the work queue.
   */
  async reconfigure(spec: InstanceSpec): Promise<void> {
    const old = this.spec;
    const wasMaster = this.snapshot.state === 'MASTER';
    this.setSpec(spec);
    if (wasMaster) await this.apply({ snapshot: this.snapshot, actions: reloadAddressActions(old, spec, this.ifname) });
  }

  /**
   * A track update before `start` (initial tracking): the state machine only records it, so
   * nothing is performed but the priority log line.
   */
  trackBeforeStart(update: TrackUpdate, nowMs: number): void {
    const r = step(this.snapshot, { type: 'track', update, nowMs });
    this.snapshot = r.snapshot;
    for (const a of r.actions) {
      if (a.type === 'priority-changed')
        this.log.info({ from: a.from, to: a.to }, `(${this.name}) Changing effective priority from ${a.from} to ${a.to}`);
    }
  }

  /** Cancel every timer; the instance is gone (stopped or deleted by reload). */
  dispose(): void {
    this.#removed = true;
    for (const h of this.#timers.values()) h.cancel();
    this.#timers.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Receive

  /** A packet the daemon routed here. Must run on the work queue. */
  async receive(p: ReceivedPacket): Promise<void> {
    // docs/keepalived-behaviour.md 3.1: packets for instances in FAULT/INIT are ignored.
    if (!acceptsAdverts(this.snapshot.state)) return;
    const src = `${p.packet[12]}.${p.packet[13]}.${p.packet[14]}.${p.packet[15]}`;
    const res = this.#in.decode(this.spec, this.snapshot.params, p.packet, addressCheckApplies(this.snapshot, src), () =>
      this.log.info({ src }, `(${this.name}) Setting unicast VRRPv3 checksum to old version`),
    );
    await this.#received(res, src, p.rxMs);
  }

  /** An IPv6 message the daemon routed here. Must run on the work queue. */
  async receive6(p: ReceivedPacket6): Promise<void> {
    if (!acceptsAdverts(this.snapshot.state)) return;
    const res = this.#in.decode6(this.spec, this.snapshot.params, p, addressCheckApplies(this.snapshot, p.src));
    await this.#received(res, p.src, p.rxMs);
  }

  /** A decoded advert to the state machine, or its drop counted and logged (rate-limited). */
  async #received(res: Received, src: string, rxMs: number): Promise<void> {
    if (!res.ok) {
      this.drops.set(res.reason, (this.drops.get(res.reason) ?? 0) + 1);
      const r = this.#rate.check(res.reason, this.#env.clock.nowMs());
      if (r !== null) {
        const more = r.suppressed > 0 ? ` (${r.suppressed} similar messages suppressed)` : '';
        this.log.info({ reason: res.reason, src }, `(${this.name}) ${res.detail}${more}`);
      }
      return;
    }
    this.peers.seen(res.envelope.srcIp, res.advert.priority, this.#env.clock.wallMs());
    this.counters.peersEvicted = this.peers.evicted;
    // RFC 3768 6.4.2 "Reset the Master_Down_Timer": from when the advert arrived, not from when the
    // queue got to it (never before an event this instance already handled).
    await this.handle({ type: 'advert', advert: res.advert, srcIp: res.envelope.srcIp, nowMs: Math.max(rxMs, this.#lastEventMs) });
  }

  // -------------------------------------------------------------------------------------------
  // Self-healing

  /**
   * A VIP/eVIP of this MASTER was deleted by someone else (host-state.ts): one `restore-address`
   * action puts it back and announces it at once (vrrpd's documented alternative to keepalived's
   * BACKUP + priority-0 dance, docs/keepalived-behaviour.md 3.8). Must run on the work queue.
   */
  async restoreAddress(address: string, by: string): Promise<void> {
    if (this.snapshot.state !== 'MASTER') return;
    const item = addressItem(this.spec, address);
    if (item === undefined) return;
    await this.apply({ snapshot: this.snapshot, actions: [{ type: 'restore-address', item, by }] });
  }

  /** Is `address` one of this instance's VIPs/eVIPs on `ifname` whose deletion it notices (not `no_track`)? */
  tracksAddress(address: string, ifname: string | undefined): boolean {
    const item = addressItem(this.spec, address);
    if (item === undefined || item.entry.noTrack) return false;
    const dev = item.entry.dev ?? this.ifname;
    return ifname === undefined || dev === ifname;
  }

  // -------------------------------------------------------------------------------------------
  // Actions

  async #perform(a: InstanceAction): Promise<void> {
    switch (a.type) {
      case 'transition':
        this.#logTransition(a.from, a.to, a.reason, a.init, a.priority);
        return;
      case 'set-timer':
        this.#setTimer(a.timer, a.atMs);
        return;
      case 'cancel-timer':
        this.#timers.get(a.timer)?.cancel();
        this.#timers.delete(a.timer);
        return;
      case 'send-advert':
        await this.#sendAdvert(a.priority);
        return;
      case 'add-addresses':
      case 'remove-addresses':
        await this.#addresses(a.type === 'add-addresses', a.kind, a.items);
        return;
      case 'send-garp':
        this.#garp(a);
        return;
      case 'notify':
        this.#env.notify(this, a.kind, a.priority);
        return;
      case 'priority-changed':
        this.log.info(
          { state: this.snapshot.state, from: a.from, to: a.to },
          `(${this.name}) Changing effective priority from ${a.from} to ${a.to}`,
        );
        this.#env.priorityChanged?.(this, a.to);
        return;
      case 'log':
        this.log[a.level]({ state: this.snapshot.state }, `(${this.name}) ${a.msg}`);
        return;
      case 'restore-address':
        await this.#restore(a.item, a.by);
        return;
      case 'reload-remove':
      case 'reload-add':
        await this.#reloadEntry(a.type === 'reload-add', a.item, a.defaultIf);
        return;
      case 'vmac-create':
      case 'vmac-delete':
        await this.#vmac(a.type === 'vmac-create', a.links ?? vmacLinks(this.spec));
        return;
      default:
        assertNever(a, 'action');
    }
  }

  /**
   * Make or remove the VMACs (its own, then its addresses': vmac.ts); a failure is logged with the
   * name (no VMAC: the source tracker, or the tracked interface of the VIP on it, says FAULT).
   */
  async #vmac(add: boolean, links: readonly VmacLink[]): Promise<void> {
    for (const v of links) {
      const why = this.#env.vmac ? await this.#env.vmac(add, v) : 'not supported here';
      if (why === undefined) continue;
      if (why === null) {
        // keepalived 2.2.7's wording, its colon after the name in the one and not the other.
        this.log.info({ ifname: v.ifname }, `(${this.name})${add ? ': Success creating' : ' Success removing'} VMAC interface ${v.ifname}`);
        continue;
      }
      const what = add ? `Unable to create VMAC interface ${v.ifname}` : `Error removing VMAC interface ${v.ifname}`;
      this.log.error({ ifname: v.ifname, error: why }, `(${this.name}) ${what} (${why})`);
    }
  }

  /** "(VI_1) Entering MASTER STATE" etc. (docs/keepalived-behaviour.md 5), with the reason as a field. */
  #logTransition(from: VrrpState, to: VrrpState, reason: string, init: boolean, priority: number): void {
    this.lastTransitionMs = this.#env.clock.wallMs();
    const why = this.describe(reason);
    this.transitions.record(this.lastTransitionMs, from, to, why);
    const fields = { state: to, from, reason: why, priority };
    switch (to) {
      case 'MASTER':
        this.log.info(fields, `(${this.name}) Entering MASTER STATE`);
        break;
      case 'BACKUP':
        this.log.info(fields, `(${this.name}) Entering BACKUP STATE${init ? ' (init)' : ''}`);
        break;
      case 'FAULT':
        if (!init) this.log.info(fields, `(${this.name}): entering FAULT state (${why})`);
        this.log.info(fields, `(${this.name}) Entering FAULT STATE${init ? ' (init)' : ''}`);
        break;
      case 'STOP':
        this.log.debug(fields, `(${this.name}) Stopping`);
        break;
      case 'INIT':
        break;
      default:
        assertNever(to, 'state');
    }
    // docs/keepalived-behaviour.md 3.5: unicast instances announce their own source address when leaving FAULT
    // (keepalived: on the base interface, so with use_vmac, where unicast forces vmac_xmit_base, the parent).
    const garpIf = this.advertIfname;
    if (from === 'FAULT' && (to === 'BACKUP' || to === 'MASTER') && this.spec.unicast && this.srcIp !== null && garpIf !== null) {
      this.#toGarp(garpIf, [{ address: this.srcIp, atMs: this.#env.clock.nowMs() }], 0, () => true);
    }
  }

  /** Fault reasons in words (the source tracker is synthetic). */
  describe(reason: string): string {
    return reason.replace(`interface ${SOURCE_TRACKER} down`, this.sourceProblem ?? 'no source address');
  }

  #setTimer(timer: TimerName, atMs: number): void {
    this.#timers.get(timer)?.cancel();
    const fired = (): void => {
      if (this.#timers.get(timer) !== h) return;
      this.#timers.delete(timer);
      this.#env.submit(`${this.name} ${timer} timer`, async () => {
        if (this.#removed) return;
        // Never earlier than the deadline (ms rounding of the clock, the advert grid).
        await this.handle({ type: 'timer', timer, nowMs: Math.max(atMs, this.#env.clock.nowMs()) });
      });
    };
    let h: TimerHandle;
    if (timer === 'adver' && this.#env.advertTimer !== undefined) h = this.#env.advertTimer(atMs, fired, this.snapshot.params.adverIntMs);
    else if (timer === 'master-down' && this.#env.downTimer !== undefined) h = this.#env.downTimer(atMs, fired);
    else {
      // Only the Master_Down_Timer decides how fast a failover is; it fires only when adverts stop.
      h = this.#env.clock.setTimer(Math.max(0, atMs - this.#env.clock.nowMs()), fired, timer === 'master-down');
    }
    this.#timers.set(timer, h);
  }

  /**
   * Issue the advert (one per unicast peer) now, synchronously; the promise settles when every copy
   * has completed and its result is counted (it never rejects).
   */
  #sendAdvert(priority: number): Promise<void> {
    const p = this.snapshot.params;
    const ifname = this.advertIfname;
    if (ifname === null || this.srcIp === null) return Promise.resolve(); // FAULT: nothing usable to send from
    if (this.spec.family === 6) {
      for (const { dstIp, message } of advertMessages6(this.spec, p, priority, this.srcIp)) {
        this.#sent(dstIp, this.#env.sendPacket6(this, ifname, message, { src: this.srcIp, dst: dstIp }));
      }
      return Promise.resolve();
    }
    // docs/keepalived-behaviour.md 3.2: per-instance IP id counter starting at 1, 0 skipped.
    this.#ipId = this.#ipId >= 0xffff ? 1 : this.#ipId + 1;
    const copies = advertCopies(this.spec, p, priority, this.srcIp, this.#ipId, this.#in.checksumMode(this.spec));
    return Promise.all(copies.map(({ dstIp, packet }) => this.#env.sendPacket(ifname, packet).then((r) => this.#sent(dstIp, r)))).then(
      () => undefined,
    );
  }

  /** One advert copy's result, counted (and a failure logged, rate-limited). */
  #sent(dstIp: string, r: IoResult<number>): void {
    if (r.ok) {
      this.counters.advertSent++;
      return;
    }
    this.counters.advertSendErrors++;
    const lim = this.#rate.check(`send:${r.error.code ?? ''}`, this.#env.clock.nowMs());
    if (lim !== null) {
      const more = lim.suppressed > 0 ? ` (${lim.suppressed} similar messages suppressed)` : '';
      this.log.warn(
        { dst: dstIp, errno: r.error.code },
        `(${this.name}) Cant send advert to ${dstIp} (${r.error.code ?? r.error.errno ?? '?'}: ${r.error.message})${more}`,
      );
    }
  }

  async #addresses(add: boolean, kind: 'vips' | 'evips' | 'routes' | 'rules', items: readonly string[]): Promise<void> {
    const what = { vips: 'VIPs', evips: 'E-VIPs', routes: 'Virtual Routes', rules: 'Virtual Rules' }[kind];
    this.log.debug({ state: this.snapshot.state }, `(${this.name}) ${add ? 'setting' : 'removing'} ${what}.`);
    for (const text of items) {
      const item = entryByKey(this.spec, kind, text);
      if (item !== undefined) await this.#change(add, item, this.ifname);
    }
  }

  /** A reload's diff entry (reload-diff.ts): a removed VIP/eVIP is logged as keepalived logs it. */
  async #reloadEntry(add: boolean, item: AddressKindEntry, defaultIf: string | null): Promise<void> {
    await this.#change(add, item, defaultIf);
    if (!add && (item.kind === 'vips' || item.kind === 'evips')) {
      const e = item.entry;
      this.log.info({}, `(${this.name}) ip address ${e.address}/${e.prefixLength} dev ${e.dev ?? this.ifname ?? ''}, no longer exist`);
    }
  }

  /** Self-healing: re-add a deleted VIP/eVIP, then a garp_master_repeat burst for it alone. */
  async #restore(item: VipEntry, by: string): Promise<void> {
    const address = item.entry.address;
    const r = await this.#setEntry(true, item, this.ifname);
    if (!r.ok) {
      this.counters.addressErrors++;
      this.log.warn({ address }, `(${this.name}) could not re-add ${address} deleted by ${by}: ${ioText(r)}`);
      return;
    }
    this.counters.vipRestored++;
    this.log.warn(
      { state: 'MASTER', address, by },
      `(${this.name}) ${item.kind === 'vips' ? 'VIP' : 'eVIP'} ${address} was removed by ${by} - re-added it and sent gratuitous ARPs`,
    );
    const p = this.snapshot.params;
    this.#garp({
      type: 'send-garp',
      burst: 'master',
      rounds: Math.max(1, p.garp.masterRepeat),
      addresses: [address],
      intervalMs: p.garp.intervalMs,
    });
  }

  /** Add or remove one entry; a failure is counted and logged (removing what is gone is quiet). */
  async #change(add: boolean, item: AddressKindEntry, defaultIf: string | null): Promise<void> {
    const r = await this.#setEntry(add, item, defaultIf);
    if (r.ok) return;
    this.counters.addressErrors++;
    // Removing something that is gone (or whose interface is gone) is what we wanted anyway.
    if (add || (r.error.code !== 'ENODEV' && r.error.code !== 'EADDRNOTAVAIL')) {
      this.log.warn({ errno: r.error.code }, `(${this.name}) cannot ${add ? 'add' : 'remove'} ${entryText(item)}: ${ioText(r)}`);
    }
  }

  /** The one call to the host for address changes (InstanceEnv.setAddress). */
  #setEntry(add: boolean, item: AddressKindEntry, defaultIf: string | null): Promise<IoResult<unknown>> {
    return this.#env.setAddress(add, item, defaultIf);
  }

  #garp(a: SendGarpAction): void {
    const now = this.#env.clock.nowMs();
    const packets = expandGarpBurst(a, now);
    // Group by the interface each address lives on (a VIP may name another `dev`).
    const byIf = new Map<string, typeof packets>();
    for (const pk of packets) {
      const dev = addressItem(this.spec, pk.address)?.entry.dev ?? this.ifname;
      if (dev === null) continue;
      const list = byIf.get(dev) ?? [];
      list.push(pk);
      byIf.set(dev, list);
    }
    let first = true;
    const gna = this.snapshot.params.garp.gnaIntervalMs;
    for (const [ifname, list] of byIf) {
      if (first) {
        for (const ad of new Set(list.map((x) => x.address))) {
          const what = ad.includes(':') ? 'Unsolicited Neighbour Adverts' : 'gratuitous ARPs';
          this.log.debug({}, `(${this.name}) Sending/queueing ${what} on ${ifname} for ${ad}`);
        }
      }
      first = false;
      this.lastGarpMs = this.#env.clock.wallMs();
      const valid = (): boolean => this.snapshot.state === 'MASTER' && !this.#removed;
      // vrrp_garp_interval paces the ARPs, vrrp_gna_interval the NAs (keepalived keeps two queues)
      const v4 = list.filter((x) => !x.address.includes(':'));
      const v6 = list.filter((x) => x.address.includes(':'));
      if (v4.length > 0) this.#toGarp(ifname, v4, a.intervalMs, valid);
      if (v6.length > 0) this.#toGarp(ifname, v6, gna, valid);
    }
  }

  /** The one call to the GARP module (InstanceEnv.garp, runtime/garp.ts), counted. */
  #toGarp(ifname: string, packets: readonly GarpPacket[], intervalMs: number, valid: () => boolean): void {
    this.counters.garpPackets += packets.length;
    this.#env.garp(ifname, packets, intervalMs, valid);
  }

  // -------------------------------------------------------------------------------------------
  // Status

  status(): InstanceStatus {
    return statusOf(this);
  }
}

function ioText(r: { ok: false; error: { code?: string | undefined; message: string; syscall: string } }): string {
  return `${r.error.syscall}: ${r.error.code ?? '?'} (${r.error.message})`;
}
