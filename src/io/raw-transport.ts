/**
 * VRRP over raw IPv4 protocol 112 (RFC 3768 5.2.4), one socket per interface, with `raw-socket`.
 *
 * Design choice, IP_HDRINCL: we send complete IPv4 packets (built by the codec's
 * `buildIpv4Packet`, exactly as keepalived's `vrrp_build_ip4()`: TOS 0xc0, TTL 255 or
 * `unicast_ttl`, ID = per-instance counter, DF clear, proto 112) rather than letting the kernel
 * write the header from IP_TTL / IP_TOS / IP_MULTICAST_TTL. Reasons:
 *  - byte-identical adverts to keepalived (the ID counter in particular: without HDRINCL the
 *    kernel picks the ID), which the interop and golden-capture tests compare;
 *  - the source address is per instance (`mcast_src_ip`, `unicast_src_ip`) and TTL is per instance
 *    (`unicast_ttl`): with HDRINCL one socket serves every instance on the interface with no
 *    per-send setsockopt and no bind() (raw-socket cannot bind());
 *  - the kernel still fills the IP checksum and total length (and the ID when it is 0).
 *
 * One socket per interface does both directions (keepalived uses a send and a receive socket per
 * (interface, source) pair, and must set SO_RCVBUF=0 on the send one so it does not queue copies of
 * every received advert; with one socket there is nothing to discard). Options, in order:
 *  - SO_BINDTODEVICE(ifname): receive only what arrived on this interface; send only out of it.
 *  - IP_HDRINCL=1 (see above).
 *  - IP_MULTICAST_ALL=0: deliver only groups this socket joined, not every group the host joined.
 *  - IP_MULTICAST_IF(ip_mreqn{ifindex}): raw-socket cannot send multicast without it.
 *  - IP_MULTICAST_LOOP=0: our own multicast adverts are not looped back to us (or to other sockets
 *    on this host: two daemons in one namespace would not see each other; namespaces are separate
 *    hosts, which is what we test with).
 *  - IP_ADD_MEMBERSHIP(ip_mreqn{224.0.0.18, ifindex}) per group (224.0.0.18 or `mcast_dst_ip`).
 * raw-socket's setOption(level, name, buffer, length) passes any option straight to setsockopt,
 * so koffi is not needed here. Unicast adverts addressed to one of our addresses arrive on the same
 * socket; the receiver demuxes by the destination in the IP header (keepalived binds a socket per
 * unicast source instead).
 *
 * The socket is tied to the interface's ifindex: if the interface is deleted and re-created, call
 * `open()` again (it notices the new ifindex and rebuilds the socket); a socket bound to a vanished
 * ifindex receives nothing. Link down/up keeps the socket and its memberships working.
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import type { ReceivedPacket } from '../runtime/ports/packets.js';
import { fail, ok, toIoError, type IoError, type IoResult } from './io-error.js';
import { loadLibc } from './libc.js';
import { meminfoWord, SK_MEMINFO_DROPS, SK_MEMINFO_RMEM_ALLOC, SK_MEMINFO_VARS, SO_MEMINFO } from './meminfo.js';
import { silentLogger, type IoLogger } from './logger.js';
import { monotonicMs, monotonicPreciseMs } from './system-clock.js';
import { IPPROTO_VRRP, VRRP_MULTICAST_GROUP } from '../protocol/constants.js';
import { isIpv4MulticastByte, parseIpv4 } from '../protocol/ipv4-address.js';

/**
 * Sends waiting for a full socket buffer to drain (EAGAIN -> raw-socket's queue, POLLOUT) at most
 * per interface. A link whose driver stopped taking packets would otherwise queue one advert per
 * instance per advert interval for as long as it stays stuck; an advert older than its interval is
 * worthless anyway. Past the bound a send fails at once with ENOBUFS (counted as a send error).
 * 4,096 is four bursts of 1,000 instances on one interface.
 */
export const RAW_SEND_QUEUE_MAX = 4096;

/**
 * Packets read per poll wake-up at most. raw-socket reads one datagram per wake-up of its
 * (level-triggered) poll, so a burst of N adverts costs N event-loop turns; the transport instead
 * reads until the socket's receive queue is empty (SO_MEMINFO says so), up to this many, then lets
 * the loop serve timers and other sockets (a flood cannot starve them).
 */
