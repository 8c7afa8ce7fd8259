/**
 * Host state: the daemon's view of the host's links and addresses (the netlink cache), what it
 * derives from them, and what it does when they change:
 *  - link up/down per interface name ("Netlink reports X up/down" once per change), fed to the
 *    instances tracking the interface; sockets re-opened when an interface is re-created;
 *  - each instance's interface and source address (source-address.ts), reported as the synthetic
 *    SOURCE_TRACKER: a missing interface or source address is FAULT through the state machine's own
 *    tracking, BACKUP again when it appears;
 *  - a link's deletion or creation handed on to the daemon (`linkEvent`): a VMAC of ours deleted
 *    by someone else is made again (vmac.ts, docs/vmac.md);
 *  - VIP self-healing: a VIP/eVIP someone else deletes from a MASTER is handed to that instance as
 *    an event. With `vipDeleted: 'restore'` (vrrpd's default, README) its interpreter re-adds it
 *    and sends a GARP burst: no state change, no priority-0 advert, counted as `vipRestored`. With
 *    'keepalived' it is the state machine's `vip-deleted-externally` (docs/keepalived-behaviour.md 3.8: BACKUP,
 *    priority 0, re-election after the skew time).
 * Every handler runs on the daemon's work queue.
 */
import type { Log } from '../log.js';
import type { TrackUpdate } from '../protocol/tracking.js';
import type { Instance } from './instance.js';
import type { InterfaceTable } from './interfaces.js';
import { SOURCE_TRACKER } from './params.js';
import type { AddrInfo, HostNetlink, LinkInfo, MonotonicClock, NetlinkEvent } from './ports/index.js';
import type { SocketPool } from './socket-pool.js';
import { resolveIfname, resolveSource, type SourceView } from './source-address.js';

/** What to do when a VIP is deleted behind our back while MASTER. */
export type VipDeletedPolicy = 'restore' | 'keepalived';

export interface HostStateDeps {
  readonly netlink: Pick<HostNetlink, 'links' | 'addresses'>;
  readonly clock: MonotonicClock;
  readonly log: Log;
  readonly ifs: InterfaceTable;
  readonly sockets: SocketPool;
  readonly instances: () => readonly Instance[];
  readonly vipDeleted: VipDeletedPolicy;
  /** Is this VMAC one the daemon made (vmac.ts)? A link of that name someone else made is not used. */
  readonly ownsVmac?: (ifname: string) => boolean;
  /** Feed a link's up/down to the instances tracking it (trackers.ts). */
  readonly track: (update: TrackUpdate) => Promise<void>;
  /**
   * After a link event has been handled (sockets, sources, tracking): a link created or changed
   * (`new`) or deleted (`del`). The daemon makes a deleted VMAC of its own again (vmac.ts).
   */
  readonly linkEvent?: (op: 'new' | 'del', ifname: string, ifindex: number) => Promise<void>;
}

/** A link is up for VRRP when it is administratively up and running (carrier). */
export function linkUp(l: LinkInfo): boolean {
  return l.up && l.running;
}

export class HostState {
  /** One view of the host for a whole pass over the instances (refreshAll); null outside one. */
  #batch: { links: LinkInfo[]; addrs: AddrInfo[]; vips: ReadonlySet<string> } | null = null;
  /** VMACs a reload made and brought up (name -> ifindex): their creation's "down" event is stale. */
  readonly #madeUp = new Map<string, number>();

  constructor(private readonly deps: HostStateDeps) {}

  links(): LinkInfo[] {
    return this.deps.netlink.links();
  }

  addresses(): AddrInfo[] {
    return this.deps.netlink.addresses();
  }

  link(ifname: string): LinkInfo | undefined {
    return this.deps.netlink.links().find((l) => l.ifname === ifname);
  }

  /** Record every link netlink knows (start). */
  init(): void {
    for (const l of this.deps.netlink.links()) this.deps.ifs.setLink(l.ifname, linkUp(l), l.ifindex);
  }

  /** Is this interface up as last reported (unknown: down)? */
  isUp(ifname: string): boolean {
    return this.deps.ifs.get(ifname)?.up ?? false;
  }

