/**
 * The VRRP sockets (docs/keepalived-behaviour.md 3.1): IPv4, one per interface in use, shared by every IPv4
 * instance on it, joined to the multicast groups its multicast instances use; IPv6, one channel per
 * interface and group (multicast) or local address (unicast), as keepalived's socket pool keys
 * them. An IPv6 unicast instance without `unicast_src_ip` uses the interface's link-local address as
 * its local address, as keepalived does (bound with the interface as scope; the same address
 * source-address.ts gives as the advert source, linkLocalOf): no channel while the interface has
 * none (the instance is FAULT), a new channel when it changes. Re-opened when the interface is
 * re-created (new ifindex) or the groups change, closed when no instance uses them.
 */
import type { Log } from '../log.js';
import type { InstanceSpec, VmacSpec } from './params.js';
import type { AddrInfo, LinkInfo, Vrrp6ChannelSpec, Vrrp6Sockets, VrrpSockets } from './ports/index.js';
import { advertIfname, linkLocalOf } from './source-address.js';

/**
 * What the pool needs of an instance: its interface, whether it joins a group, and its VMAC (with
 * `vmac_xmit_base` its socket is on the VMAC's parent, `interface`: advertIfname).
 */
export interface SocketUser {
  readonly ifname: string | null;
  readonly spec: Pick<InstanceSpec, 'interface' | 'unicast' | 'mcastGroup' | 'family' | 'configuredSrcIp'> & {
    readonly vmac?: VmacSpec | null;
  };
}

/**
 * The IPv6 channel an instance uses on `ifname`: its group, or its unicast_src_ip, else (unicast)
 * `linkLocal`, the interface's link-local address (none: no channel, unicastSrc undefined).
 */
export function channelSpec6(u: SocketUser, ifname: string, linkLocal?: string): Vrrp6ChannelSpec {
  return u.spec.unicast ? { ifname, unicastSrc: u.spec.configuredSrcIp ?? linkLocal } : { ifname, group: u.spec.mcastGroup };
}

/** The pool's own name for an IPv6 channel (the transport returns its key when it opens). */
function id6(s: Vrrp6ChannelSpec): string {
  return `${s.ifname}|${s.unicastSrc ?? s.group ?? ''}`;
}

export class SocketPool {
  /** Socket per interface: the ifindex it was opened on and the groups joined. */
  readonly #open = new Map<string, { ifindex: number; groups: string }>();
  /** IPv6 channels by id6: the transport's key and the ifindex. */
  readonly #open6 = new Map<string, { key: string; ifindex: number; ifname: string }>();
  /** Per interface, the link-local address its unicast channel without unicast_src_ip is bound to (last sync). */
  readonly #linkLocal = new Map<string, string>();
  /** Counts the sockets opened and closed (sync's result). */
  #generation = 0;

  constructor(
    private readonly sockets: VrrpSockets,
    private readonly links: () => readonly LinkInfo[],
    private readonly log: Log,
    private readonly sockets6?: Vrrp6Sockets,
    private readonly addrs: () => readonly AddrInfo[] = () => [],
  ) {}

  /** Is a socket for this family open on the interface? */
  has(ifname: string, family: 4 | 6 = 4): boolean {
    if (family === 4) return this.#open.has(ifname);
    for (const c of this.#open6.values()) if (c.ifname === ifname) return true;
    return false;
  }

  /** The transport key of the IPv6 channel an instance sends on, or undefined when it is not open. */
  key6(u: SocketUser, ifname: string): string | undefined {
    const s = channelSpec6(u, ifname, this.#linkLocal.get(ifname));
    return s.unicastSrc === undefined && s.group === undefined ? undefined : this.#open6.get(id6(s))?.key;
  }

  /**
   * Open (or re-open, after an interface was re-created or its link-local address changed) the
   * sockets the instances use; true when a socket was opened or closed (the instances' sources
   * are then worth resolving again: host-state.ts).
   */
  sync(users: readonly SocketUser[]): boolean {
    const before = this.#generation;
    this.#sync4(users.filter((u) => u.spec.family === 4));
    this.#sync6(users.filter((u) => u.spec.family === 6));
    return this.#generation !== before;
  }

  #sync4(users: readonly SocketUser[]): void {
    const want = new Map<string, Set<string>>();
    for (const u of users) {
      const ifname = advertIfname(u.spec, u.ifname) ?? u.spec.interface;
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
        this.#generation++;
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

  #sync6(users: readonly SocketUser[]): void {
    const want = new Map<string, Vrrp6ChannelSpec>();
    const linkLocal = new Map<string, string>();
    for (const u of users) {
      const ifname = u.ifname ?? u.spec.interface;
      if (ifname === null) continue;
      let ll: string | undefined;
      if (u.spec.unicast && u.spec.configuredSrcIp === null) {
        const link = this.links().find((l) => l.ifname === ifname);
        ll = linkLocal.get(ifname) ?? (link && linkLocalOf(link.ifindex, this.addrs(), this.#linkLocal.get(ifname)));
        if (ll === undefined) continue; // no link-local address yet: no channel, the instance is FAULT (source-address.ts)
        linkLocal.set(ifname, ll);
      }
      const s = channelSpec6(u, ifname, ll);
      want.set(id6(s), s);
    }
    this.#linkLocal.clear();
    for (const [ifname, ll] of linkLocal) this.#linkLocal.set(ifname, ll);
    for (const [id, c] of [...this.#open6]) if (!want.has(id)) this.#close6(id, c.key);
    for (const [id, s] of want) {
      const link = this.links().find((l) => l.ifname === s.ifname);
      const cur = this.#open6.get(id);
      if (link === undefined) {
        if (cur) this.#close6(id, cur.key);
        continue;
      }
      if (cur && cur.ifindex === link.ifindex) continue;
      if (cur) this.#close6(id, cur.key);
      if (this.sockets6 === undefined) continue;
      const r = this.sockets6.open({ ...s, ifindex: link.ifindex });
      const what = s.unicastSrc !== undefined ? `unicast, address(${s.unicastSrc})` : `multicast, address(${s.group ?? ''})`;
      if (r.ok) {
        this.#open6.set(id, { key: r.value.key, ifindex: r.value.ifindex, ifname: s.ifname });
        this.#generation++;
        this.log.debug(
          { ifname: s.ifname },
          `VRRP sockpool: [ifindex(${String(r.value.ifindex).padStart(3)}), family(IPv6), proto(112), ${what}]`,
        );
      } else {
        this.log.warn(
          { ifname: s.ifname, errno: r.error.code },
          `cannot open IPv6 VRRP socket on ${s.ifname} (${what}): ${r.error.code ?? ''} (${r.error.message})`,
        );
      }
    }
  }

  #close(ifname: string): void {
    this.sockets.close(ifname);
    this.#open.delete(ifname);
    this.#generation++;
  }

  #close6(id: string, key: string): void {
    this.sockets6?.close(key);
    this.#open6.delete(id);
    this.#generation++;
  }
}