export const RX_DRAIN_MAX = 64;

/**
 * A receive coalescing window measured for issue 16 (bench/rx-floor.ts `floor-coalesce`): it cut a
 * reader's wake-ups 50x (5,610 adverts in 110 wake-ups) but not its CPU, so `vrrpd run` does not
 * use it (BENCHMARKS.md "Receive cost"); kept as an option of the transport for the benchmark.
 */
export const RX_COALESCE_MS = 10;

// <linux/in.h>, <asm-generic/socket.h>
const SOL_SOCKET = 1;
const IPPROTO_IP = 0;
const SO_BINDTODEVICE = 25;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_DROP_MEMBERSHIP = 36;
const IP_MULTICAST_ALL = 49;
/** The kernel's receive drops are logged at most this often per socket. */
const KERNEL_DROPS_LOG_MS = 10_000;

// A received packet is the runtime's type (runtime/ports/packets.ts); `packet` is our own copy.
export type { ReceivedPacket };

export interface RawTransportOptions {
  /** Called for every IPv4 packet with protocol 112 that arrived on an open interface. */
  onPacket: (p: ReceivedPacket) => void;
  /** Called when an interface socket failed and was closed (re-open it, or FAULT the instances). */
  onSocketError?: (ifname: string, error: IoError) => void;
  logger?: IoLogger;
  /** Receive buffer per socket (bytes); default 2048 (a VRRPv2 advert is at most 20 + 8 + 4*255 + 8). */
  bufferSize?: number;
  /**
   * Receive coalescing window (ms, default 0 = none): after each read wake-up the socket is not
   * polled for this long, and what arrived meanwhile is read in one wake-up. Each packet's `rxMs` is
   * then its read time, up to this much after its arrival. Needs raw-socket's pauseRecv/resumeRecv.
   */
  rxCoalesceMs?: number;
  /** Tests: the raw-socket module (default: `require('raw-socket')`). */
  rawSocketModule?: RawSocketModule;
}

export interface OpenOptions {
  /** ifindex if the caller already knows it (from netlink); otherwise if_nametoindex(ifname). */
  ifindex?: number;
  /** Multicast groups to join on this interface; default [224.0.0.18]. [] for unicast only. */
  groups?: readonly string[];
}

export interface InterfaceSocketInfo {
  readonly ifname: string;
  readonly ifindex: number;
  readonly groups: readonly string[];
  readonly rxPackets: number;
  /** Poll wake-ups that read packets (rxPackets / rxWakeups = packets drained per wake-up). */
  readonly rxWakeups: number;
  /** The kernel's drop counter of the socket (SO_MEMINFO: receive buffer full), or null if unreadable. */
  readonly kernelDrops: number | null;
  readonly txPackets: number;
  readonly txErrors: number;
}

/**
 * raw-socket 1.x's native handle (index.js `Socket.wrap`): recv() is one recvfrom(2) on the
 * non-blocking socket that calls back before returning and throws on error (EAGAIN when empty);
 * getOption() is getsockopt(2) into the buffer; it emits 'recvReady' when the poll finds the socket
 * readable (raw-socket's own listener reads one packet and emits 'message').
 */
export interface RawSocketWrap {
  send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): unknown;
  recv?(buf: Buffer, cb: (buf: Buffer, bytes: number, source: string) => void): unknown;
  getOption?(level: number, option: number, value: Buffer, length: number): number;
  on?(ev: 'recvReady', cb: () => void): unknown;
  removeAllListeners?(ev: 'recvReady'): unknown;
}

/** Minimal typing of the parts of raw-socket we use. */
export interface RawSocket {
  /**
   * raw-socket 1.x internals (index.js): the native handle, whose send() is a synchronous
   * sendto(2) on the non-blocking socket (throws on error, calls back before returning), and the
   * queue that raw-socket's own send() drains when the poll reports the socket writable.
   */
  readonly wrap?: RawSocketWrap;
  readonly requests?: unknown[];
  /** raw-socket's receive buffer (the size given to createSocket). */
  readonly buffer?: Buffer;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  send(buf: Buffer, offset: number, length: number, address: string, cb: (err: Error | null, bytes: number) => void): unknown;
  on(ev: 'message', cb: (buf: Buffer, source: string) => void): unknown;
  on(ev: 'error', cb: (err: Error) => void): unknown;
  on(ev: 'close', cb: () => void): unknown;
  close(): unknown;
  /** raw-socket: stop / restart polling for readability (uv_poll_start without / with UV_READABLE). */
  pauseRecv?(): unknown;
  resumeRecv?(): unknown;
}
export interface RawSocketModule {
  createSocket(opts: { protocol: number; bufferSize?: number }): RawSocket;
}

