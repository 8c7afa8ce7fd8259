/**
 * Packets in and out: the VRRP sockets (one per interface, io/raw-transport.ts) and the AF_PACKET
 * socket gratuitous ARPs go out on (io/packet-socket.ts).
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

/** One raw VRRP socket per interface. */
export interface VrrpSockets {
  /** Deliver received packets here (set once by the daemon). */
  setHandler(h: (p: ReceivedPacket) => void): void;
  open(ifname: string, groups: readonly string[]): IoResult<{ ifindex: number }>;
  send(ifname: string, ipPacket: Uint8Array): Promise<IoResult<number>>;
  close(ifname: string): void;
  closeAll(): void;
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
