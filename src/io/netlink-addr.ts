/**
 * rtnetlink commands: list links and IPv4 addresses, add and remove addresses (VIPs/eVIPs) with
 * prefix, broadcast, scope and label, exactly as keepalived's `netlink_ipaddress()`
 * (docs/keepalived-behaviour.md 3.8): RTM_NEWADDR / RTM_DELADDR with IFA_LOCAL (+ IFA_ADDRESS), IFA_BROADCAST, IFA_LABEL.
 *
 * This socket only sends requests. Change notifications come from a separate socket
 * (netlink-events.ts), because the kernel never echoes a change to the socket that requested it;
 * the notification carries this socket's port id in nlmsg_pid, which is how the watcher tells our
 * own changes from someone else's (`commandPort`).
 */
import { fail, ok, toIoError, type IoResult } from './io-error.js';
import { formatIpv6At, parseIpv6 } from '../protocol/ipv6-address.js';
import {
  AF_INET,
  AF_INET6,
  NLM_F_CREATE,
  NLM_F_EXCL,
  addrKey,
  broadcastFor,
  ipv4ToBuffer,
  netlinkModule,
  scopeNumber,
  toAddrInfo,
  toAddrInfo6,
  toLinkInfo,
  type AddrInfo,
  type AddrSpec,
  type LinkInfo,
} from './netlink-codec.js';
import { buildRouteMessage, buildRuleMessage, type RouteSpec, type RuleSpec } from './netlink-route.js';

type RtSocket = ReturnType<NetlinkModule['createRtNetlink']>;
type NetlinkModule = typeof import('netlink');

export interface NetlinkCommandsOptions {
  /** Per-request timeout (ms); default 2000. A kernel answer normally takes well under 1 ms. */
  timeoutMs?: number;
}

/**
 * IPv6 address changes of ours whose notification has not been seen yet, at most (a bound on a
 * ledger that only leaks if the kernel dropped notifications; the oldest entry goes first).
 */
export const SELF6_LEDGER_MAX = 4096;

export class NetlinkCommands {
  #sock: RtSocket | undefined;
  readonly #timeoutMs: number;
  /**
   * IPv6 changes we made, by `op|addrKey`, until the watcher sees their notification. The kernel
   * sends IPv6 address notifications with nlmsg_pid 0 whoever asked (unlike IPv4's, which carry the
   * requester's port id), so the port id cannot tell our IPv6 changes from the kernel's or another
   * process's: this ledger does (`claimSelf6`).
   */
  readonly #self6 = new Map<string, number>();

  constructor(opts: NetlinkCommandsOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 2000;
  }

