/**
 * Link and IPv4 address change events from rtnetlink (groups RTNLGRP_LINK and RTNLGRP_IPV4_IFADDR,
 * and RTNLGRP_IPV6_IFADDR with the `ipv6` option),
 * with NEW vs DEL distinguished and a cache of the current state.
 *
 * NEW vs DEL: the `netlink` package's parsed rtnetlink messages drop the message type, so we listen
 * one layer down (NetlinkSocket 'message': raw nlmsghdr type + payload) and parse each payload with
 * the package's `rt.parseMessage(type, data)`. The type decides: RTM_NEWLINK / RTM_DELLINK /
 * RTM_NEWADDR / RTM_DELADDR. Re-listing is the fallback: after a receive-buffer overrun (ENOBUFS:
 * notifications were lost) we re-dump links and addresses, diff against the cache and emit the
 * difference as `synthetic` events.
 *
 * IPv6 address notifications carry port id 0 whoever asked (watched: ours and `ip addr del`'s alike),
 * so an IPv6 event is `self` when it matches a change our command socket made and has not seen
 * notified yet (`NetlinkCommands.claimSelf6`), else `kernel`: another process's IPv6 change cannot
 * be told from the kernel's own.
 *
 * Self-change blind spot: the kernel never notifies the socket that requested a change. We listen
 * on a socket of our own that makes no requests, so our own adds/deletes DO arrive here; each
 * notification's nlmsg_pid is the port id of the requesting socket (0 when the kernel itself acted,
 * e.g. secondaries removed with their primary, or addresses flushed with a deleted link), so an
 * event says whether it was ours (`origin: 'self'`), another process's (`'other'`, with its port
 * id: for iproute2 that is the `ip` process's pid) or the kernel's.
 *
 * Start-up ordering: we subscribe first, then dump, buffering events until the dump is in, then
 * replay the buffer over the dump, so no change between the two is lost.
 */
import type { ChangeOrigin, NetlinkEvent } from '../runtime/ports/net.js';
import type { IoError, IoResult } from './io-error.js';
import { fail, ok, toIoError } from './io-error.js';
import { silentLogger, type IoLogger } from './logger.js';
import { NetlinkCommands } from './netlink-addr.js';
import {
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  addrKey,
  netlinkModule,
  toAddrInfo,
  toAddrInfo6,
  toLinkInfo,
  type AddrInfo,
  type LinkInfo,
} from './netlink-codec.js';

// The events are the runtime's (runtime/ports/net.ts).
export type { ChangeOrigin, NetlinkEvent };

export interface NetlinkWatcherOptions {
  onEvent: (e: NetlinkEvent) => void;
  /** Called when the event socket failed for good (the caller may `start()` a new watcher). */
  onError?: (e: IoError) => void;
  logger?: IoLogger;
  /**
   * The command socket whose changes count as `origin: 'self'`. A watcher creates and owns one if
   * not given; share it with the address manager so its changes are recognised.
   */
  commands?: NetlinkCommands;
  /**
   * Also watch IPv6 addresses (RTNLGRP_IPV6_IFADDR, and the IPv6 dump): they enter the cache and the
   * events as AddrInfo with `family: 6`. Default false: IPv4 only, as before IPv6 instances existed.
   */
  ipv6?: boolean;
}

type RtSocket = ReturnType<(typeof import('netlink'))['createRtNetlink']>;
interface RawMsg {
  type: number;
  port: number;
  data: Buffer;
}

export class NetlinkWatcher {
  readonly #opts: NetlinkWatcherOptions;
  readonly #log: IoLogger;
  readonly commands: NetlinkCommands;
  readonly #ownsCommands: boolean;
  #sock: RtSocket | undefined;
  #links = new Map<number, LinkInfo>();
  #addrs = new Map<string, AddrInfo>();
  /** Events received while the initial (or resync) dump is in flight. */
  #buffer: RawMsg[] | undefined;
  #resyncing = false;
  #stopped = false;

