/**
 * Receive: every packet a VRRP socket reads, from the socket to the instance it is for
 * (docs/keepalived-behaviour.md 3.1 dispatcher). A packet only pushes work on the daemon's queue (DESIGN.md style
 * 8), at most WORK_QUEUE_MAX_PACKETS waiting; on the queue it is demultiplexed by interface and
 * VRID (demux.ts) and handed to its instance, which decodes it. What no instance takes is counted
 * per interface by reason (DESIGN.md style 4): `queueDrops`, `malformed`, `unknownVrid`.
 */
import type { Log } from '../log.js';
import { RateLimiter } from '../log.js';
import { peekVrid } from '../protocol/advert.js';
import { demux, demux6, type DemuxTarget } from './demux.js';
import type { Instance } from './instance.js';
import type { InterfaceDrops } from './interfaces.js';
import type { MonotonicClock, ReceivedPacket, ReceivedPacket6 } from './ports/index.js';

/**
 * Received packets waiting on the work queue at most. The queue drains a packet in microseconds,
 * but while an item awaits the kernel (a netlink request: up to its 2 s timeout) a flood keeps
 * arriving: past this many, packets are dropped and counted (`queueDrops` per interface), as the
 * kernel drops at a full socket buffer. 10,000 is ten seconds of adverts from 1,000 instances;
 * each waiting packet holds ~300 bytes, so the bound is ~3 MB.
 */
export const WORK_QUEUE_MAX_PACKETS = 10_000;

export interface ReceiveDeps {
  readonly clock: MonotonicClock;
  readonly log: Log;
  /** Push work on the daemon's serialized path. */
  readonly submit: (what: string, fn: () => void | Promise<void>) => void;
  /** The drop counters of a known interface (undefined: not counted, the name is unknown). */
  readonly drops: (ifname: string) => InterfaceDrops | undefined;
  /** The running instances. */
  readonly instances: () => readonly Instance[];
  /** global_defs `log_unknown_vrids`. */
  readonly logUnknownVrids: () => boolean;
  /** The daemon is stopping: packets still queued are ignored. */
  readonly stopping: () => boolean;
}

export class Receiver {
  /** Packets pushed on the queue and not yet handled (WORK_QUEUE_MAX_PACKETS). */
  #queued = 0;
  /** The instances by VRID (a VRID never changes for an instance: reload matches on it); null = rebuild. */
  #byVrid: Map<number, Instance[]> | null = null;
  readonly #rate = new RateLimiter(10_000);

  constructor(private readonly deps: ReceiveDeps) {}

  /** The set of instances changed (start, reload): rebuild the VRID index on the next packet. */
  instancesChanged(): void {
    this.#byVrid = null;
  }

  /** A socket read a packet: queue it, or count it as dropped when WORK_QUEUE_MAX_PACKETS wait. */
  enqueue(p: ReceivedPacket | ReceivedPacket6): void {
    if (this.#queued >= WORK_QUEUE_MAX_PACKETS) {
      const d = this.deps.drops(p.ifname);
      if (d) d.queueDrops++;
      return;
    }
    this.#queued++;
    this.deps.submit('packet', () => {
      this.#queued--;
      return 'family' in p ? this.receive6(p) : this.receive(p);
    });
  }

  /** Hand one IPv6 message to its instance, or count why none takes it. Runs on the work queue. */
  async receive6(p: ReceivedPacket6): Promise<void> {
    if (this.deps.stopping()) return;
    const vrid = p.packet.length >= 2 ? p.packet[1]! : undefined;
    const candidates = vrid === undefined ? [] : (this.#index().get(vrid) ?? []);
    const d = demux6(
      candidates.filter((i) => i.advertIfname === p.ifname && i.spec.family === 6).map((i) => this.#target(i)),
      p.ifname,
      p.packet,
      p.src,
      p.dst,
    );
    if (d.kind === 'instance') return d.target.inst.receive6(p);
    this.#count(p.ifname, d);
  }

  /** Hand one packet to its instance, or count why none takes it. Runs on the work queue. */
  async receive(p: ReceivedPacket): Promise<void> {
    if (this.deps.stopping()) return;
    // demux() only looks at the instances with this interface and VRID: hand it just those (from
    // an index by VRID), not one new object per instance for every packet.
    const vrid = peekVrid(p.packet);
    const candidates = vrid === undefined ? [] : (this.#index().get(vrid) ?? []);
    // One IPv4 instance with this interface and VRID (the usual case) is demux()'s only possible
    // answer: hand it the packet without building the target list (no allocation per packet).
    let only: Instance | undefined;
    let count = 0;
    for (const i of candidates) {
      if (i.advertIfname === p.ifname && i.spec.family === 4) {
        only = i;
        count++;
      }
    }
    if (count === 1) return only!.receive(p);
    const d = demux(
      candidates.filter((i) => i.advertIfname === p.ifname && i.spec.family === 4).map((i) => this.#target(i)),
      p.ifname,
      p.packet,
    );
    if (d.kind === 'instance') return d.target.inst.receive(p);
    this.#count(p.ifname, d);
  }

  #target(i: Instance): DemuxTarget & { inst: Instance } {
    const { vrid, unicast, mcastGroup, peers } = i.spec;
    return { inst: i, ifname: i.advertIfname, vrid, unicast, srcIp: i.srcIp, mcastGroup, peers };
  }

  /** A packet no instance takes, counted per interface (and logged with log_unknown_vrids). */
  #count(ifname: string, d: { kind: 'malformed' } | { kind: 'unknown-vrid'; vrid: number }): void {
    const drops = this.deps.drops(ifname);
    switch (d.kind) {
      case 'malformed':
        if (drops) drops.malformed++;
        return;
      case 'unknown-vrid':
        if (drops) drops.unknownVrid++;
        if (this.deps.logUnknownVrids() && this.#rate.check(`vrid:${ifname}:${d.vrid}`, this.deps.clock.nowMs()) !== null) {
          this.deps.log.info({ vrid: d.vrid }, `Unknown VRID(${d.vrid}) received on interface(${ifname}). ignoring...`);
        }
        return;
    }
  }

  #index(): Map<number, Instance[]> {
    if (this.#byVrid === null) {
      this.#byVrid = new Map();
      for (const i of this.deps.instances()) {
        const list = this.#byVrid.get(i.spec.vrid);
        if (list) list.push(i);
        else this.#byVrid.set(i.spec.vrid, [i]);
      }
    }
    return this.#byVrid;
  }
}
