/**
 * The routers an instance has heard from (valid adverts), for `vrrpd status`: source address ->
 * priority and time of the last advert. Bounded twice (DESIGN.md style 11), because every source
 * address of an accepted advert adds an entry and a LAN can hold anyone:
 *  - expiry: an entry not refreshed for PEER_EXPIRY_DOWN_INTERVALS master-down intervals is dropped
 *    (only a master advertises, and a master not heard for one master-down interval is dead to the
 *    protocol; three keep a live master through a stall or a few lost adverts, and keep the old
 *    master on show for a few seconds after a failover, where an operator looks first);
 *  - size: at most PEER_TABLE_MAX entries; a new source beyond that evicts the one heard from
 *    longest ago, except the instance's current master (`protect`), so a flood of one-shot
 *    sources faster than the master's adverts evicts only other one-shot sources and status
 *    still shows who the master is; each eviction is counted.
 * Expiry is applied when an entry is added and whenever the table is read, so a stale entry is
 * never reported and a table no advert refreshes still shrinks at the next `status`.
 */

/**
 * Entries at most per instance. A VRRP segment has a handful of routers per VRID; 32 leaves room
 * for any real one while bounding what a hostile LAN (address checking off, or many sources with
 * valid adverts) can make an instance keep: 32 x ~150 bytes.
 */
export const PEER_TABLE_MAX = 32;

/** Entries expire after this many master-down intervals without an advert (see the file comment). */
export const PEER_EXPIRY_DOWN_INTERVALS = 3;

/** One router heard from. `lastSeenMs` is wall-clock (ms since the epoch), for status. */
export interface PeerEntry {
  readonly lastSeenMs: number;
  readonly priority: number;
  /** Monotonic ms of the last advert (expiry). */
  readonly atMs: number;
}

export class PeerTable implements Iterable<[string, PeerEntry]> {
  /** Insertion order = order of the last advert (refreshed entries are moved to the end). */
  readonly #peers = new Map<string, PeerEntry>();
  #evicted = 0;

  /**
   * @param nowMs monotonic clock (ms)
   * @param expiryMs how long an entry lives without an advert (ms); read at every use, because it
   *   follows the instance's current advert interval and priority
   * @param max the size cap
   * @param protect an entry the cap must not evict (the current master), or null
   */
  constructor(
    private readonly nowMs: () => number,
    private readonly expiryMs: () => number,
    readonly max = PEER_TABLE_MAX,
    private readonly protect: () => string | null = () => null,
  ) {}

  /** Entries evicted by the size cap since start (expired ones are not counted: that is normal). */
  get evicted(): number {
    return this.#evicted;
  }

  /** Live entries (expired ones dropped first). */
  get size(): number {
    this.prune();
    return this.#peers.size;
  }

  /** A valid advert from `ip` with `priority`; `wallMs` is the wall clock for status. */
  seen(ip: string, priority: number, wallMs: number): void {
    const atMs = this.nowMs();
    this.#peers.delete(ip);
    this.prune();
    if (this.#peers.size >= this.max) {
      const keep = this.protect();
      for (const old of this.#peers.keys()) {
        if (this.#peers.size < this.max) break;
        if (old === keep) continue;
        this.#peers.delete(old);
        this.#evicted++;
      }
      // Only the protected entry left and still full (a cap of 1): the cap wins.
      if (this.#peers.size >= this.max && keep !== null && this.#peers.delete(keep)) this.#evicted++;
    }
    this.#peers.set(ip, { lastSeenMs: wallMs, priority, atMs });
  }

  get(ip: string): PeerEntry | undefined {
    this.prune();
    return this.#peers.get(ip);
  }

  /** Drop entries older than the expiry (oldest first, so this stops at the first live one). */
  prune(): void {
    const cutoff = this.nowMs() - this.expiryMs();
    for (const [ip, e] of this.#peers) {
      if (e.atMs > cutoff) break;
      this.#peers.delete(ip);
    }
  }

  clear(): void {
    this.#peers.clear();
  }

  [Symbol.iterator](): Iterator<[string, PeerEntry]> {
    this.prune();
    return [...this.#peers][Symbol.iterator]();
  }
}
