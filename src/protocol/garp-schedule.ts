/**
 * Gratuitous ARP schedule (docs/keepalived-behaviour.md 3.7). The state machine emits one `send-garp` action per
 * burst; `expandGarpBurst()` turns it into the individual packets with their send times, which is
 * what the runtime feeds to its ArpSender. Pure.
 */
import type { InstanceParams } from './instance-params.js';

/** Why a burst is sent (docs/keepalived-behaviour.md 3.7 (a)-(d)). */
export type GarpBurstKind =
  | 'master' // (a) on becoming MASTER: garp_master_repeat rounds
  | 'master-delayed' // (b) garp_master_delay later: garp_master_repeat rounds again
  | 'master-refresh' // (c) garp_master_refresh, on the advert grid: garp_master_refresh_repeat rounds
  | 'lower-prio' // (d) MASTER received a lower priority: garp_lower_prio_repeat rounds now
  | 'lower-prio-delayed'; // (d) and again after garp_lower_prio_delay

/** One burst: `rounds` rounds, each = every VIP then every eVIP in config order. */
export interface SendGarpAction {
  readonly type: 'send-garp';
  readonly burst: GarpBurstKind;
  readonly rounds: number;
  /** One round's addresses: VIPs then eVIPs, config order. */
  readonly addresses: readonly string[];
  /** `vrrp_garp_interval` in ms: minimum gap between two packets; 0 = back-to-back. */
  readonly intervalMs: number;
}

/** One gratuitous ARP packet to send: ARP request, sender = target = `address`. */
export interface GarpPacket {
  readonly address: string;
  readonly atMs: number;
}

/** Build a burst action, or null when there is nothing to send (0 rounds or no addresses). */
export function garpBurst(params: InstanceParams, burst: GarpBurstKind, rounds: number): SendGarpAction | null {
  const addresses = [...params.vips, ...params.evips];
  if (rounds <= 0 || addresses.length === 0) return null;
  return { type: 'send-garp', burst, rounds, addresses, intervalMs: params.garp.intervalMs };
}

/**
 * The packets of a burst in send order: rounds interleave (100,101,100,101,... as observed), each
 * packet `intervalMs` after the previous one (all at `startMs` when unpaced). Pacing across
 * instances sharing an interface (keepalived's per-interface queue) is the runtime's job.
 */
export function expandGarpBurst(a: SendGarpAction, startMs: number): GarpPacket[] {
  const out: GarpPacket[] = [];
  let t = startMs;
  for (let r = 0; r < a.rounds; r++) {
    for (const address of a.addresses) {
      out.push({ address, atMs: t });
      t += a.intervalMs;
    }
  }
  return out;
}