let rawSocketModule: RawSocketModule | undefined;
function rawSocket(): RawSocketModule {
  rawSocketModule ??= createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  return rawSocketModule;
}

interface IfSocket {
  readonly ifname: string;
  readonly ifindex: number;
  readonly groups: string[];
  readonly sock: RawSocket;
  closed: boolean;
  rxPackets: number;
  rxWakeups: number;
  /** Last SK_MEMINFO_DROPS read, and what the log has reported of it. */
  kernelDrops: number | null;
  kernelDropsLogged: number;
  kernelDropsLogMs: number;
  txPackets: number;
  txErrors: number;
  /** Sends queued in raw-socket whose callback has not run yet; settled with an error on close. */
  readonly pending: Set<(r: IoResult<number>) => void>;
}

function newIfSocket(ifname: string, ifindex: number, sock: RawSocket): IfSocket {
  return {
    ifname,
    ifindex,
    groups: [],
    sock,
    closed: false,
    rxPackets: 0,
    rxWakeups: 0,
    kernelDrops: null,
    kernelDropsLogged: 0,
    kernelDropsLogMs: -Infinity,
    txPackets: 0,
    txErrors: 0,
    pending: new Set(),
  };
}

/** struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; } */
function ipMreqn(group: Buffer | undefined, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  group?.copy(b, 0);
  if (endianness() === 'LE') b.writeInt32LE(ifindex, 8);
  else b.writeInt32BE(ifindex, 8);
  return b;
}

export class RawVrrpTransport {
  readonly #opts: RawTransportOptions;
  readonly #log: IoLogger;
  readonly #ifs = new Map<string, IfSocket>();

  constructor(opts: RawTransportOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
  }

