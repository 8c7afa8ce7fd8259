/**
 * VRRP over IPv6 (RFC 5798 5.1.2): raw AF_INET6 sockets for protocol 112, opened as keepalived
 * 2.2.7 opens them (`open_vrrp_send_socket()` / `open_vrrp_read_socket()` in vrrp.c, the
 * `if_setsockopt_*()` helpers in vrrp_if.c; watched with strace in test/fixtures/ipv6-na/).
 *
 * Like keepalived's socket pool, one channel per (interface, multicast group or unicast source),
 * each with a receive socket and a send socket:
 *  - receive: IPV6_MULTICAST_ALL=0; multicast: IPV6_ADD_MEMBERSHIP(group, ifindex) and bind() to the
 *    group (so unicast adverts are not seen), unicast: bind() to `unicast_src_ip`;
 *    IPV6_RECVHOPLIMIT and IPV6_RECVPKTINFO (the hop limit and destination come as ancillary data:
 *    an IPv6 raw socket has no IP header); SO_BINDTODEVICE; IPV6_CHECKSUM=6 (the kernel verifies
 *    the VRRP checksum and drops bad ones before they reach us, as it does for keepalived);
 *  - send: SO_RCVBUF=0, IPV6_MULTICAST_ALL=0, IPV6_CHECKSUM=6 (the kernel writes the checksum at
 *    offset 6 over the pseudo-header); multicast: IPV6_MULTICAST_HOPS=255; SO_BINDTODEVICE;
 *    multicast: IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP=0; IPV6_TCLASS=0xc0; a drop-all socket
 *    filter so it queues nothing. Each send is sendmsg() with IPV6_PKTINFO (source, ifindex), plus
 *    IPV6_HOPLIMIT when a unicast hop limit is configured, and MSG_DONTROUTE for multicast.
 *
 * The receive socket is read with recvmsg(2) through koffi, woken by libuv (io/uv-poll.ts) on the
 * main thread. Nothing is opened at import or construction; sockets belong to the network namespace
 * of the thread that called `open()`.
 */
import { monotonicPreciseMs } from './system-clock.js';
import { errnoIoError, fail, ok, type IoError, type IoResult } from './io-error.js';
import { silentLogger, type IoLogger } from './logger.js';
import { ifNameToIndex } from './packet-socket.js';
import { watchReadable, type FdWatch } from './uv-poll.js';
import {
  IPPROTO_IPV6,
  IPV6_ADD_MEMBERSHIP,
  IPV6_CHECKSUM,
  IPV6_MULTICAST_ALL,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_RECVHOPLIMIT,
  IPV6_RECVPKTINFO,
  IPV6_TCLASS,
  MSG_DONTROUTE,
  SOL_SOCKET,
  SO_ATTACH_FILTER,
  SO_BINDTODEVICE,
  SO_RCVBUF,
  dropAllFilter,
  ipv6Mreq,
  nativeSocket6,
  socketDrops,
  type MsgBuffers,
  type NativeSocket6,
} from './socket6-native.js';
import { isIpv6LinkLocalBytes, isIpv6MulticastByte, parseIpv6 } from '../protocol/ipv6-address.js';
import type { ReceivedPacket6, SocketStats, Vrrp6ChannelSpec, Vrrp6Send, Vrrp6Sockets } from '../runtime/ports/packets.js';
import { libc } from '../util/libc.js';
import { endianness } from 'node:os';

export type { ReceivedPacket6, Vrrp6ChannelSpec, Vrrp6Send };

/** One setsockopt/bind call: its name for the error, and the call (the C result). */
type SocketStep = readonly [string, () => number];

/** RFC 5798 5.1.2.3: the IPv6 multicast address for VRRP. */
export const VRRP_MULTICAST_GROUP6 = 'ff02::12';
/** The VRRP checksum's offset in the message, for IPV6_CHECKSUM (RFC 5798 5.2). */
const VRRP_CHECKSUM_OFFSET = 6;
/** RFC 5798 5.1.2.3 / keepalived's if_setsockopt_mcast_hops(): multicast adverts go out with hop limit 255. */
const VRRP_HOP_LIMIT = 255;
/** keepalived's if_setsockopt_priority() for IPv6: traffic class 0xc0 (DSCP CS6, network control). */
const VRRP_TCLASS = 0xc0;
/**
 * Receive buffer per channel (bytes). A v3 advert with 255 IPv6 addresses is 8 + 16 * 255 = 4088
 * bytes; a longer datagram is delivered cut short with `truncated` (the checks then drop it).
 */
export const VRRP6_RX_BUFFER = 8192;
/** Largest message `send` takes (a jumbo frame's payload); longer ones fail with EMSGSIZE. */
export const VRRP6_TX_MAX = 9000;
/**
 * Datagrams read per readiness callback at most; the rest wait for the next loop turn (libuv polls
 * level-triggered), so a flood on one interface cannot hold the event loop.
 */
