/**
 * The daemon's record per interface name: link state as netlink last reported it (host-state.ts
 * writes it) and the receive drops counted on it (receive.ts). Bounded by the host's links plus the
 * names the config uses: host-state.ts forgets a link nothing refers to when it goes.
 */

/** Drops counted per interface (`vrrpd status` interfaces). */
export interface InterfaceDrops {
  /** No VRRP header could be read. */
  malformed: number;
  /** A VRID no instance on this interface has. */
  unknownVrid: number;
  /** Dropped unread because the work queue already held WORK_QUEUE_MAX_PACKETS packets (receive.ts). */
  queueDrops: number;
}

export interface InterfaceRecord extends InterfaceDrops {
  up: boolean;
  ifindex: number | null;
}

export class InterfaceTable {
  readonly #ifs = new Map<string, InterfaceRecord>();

  get(ifname: string): InterfaceRecord | undefined {
    return this.#ifs.get(ifname);
  }

  /** Set the link state, keeping the name's counters. */
  setLink(ifname: string, up: boolean, ifindex: number | null): void {
    const st = this.#ifs.get(ifname);
    this.#ifs.set(ifname, {
      up,
      ifindex,
      malformed: st?.malformed ?? 0,
      unknownVrid: st?.unknownVrid ?? 0,
      queueDrops: st?.queueDrops ?? 0,
    });
  }

  delete(ifname: string): void {
    this.#ifs.delete(ifname);
  }

  names(): string[] {
    return [...this.#ifs.keys()];
  }

  entries(): IterableIterator<[string, InterfaceRecord]> {
    return this.#ifs.entries();
  }
}
