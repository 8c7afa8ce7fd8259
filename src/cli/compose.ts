/**
 * The composition root's one module of concrete adapters (DESIGN.md: cli/run is the only place
 * that builds them): the runtime's ports from src/io (the only code that opens sockets), src/notify
 * (hooks, FIFOs, state files, SMTP alerts) and src/host (files, users). `vrrpd run` uses it; tests build fakes
 * instead. Everything opens in the calling thread's network namespace, at `start()`/`open()` time,
 * not here.
 */
import type { Log } from '../log.js';
import { safeFileWriter } from '../host/file-writer.js';
import { nodeTrackFiles } from '../host/track-files.js';
import { procTable } from '../host/proc-table.js';
import { ProcConnector } from '../io/proc-connector.js';
import { procSysctls } from '../host/sysctl.js';
import { readIpv6Forwarding } from '../io/ipv6-forwarding.js';
import { NetlinkCommands } from '../io/netlink-addr.js';
import { netlinkModule } from '../io/netlink-codec.js';
import { NetlinkWatcher } from '../io/netlink-events.js';
import { NetlinkLinks } from '../io/netlink-link.js';
import { PacketSocket } from '../io/packet-socket.js';
import { RawVrrpTransport } from '../io/raw-transport.js';
import { nodemailerTransport } from '../io/smtp-transport.js';
import { Vrrp6Transport } from '../io/vrrp6-transport.js';
import { EventLoopLagMonitor, SystemClock } from '../io/system-clock.js';
import { TimerFd } from '../io/timerfd.js';
import { Notifications } from '../notify/notifications.js';
import { SpawnRunner } from '../notify/runner.js';
import type { StateFilesOptions } from '../notify/state-files.js';
import { scriptRunIds } from '../notify/users.js';
import type { DumpHost } from '../runtime/dumps.js';
import type { DaemonIo, NetlinkEvent, ReceivedPacket, SocketStats } from '../runtime/ports/index.js';
import { libc } from '../util/libc.js';

/** The real ports of one daemon. */
export interface SystemPorts {
  readonly io: DaemonIo;
  /** Hooks, FIFOs and state files, every script checked against the host before its spawn. */
  readonly notifier: Notifications;
  /** Where and how the SIGUSR1/SIGUSR2/JSON dumps are written. */
  readonly dumps: DumpHost;
  readonly lag: EventLoopLagMonitor;
}

export interface SystemPortsOptions {
  log: Log;
  /** A timer fired more than 250 ms late (DESIGN: logged with the event-loop lag). */
  onLateTimer: (lateMs: number, lagMs: number) => void;
  onLag?: (lagMs: number) => void;
  /** Every event-loop probe's lag (metrics). */
  onLagSample?: (lagMs: number) => void;
  /** Built-in state files (src/notify/state-files.ts); null = none. */
  stateFiles: StateFilesOptions | null;
}

/**
 * Loads what the ports need first, and nothing opens: the netlink package's rtnetlink files (the
 * netlink watcher's start, ~20 ms) and libc through koffi (the pid file's flock). `vrrpd run` calls
 * it while the config loader's thread works, when this thread would otherwise wait: work done
 * anyway, moved off the path to the first state (BENCHMARKS.md, "Start-up"). Never throws.
 */
export function preloadPorts(): void {
  try {
    netlinkModule();
  } catch {
    // reported where the watcher starts, as without the preload
  }
  libc();
}

export function systemPorts(o: SystemPortsOptions): SystemPorts {
  const io = systemIo(o);
  const notifier = new Notifications({
    runner: io.processes,
    log: o.log,
    stateFiles: o.stateFiles,
    checkScripts: true,
    mailTransport: nodemailerTransport,
  });
  const dumps: DumpHost = { writer: safeFileWriter, ids: scriptRunIds, dir: process.env.TMPDIR || '/tmp' };
  return { io, notifier, dumps, lag: io.lag };
}

/** The IPv4 sockets' counters for status, SO_MEMINFO read now for each (one getsockopt each). */
function socketStats(transport: RawVrrpTransport): SocketStats[] {
  return transport
    .interfaces()
    .map((i) => ({ family: 4, ifname: i.ifname, channel: null, rxPackets: i.rxPackets, kernelDrops: i.kernelDrops }));
}