export const VRRP6_RX_BURST_MAX = 64;

export interface Vrrp6TransportOptions {
  onPacket?: (p: ReceivedPacket6) => void;
  /** A channel's receive socket failed and was closed (re-open it, or FAULT the instances). */
  onSocketError?: (key: string, error: IoError) => void;
  logger?: IoLogger;
  /** Tests: the native calls (default: libc through koffi). */
  native?: NativeSocket6 | null;
}

interface Channel {
  readonly key: string;
  readonly ifname: string;
  readonly ifindex: number;
  readonly multicast: boolean;
  readonly rxFd: number;
  readonly txFd: number;
  readonly rx: MsgBuffers;
  readonly tx: MsgBuffers;
  watch: FdWatch | undefined;
  closed: boolean;
  rxPackets: number;
  txPackets: number;
  txErrors: number;
}

/** The channel key for a spec: `ifname` and the unicast source or the group. */
export function channelKey(spec: Vrrp6ChannelSpec): string {
  return `${spec.ifname}|${spec.unicastSrc ?? spec.group ?? VRRP_MULTICAST_GROUP6}`;
}

const einval = (syscall: string, message: string, ifname?: string): IoError => ({
  kind: 'IoError',
  syscall,
  errno: 22,
  code: 'EINVAL',
  message,
  ifname,
});

export class Vrrp6Transport implements Vrrp6Sockets {
  readonly #opts: Vrrp6TransportOptions;
  readonly #log: IoLogger;
  readonly #channels = new Map<string, Channel>();
  #handler: ((p: ReceivedPacket6) => void) | undefined;