  /** Link names the daemon keeps state for (audit and tests: bounded by the host's links plus the config's). */
  knownLinks(): readonly string[] {
    return this.deps.ifs.names();
  }

  /** The configured interface, or (unicast without `interface`) the one carrying unicast_src_ip. */
  resolveIfname(inst: Instance): string | null {
    return resolveIfname(inst.spec, inst.ifname, this.deps.netlink.links(), this.deps.netlink.addresses());
  }

  /** Open, re-open or close the VRRP sockets for the instances' interfaces; true when any was. */
  syncSockets(): boolean {
    return this.deps.sockets.sync(this.deps.instances());
  }

  /**
   * Resolve the instance's interface and source address (docs/keepalived-behaviour.md 3.1 "Source address") and
   * report the synthetic SOURCE_TRACKER. `initial`: before `start` (the state machine only records).
   */
  refreshSource(inst: Instance, initial: boolean): Promise<void> | void {
    const view: SourceView = {
      links: this.#batch?.links ?? this.deps.netlink.links(),
      addrs: this.#batch?.addrs ?? this.deps.netlink.addresses(),
      isVip: (a) => this.#isVip(a),
      // IPv6: the instance's own channel (an IPv6 unicast one without unicast_src_ip is open only
      // while the interface has a link-local address: socket-pool.ts)
      hasSocket: (n, family) => (family === 6 ? this.deps.sockets.key6(inst, n) !== undefined : this.deps.sockets.has(n, family)),
      ownsVmac: (n) => this.deps.ownsVmac?.(n) ?? false,
    };
    const ifname = this.resolveIfname(inst);
    const c = resolveSource(inst.spec, ifname, inst.srcIp, view);
    if (ifname !== null) inst.ifname = ifname;
    const wasUp = inst.snapshot.tracking.interfaces[SOURCE_TRACKER] ?? true;
    inst.setSource(c.src, c.problem);
    const up = c.problem === null;
    const update: TrackUpdate = { kind: 'interface', name: SOURCE_TRACKER, up };
    const nowMs = this.deps.clock.nowMs();
    if (initial) {
      if (!up) inst.trackBeforeStart(update, nowMs);
      return;
    }
    if (up !== wasUp) return inst.handle({ type: 'track', update, nowMs });
  }

  /**
   * Every instance after a link or address event, with one snapshot of links, addresses and the
   * VIP set for the whole pass: per instance it was O(addresses) copies plus O(instances x VIPs) per
   * #isVip, so 1,000 instances adding 1,000 VIPs took minutes of CPU (issue 6 scale run).
   * The instances' own VIP changes during the pass cannot change a source choice (VIPs are excluded).
   */
  async refreshAll(): Promise<void> {
    const vips = new Set<string>();
    for (const i of this.deps.instances()) for (const e of [...i.spec.vipEntries, ...i.spec.evipEntries]) vips.add(e.address);
    this.#batch = { links: this.deps.netlink.links(), addrs: this.deps.netlink.addresses(), vips };
    try {
      for (const inst of [...this.deps.instances()]) await this.refreshSource(inst, false);
    } finally {
      this.#batch = null;
    }
  }

  #isVip(address: string): boolean {
    if (this.#batch) return this.#batch.vips.has(address);
    return this.deps
      .instances()
      .some((i) => i.spec.vipEntries.some((e) => e.address === address) || i.spec.evipEntries.some((e) => e.address === address));
  }

  /** A link or address event (on the queue). */
  /**
   * A reload made the VMAC `ifname` (`ifindex`) and brought it up for a kept instance (reload.ts):
   * it is up from now on, and the event of its creation (down: made, then brought up) is not
   * news, so the instance tracking it does not go FAULT for it (keepalived 2.2.7 does not).
   */
  madeUp(ifname: string, ifindex: number): void {
    this.#madeUp.set(ifname, ifindex);
    this.deps.ifs.setLink(ifname, true, ifindex);
  }

  onNetlink(e: NetlinkEvent): Promise<void> {
    return e.kind === 'link' ? this.#onLink(e) : this.#onAddress(e);
  }

