/**
 * Gratuitous ARP pacing per interface, across instances (KEEPALIVED.md 3.7: with
 * `vrrp_garp_interval` keepalived queues GARPs per interface). Unpaced packets due now go out
 * synchronously, in the caller's step and in one call to `sendNow` (the whole burst back to back,
 * as keepalived with vrrp_garp_interval 0), so VIP-to-first-GARP is a function call. Paced ones
 * wait for the interface's next free slot; each is dropped if its owner no longer holds the VIPs.
 */
import type { RuntimeClock, TimerHandle } from './ports.js';
import type { GarpPacket } from '../protocol/garp-schedule.js';

export class GarpPacer {
  readonly #nextFreeMs = new Map<string, number>();
  readonly #timers = new Set<TimerHandle>();

  constructor(
    private readonly clock: RuntimeClock,
    /** Send these GARPs now, in order (the daemon builds the frames with the interface MAC). */
    private readonly sendNow: (ifname: string, addresses: readonly string[]) => void,
  ) {}

  /**
   * Send `packets` (from `expandGarpBurst`) on `ifname`, no two closer than `intervalMs` on this
   * interface. `valid()` is asked again before every delayed packet.
   */
  schedule(ifname: string, packets: readonly GarpPacket[], intervalMs: number, valid: () => boolean): void {
    const now = this.clock.nowMs();
    // A free slot in the past is no slot: forget it, so the map holds only interfaces still being
    // paced (a reload that moves VIPs between interfaces, or one GARP burst per interface name
    // ever used, would otherwise leave every name behind).
    for (const [k, free] of this.#nextFreeMs) if (free <= now) this.#nextFreeMs.delete(k);
    const dueNow: string[] = [];
    for (const p of packets) {
      const free = this.#nextFreeMs.get(ifname) ?? 0;
      const at = Math.max(p.atMs, intervalMs > 0 ? free : 0);
      if (intervalMs > 0) this.#nextFreeMs.set(ifname, at + intervalMs);
      if (at <= now) {
        dueNow.push(p.address);
        continue;
      }
      const h = this.clock.setTimer(at - now, () => {
        this.#timers.delete(h);
        if (valid()) this.sendNow(ifname, [p.address]);
      });
      this.#timers.add(h);
    }
    if (dueNow.length > 0) this.sendNow(ifname, dueNow);
  }

  /** Interfaces with a pacing slot in the future (bounded by the interfaces GARPing right now). */
  get pacedInterfaces(): number {
    return this.#nextFreeMs.size;
  }

  cancelAll(): void {
    for (const h of this.#timers) h.cancel();
    this.#timers.clear();
  }
}
