/**
 * What an instance reports (status, dumps): its state and the counters the runtime keeps on top of
 * the state machine's.
 */
import type { DropReason } from '../protocol/drop-reasons.js';
import type { InstanceSnapshot } from '../protocol/fsm-types.js';
import type { VrrpState } from '../protocol/types.js';
import type { InstanceSpec } from './params.js';

/** Counters kept by the runtime on top of the state machine's. */
export interface RuntimeCounters {
  advertSent: number;
  advertSendErrors: number;
  garpPackets: number;
  /** VIPs/eVIPs deleted by someone else while MASTER and re-added (self-healing). */
  vipRestored: number;
  addressErrors: number;
  /** Peer table entries evicted by its size cap (PEER_TABLE_MAX): many sources were heard. */
  peersEvicted: number;
}

export interface InstanceStatus {
  readonly name: string;
  readonly vrid: number;
  readonly interface: string | null;
  readonly srcIp: string | null;
  readonly unicast: boolean;
  /** VRRP version (2 or 3) and address family (4 or 6). */
  readonly version: 2 | 3;
  readonly family: 4 | 6;
  /** Configured advert_int (ms). */
  readonly advertIntMs: number;
  /** v3: the Master_Adver_Interval learned from the master's adverts (ms); null: none learned (v2 never learns). */
  readonly learnedAdvertIntMs: number | null;
  readonly state: VrrpState;
  readonly reason: string;
  readonly wantState: string | null;
  readonly basePriority: number;
  readonly effectivePriority: number;
  readonly master: { readonly ip: string; readonly priority: number } | null;
  readonly faults: readonly string[];
  readonly vips: readonly string[];
  readonly evips: readonly string[];
  readonly syncGroup: string | null;
  /** Wall-clock time of the last transition (ms since the epoch), or null. */
  readonly lastTransitionMs: number | null;
  readonly counters: Readonly<Record<string, number>>;
  /** Dropped packets by reason (every reason listed, zeros included). */
  readonly drops: Readonly<Record<string, number>>;
}

/** What {@link statusOf} reads of an instance. */
export interface StatusSource {
  readonly name: string;
  readonly spec: InstanceSpec;
  readonly snapshot: InstanceSnapshot;
  readonly ifname: string | null;
  readonly srcIp: string | null;
  readonly lastTransitionMs: number | null;
  readonly counters: RuntimeCounters;
  readonly drops: ReadonlyMap<DropReason, number>;
  /** Fault reasons in words. */
  describe(reason: string): string;
}

/** An instance's JSON-safe status (drops: only the reasons seen). */
export function statusOf(i: StatusSource): InstanceStatus {
  const s = i.snapshot;
  const drops: Record<string, number> = {};
  for (const [k, v] of i.drops) drops[k] = v;
  return {
    name: i.name,
    vrid: i.spec.vrid,
    interface: i.ifname,
    srcIp: i.srcIp,
    unicast: i.spec.unicast,
    version: s.params.version,
    family: i.spec.family,
    advertIntMs: s.params.adverIntMs,
    learnedAdvertIntMs: s.masterAdverIntMs,
    state: s.state,
    reason: i.describe(s.reason),
    wantState: s.wantState,
    basePriority: s.params.basePriority,
    effectivePriority: s.effectivePriority,
    master: s.master,
    faults: s.faults.map((f) => i.describe(f)),
    vips: s.params.vips,
    evips: s.params.evips,
    syncGroup: s.params.syncGroup,
    lastTransitionMs: i.lastTransitionMs,
    counters: { ...s.counters, ...i.counters },
    drops,
  };
}
