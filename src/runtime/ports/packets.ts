/**
 * Packets in and out: the VRRP sockets (one per interface, io/raw-transport.ts; IPv6 ones per
 * interface and group or unicast source, io/vrrp6-transport.ts) and the AF_PACKET socket
 * gratuitous ARPs and unsolicited neighbour advertisements go out on (io/packet-socket.ts).
 */
import type { IoResult } from './results.js';

/** One IPv4 packet read from a VRRP socket. `packet` is the receiver's own copy: keep it as long as you like. */
export interface ReceivedPacket {
  /** The whole IPv4 packet, header included (the codec reads TTL, source and destination from it). */
  readonly packet: Buffer;
  readonly ifindex: number;
  readonly ifname: string;
  /** Monotonic receive time (ms, microsecond fraction), taken when the socket was read. */
  readonly rxMs: number;
}

/**
 * One VRRP receive socket's counters (status `sockets`), read when status is asked for: what was
 * read, and what the kernel dropped before we could read it.
 */
export interface SocketStats {
  readonly family: 4 | 6;
  readonly ifname: string;
  /** IPv6: the channel's group or unicast source; IPv4: null (one socket per interface, its groups joined). */
  readonly channel: string | null;
  /** Packets read from the socket. */
  readonly rxPackets: number;
  /**
   * The kernel's drop counter of the socket (SO_MEMINFO SK_MEMINFO_DROPS, the `drops` column of
   * /proc/net/raw and raw6): packets it could not queue (receive buffer full); null: unreadable.
   */
  readonly kernelDrops: number | null;
}

/** One raw VRRP socket per interface. */
export interface VrrpSockets {
  /** Deliver received packets here (set once by the daemon). */
  setHandler(h: (p: ReceivedPacket) => void): void;
  open(ifname: string, groups: readonly string[]): IoResult<{ ifindex: number }>;
  send(ifname: string, ipPacket: Uint8Array): Promise<IoResult<number>>;
  close(ifname: string): void;
  closeAll(): void;
  /** The open sockets' counters, the kernel's read now (absent: none to show). */
  stats?(): readonly SocketStats[];
}

/** AF_PACKET frames (synchronous send). */
export interface FrameSender {
  /**
   * Open the socket ahead of the first send (the daemon calls it once the instances have started,
   * so a takeover's first GARP does not pay for it); `send` opens it anyway when needed.
   */
  open?(): void;
  send(ifindex: number, frame: Uint8Array, ifname: string): IoResult<number>;
}

/**
 * One VRRP message read from an IPv6 VRRP socket. An IPv6 raw socket gives no IP header, so what the
 * receive checks need from it comes from the ancillary data (IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO)
 * and the sender's address, as keepalived reads them.
 */
export interface ReceivedPacket6 {
  readonly family: 6;
  /** The VRRP message only (no IPv6 header); the receiver's own copy. */
  readonly packet: Buffer;
  /** Sender address, e.g. `fe80::1` (no zone). */
  readonly src: string;
  /** Destination address of the packet (IPV6_PKTINFO): the group, or our unicast address; undefined if the kernel gave none. */
  readonly dst: string | undefined;
  /** Hop limit the packet arrived with (IPV6_HOPLIMIT); undefined if the kernel gave none (keepalived then skips the check). */
  readonly hopLimit: number | undefined;
  /** The message was longer than the receive buffer and is cut short. */
  readonly truncated: boolean;
  readonly ifindex: number;
  readonly ifname: string;
  /** Monotonic receive time (ms, microsecond fraction), taken when the socket was read. */
  readonly rxMs: number;
}

/** Where one IPv6 VRRP channel listens: a multicast group on the interface, or a local unicast address. */
export interface Vrrp6ChannelSpec {
  readonly ifname: string;
  /** Known ifindex (from netlink); otherwise if_nametoindex(ifname). */
  readonly ifindex?: number | undefined;
  /** Multicast group joined and bound (default ff02::12; `vrrp_mcast_group6`). Ignored with `unicastSrc`. */
  readonly group?: string | undefined;
  /** Unicast: the local address bound (`unicast_src_ip`); no group is joined, sends set no multicast options. */
  readonly unicastSrc?: string | undefined;
}

/** One IPv6 advert to send on an open channel. */
export interface Vrrp6Send {
  /** Source address (IPV6_PKTINFO): the interface's link-local address, or `unicast_src_ip` / `mcast_src_ip`. */
  readonly src: string;
  /** The group, or one unicast peer. */
  readonly dst: string;
  /** IPV6_HOPLIMIT for this packet (`unicast_ttl`); undefined: 255 on a multicast channel, the kernel's default on a unicast one (as keepalived). */
  readonly hopLimit?: number | undefined;
}

/** IPv6 VRRP sockets, one channel (a receive and a send socket) per interface and group or unicast source. */
export interface Vrrp6Sockets {
  /** Deliver received messages here (set once by the daemon). */
  setHandler(h: (p: ReceivedPacket6) => void): void;
  /** Open (or keep) a channel; its key is `channelKey(spec)`. */
  open(spec: Vrrp6ChannelSpec): IoResult<{ key: string; ifindex: number }>;
  /** Send one VRRP message (the kernel fills the checksum, IPV6_CHECKSUM); the byte count or an IoError. */
  send(key: string, vrrpMessage: Uint8Array, to: Vrrp6Send): IoResult<number>;
  close(key: string): void;
  closeAll(): void;
  /** The open channels' receive socket counters, the kernel's read now (absent: none to show). */
  stats?(): readonly SocketStats[];
}