  async #onLink(e: Extract<NetlinkEvent, { kind: 'link' }>): Promise<void> {
    const l = e.link;
    const up = e.op === 'new' && linkUp(l);
    if (this.#madeUp.get(l.ifname) === l.ifindex && e.op === 'new' && !up) return;
    this.#madeUp.delete(l.ifname);
    const was = this.deps.ifs.get(l.ifname)?.up;
    this.deps.ifs.setLink(l.ifname, up, e.op === 'new' ? l.ifindex : null);
    if (was !== up) {
      if (was !== undefined || !up) this.deps.log.info({ ifname: l.ifname }, `Netlink reports ${l.ifname} ${up ? 'up' : 'down'}`);
      this.syncSockets();
      await this.refreshAll();
      await this.deps.track({ kind: 'interface', name: l.ifname, up });
    } else {
      // Re-created with a new ifindex, or flags we do not track changed, or gone after going down:
      // keep sockets and sources right.
      this.syncSockets();
      await this.refreshAll();
    }
    await this.deps.linkEvent?.(e.op, l.ifname, l.ifindex);
    // A link nothing here refers to is forgotten when it goes or is renamed: on a host where
    // containers' veths come and go, each name would otherwise stay in the table for good.
    if (e.op === 'del') this.#forgetLink(l.ifname);
    else if (e.previous !== undefined && e.previous.ifname !== l.ifname) this.#forgetLink(e.previous.ifname);
  }

  async #onAddress(e: Extract<NetlinkEvent, { kind: 'addr' }>): Promise<void> {
    const a = e.addr;
    if (e.op === 'del' && e.origin !== 'self') await this.#deletedBehindOurBack(e);
    // A VIP/eVIP coming or going cannot change any instance's source address (a VIP is never
    // chosen as one): skip the pass over every instance, which a mass takeover (1,000 VIPs) paid
    // 1,000 times.
    if (this.#isVip(a.address) && !this.deps.instances().some((i) => i.spec.configuredSrcIp === a.address)) return;
    await this.refreshAll();
    // An instance found by its unicast_src_ip may have just got its interface, an IPv6 unicast
    // channel without unicast_src_ip its link-local address (or lost it): the sources follow the
    // sockets opened or closed.
    if (this.syncSockets()) await this.refreshAll();
  }

  /** VIP self-healing (file comment): the deletion, as an event for each MASTER holding the address. */
  async #deletedBehindOurBack(e: Extract<NetlinkEvent, { kind: 'addr' }>): Promise<void> {
    const a = e.addr;
    // IPv6 address notifications carry no requester port (nlmsg_pid 0): the kernel or anyone
    const by =
      e.origin !== 'kernel' ? `another process (netlink port ${e.port})` : a.family === 6 ? 'another process or the kernel' : 'the kernel';
    // The address went with its link (deleted): the link's own event handles that (a VMAC of ours
    // is made again, docs/vmac.md); re-adding it could only fail.
    if (!this.deps.netlink.links().some((l) => l.ifindex === a.ifindex)) return;
    for (const inst of [...this.deps.instances()]) {
      if (inst.state !== 'MASTER' || !inst.tracksAddress(a.address, e.ifname)) continue;
      inst.log.debug({}, `Netlink reflector reports IP ${a.address} removed from ${e.ifname ?? a.ifindex}`);
      if (this.deps.vipDeleted === 'restore') await inst.restoreAddress(a.address, by);
      else await inst.handle({ type: 'vip-deleted-externally', address: a.address, nowMs: this.deps.clock.nowMs() });
    }
  }

  /** Drop a link's state unless a socket, an instance, a tracker or a VIP's `dev` names it. */
  #forgetLink(ifname: string): void {
    if (this.deps.sockets.has(ifname)) return;
    for (const i of this.deps.instances()) {
      if (i.ifname === ifname || i.spec.interface === ifname) return;
      if (i.snapshot.params.trackInterfaces.some((t) => t.name === ifname)) return;
      if (i.spec.vipEntries.some((v) => v.dev === ifname) || i.spec.evipEntries.some((v) => v.dev === ifname)) return;
    }
    this.deps.ifs.delete(ifname);
  }
}