  constructor(opts: NetlinkWatcherOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.commands = opts.commands ?? new NetlinkCommands();
    this.#ownsCommands = opts.commands === undefined;
  }

  /**
   * Subscribe, dump, fill the cache. Resolves once the cache is valid; events flow from then on.
   * Opens its sockets in the calling thread's network namespace (synchronously, before the first
   * await), so `inNetns(ns, () => watcher.start())` works.
   */
  start(): Promise<IoResult<true>> {
    if (this.#sock) return Promise.resolve(ok(true));
    const c = this.commands.open();
    if (!c.ok) return Promise.resolve(c);
    let sock: RtSocket;
    try {
      // ref: true keeps the daemon's event loop alive while it waits for events.
      // A 1 MiB receive buffer makes ENOBUFS (lost notifications) unlikely even on hosts with many VIPs.
      sock = netlinkModule().createRtNetlink({ ref: true, recvBufferSize: 1 << 20, sendBufferSize: 0 });
      sock.socket.on('error', (err) => this.#onSocketError(err));
      sock.socket.on('message', (msgs) => this.#onRaw(msgs as unknown as RawMsg[]));
      sock.addMembership('LINK');
      sock.addMembership('IPV4_IFADDR');
      if (this.#opts.ipv6 === true) sock.addMembership('IPV6_IFADDR');
    } catch (err) {
      return Promise.resolve(fail(toIoError('bind(RTNLGRP_LINK|RTNLGRP_IPV4_IFADDR|RTNLGRP_IPV6_IFADDR)', err)));
    }
    this.#sock = sock;
    this.#stopped = false;
    this.#buffer = [];
    return this.#dump(false);
  }

  /** Current links, from the cache (valid after start()). */
  links(): LinkInfo[] {
    return [...this.#links.values()];
  }

  link(ifnameOrIndex: string | number): LinkInfo | undefined {
    if (typeof ifnameOrIndex === 'number') return this.#links.get(ifnameOrIndex);
    for (const l of this.#links.values()) if (l.ifname === ifnameOrIndex) return l;
    return undefined;
  }

  /** Current IPv4 addresses (and IPv6 ones with the `ipv6` option), from the cache (valid after start()). */
  addresses(ifindex?: number): AddrInfo[] {
    const all = [...this.#addrs.values()];
    return ifindex === undefined ? all : all.filter((a) => a.ifindex === ifindex);
  }

  /** Re-list and reconcile now (also done automatically after ENOBUFS). */
  resync(): Promise<IoResult<true>> {
    if (!this.#sock || this.#resyncing) return Promise.resolve(ok(true));
    this.#buffer = [];
    return this.#dump(true);
  }

  stop(): void {
    this.#stopped = true;
    try {
      this.#sock?.socket.close();
    } catch {
      // already closed
    }
    this.#sock = undefined;
    this.#buffer = undefined;
    if (this.#ownsCommands) this.commands.close();
  }

  async #dump(emitDiff: boolean): Promise<IoResult<true>> {
    this.#resyncing = true;
    try {
      const [links, addrs] = [await this.commands.listLinks(), await this.commands.listAddresses()];
      const addrs6 = this.#opts.ipv6 === true ? await this.commands.listAddresses(6) : ok([]);
      if (this.#stopped) return ok(true);
      if (!links.ok) return links;
      if (!addrs.ok) return addrs;
      // A kernel without IPv6 (ipv6.disable=1) cannot list IPv6 addresses: IPv4 still works.
      const v6 = addrs6.ok ? addrs6.value : [];
      const newLinks = new Map(links.value.map((l) => [l.ifindex, l]));
      const newAddrs = new Map([...addrs.value, ...v6].map((a) => [addrKey(a), a]));
      if (emitDiff) {
        // Notifications were lost: a pending IPv6 change of ours may never be claimed (netlink-addr.ts).
        this.commands.forgetSelf6();
        this.#emitDiff(newLinks, newAddrs);
      }
      this.#links = newLinks;
      this.#addrs = newAddrs;
      const buffered = this.#buffer ?? [];
      this.#buffer = undefined;
      for (const m of buffered) this.#apply(m, false);
      return ok(true);
    } finally {
      this.#resyncing = false;
    }
  }

  #emitDiff(links: Map<number, LinkInfo>, addrs: Map<string, AddrInfo>): void {
    for (const [k, old] of this.#addrs) if (!addrs.has(k)) this.#emitAddr('del', old, 0, true);
    for (const [idx, old] of this.#links)
      if (!links.has(idx)) this.#emit({ kind: 'link', op: 'del', link: old, previous: old, synthetic: true });
    for (const [idx, l] of links) {
      const old = this.#links.get(idx);
      if (!old || JSON.stringify(old) !== JSON.stringify(l))
        this.#emit({ kind: 'link', op: 'new', link: l, previous: old, synthetic: true });
    }
    for (const [k, a] of addrs) if (!this.#addrs.has(k)) this.#emitAddr('new', a, 0, true);
  }

  #onRaw(msgs: RawMsg[]): void {
    for (const m of msgs) {
      if (this.#buffer) this.#buffer.push(m);
      else this.#apply(m, true);
    }
  }

  #apply(m: RawMsg, emit: boolean): void {
    let parsed: { kind: string };
    try {
      parsed = netlinkModule().rt.parseMessage(m.type, m.data);
    } catch (err) {
      this.#log.debug({ type: m.type, err: String(err) }, 'unparsable rtnetlink message');
      return;
    }
    switch (m.type) {
      case RTM_NEWLINK:
      case RTM_DELLINK: {
        const link = toLinkInfo(parsed);
        if (!link) return;
        const previous = this.#links.get(link.ifindex);
        if (m.type === RTM_NEWLINK) this.#links.set(link.ifindex, link);
        else {
          this.#links.delete(link.ifindex);
          // The kernel flushes a vanished link's addresses; it sends RTM_DELADDR for them too.
        }
        if (emit) this.#emit({ kind: 'link', op: m.type === RTM_NEWLINK ? 'new' : 'del', link, previous, synthetic: false });
        return;
      }
      case RTM_NEWADDR:
      case RTM_DELADDR: {
        const addr = toAddrInfo(parsed) ?? (this.#opts.ipv6 === true ? toAddrInfo6(parsed) : undefined);
        if (!addr) return;
        const k = addrKey(addr);
        if (m.type === RTM_NEWADDR) this.#addrs.set(k, addr);
        else this.#addrs.delete(k);
        if (emit) this.#emitAddr(m.type === RTM_NEWADDR ? 'new' : 'del', addr, m.port, false);
        return;
      }
      default:
        return;
    }
  }

  #emitAddr(op: 'new' | 'del', addr: AddrInfo, port: number, synthetic: boolean): void {
    const self = this.commands.commandPort;
    // IPv6 notifications carry port id 0 even for a request: our own are recognised by the ledger.
    const ours6 = addr.family === 6 && port === 0 && !synthetic && this.commands.claimSelf6(op, addr);
    const origin: ChangeOrigin = ours6 || (port !== 0 && port === self) ? 'self' : port === 0 ? 'kernel' : 'other';
    this.#emit({ kind: 'addr', op, addr, ifname: this.#links.get(addr.ifindex)?.ifname, origin, port, synthetic });
  }

  #emit(e: NetlinkEvent): void {
    try {
      this.#opts.onEvent(e);
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'netlink event handler threw');
    }
  }

  #onSocketError(err: unknown): void {
    const e = toIoError('recvmsg(NETLINK_ROUTE)', err);
    if (e.code === 'ENOBUFS') {
      // RFC-free but vital: notifications were dropped; rebuild the picture from a dump.
      this.#log.warn({ errno: e.code }, 'netlink receive buffer overrun: re-listing links and addresses');
      void this.resync();
      return;
    }
    this.#log.warn({ errno: e.code, syscall: e.syscall }, `netlink event socket error: ${e.message}`);
    this.#opts.onError?.(e);
  }
}