  /** Open the socket (in the calling thread's namespace). Idempotent; called by every command. */
  open(): IoResult<true> {
    if (this.#sock) return ok(true);
    try {
      const sock = netlinkModule().createRtNetlink();
      // NetlinkSocket re-emits socket errors; without a listener EventEmitter would throw.
      sock.socket.on('error', () => {});
      this.#sock = sock;
      return ok(true);
    } catch (err) {
      return fail(toIoError('socket(AF_NETLINK, NETLINK_ROUTE)', err));
    }
  }

  /** The open command socket (io/netlink-link.ts sends its link requests on it). */
  socket(): IoResult<RtSocket> {
    const o = this.open();
    return o.ok ? ok(this.#sock!) : o;
  }

  /**
   * True (once per change) when an IPv6 address event with port id 0 is the notification of a change
   * this socket made: the watcher reports it as `origin: 'self'`.
   */
  claimSelf6(op: 'new' | 'del', addr: { ifindex: number; address: string; prefixLen: number }): boolean {
    const k = `${op}|${addrKey(addr)}`;
    const n = this.#self6.get(k);
    if (n === undefined) return false;
    if (n <= 1) this.#self6.delete(k);
    else this.#self6.set(k, n - 1);
    return true;
  }

  /**
   * Forget every pending IPv6 change: after lost notifications (a resync) an entry could wait forever
   * and later take someone else's change of the same address for ours.
   */
  forgetSelf6(): void {
    this.#self6.clear();
  }

  #expect6(op: 'new' | 'del', spec: AddrSpec, delta: 1 | -1): void {
    if (!spec.address.includes(':')) return;
    const canonical = formatIpv6At(parseIpv6(spec.address));
    if (canonical === undefined) return;
    const k = `${op}|${addrKey({ ifindex: spec.ifindex, address: canonical, prefixLen: spec.prefixLen })}`;
    const n = (this.#self6.get(k) ?? 0) + delta;
    if (n <= 0) this.#self6.delete(k);
    else this.#self6.set(k, n);
    if (this.#self6.size > SELF6_LEDGER_MAX) this.#self6.delete(this.#self6.keys().next().value!);
  }

  /** Netlink port id of this socket: notifications of our own changes carry it in nlmsg_pid. */
  get commandPort(): number | undefined {
    return this.#sock?.socket.address().port;
  }

  async listLinks(): Promise<IoResult<LinkInfo[]>> {
    const o = this.open();
    if (!o.ok) return o;
    try {
      const msgs = await this.#sock!.getLinks(undefined, undefined, { timeout: this.#timeoutMs });
      return ok(msgs.map(toLinkInfo).filter((l): l is LinkInfo => l !== undefined));
    } catch (err) {
      return fail(toIoError('RTM_GETLINK', err));
    }
  }

  /** The host's IPv4 addresses, or with `family` 6 its IPv6 ones (AddrInfo `family: 6`). */
  async listAddresses(family: 4 | 6 = 4): Promise<IoResult<AddrInfo[]>> {
    const o = this.open();
    if (!o.ok) return o;
    try {
      const msgs = await this.#sock!.getAddresses({ family: family === 6 ? AF_INET6 : AF_INET }, undefined, { timeout: this.#timeoutMs });
      return ok(msgs.map(family === 6 ? toAddrInfo6 : toAddrInfo).filter((a): a is AddrInfo => a !== undefined));
    } catch (err) {
      return fail(toIoError('RTM_GETADDR', err));
    }
  }

  /**
   * Add an address. `exists: true` when it was already there (EEXIST is not an error for a VIP
   * we want present). ENODEV when the ifindex is gone; EINVAL for a bad label.
   */
  async addAddress(spec: AddrSpec): Promise<IoResult<{ exists: boolean }>> {
    const msg = buildAddrMessage(spec);
    if (!msg.ok) return msg;
    const o = this.open();
    if (!o.ok) return o;
    // Before the request: the notification may reach the watcher before the acknowledgement reaches us.
    this.#expect6('new', spec, 1);
    try {
      await this.#sock!.newAddress(msg.value.data, msg.value.attrs, { timeout: this.#timeoutMs, flags: NLM_F_CREATE | NLM_F_EXCL });
      return ok({ exists: false });
    } catch (err) {
      this.#expect6('new', spec, -1);
      const e = toIoError('RTM_NEWADDR', err);
      if (e.code === 'EEXIST') return ok({ exists: true });
      return fail(e);
    }
  }

  /**
   * Remove an address. `absent: true` when it was not there (EADDRNOTAVAIL), which is what a
   * caller removing a VIP wants anyway. Note the kernel removes every secondary of a subnet when
   * its primary goes (unless net.ipv4.conf.*.promote_secondaries).
   */
  async delAddress(spec: AddrSpec): Promise<IoResult<{ absent: boolean }>> {
    const msg = buildAddrMessage(spec, false);
    if (!msg.ok) return msg;
    const o = this.open();
    if (!o.ok) return o;
    this.#expect6('del', spec, 1);
    try {
      await this.#sock!.delAddress(msg.value.data, msg.value.attrs, { timeout: this.#timeoutMs });
      return ok({ absent: false });
    } catch (err) {
      this.#expect6('del', spec, -1);
      const e = toIoError('RTM_DELADDR', err);
      if (e.code === 'EADDRNOTAVAIL') return ok({ absent: true });
      return fail(e);
    }
  }

  /** `ip route add` (virtual_routes). `exists: true` on EEXIST. */
  async addRoute(spec: RouteSpec): Promise<IoResult<{ exists: boolean }>> {
    const msg = buildRouteMessage(spec);
    if (!msg.ok) return msg;
    const o = this.open();
    if (!o.ok) return o;
    try {
      await this.#sock!.newRoute(msg.value.data, msg.value.attrs, { timeout: this.#timeoutMs, flags: NLM_F_CREATE | NLM_F_EXCL });
      return ok({ exists: false });
    } catch (err) {
      const e = toIoError('RTM_NEWROUTE', err);
      return e.code === 'EEXIST' ? ok({ exists: true }) : fail(e);
    }
  }

  /** `ip route del`. `absent: true` on ESRCH (no such route). */
  async delRoute(spec: RouteSpec): Promise<IoResult<{ absent: boolean }>> {
    const msg = buildRouteMessage(spec);
    if (!msg.ok) return msg;
    const o = this.open();
    if (!o.ok) return o;
    try {
      await this.#sock!.delRoute(msg.value.data, msg.value.attrs, { timeout: this.#timeoutMs });
      return ok({ absent: false });
    } catch (err) {
      const e = toIoError('RTM_DELROUTE', err);
      return e.code === 'ESRCH' ? ok({ absent: true }) : fail(e);
    }
  }

  /** `ip rule add` (virtual_rules). `exists: true` on EEXIST. */
  async addRule(spec: RuleSpec): Promise<IoResult<{ exists: boolean }>> {
    const msg = buildRuleMessage(spec);
    if (!msg.ok) return msg;
    const o = this.open();
    if (!o.ok) return o;
    try {
      await this.#sock!.newRule(msg.value.data, msg.value.attrs, { timeout: this.#timeoutMs, flags: NLM_F_CREATE | NLM_F_EXCL });
      return ok({ exists: false });
    } catch (err) {
      const e = toIoError('RTM_NEWRULE', err);
      return e.code === 'EEXIST' ? ok({ exists: true }) : fail(e);
    }
  }

  /** `ip rule del`. `absent: true` on ENOENT. */
  async delRule(spec: RuleSpec): Promise<IoResult<{ absent: boolean }>> {
    const msg = buildRuleMessage(spec);
    if (!msg.ok) return msg;
    const o = this.open();
    if (!o.ok) return o;
    try {
      await this.#sock!.delRule(msg.value.data, msg.value.attrs, { timeout: this.#timeoutMs });
      return ok({ absent: false });
    } catch (err) {
      const e = toIoError('RTM_DELRULE', err);
      return e.code === 'ENOENT' ? ok({ absent: true }) : fail(e);
    }
  }

  close(): void {
    try {
      this.#sock?.socket.close();
    } catch {
      // already closed
    }
    this.#sock = undefined;
  }
}

type AddrData = NonNullable<Parameters<RtSocket['newAddress']>[0]>;
type AddrAttrs = NonNullable<Parameters<RtSocket['newAddress']>[1]>;

const badSpec = (message: string): IoResult<never> => fail({ kind: 'IoError', syscall: 'RTM_NEWADDR', errno: 22, code: 'EINVAL', message });

/** The lifetime that means "forever" in IFA_CACHEINFO (INFINITY_LIFE_TIME). */
export const IPV6_LIFETIME_FOREVER = 0xffffffff;

/**
 * An IPv6 AddrSpec as keepalived's netlink_ipaddress() sends it (docs/keepalived-behaviour.md 3.8; watched in
 * test/fixtures/ipv6-na/): ifaddrmsg with family AF_INET6, the prefix length, scope 0 (keepalived
 * refuses a scope for IPv6 and the kernel sets link scope for fe80::/10 itself) and the ifindex;
 * IFA_LOCAL; on add, IFA_FLAGS with IFA_F_NODAD unless `nodad: false`, IFA_CACHEINFO {preferred,
 * valid forever} unless the preferred lifetime is forever, IFA_ADDRESS for a peer. A delete carries
 * IFA_LOCAL only. `add` false builds the delete. keepalived sends the add without NLM_F_CREATE|EXCL;
 * the kernel creates a missing IPv6 address either way and answers EEXIST for one that is there, so
 * `addAddress`'s flags change nothing for IPv6.
 */
export function buildAddr6Message(spec: AddrSpec, add: boolean): IoResult<{ data: AddrData; attrs: AddrAttrs }> {
  const local = parseIpv6(spec.address);
  if (!local) return badSpec(`not an IPv6 address: ${spec.address}`);
  if (!Number.isInteger(spec.prefixLen) || spec.prefixLen < 0 || spec.prefixLen > 128)
    return badSpec(`bad prefix length ${spec.prefixLen}`);
  if (spec.broadcast !== undefined || spec.label !== undefined)
    return badSpec(`an IPv6 address has no broadcast or label: ${spec.address}`);
  const peer = spec.peer === undefined ? undefined : parseIpv6(spec.peer);
  if (spec.peer !== undefined && !peer) return badSpec(`not an IPv6 peer address: ${spec.peer}`);
  const pl = spec.preferredLft ?? (spec.prefixLen === 128 ? 0 : 'forever');
  const preferred = pl === 'forever' ? IPV6_LIFETIME_FOREVER : pl;
  if (!Number.isInteger(preferred) || preferred < 0 || preferred > IPV6_LIFETIME_FOREVER) return badSpec(`bad preferred_lft ${String(pl)}`);
  const attrs: AddrAttrs = { local };
  if (add) {
    if (preferred !== IPV6_LIFETIME_FOREVER)
      attrs.cacheInfo = { ifaPrefered: preferred, ifaValid: IPV6_LIFETIME_FOREVER, cstamp: 0, tstamp: 0 };
    if (spec.nodad !== false) attrs.flags = { nodad: true };
    if (peer) attrs.address = peer;
  }
  return ok({ data: { family: AF_INET6, prefixlen: spec.prefixLen, scope: 0, index: spec.ifindex }, attrs });
}

/** Validate an AddrSpec and turn it into the package's ifaddrmsg + attributes (IPv6: {@link buildAddr6Message}). */
export function buildAddrMessage(spec: AddrSpec, add = true): IoResult<{ data: AddrData; attrs: AddrAttrs }> {
  if (spec.address.includes(':')) return buildAddr6Message(spec, add);
  const bad = badSpec;
  const local = ipv4ToBuffer(spec.address);
  if (!local) return bad(`not an IPv4 address: ${spec.address}`);
  if (!Number.isInteger(spec.prefixLen) || spec.prefixLen < 0 || spec.prefixLen > 32) return bad(`bad prefix length ${spec.prefixLen}`);
  const brdText = spec.broadcast === '+' ? broadcastFor(spec.address, spec.prefixLen) : spec.broadcast;
  const brd = brdText === undefined ? undefined : ipv4ToBuffer(brdText);
  if (brdText !== undefined && !brd) return bad(`not an IPv4 broadcast address: ${brdText}`);
  const peer = spec.peer === undefined ? undefined : ipv4ToBuffer(spec.peer);
  if (spec.peer !== undefined && !peer) return bad(`not an IPv4 peer address: ${spec.peer}`);
  if (spec.label !== undefined && (Buffer.byteLength(spec.label) > 15 || spec.label.length === 0))
    return bad(`label must be 1..15 bytes: ${spec.label}`);
  const attrs: AddrAttrs = { local, address: peer ?? local };
  if (brd) attrs.broadcast = brd;
  if (spec.label !== undefined) attrs.label = spec.label;
  return ok({
    data: { family: AF_INET, prefixlen: spec.prefixLen, scope: scopeNumber(spec.scope), index: spec.ifindex },
    attrs,
  });
}
