/**
 * A simulated vrrpd instance for scenario tests: wires a FakeClock, the pure state machine and the
 * real advert codec to a FakeLan, and performs the state machine's actions in memory (timers on
 * the fake clock, adverts encoded and sent as IPv4 packets with TTL 255, addresses recorded as
 * "held"). Everything it did is recorded with fake-clock times for assertions.
 */
import { decodeAdvert } from '../../src/protocol/advert-checks.js';
import type { DropReason } from '../../src/protocol/drop-reasons.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { VRRP_MULTICAST_GROUP, VRRP_TTL } from '../../src/protocol/constants.js';
import { addressCheckApplies, initialSnapshot, step } from '../../src/protocol/fsm.js';
import type { FsmAction, FsmEvent, InstanceSnapshot, TimerName } from '../../src/protocol/fsm-types.js';
import type { InstanceParams } from '../../src/protocol/instance-params.js';
import { expandGarpBurst, type GarpPacket } from '../../src/protocol/garp-schedule.js';
import type { VrrpState } from '../../src/protocol/types.js';
import { assertNever } from '../../src/util/assert-never.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import type { FakeClock } from './fake-clock.js';
import type { FakeLan } from './fake-lan.js';

export interface SimNodeOptions {
  /** Node id on the LAN (defaults to params.srcIp). */
  readonly id?: string;
  readonly params: InstanceParams;
  /** PASS password (with params.authType 1). */
  readonly authPass?: string;
}

export interface TransitionRecord {
  readonly atMs: number;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: string;
}