  /**
   * Open (or keep) the socket for `ifname`. Idempotent: same ifindex and groups -> the existing
   * socket; a different ifindex (interface re-created) -> the socket is rebuilt. Opens in the
   * calling thread's network namespace. Errors: ENODEV (no such interface), EPERM (not root), ...
   */
  open(ifname: string, opts: OpenOptions = {}): IoResult<InterfaceSocketInfo> {
    const groups = [...(opts.groups ?? [VRRP_MULTICAST_GROUP])];
    for (const g of groups) {
      const b = parseIpv4(g, { leadingZeros: true });
      if (!b || !isIpv4MulticastByte(b[0]!)) {
        return fail({
          kind: 'IoError',
          syscall: 'setsockopt(IP_ADD_MEMBERSHIP)',
          errno: 22,
          code: 'EINVAL',
          message: `not an IPv4 multicast group: ${g}`,
          ifname,
        });
      }
    }
    let ifindex = opts.ifindex;
    if (ifindex === undefined) {
      try {
        ifindex = loadLibc().if_nametoindex(ifname);
      } catch (err) {
        return fail(toIoError('if_nametoindex', err, ifname));
      }
      if (!ifindex)
        return fail({ kind: 'IoError', syscall: 'if_nametoindex', errno: 19, code: 'ENODEV', message: 'No such device', ifname });
    }
    const existing = this.#ifs.get(ifname);
    if (existing && !existing.closed && existing.ifindex === ifindex) {
      // Same socket; reconcile the group list.
      for (const g of groups)
        if (!existing.groups.includes(g)) {
          const r = this.#membership(existing, g, true);
          if (!r.ok) return r;
        }
      for (const g of [...existing.groups]) if (!groups.includes(g)) this.#membership(existing, g, false);
      return ok(this.#info(existing));
    }
    if (existing) this.close(ifname);

    let sock: RawSocket;
    try {
      sock = (this.#opts.rawSocketModule ?? rawSocket()).createSocket({
        protocol: IPPROTO_VRRP,
        bufferSize: this.#opts.bufferSize ?? 2048,
      });
    } catch (err) {
      return fail(toIoError('socket(AF_INET, SOCK_RAW, 112)', err, ifname));
    }
    const s = newIfSocket(ifname, ifindex, sock);
    // Listeners first: raw-socket emits 'error' on poll failures, and an EventEmitter 'error'
    // with no listener would throw.
    sock.on('error', (err) => this.#onSocketError(s, err));
    sock.on('close', () => this.#onSocketClosed(s));
    sock.on('message', (buf) => this.#onMessage(s, buf));
    this.#takeOverReceive(s);

    const err = socketOptions(sock, ifname, ifindex);
    if (err) {
      s.closed = true;
      sock.close();
      return fail(err);
    }
    this.#ifs.set(ifname, s);
    for (const g of groups) {
      const r = this.#membership(s, g, true);
      if (!r.ok) {
        this.close(ifname);
        return r;
      }
    }
    this.#log.debug({ ifname, ifindex, groups }, 'VRRP socket opened');
    return ok(this.#info(s));
  }

  #membership(s: IfSocket, group: string, join: boolean): IoResult<true> {
    const name = join ? 'IP_ADD_MEMBERSHIP' : 'IP_DROP_MEMBERSHIP';
    try {
      s.sock.setOption(
        IPPROTO_IP,
        join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP,
        ipMreqn(parseIpv4(group, { leadingZeros: true }), s.ifindex),
        12,
      );
    } catch (err) {
      return fail(toIoError(`setsockopt(${name} ${group})`, err, s.ifname));
    }
    if (join) s.groups.push(group);
    else s.groups.splice(s.groups.indexOf(group), 1);
    return ok(true);
  }

  /**
   * Send one complete IPv4 packet (header included; destination taken from bytes 16..19) out of
   * `ifname`, synchronously when the socket can take it (the packet has left when this returns;
   * only the promise settles later). Resolves with the byte count or an IoError (ENETDOWN when the link is down,
   * ENETUNREACH / EHOSTUNREACH for an unroutable unicast peer, ...). Never rejects.
   * For unicast, call once per peer with a packet addressed to that peer.
   */
  send(ifname: string, ipPacket: Uint8Array): Promise<IoResult<number>> {
    const s = this.#ifs.get(ifname);
    if (!s || s.closed) {
      return Promise.resolve(
        fail({ kind: 'IoError', syscall: 'sendto', errno: 9, code: 'EBADF', message: 'interface socket not open', ifname }),
      );
    }
    if (ipPacket.length < 20 || ipPacket[0]! >> 4 !== 4) {
      return Promise.resolve(
        fail({ kind: 'IoError', syscall: 'sendto', errno: 22, code: 'EINVAL', message: 'not an IPv4 packet', ifname }),
      );
    }
    const dst = `${ipPacket[16]}.${ipPacket[17]}.${ipPacket[18]}.${ipPacket[19]}`;
    if (s.pending.size >= RAW_SEND_QUEUE_MAX) {
      s.txErrors++;
      return Promise.resolve(
        fail({
          kind: 'IoError',
          syscall: 'sendto',
          errno: 105,
          code: 'ENOBUFS',
          message: `${RAW_SEND_QUEUE_MAX} sends already waiting for the socket (RAW_SEND_QUEUE_MAX)`,
          ifname,
        }),
      );
    }
    const buf = Buffer.from(ipPacket.buffer, ipPacket.byteOffset, ipPacket.byteLength);
    return new Promise((resolve) => {
      const settle = (r: IoResult<number>): void => {
        if (!s.pending.delete(settle)) return;
        if (r.ok) s.txPackets++;
        else {
          s.txErrors++;
          this.#log.debug({ ifname, dst, errno: r.error.code }, 'VRRP send failed');
        }
        resolve(r);
      };
      s.pending.add(settle);
      // Fast path: nothing queued -> sendto(2) now, inside this call, like keepalived's adverts.
      // raw-socket's send() would only queue it until the next poll turn, so a netlink request
      // issued after the advert (becoming MASTER: the VIPs) reached the kernel before it. A full
      // socket buffer (EAGAIN) falls back to the queue, which waits for POLLOUT.
      const wrap = s.sock.wrap;
      if (wrap !== undefined && s.sock.requests?.length === 0) {
        try {
          wrap.send(buf, 0, buf.length, dst, (bytes) => settle(ok(bytes)));
          return;
        } catch (err) {
          const e = toIoError('sendto', err, ifname);
          if (e.code !== 'EAGAIN' && e.code !== 'EWOULDBLOCK') {
            settle(fail(e));
            return;
          }
        }
      }
      try {
        s.sock.send(buf, 0, buf.length, dst, (err, bytes) => {
          settle(err ? fail(toIoError('sendto', err, ifname)) : ok(bytes));
        });
      } catch (err) {
        settle(fail(toIoError('sendto', err, ifname)));
      }
    });
  }

  /** Close one interface's socket (pending sends resolve with ECANCELED). */
  close(ifname: string): void {
    const s = this.#ifs.get(ifname);
    if (!s) return;
    this.#ifs.delete(ifname);
    if (!s.closed) {
      s.closed = true;
      try {
        s.sock.close();
      } catch {
        // already closed by raw-socket after an error
      }
    }
    this.#cancelPending(s);
  }

  /** Close every socket. The transport can be reused with open() afterwards. */
  closeAll(): void {
    for (const ifname of [...this.#ifs.keys()]) this.close(ifname);
  }

  /** Open interfaces and their counters (for status). */
  interfaces(): InterfaceSocketInfo[] {
    return [...this.#ifs.values()].map((s) => this.#info(s));
  }

  #info(s: IfSocket): InterfaceSocketInfo {
    if (!s.closed) this.#readMeminfo(s);
    return {
      ifname: s.ifname,
      ifindex: s.ifindex,
      groups: [...s.groups],
      rxPackets: s.rxPackets,
      rxWakeups: s.rxWakeups,
      kernelDrops: s.kernelDrops,
      txPackets: s.txPackets,
      txErrors: s.txErrors,
    };
  }

  /**
   * Replace raw-socket's one-packet-per-wake-up reader with #drain (when the module is raw-socket
   * 1.x with the native handle's recv/getOption; test doubles keep the 'message' path).
   */
  #takeOverReceive(s: IfSocket): void {
    const w = s.sock.wrap;
    const buf = s.sock.buffer;
    if (w?.recv === undefined || w.getOption === undefined || w.on === undefined || w.removeAllListeners === undefined || !buf) return;
    const recv = w.recv.bind(w);
    const onRecv = (b: Buffer, bytes: number): void => this.#onMessage(s, b.subarray(0, bytes));
    w.removeAllListeners('recvReady');
    w.on('recvReady', () => this.#drain(s, recv, buf, onRecv));
  }

  /** One poll wake-up: read until the receive queue is empty (at most RX_DRAIN_MAX packets). */
  #drain(s: IfSocket, recv: NonNullable<RawSocketWrap['recv']>, buf: Buffer, onRecv: (b: Buffer, bytes: number) => void): void {
    if (s.closed) return;
    s.rxWakeups++;
    for (let n = 1; ; n++) {
      try {
        recv(buf, onRecv);
      } catch (err) {
        const e = toIoError('recvfrom', err, s.ifname);
        if (e.code !== 'EAGAIN' && e.code !== 'EWOULDBLOCK') this.#onSocketError(s, err instanceof Error ? err : new Error(String(err)));
        break;
      }
      if (s.closed || n >= RX_DRAIN_MAX || this.#readMeminfo(s) === 0) break;
    }
    this.#coalesce(s);
  }

  /**
   * RawTransportOptions.rxCoalesceMs: stop polling the socket for that long after a wake-up, so
   * packets arriving meanwhile are read together by the next one (one wake-up per window instead
   * of one per packet).
   */
  #coalesce(s: IfSocket): void {
    const ms = this.#opts.rxCoalesceMs ?? 0;
    const sock = s.sock;
    if (ms <= 0 || s.closed || sock.pauseRecv === undefined || sock.resumeRecv === undefined) return;
    sock.pauseRecv();
    setTimeout(() => {
      if (!s.closed) sock.resumeRecv?.();
    }, ms).unref();
  }

  /** SO_MEMINFO: the bytes waiting in the receive queue (0: empty; -1: unreadable); notes the kernel's drops. */
  #readMeminfo(s: IfSocket): number {
    const w = s.sock.wrap;
    if (w?.getOption === undefined) return -1;
    const mi = this.#meminfo;
    try {
      w.getOption(SOL_SOCKET, SO_MEMINFO, mi, mi.length);
    } catch {
      return -1;
    }
    const drops = meminfoWord(mi, mi.length, SK_MEMINFO_DROPS) ?? 0;
    if (s.kernelDrops !== drops) {
      s.kernelDrops = drops;
      // Logged at most every KERNEL_DROPS_LOG_MS (a flood would otherwise log on every wake-up).
      const now = monotonicMs();
      if (drops > s.kernelDropsLogged && now - s.kernelDropsLogMs >= KERNEL_DROPS_LOG_MS) {
        s.kernelDropsLogMs = now;
        this.#log.warn(
          { ifname: s.ifname, kernelDrops: drops, since: drops - s.kernelDropsLogged },
          `VRRP socket on ${s.ifname}: the kernel dropped ${drops - s.kernelDropsLogged} packet(s) (receive buffer full; ${drops} in all)`,
        );
        s.kernelDropsLogged = drops;
      }
    }
    return meminfoWord(mi, mi.length, SK_MEMINFO_RMEM_ALLOC) ?? -1;
  }

  readonly #meminfo = Buffer.alloc(SK_MEMINFO_VARS * 4);

  #onMessage(s: IfSocket, buf: Buffer): void {
    if (s.closed) return;
    s.rxPackets++;
    // raw-socket hands out a slice of its one receive buffer: copy before the next read reuses it.
    const packet = Buffer.from(buf);
    try {
      this.#opts.onPacket({ packet, ifindex: s.ifindex, ifname: s.ifname, rxMs: monotonicPreciseMs() });
    } catch (err) {
      // A throwing consumer is a bug, but it must not take the socket down with it.
      this.#log.warn({ ifname: s.ifname, err: String(err) }, 'VRRP packet handler threw');
    }
  }

  #onSocketError(s: IfSocket, err: Error): void {
    const e = toIoError('recvfrom', err, s.ifname);
    this.#log.warn({ ifname: s.ifname, errno: e.code, syscall: e.syscall }, `VRRP socket error: ${e.message}`);
    // raw-socket closes the socket itself after a poll error; report only a real loss.
    if (s.closed || this.#ifs.get(s.ifname) !== s) return;
    queueMicrotask(() => {
      if (s.closed) {
        this.#ifs.delete(s.ifname);
        this.#opts.onSocketError?.(s.ifname, e);
      }
    });
  }

  #onSocketClosed(s: IfSocket): void {
    s.closed = true;
    this.#cancelPending(s);
  }

