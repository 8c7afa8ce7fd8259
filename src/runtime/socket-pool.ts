/**
 * The VRRP sockets: one per interface in use, shared by every instance on it (KEEPALIVED.md 3.1),
 * joined to the multicast groups its multicast instances use. Re-opened when the interface is
 * re-created (new ifindex) or the groups change, closed when no instance uses the interface.
 */
import type { Log } from '../log.js';
import type { InstanceSpec } from './params.js';
import type { LinkInfo, VrrpSockets } from './ports/index.js';

/** What the pool needs of an instance: where its adverts go and whether it joins a group. */
export interface SocketUser {
  readonly ifname: string | null;
  readonly spec: Pick<InstanceSpec, 'interface' | 'unicast' | 'mcastGroup'>;
}

export class SocketPool {
  /** Socket per interface: the ifindex it was opened on and the groups joined. */
  readonly #open = new Map<string, { ifindex: number; groups: string }>();

  constructor(
    private readonly sockets: VrrpSockets,
    private readonly links: () => readonly LinkInfo[],
    private readonly log: Log,
  ) {}

  has(ifname: string): boolean {
    return this.#open.has(ifname);
  }

  /** Open (or re-open, after an interface was re-created) one socket per interface in use. */
  sync(users: readonly SocketUser[]): void {
    const want = new Map<string, Set<string>>();
    for (const u of users) {
      const ifname = u.ifname ?? u.spec.interface;
      if (ifname === null) continue;
      const g = want.get(ifname) ?? new Set<string>();
      if (!u.spec.unicast) g.add(u.spec.mcastGroup);
      want.set(ifname, g);
    }
    for (const ifname of [...this.#open.keys()]) if (!want.has(ifname)) this.#close(ifname);
    for (const [ifname, groups] of want) {
      const link = this.links().find((l) => l.ifname === ifname);
      const cur = this.#open.get(ifname);
      const gkey = [...groups].sort().join(',');
      if (link === undefined) {
        if (cur) this.#close(ifname);
        continue;
      }
      if (cur && cur.ifindex === link.ifindex && cur.groups === gkey) continue;
      const r = this.sockets.open(ifname, [...groups]);
      if (r.ok) {
        this.#open.set(ifname, { ifindex: r.value.ifindex, groups: gkey });
        this.log.debug(
          { ifname },
          `VRRP sockpool: [ifindex(${String(r.value.ifindex).padStart(3)}), family(IPv4), proto(112), ${groups.size > 0 ? `multicast, address(${[...groups].join(',')})` : 'unicast'}]`,
        );
      } else {
        this.#open.delete(ifname);
        this.log.warn({ ifname, errno: r.error.code }, `cannot open VRRP socket on ${ifname}: ${r.error.code ?? ''} (${r.error.message})`);
      }
    }
  }

  #close(ifname: string): void {
    this.sockets.close(ifname);
    this.#open.delete(ifname);
  }
}
