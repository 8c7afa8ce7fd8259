/**
 * An in-process LAN segment for tests: nodes send raw IPv4 packets (encoded adverts, TTL 255) that
 * are delivered to every other attached node after a latency on a FakeClock. Packets can be
 * dropped (by predicate), delayed, and nodes can be partitioned, cut off (link down) and healed.
 */
import type { FakeClock } from './fake-clock.js';

export type PacketHandler = (packet: Buffer, fromId: string) => void;

export interface LanOptions {
  /** One-way latency in ms (default 0: delivered at the send time, after the sender's step). */
  readonly latencyMs?: number;
}

/** Decide per (packet, from, to) whether to drop it. */
export type DropRule = (packet: Buffer, fromId: string, toId: string) => boolean;

export class FakeLan {
  private readonly nodes = new Map<string, PacketHandler>();
  /** node id -> partition index; nodes missing from every listed group share partition -1. */
  private partitionOf = new Map<string, number>();
  private readonly cut = new Set<string>();
  private dropRules: DropRule[] = [];
  latencyMs: number;
  /** Packets handed to the LAN and packets delivered, for assertions. */
  sent = 0;
  delivered = 0;

  constructor(
    private readonly clock: FakeClock,
    opts: LanOptions = {},
  ) {
    this.latencyMs = opts.latencyMs ?? 0;
  }

  attach(id: string, handler: PacketHandler): void {
    this.nodes.set(id, handler);
  }

  detach(id: string): void {
    this.nodes.delete(id);
  }

  /** Split the LAN: nodes only reach nodes of their own group. */
  partition(groups: readonly (readonly string[])[]): void {
    this.partitionOf = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.partitionOf.set(id, i)));
  }

  /** Undo partitions, link cuts and drop rules. */
  heal(): void {
    this.partitionOf = new Map();
    this.cut.clear();
    this.dropRules = [];
  }

  /** Take one node's link down (it neither sends nor receives) or up again. */
  setLink(id: string, up: boolean): void {
    if (up) this.cut.delete(id);
    else this.cut.add(id);
  }

  /** Add a drop rule (removed by `heal()`); returns a function removing it. */
  addDropRule(rule: DropRule): () => void {
    this.dropRules.push(rule);
    return () => {
      this.dropRules = this.dropRules.filter((r) => r !== rule);
    };
  }

  /** Whether a packet from `a` can currently reach `b`. */
  connected(a: string, b: string): boolean {
    if (this.cut.has(a) || this.cut.has(b)) return false;
    return (this.partitionOf.get(a) ?? -1) === (this.partitionOf.get(b) ?? -1);
  }

  /** Multicast a packet from `fromId` to every other attached node it can reach. */
  send(fromId: string, packet: Buffer): void {
    this.sent++;
    for (const toId of [...this.nodes.keys()].sort()) {
      if (toId === fromId || !this.connected(fromId, toId)) continue;
      if (this.dropRules.some((r) => r(packet, fromId, toId))) continue;
      const copy = Buffer.from(packet);
      this.clock.setTimeout(() => {
        // Re-check at delivery: a node may have crashed or been cut off meanwhile.
        const h = this.nodes.get(toId);
        if (h === undefined || !this.connected(fromId, toId)) return;
        this.delivered++;
        h(copy, fromId);
      }, this.latencyMs);
    }
  }
}