  constructor(opts: Vrrp6TransportOptions = {}) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#handler = opts.onPacket;
  }

  setHandler(h: (p: ReceivedPacket6) => void): void {
    this.#handler = h;
  }

  #native(): NativeSocket6 | null {
    return this.#opts.native !== undefined ? this.#opts.native : nativeSocket6();
  }

  /**
   * Open (or keep) the channel for `spec`. Idempotent for the same key and ifindex; a new ifindex
   * (interface re-created) rebuilds it. Errors as values: EINVAL (not a multicast group, not an
   * IPv6 address), ENODEV, EPERM (not root), EADDRNOTAVAIL (unicast source not on the host).
   */
  open(spec: Vrrp6ChannelSpec): IoResult<{ key: string; ifindex: number }> {
    const key = channelKey(spec);
    const { ifname } = spec;
    const local = parseIpv6(spec.unicastSrc ?? spec.group ?? VRRP_MULTICAST_GROUP6);
    const multicast = spec.unicastSrc === undefined;
    if (local === undefined) return fail(einval('bind', `not an IPv6 address: ${spec.unicastSrc ?? spec.group}`, ifname));
    if (multicast !== isIpv6MulticastByte(local[0] ?? 0))
      return fail(
        einval(
          'bind',
          `${multicast ? 'not an IPv6 multicast group' : 'a multicast unicast_src_ip'}: ${spec.group ?? spec.unicastSrc}`,
          ifname,
        ),
      );
    let ifindex = spec.ifindex;
    if (ifindex === undefined) {
      const r = ifNameToIndex(ifname);
      if (!r.ok) return r;
      ifindex = r.value;
    }
    const existing = this.#channels.get(key);
    if (existing && !existing.closed && existing.ifindex === ifindex) return ok({ key, ifindex });
    if (existing) this.close(key);
    const n = this.#native();
    if (n === null)
      return fail({
        kind: 'IoError',
        syscall: 'dlopen(libc)',
        errno: 95,
        code: 'ENOTSUP',
        message: 'koffi cannot load libc on this platform',
        ifname,
      });
    const scope = isIpv6LinkLocalBytes(local) || multicast ? ifindex : 0;
    const rxFd = this.#openRx(n, ifname, ifindex, local, scope, multicast);
    if (!rxFd.ok) return rxFd;
    const txFd = this.#openTx(n, ifname, ifindex, multicast);
    if (!txFd.ok) {
      n.close(rxFd.value);
      return txFd;
    }
    const ch: Channel = {
      key,
      ifname,
      ifindex,
      multicast,
      rxFd: rxFd.value,
      txFd: txFd.value,
      rx: n.buffers(VRRP6_RX_BUFFER),
      tx: n.buffers(VRRP6_TX_MAX),
      watch: undefined,
      closed: false,
      rxPackets: 0,
      txPackets: 0,
      txErrors: 0,
    };
    const w = watchReadable(ch.rxFd, (status) => this.#onReadable(n, ch, status));
    if (!w.ok) {
      this.#free(n, ch);
      return fail({ ...w.error, ifname });
    }
    ch.watch = w.value;
    this.#channels.set(key, ch);
    this.#log.debug({ ifname, ifindex, key }, 'VRRP IPv6 channel opened');
    return ok({ key, ifindex });
  }

  /** socket + options for the receive side; the fd, or the first failure (the fd closed). */
  #openRx(n: NativeSocket6, ifname: string, ifindex: number, local: Buffer, scope: number, multicast: boolean): IoResult<number> {
    const fd = n.socket();
    if (fd < 0) return fail(errnoIoError('socket(AF_INET6, SOCK_RAW, 112)', n.errno(), ifname));
    const steps: SocketStep[] = [
      ['setsockopt(IPV6_MULTICAST_ALL)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0)],
      ...(multicast
        ? ([
            ['setsockopt(IPV6_ADD_MEMBERSHIP)', () => n.setBytes(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, ipv6Mreq(local, ifindex))],
          ] satisfies SocketStep[])
        : []),
      ['bind', () => n.bind(fd, local, scope)],
      ['setsockopt(IPV6_RECVHOPLIMIT)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)],
      ['setsockopt(IPV6_RECVPKTINFO)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)],
      ['setsockopt(SO_BINDTODEVICE)', () => n.setBytes(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`))],
      ['setsockopt(IPV6_CHECKSUM)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, VRRP_CHECKSUM_OFFSET)],
    ];
    return runSteps(n, fd, steps, ifname);
  }

  /** socket + options for the send side. */
  #openTx(n: NativeSocket6, ifname: string, ifindex: number, multicast: boolean): IoResult<number> {
    const fd = n.socket();
    if (fd < 0) return fail(errnoIoError('socket(AF_INET6, SOCK_RAW, 112)', n.errno(), ifname));
    const le = endianness() === 'LE';
    const c = libc();
    const filter = c === null ? undefined : dropAllFilter(c.koffi, le);
    const steps: SocketStep[] = [
      ['setsockopt(SO_RCVBUF)', () => n.setInt(fd, SOL_SOCKET, SO_RCVBUF, 0)],
      ['setsockopt(IPV6_MULTICAST_ALL)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0)],
      ['setsockopt(IPV6_CHECKSUM)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, VRRP_CHECKSUM_OFFSET)],
      ...(multicast
        ? ([
            ['setsockopt(IPV6_MULTICAST_HOPS)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, VRRP_HOP_LIMIT)],
          ] satisfies SocketStep[])
        : []),
      ['setsockopt(SO_BINDTODEVICE)', () => n.setBytes(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`))],
      ...(multicast
        ? ([
            ['setsockopt(IPV6_MULTICAST_IF)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex)],
            ['setsockopt(IPV6_MULTICAST_LOOP)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0)],
          ] satisfies SocketStep[])
        : []),
      ['setsockopt(IPV6_TCLASS)', () => n.setInt(fd, IPPROTO_IPV6, IPV6_TCLASS, VRRP_TCLASS)],
      ...(filter
        ? ([['setsockopt(SO_ATTACH_FILTER)', () => n.setBytes(fd, SOL_SOCKET, SO_ATTACH_FILTER, filter.prog)]] satisfies SocketStep[])
        : []),
    ];
    const r = runSteps(n, fd, steps, ifname);
    filter?.free();
    return r;
  }

  /**
   * Send one VRRP message on channel `key`, synchronously (sendmsg on a non-blocking socket: the
   * packet has left, or the error is returned: EAGAIN when the socket buffer is full, ENETDOWN,
   * EADDRNOTAVAIL for a source not on the interface, ...). Never throws.
   */
  send(key: string, vrrpMessage: Uint8Array, to: Vrrp6Send): IoResult<number> {
    const ch = this.#channels.get(key);
    if (!ch || ch.closed) return fail({ kind: 'IoError', syscall: 'sendmsg', errno: 9, code: 'EBADF', message: `channel ${key} not open` });
    const n = this.#native();
    const src = parseIpv6(to.src);
    const dst = parseIpv6(to.dst);
    if (n === null || src === undefined || dst === undefined)
      return fail(einval('sendmsg', `bad source or destination: ${to.src} -> ${to.dst}`, ch.ifname));
    if (vrrpMessage.length > ch.tx.data.length)
      return fail({
        kind: 'IoError',
        syscall: 'sendmsg',
        errno: 90,
        code: 'EMSGSIZE',
        message: `message over ${VRRP6_TX_MAX} bytes (VRRP6_TX_MAX)`,
        ifname: ch.ifname,
      });
    if (to.hopLimit !== undefined && !(Number.isInteger(to.hopLimit) && to.hopLimit >= 0 && to.hopLimit <= 255))
      return fail(einval('sendmsg', `hop limit ${to.hopLimit} not in 0..255`, ch.ifname));
    ch.tx.data.set(vrrpMessage, 0);
    const scope = isIpv6LinkLocalBytes(dst) || isIpv6MulticastByte(dst[0] ?? 0) ? ch.ifindex : 0;
    const sent = n.sendmsg(ch.txFd, ch.tx, vrrpMessage.length, {
      dst,
      dstScope: scope,
      src,
      ifindex: ch.ifindex,
      hopLimit: to.hopLimit,
      flags: isIpv6MulticastByte(dst[0] ?? 0) ? MSG_DONTROUTE : 0,
    });
    if (sent < 0) {
      ch.txErrors++;
      return fail(errnoIoError('sendmsg', n.errno(), ch.ifname));
    }
    ch.txPackets++;
    return ok(sent);
  }

  #onReadable(n: NativeSocket6, ch: Channel, status: number): void {
    if (ch.closed) return;
    if (status < 0) {
      this.#lose(ch, errnoIoError('uv_poll', -status, ch.ifname));
      return;
    }
    for (let i = 0; i < VRRP6_RX_BURST_MAX; i++) {
      const r = n.recvmsg(ch.rxFd, ch.rx);
      if (r === -1) {
        const errno = n.errno();
        if (errno !== 11) this.#lose(ch, errnoIoError('recvmsg', errno, ch.ifname));
        return;
      }
      ch.rxPackets++;
      const p: ReceivedPacket6 = {
        family: 6,
        packet: Buffer.from(ch.rx.data.subarray(0, r.bytes)),
        src: r.src,
        dst: r.dst,
        hopLimit: r.hopLimit,
        truncated: r.truncated,
        ifindex: r.ifindex ?? ch.ifindex,
        ifname: ch.ifname,
        rxMs: monotonicPreciseMs(),
      };
      try {
        this.#handler?.(p);
      } catch (err) {
        this.#log.warn({ ifname: ch.ifname, err: String(err) }, 'VRRP IPv6 packet handler threw');
      }
      if (ch.closed) return;
    }
  }

  #lose(ch: Channel, e: IoError): void {
    this.#log.warn({ ifname: ch.ifname, errno: e.code, syscall: e.syscall }, `VRRP IPv6 socket error: ${e.message}`);
    this.close(ch.key);
    this.#opts.onSocketError?.(ch.key, e);
  }

  #free(n: NativeSocket6, ch: Channel): void {
    ch.closed = true;
    ch.watch?.stop();
    n.close(ch.rxFd);
    n.close(ch.txFd);
    ch.rx.free();
    ch.tx.free();
  }

  /** Close one channel (both sockets). */
  close(key: string): void {
    const ch = this.#channels.get(key);
    if (!ch) return;
    this.#channels.delete(key);
    const n = this.#native();
    if (n !== null && !ch.closed) this.#free(n, ch);
  }

  /** Close every channel; the transport can be opened again afterwards. */
  closeAll(): void {
    for (const key of [...this.#channels.keys()]) this.close(key);
  }

  /** Open channels and their counters (for status); `kernelDrops` is the receive socket's, read now. */
  channels(): Array<{
    key: string;
    ifname: string;
    ifindex: number;
    multicast: boolean;
    rxPackets: number;
    kernelDrops: number | null;
    txPackets: number;
    txErrors: number;
  }> {
    // koffi is loaded by the first channel: status with none does not load it
    const n = this.#channels.size > 0 ? this.#native() : null;
    return [...this.#channels.values()].map(({ key, ifname, ifindex, multicast, rxPackets, txPackets, txErrors, rxFd }) => ({
      key,
      ifname,
      ifindex,
      multicast,
      rxPackets,
      kernelDrops: n === null ? null : socketDrops(n, rxFd),
      txPackets,
      txErrors,
    }));
  }

  /**
   * The receive sockets' counters (status `sockets`). Only those: the send socket of a channel has
   * no receive buffer and a drop-all filter, so the kernel counts every VRRP packet on the link as
   * dropped there.
   */
  stats(): SocketStats[] {
    return this.channels().map((c) => ({
      family: 6,
      ifname: c.ifname,
      channel: c.key.slice(c.key.indexOf('|') + 1),
      rxPackets: c.rxPackets,
      kernelDrops: c.kernelDrops,
    }));
  }
}

/** Run setsockopt/bind steps in order on `fd`; the fd, or the first failure with the fd closed. */
function runSteps(n: NativeSocket6, fd: number, steps: readonly SocketStep[], ifname: string): IoResult<number> {
  for (const [syscall, step] of steps) {
    if (step() < 0) {
      const e = errnoIoError(syscall, n.errno(), ifname);
      n.close(fd);
      return fail(e);
    }
  }
  return ok(fd);
}