export class SimNode {
  readonly id: string;
  params: InstanceParams;
  authPass: string | undefined;
  snapshot: InstanceSnapshot;
  /** Addresses (VIPs, eVIPs) currently configured on this node. */
  readonly held = new Set<string>();
  readonly transitions: TransitionRecord[] = [];
  readonly advertsSent: { atMs: number; priority: number }[] = [];
  readonly garps: GarpPacket[] = [];
  readonly notifies: { atMs: number; kind: string; priority: number }[] = [];
  readonly logs: { atMs: number; level: string; msg: string }[] = [];
  readonly drops = new Map<DropReason, number>();
  /** Every action performed, with its time (for order assertions). */
  readonly actionLog: { atMs: number; action: FsmAction }[] = [];
  alive = false;
  private readonly timerIds = new Map<TimerName, number>();
  private ipId = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly lan: FakeLan,
    opts: SimNodeOptions,
  ) {
    this.id = opts.id ?? opts.params.srcIp;
    this.params = opts.params;
    this.authPass = opts.authPass;
    this.snapshot = initialSnapshot(opts.params);
  }

  get state(): VrrpState {
    return this.snapshot.state;
  }

  /** Boot: attach to the LAN and process `start`. */
  start(): void {
    if (this.alive) return;
    this.alive = true;
    this.lan.attach(this.id, (pkt) => this.receive(pkt));
    this.dispatch({ type: 'start', nowMs: this.clock.now() });
  }

  /** Graceful stop (SIGTERM): the state machine's STOP, then detach. */
  stop(): void {
    if (!this.alive) return;
    this.dispatch({ type: 'stop', nowMs: this.clock.now() });
    this.kill();
  }

  /** Power loss: no goodbye; timers die, addresses vanish with the machine. */
  crash(): void {
    if (!this.alive) return;
    this.kill();
    this.held.clear();
  }

  /** Boot again from scratch (fresh INIT snapshot), optionally with new params. */
  restart(params?: InstanceParams): void {
    this.crash();
    if (params !== undefined) this.params = params;
    this.snapshot = initialSnapshot(this.params);
    this.start();
  }

  /**
   * Apply new params while keeping the state (a reload that matched this instance). A MASTER's
   * addresses follow the new VIP/eVIP lists, as keepalived's reload diff does.
   */
  reconfigure(params: InstanceParams, authPass?: string): void {
    this.params = params;
    this.authPass = authPass;
    this.snapshot = { ...this.snapshot, params };
    if (this.snapshot.state === 'MASTER') {
      this.held.clear();
      for (const ip of [...params.vips, ...params.evips]) this.held.add(ip);
    }
  }

  private kill(): void {
    this.alive = false;
    for (const id of this.timerIds.values()) this.clock.cancel(id);
    this.timerIds.clear();
    this.lan.detach(this.id);
  }

  /** Feed one event to the state machine and perform the resulting actions. */
  dispatch(e: FsmEvent): void {
    const r = step(this.snapshot, e);
    this.snapshot = r.snapshot;
    for (const a of r.actions) this.perform(a);
  }

  /** Receive a raw IPv4 packet from the LAN: decode with this node's expectations, then step. */
  receive(pkt: Buffer): void {
    if (!this.alive) return;
    const src = `${pkt[12]}.${pkt[13]}.${pkt[14]}.${pkt[15]}`;
    const res = decodeAdvert(pkt, {
      adverIntSec: this.params.adverIntMs / 1000,
      authType: this.params.authType,
      ...(this.authPass !== undefined ? { authPass: this.authPass } : {}),
      vips: this.params.vips,
      checkVips: addressCheckApplies(this.snapshot, src),
      unicast: false,
    });
    if (!res.ok) {
      this.drops.set(res.reason, (this.drops.get(res.reason) ?? 0) + 1);
      return;
    }
    if (res.advert.vrid !== this.params.vrid) return; // another virtual router on the segment
    this.dispatch({ type: 'advert', advert: res.advert, srcIp: res.envelope.srcIp, nowMs: this.clock.now() });
  }

  private perform(a: FsmAction): void {
    const now = this.clock.now();
    this.actionLog.push({ atMs: now, action: a });
    switch (a.type) {
      case 'transition':
        this.transitions.push({ atMs: now, from: a.from, to: a.to, reason: a.reason });
        return;
      case 'set-timer': {
        const old = this.timerIds.get(a.timer);
        if (old !== undefined) this.clock.cancel(old);
        const timer = a.timer;
        this.timerIds.set(
          timer,
          this.clock.setAt(a.atMs, () => {
            this.timerIds.delete(timer);
            if (this.alive) this.dispatch({ type: 'timer', timer, nowMs: this.clock.now() });
          }),
        );
        return;
      }
      case 'cancel-timer': {
        const old = this.timerIds.get(a.timer);
        if (old !== undefined) this.clock.cancel(old);
        this.timerIds.delete(a.timer);
        return;
      }
      case 'send-advert': {
        this.advertsSent.push({ atMs: now, priority: a.priority });
        this.ipId = this.ipId >= 0xffff ? 1 : this.ipId + 1;
        const payload = encodeAdvert({
          vrid: this.params.vrid,
          priority: a.priority,
          authType: this.params.authType,
          ...(this.authPass !== undefined ? { authPass: this.authPass } : {}),
          adverIntSec: this.params.adverIntMs / 1000,
          vips: this.params.vips,
        });
        const pkt = buildIpv4Packet({
          srcIp: this.params.srcIp,
          dstIp: VRRP_MULTICAST_GROUP,
          ttl: VRRP_TTL,
          id: this.ipId,
          payload,
        });
        if (this.alive) this.lan.send(this.id, pkt);
        return;
      }
      case 'add-addresses':
        if (a.kind === 'vips' || a.kind === 'evips') for (const ip of a.items) this.held.add(ip);
        return;
      case 'remove-addresses':
        if (a.kind === 'vips' || a.kind === 'evips') for (const ip of a.items) this.held.delete(ip);
        return;
      case 'send-garp':
        this.garps.push(...expandGarpBurst(a, now));
        return;
      case 'notify':
        this.notifies.push({ atMs: now, kind: a.kind, priority: a.priority });
        return;
      case 'priority-changed':
        return;
      case 'log':
        this.logs.push({ atMs: now, level: a.level, msg: a.msg });
        return;
      default:
        assertNever(a, 'action');
    }
  }
}
