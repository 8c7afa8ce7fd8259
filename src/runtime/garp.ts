/**
 * Gratuitous ARP and unsolicited neighbour advertisement: the one module every GARP and NA the
 * daemon sends goes through (a state change's bursts, a self-healed VIP's, a reload's new VIPs', a
 * unicast instance announcing its source when leaving FAULT; the instance's interpreter asks, this
 * sends). An IPv6 address gets an unsolicited NA (protocol/na-frame.ts) instead of an ARP, with
 * the Router flag when IPv6 forwarding is on for the interface, read again when the last reading
 * is over 5 s old, as keepalived does.
 *
 * Pacing per interface, across instances (docs/keepalived-behaviour.md 3.7: with `vrrp_garp_interval` keepalived
 * queues GARPs per interface). Unpaced packets due now go out synchronously, in the caller's step
 * and in one call to the sender (the whole burst back to back, as keepalived with
 * vrrp_garp_interval 0), so VIP-to-first-GARP is a function call. Paced ones wait for the
 * interface's next free slot; each is dropped if its owner no longer holds the VIPs.
 */
import type { Log } from '../log.js';
import { RateLimiter } from '../log.js';
import { buildGratuitousArp } from '../protocol/arp-frame.js';
import { buildNeighbourAdvert } from '../protocol/na-frame.js';
import type { GarpPacket } from '../protocol/garp-schedule.js';
import type { FrameSender, IoResult, Ipv6ForwardingReader, LinkInfo, MonotonicClock, TimerHandle } from './ports/index.js';

/** keepalived reads `net.ipv6.conf.IF.forwarding` again when its last reading is older than this. */
export const IPV6_FORWARDING_RECHECK_MS = 5000;

/** Per-interface pacing of GARP packets; `sendNow` sends a list of addresses at once, in order. */
export class GarpPacer {
  readonly #nextFreeMs = new Map<string, number>();
  readonly #timers = new Set<TimerHandle>();

  constructor(
    private readonly clock: MonotonicClock,
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

export interface GarpDeps {
  readonly clock: MonotonicClock;
  readonly frames: FrameSender;
  /** The interface as netlink last reported it (MAC, NOARP), or undefined when it is gone. */
  readonly link: (ifname: string) => LinkInfo | undefined;
  readonly log: Log;
  /** IPv6 forwarding per interface (the NA Router flag); absent: never set. */
  readonly ipv6Forwarding?: Ipv6ForwardingReader | undefined;
}

/** The daemon's GARP sender: pacing, frames built with the interface's MAC, errors logged. */
export class Garp {
  readonly #pacer: GarpPacer;
  readonly #rate = new RateLimiter(10_000);
  /** IPv6 forwarding by interface, with the time it was read. */
  readonly #forwarding = new Map<string, { on: boolean; atMs: number }>();

  constructor(private readonly deps: GarpDeps) {
    this.#pacer = new GarpPacer(deps.clock, (ifname, addresses) => this.#sendNow(ifname, addresses));
  }

  /** Send (or queue, paced) `packets` on `ifname`; `valid()` is asked again before a delayed one. */
  schedule(ifname: string, packets: readonly GarpPacket[], intervalMs: number, valid: () => boolean): void {
    this.#pacer.schedule(ifname, packets, intervalMs, valid);
  }

  get pacedInterfaces(): number {
    return this.#pacer.pacedInterfaces;
  }

  /** Drop every queued GARP (stop). */
  cancelAll(): void {
    this.#pacer.cancelAll();
  }

  /**
   * GARPs due now on one interface, back to back: one link lookup, one frame per address, every
   * sendto before any log line (a -D log line is a write(2) that would sit between two GARPs).
   */
  #sendNow(ifname: string, addresses: readonly string[]): void {
    const { frames, log, clock } = this.deps;
    const link = this.deps.link(ifname);
    if (link === undefined || link.noarp || link.mac === undefined) return; // docs/keepalived-behaviour.md 3.7: not on NOARP links
    const built = new Map<string, Uint8Array>();
    const results: { address: string; r: IoResult<number> }[] = [];
    for (const address of addresses) {
      let frame = built.get(address);
      if (frame === undefined) {
        const mac = link.mac;
        frame = address.includes(':')
          ? buildNeighbourAdvert({ srcMac: mac, target: address, router: this.#router(ifname) })
          : buildGratuitousArp(mac, address);
        built.set(address, frame);
      }
      results.push({ address, r: frames.send(link.ifindex, frame, ifname) });
    }
    for (const { address, r } of results) {
      const what = address.includes(':') ? 'unsolicited Neighbour Advert' : 'gratuitous ARP';
      if (r.ok) log.debug({ ifname, address }, `Sending ${what} on ${ifname} for ${address}`);
      else if (this.#rate.check(`garp:${ifname}:${r.error.code ?? ''}`, clock.nowMs()) !== null) {
        log.warn(
          { ifname, address, errno: r.error.code },
          `Error ${r.error.errno ?? '?'} (${r.error.message}) sending ${what} on ${ifname} for ${address}`,
        );
      }
    }
  }

  /** The NA Router flag for `ifname`: IPv6 forwarding on, read at most every IPV6_FORWARDING_RECHECK_MS. */
  #router(ifname: string): boolean {
    const read = this.deps.ipv6Forwarding;
    if (read === undefined) return false;
    const now = this.deps.clock.nowMs();
    const cur = this.#forwarding.get(ifname);
    if (cur !== undefined && now - cur.atMs < IPV6_FORWARDING_RECHECK_MS) return cur.on;
    const r = read(ifname);
    const on = r.ok && r.value;
    // bounded by the interfaces VIPs live on: forget the others
    if (this.#forwarding.size > 64) this.#forwarding.clear();
    this.#forwarding.set(ifname, { on, atMs: now });
    return on;
  }
}