function systemIo(o: SystemPortsOptions): DaemonIo & { readonly lag: EventLoopLagMonitor } {
  const ioLog = o.log.child({ component: 'io' });
  const lag = lagMonitor(o);
  const clock = new SystemClock({ onLateTimer: (late) => o.onLateTimer(late, lag.sample().lastLagMs) });
  const deadlines = deadlineTimers(clock, ioLog);
  let onPacket: (p: ReceivedPacket) => void = () => {};
  const transport = new RawVrrpTransport({ onPacket: (p) => onPacket(p), logger: ioLog });
  // IPv6 channels open only for IPv6 instances (socket-pool.ts); nothing is loaded before then.
  const transport6 = new Vrrp6Transport({
    logger: ioLog,
    onSocketError: (key, e) => o.log.error({ errno: e.code }, `IPv6 VRRP socket ${key} failed: ${e.message}`),
  });
  const commands = new NetlinkCommands();
  let onEvent: (e: NetlinkEvent) => void = () => {};
  const watcher = new NetlinkWatcher({
    commands,
    onEvent: (e) => onEvent(e),
    logger: ioLog,
    // IPv6 addresses too: the link-local source of IPv6 instances, their VIPs' self-healing
    ipv6: true,
    onError: (e) => o.log.error({ errno: e.code }, `netlink event socket failed: ${e.message}`),
  });
  const packets = new PacketSocket();
  return {
    lag,
    clock: {
      nowMs: () => clock.nowMs(),
      wallMs: () => Date.now(),
      setTimer: (delayMs, cb, precise) => clock.setTimer(delayMs, () => cb(), precise),
    },
    sockets: {
      setHandler: (h) => void (onPacket = h),
      open: (ifname, groups) => {
        // The ifindex netlink already knows: no if_nametoindex, so koffi is not loaded before the
        // first state (frames.open() loads it right after).
        const ifindex = watcher.links().find((l) => l.ifname === ifname)?.ifindex;
        const r = transport.open(ifname, { groups, ...(ifindex !== undefined ? { ifindex } : {}) });
        return r.ok ? { ok: true, value: { ifindex: r.value.ifindex } } : r;
      },
      send: (ifname, pkt) => transport.send(ifname, pkt),
      close: (ifname) => transport.close(ifname),
      stats: () => socketStats(transport),
      closeAll: () => {
        transport.closeAll();
        packets.close();
        deadlines.close();
      },
    },
    sockets6: transport6,
    ipv6Forwarding: readIpv6Forwarding,
    netlink: {
      start: (h) => {
        onEvent = h;
        return watcher.start();
      },
      links: () => watcher.links(),
      addresses: (ifindex) => watcher.addresses(ifindex),
      addAddress: (s) => commands.addAddress(s),
      delAddress: (s) => commands.delAddress(s),
      addRoute: (s) => commands.addRoute(s),
      delRoute: (s) => commands.delRoute(s),
      addRule: (s) => commands.addRule(s),
      delRule: (s) => commands.delRule(s),
      stop: () => {
        watcher.stop();
        commands.close();
      },
    },
    frames: {
      open: () => {
        void packets.open();
        // koffi is loaded by now (not before the first state): the precise timers' timerfd too.
        deadlines.open();
      },
      send: (ifindex, frame, ifname) => packets.send(ifindex, frame, ifname),
    },
    processes: new SpawnRunner(),
    files: nodeTrackFiles(),
    procTable: procTable(),
    procEvents: new ProcConnector(),
    linkCommands: new NetlinkLinks({ socket: () => commands.socket(), links: () => watcher.links() }),
    sysctls: procSysctls(),
  };
}

function lagMonitor(o: SystemPortsOptions): EventLoopLagMonitor {
  return new EventLoopLagMonitor({
    intervalMs: 100,
    thresholdMs: 250,
    ...(o.onLag ? { onLag: o.onLag } : {}),
    ...(o.onLagSample ? { onSample: o.onLagSample } : {}),
  });
}

/**
 * The advert grid's and the Master_Down_Timer's precise timers on a timerfd (io/timerfd.ts) once it
 * is open; until then, and if it cannot be opened (logged), they poll the clock as before.
 */
function deadlineTimers(clock: SystemClock, log: Log): { open(): void; close(): void } {
  let fd: TimerFd | null = null;
  return {
    open() {
      if (fd !== null) return;
      const r = TimerFd.open();
      if (!r.ok) {
        log.warn({ errno: r.error.code }, `precise timers poll the clock: timerfd unavailable (${r.error.message})`);
        return;
      }
      fd = r.value;
      clock.useDeadlineTimers(fd);
    },
    close() {
      clock.useDeadlineTimers(null);
      fd?.close();
      fd = null;
    },
  };
}
