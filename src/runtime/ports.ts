/**
 * What the runtime needs from the host, as interfaces (DESIGN.md "ports"): `system-io.ts` builds
 * them from src/io, the pure runtime tests give fakes. Results are values, never exceptions.
 */
import type { IoResult } from '../io/io-error.js';
import type { AddrInfo, AddrSpec, LinkInfo } from '../io/netlink-codec.js';
import type { NetlinkEvent } from '../io/netlink-events.js';
import type { RouteSpec, RuleSpec } from '../io/netlink-route.js';
import type { ReceivedPacket } from '../io/raw-transport.js';
import type { ProcessRunner } from '../notify/runner.js';

export type { AddrInfo, AddrSpec, IoResult, LinkInfo, NetlinkEvent, ReceivedPacket, RouteSpec, RuleSpec };

export interface TimerHandle {
  cancel(): void;
}

/** Monotonic ms (may carry a sub-millisecond fraction) and one-shot timers. */
export interface RuntimeClock {
  nowMs(): number;
  /**
   * Run `cb` after `delayMs` (fractions allowed). Plain timers may be up to ~1 ms early or late
   * (the caller clamps); `precise` ones are never early and late by one event-loop turn, for the
   * Master_Down_Timer (io/system-clock.ts).
   */
  setTimer(delayMs: number, cb: () => void, precise?: boolean): TimerHandle;
}

/** One raw VRRP socket per interface (src/io/raw-transport.ts). */
export interface VrrpSockets {
  /** Deliver received packets here (set once by the daemon). */
  setHandler(h: (p: ReceivedPacket) => void): void;
  open(ifname: string, groups: readonly string[]): IoResult<{ ifindex: number }>;
  send(ifname: string, ipPacket: Uint8Array): Promise<IoResult<number>>;
  close(ifname: string): void;
  closeAll(): void;
}

/** rtnetlink: the link/address cache, events and commands. */
export interface HostNetlink {
  /** Subscribe and fill the cache; events flow afterwards. */
  start(onEvent: (e: NetlinkEvent) => void): Promise<IoResult<true>>;
  links(): LinkInfo[];
  addresses(ifindex?: number): AddrInfo[];
  addAddress(spec: AddrSpec): Promise<IoResult<{ exists: boolean }>>;
  delAddress(spec: AddrSpec): Promise<IoResult<{ absent: boolean }>>;
  addRoute(spec: RouteSpec): Promise<IoResult<{ exists: boolean }>>;
  delRoute(spec: RouteSpec): Promise<IoResult<{ absent: boolean }>>;
  addRule(spec: RuleSpec): Promise<IoResult<{ exists: boolean }>>;
  delRule(spec: RuleSpec): Promise<IoResult<{ absent: boolean }>>;
  stop(): void;
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

/** The bits of the file system track_file needs. */
export interface TrackFileIo {
  read(path: string): string | undefined;
  write(path: string, content: string): void;
  /** Call `cb` whenever `path` may have changed (created, written, replaced, removed). */
  watch(path: string, cb: () => void): TimerHandle;
}

export interface DaemonIo {
  readonly clock: RuntimeClock;
  readonly sockets: VrrpSockets;
  readonly netlink: HostNetlink;
  readonly frames: FrameSender;
  readonly processes: ProcessRunner;
  readonly files: TrackFileIo;
}
