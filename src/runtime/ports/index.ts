/**
 * What the runtime needs from the host, as interfaces it owns (DESIGN.md "ports"): src/io and
 * src/notify implement them, the composition root (cli/compose.ts) builds the real ones, tests
 * give fakes. Results are values, never exceptions. Nothing under src/runtime imports src/io or
 * src/notify; they import these types.
 */
import type { RuntimeClock } from './clock.js';
import type { HostNetlink, Ipv6ForwardingReader, LinkCommands, Sysctls } from './net.js';
import type { FrameSender, Vrrp6Sockets, VrrpSockets } from './packets.js';
import type { ProcessEvents, ProcessRunner, ProcessTable } from './processes.js';
import type { TrackFileIo } from './files.js';

export type { MonotonicClock, RuntimeClock, TimerHandle, WallClock } from './clock.js';
export type { FileWriter, IdResolver, TrackFileIo, WriteResult } from './files.js';
export type {
  AddrInfo,
  AddrSpec,
  ChangeOrigin,
  HostNetlink,
  Ipv6ForwardingReader,
  LinkCommands,
  LinkInfo,
  MacvlanSpec,
  NetlinkEvent,
  RouteSpec,
  RouteTypeName,
  RuleSpec,
  ScopeName,
  Sysctls,
} from './net.js';
export type { HookRun, NotifyHooks, NotifyState, RuntimeNotifier } from './notifier.js';
export type {
  FrameSender,
  ReceivedPacket,
  ReceivedPacket6,
  SocketStats,
  Vrrp6ChannelSpec,
  Vrrp6Send,
  Vrrp6Sockets,
  VrrpSockets,
} from './packets.js';
export type {
  Launch,
  ProcEntry,
  ProcEvent,
  ProcEventCounters,
  ProcessEvents,
  ProcessRunner,
  ProcessTable,
  Refusal,
  RunResult,
  RunSpec,
  ScriptGatePort,
} from './processes.js';
export type { IoError, IoResult } from './results.js';

/** The host as the daemon uses it: clock, VRRP sockets, rtnetlink, GARP frames, programs, files. */
export interface DaemonIo {
  readonly clock: RuntimeClock;
  readonly sockets: VrrpSockets;
  /** IPv6 VRRP channels; absent: IPv6 instances cannot open a socket (their source tracker reports it). */
  readonly sockets6?: Vrrp6Sockets;
  /** `net.ipv6.conf.IF.forwarding` (the Router flag of unsolicited NAs); absent: never set. */
  readonly ipv6Forwarding?: Ipv6ForwardingReader;
  readonly netlink: HostNetlink;
  readonly frames: FrameSender;
  readonly processes: ProcessRunner;
  readonly files: TrackFileIo;
  /** The process table for track_process; absent: a tracked process never has its quorum. */
  readonly procTable?: ProcessTable;
  /**
   * The kernel's process events for track_process (with a scan of `procTable` at start); absent or
   * failing to subscribe: `procTable` is scanned every second instead.
   */
  readonly procEvents?: ProcessEvents;
  /** Creating and removing VMACs (`use_vmac`); absent: a VMAC cannot be made (the instance is FAULT). */
  readonly linkCommands?: LinkCommands;
  /** /proc/sys, for the VMACs' sysctls; absent: a VMAC cannot be made. */
  readonly sysctls?: Sysctls;
}