  #cancelPending(s: IfSocket): void {
    for (const settle of [...s.pending]) {
      settle(
        fail({
          kind: 'IoError',
          syscall: 'sendto',
          errno: 125,
          code: 'ECANCELED',
          message: 'socket closed before the send completed',
          ifname: s.ifname,
        }),
      );
    }
  }
}

/**
 * The options of a new VRRP socket, in order: bound to the interface, IP_HDRINCL (vrrpd writes the
 * IP header), no multicast from other interfaces' groups, multicast out of this interface, no loop
 * back. The first failure, or undefined when all are set.
 */
function socketOptions(sock: RawSocket, ifname: string, ifindex: number): IoError | undefined {
  const step = (name: string, fn: () => void): IoError | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return toIoError(`setsockopt(${name})`, err, ifname);
    }
  };
  return (
    step('SO_BINDTODEVICE', () => {
      const name = Buffer.from(`${ifname}\0`, 'utf8');
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    }) ??
    step('IP_HDRINCL', () => sock.setOption(IPPROTO_IP, IP_HDRINCL, 1)) ??
    step('IP_MULTICAST_ALL', () => sock.setOption(IPPROTO_IP, IP_MULTICAST_ALL, 0)) ??
    step('IP_MULTICAST_IF', () => sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn(undefined, ifindex), 12)) ??
    step('IP_MULTICAST_LOOP', () => sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0))
  );
}
