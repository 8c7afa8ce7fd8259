/**
 * The runtime's view of the outside world, as interfaces only (DESIGN.md "ports"). The pure
 * protocol code never calls these; `src/runtime/instance` performs state-machine actions on them and
 * `src/io` implements them. Times are integer ms on a monotonic clock.
 */
import type { AddressKind } from './fsm-types.js';

/** Monotonic time source. */
export interface Clock {
  /** Monotonic milliseconds (integer). */
  nowMs(): number;
}

/** One-shot timers. `fire` must not run before `atMs` (the state machine ignores early events). */
export interface Timer {
  set(atMs: number, fire: () => void): TimerHandle;
  cancel(h: TimerHandle): void;
}
export type TimerHandle = { readonly __timer: unique symbol };

/** Sends complete IPv4 packets (IP_HDRINCL) and delivers received ones. */
export interface PacketTransport {
  send(packet: Uint8Array, dstIp: string): Promise<void>;
  onPacket(handler: (packet: Uint8Array) => void): void;
}

/** Adds and removes VIPs, eVIPs, routes and rules (netlink). Removing a missing item is not an error. */
export interface AddressManager {
  add(kind: AddressKind, items: readonly string[]): Promise<void>;
  remove(kind: AddressKind, items: readonly string[]): Promise<void>;
}

/** Sends one gratuitous ARP for `address` (AF_PACKET). */
export interface ArpSender {
  sendGratuitousArp(address: string): Promise<void>;
}

/** Runs notify scripts / FIFO lines for an instance state (fire-and-forget, KEEPALIVED.md 4.1). */
export interface Notifier {
  notify(instance: string, state: string, priority: number): void;
}
