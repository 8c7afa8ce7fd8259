/**
 * The real ports, built from src/io (the only code that opens sockets) and node's fs and
 * child_process. Used by `vrrpd run` (the composition root); tests use fakes instead. Everything
 * opens in the calling thread's network namespace, at `start()`/`open()` time, not here.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Log } from '../log.js';
import { NetlinkCommands } from '../io/netlink-addr.js';
import { NetlinkWatcher } from '../io/netlink-events.js';
import { PacketSocket } from '../io/packet-socket.js';
import { RawVrrpTransport } from '../io/raw-transport.js';
import { EventLoopLagMonitor, SystemClock } from '../io/system-clock.js';
import { SpawnRunner } from '../notify/runner.js';
import { replaceFileSync } from '../util/safe-file.js';
import type { DaemonIo, NetlinkEvent, ReceivedPacket, TimerHandle } from './ports.js';

/**
 * Mode of a track_file the daemon initialises (init_file): 0644 as vrrpd always wrote it (the
 * unit's umask 022); keepalived's umask 0177 gives 0600.
 */
export const TRACK_FILE_MODE = 0o644;

export interface SystemIo extends DaemonIo {
  readonly lag: EventLoopLagMonitor;
}

export interface SystemIoOptions {
  log: Log;
  /** A timer fired more than 250 ms late (DESIGN: logged with the event-loop lag). */
  onLateTimer: (lateMs: number, lagMs: number) => void;
  onLag?: (lagMs: number) => void;
}

export function systemIo(o: SystemIoOptions): SystemIo {
  const ioLog = o.log.child({ component: 'io' });
  const lag = new EventLoopLagMonitor({ intervalMs: 100, thresholdMs: 250, ...(o.onLag ? { onLag: o.onLag } : {}) });
  const clock = new SystemClock({ onLateTimer: (late) => o.onLateTimer(late, lag.sample().lastLagMs) });
  let onPacket: (p: ReceivedPacket) => void = () => {};
  const transport = new RawVrrpTransport({ onPacket: (p) => onPacket(p), logger: ioLog });
  const commands = new NetlinkCommands();
  let onEvent: (e: NetlinkEvent) => void = () => {};
  const watcher = new NetlinkWatcher({ commands, onEvent: (e) => onEvent(e), logger: ioLog, onError: (e) => o.log.error({ errno: e.code }, `netlink event socket failed: ${e.message}`) });
  const packets = new PacketSocket();
  return {
    lag,
    clock: {
      nowMs: () => clock.nowMs(),
      setTimer: (delayMs, cb, precise) => clock.setTimer(delayMs, () => cb(), precise),
    },
    sockets: {
      setHandler: (h) => {
        onPacket = h;
      },
      open: (ifname, groups) => {
        // The ifindex netlink already knows: no if_nametoindex, so koffi is not loaded before the
        // first state (frames.open() loads it right after).
        const ifindex = watcher.links().find((l) => l.ifname === ifname)?.ifindex;
        const r = transport.open(ifname, { groups, ...(ifindex !== undefined ? { ifindex } : {}) });
        return r.ok ? { ok: true, value: { ifindex: r.value.ifindex } } : r;
      },
      send: (ifname, pkt) => transport.send(ifname, pkt),
      close: (ifname) => transport.close(ifname),
      closeAll: () => {
        transport.closeAll();
        packets.close();
      },
    },
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
        packets.open();
      },
      send: (ifindex, frame, ifname) => packets.send(ifindex, frame, ifname),
    },
    processes: new SpawnRunner(),
    files: {
      read: (p) => {
        try {
          return readFileSync(p, 'utf8');
        } catch {
          return undefined;
        }
      },
      // init_file: replaced through the safe writer, as keepalived's fopen_safe() replaces it
      // (temp + rename), so a link planted at the name is never followed. No fsync: the value is
      // written again at every start, and this runs on the event loop (start and reload).
      write: (p, c) => {
        const r = replaceFileSync(p, c, { mode: TRACK_FILE_MODE, fsync: false });
        if (!r.ok) throw new Error(r.error);
      },
      watch: (p, cb): TimerHandle => {
        // Watch the directory (the file may not exist yet, or be replaced by rename), plus a slow
        // poll in case the directory itself is not watchable.
        let w: FSWatcher | undefined;
        try {
          w = watch(dirname(p), { persistent: false }, (_ev, name) => {
            if (name === null || name === basename(p)) cb();
          });
          w.on('error', () => {});
        } catch {
          w = undefined;
        }
        const poll = setInterval(cb, 2000);
        poll.unref();
        return {
          cancel: () => {
            w?.close();
            clearInterval(poll);
          },
        };
      },
    },
  };
}
