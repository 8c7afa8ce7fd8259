/**
 * `vrrpd run -f FILE`: the composition root (config -> io -> daemon -> control). Runs in the
 * foreground (keepalived's `-n` is implied); several daemons can share a host in different network
 * namespaces with their own `--state-dir` (or `--pid-file` and `--control-socket`).
 *
 * Order: the config is loaded and checked before anything is opened (errors are printed like
 * `vrrpd check` and the exit code is non-zero); then the pid file, the logger, the ports (built in
 * compose.ts, the only module that constructs concrete adapters), the daemon, the control socket
 * and the signal handlers. Signals only enqueue work on the daemon.
 */
import { fstatSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CONFIG, formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import { NOT_SUPPORTED } from '../config/support.js';
import type { LoadResult } from '../config/load.js';
import type { FrozenConfig } from '../config/model.js';
import { createLog, journalStreamFd, type Log, type LogFormat } from '../log.js';
import { ControlPlane } from '../control/plane.js';
import type { ListenAddress } from '../control/metrics-server.js';
import type { MetricsEndpoint } from './run-metrics.js';
import { socketOptions } from '../control/socket-file.js';
import { ADVERT_GRID_MS, Daemon } from '../runtime/daemon.js';
import { stateFilesOptions, type StateFilesOptions } from '../notify/state-files.js';
import { fullCollector } from '../io/heap.js';
import { dropCleanFilePages, trimMalloc } from '../io/resident-pages.js';
import { acquirePidFile } from '../util/pid-file.js';
import { ownMissingCapabilities } from '../host/capabilities.js';
import { ensureDirSync } from '../util/safe-file.js';
import { VERSION } from '../version.js';
import type { Io } from './check.js';
import { preloadPorts, systemPorts, type SystemPorts } from './compose.js';
import { installDumpSignals } from './dump-signals.js';
import { daemonLoadRequest, failureDiagnostic, loadConfigOffThread, type LoadOutcome, type LoadRequest } from './config-loader.js';

export interface RunArgs {
  file: string;
  logConsole: boolean;
  /** --log-format; default: journal when stdout or stderr is journald's, else console with -l, else json. */
  logFormat?: LogFormat;
  logDetail: boolean;
  /** Default `<stateDir>/vrrpd.pid`. */
  pidFile: string | undefined;
  /** Default `<stateDir>/vrrpd.sock`; '' = none. */
  controlSocket: string | undefined;
  /** Read-only socket (status and ping only, mode 0660); undefined = none. */
  statusSocket?: string | undefined;
  /** Its group, a name from /etc/group or a number (default: the daemon's group). */
  statusGroup?: string | undefined;
  /**
   * Built-in state files' directory (default /var/keepalived). When given, the pid file, control
   * socket and state log default into it too (one flag isolates a daemon); without it they stay
   * in /run/vrrpd and /var/log/keepalived.log.
   */
  stateDir: string | undefined;
  /** State log file (default /var/log/keepalived.log, or <stateDir>/keepalived.log); '' = none. */
  stateLog?: string | undefined;
  /** false: no built-in state files (--no-state-files). */
  stateFiles?: boolean;
  configId: string | undefined;
  /** keepalived's -e/--all-config: every include is `includea` (a missing file is an error). */
  allConfig?: boolean;
  vipDeleted: 'restore' | 'keepalived';
  /** --metrics-listen: serve Prometheus metrics there (control/metrics-server.ts); absent = none. */
  metricsListen?: ListenAddress;
  argv: readonly string[];
}

/** `vrrpd run`'s exit code when CAP_NET_RAW or CAP_NET_ADMIN is missing (keepalived's "missing permission"). */
export const EXIT_NO_CAPABILITY = 7;

export const RUN_USAGE = `  run -f FILE [--log-console|-l] [--log-detail|-D] [--log-format json|console|journal] [--pid-file PATH|-p PATH]
      [--control-socket PATH] [--status-socket PATH [--status-group GROUP]]
      [--state-dir DIR] [--state-log FILE] [--no-state-files] [-i ID]
      [--vip-deleted restore|keepalived] [--metrics-listen HOST:PORT]
        run the VRRP daemon in the foreground; keepalived's command line works too, with or
        without 'run' (vrrpd -n -l -D -f FILE): options without effect here (-n, -P, -G, -S...)
        are named in one warning, -C and -s are refused; vrrpd --signum=JSON prints 36 as
        keepalived does;
        logs: JSON lines on stdout, console lines with -l, <N>-prefixed lines for journald (the
        default when stdout or stderr is journald's stream, so journalctl -p works);
        SIGTERM/SIGINT stop gracefully, SIGHUP reloads the config if it loads cleanly;
        SIGUSR1/SIGUSR2/SIGRTMIN+2 write /tmp/keepalived.{data,stats,json} as keepalived does.
        State files (like notify_action.sh): DIR/state, DIR/vip_check_failed_count,
        DIR/<instance>.state (DIR default /var/keepalived) and lines in /var/log/keepalived.log.
        --status-socket PATH: a second, read-only socket (status and ping only), mode 0660, group
        GROUP (name or number), so monitoring runs 'vrrpd status --socket PATH' without root.
        --metrics-listen HOST:PORT ([IPV6]:PORT, :PORT for every address): Prometheus metrics
        at http://HOST:PORT/metrics (docs/metrics.md); off by default. In the unit, set it in
        /etc/default/vrrpd: VRRPD_ARGS="--metrics-listen 127.0.0.1:9650".
        Socket directories must not be writable by other users (sticky ones like /tmp aside)
`;

/**
 * Run until stopped; resolves with the exit code. `loading`: the first load of daemonLoadRequest(a),
 * when the caller started it already (main.ts starts the loader's thread before this module and the
 * daemon's are imported, so the two start in parallel).
 */
export async function runDaemon(a: RunArgs, io: Io, loading?: Promise<LoadOutcome>): Promise<number> {
  // 1. Config first: nothing is opened for a config keepalived would not run. It is loaded in a
  // worker thread, at start as on reload, with the same bounds (config-loader.ts); a daemon's config
  // must be a regular file (a FIFO could hold every reload).
  // what the runtime cannot run yet (VRRPv3, IPv6) is refused, at start and on reload
  const loadRequest: LoadRequest = daemonLoadRequest(a);
  const loadingFirst = loading ?? loadConfigOffThread(loadRequest);
  // this thread would wait for the loader's: it loads what the ports need first meanwhile
  preloadPorts();
  const first = await loadFirstConfig(a, io, loadingFirst);
  if (!first.ok) return first.exitCode;
  const { loaded, cfg } = first;

  // 1b. Sockets and capabilities
  const sockets = preflight(a, io, cfg);
  if (typeof sockets === 'number') return sockets;

  // 2. State directory and pid file (src/util/safe-file.ts: no planted link is followed; the pid
  // file is held with flock for the daemon's life, so a stale one never blocks start-up).
  const stateDir = a.stateDir ?? '/run/vrrpd';
  const pidFile = a.pidFile ?? join(stateDir, 'vrrpd.pid');
  const controlPath = a.controlSocket ?? join(stateDir, 'vrrpd.sock');
  const stateFiles = stateFilesOptions(a.stateFiles ?? true, a.stateDir, a.stateLog);
  const dirOk = ensureDirSync(stateDir, 0o755);
  if (!dirOk.ok) {
    io.err(`vrrpd run: state directory: ${dirOk.error}`);
    return 1;
  }
  const pidLock = acquirePidFile(pidFile);
  if (!pidLock.ok) {
    io.err(`vrrpd run: ${pidLock.error}${pidLock.holder !== undefined ? '; use --state-dir or --pid-file' : ''}`);
    return 1;
  }

  const log: Log = rootLog(a);
  log.info({ version: VERSION }, `Starting vrrpd v${VERSION}`);
  log.info({}, `Command line: ${a.argv.map((x) => `'${x}'`).join(' ')}`);
  log.info({ file: a.file }, `Configuration file ${a.file}`);
  // what keepalived logs while loading but `-t` does not print (script users, script checks...)
  for (const d of loaded.diagnostics) if (d.severity === 'info') log.info({}, formatDiagnostic(d));
  // the keywords this config uses that vrrpd does not run (src/config/support.ts), once each
  for (const d of loaded.diagnostics) if (isNotRun(d)) log.warn({ keyword: d.keyword }, formatDiagnostic(d));

  // 3. The ports, the daemon, the dump signals, the control plane.
  let plane: ControlPlane | undefined;
  let metrics: MetricsEndpoint | undefined;
  const { d, ports } = composeDaemon(
    a,
    log,
    stateFiles,
    () => plane?.beforeStart(),
    (ms) => metrics?.metrics.observeLag(ms),
  );
  ports.notifier.history.observe((_type, name, run) => metrics?.metrics.observeHook(name, run));
  ports.lag.start();
  /** Ends a reload's worker when the daemon stops. */
  const stopLoading = new AbortController();
  let current = cfg;
  const removeDumpSignals = installDumpSignals(
    { status: () => d.status(), config: () => current, submit: (what, fn) => d.queue.push(what, fn) },
    ports.dumps,
    log,
  );
  const cleanup = (): void => {
    stopLoading.abort();
    removeDumpSignals();
    metrics?.server.close();
    plane?.close();
    ports.lag.stop();
    pidLock.value.release();
  };
  const reload = reloader(a.file, loadRequest, log, stopLoading.signal, (next) => {
    current = next;
    return d.reload(next);
  });
  plane = new ControlPlane({ daemon: d, log, version: VERSION, socketPath: controlPath, stateDir, reload, ...sockets });
  const started = await d.start(cfg);
  if (!started.ok) {
    log.error({ errno: started.error.code }, `cannot start: ${started.error.syscall}: ${started.error.message}`);
    await d.stop(0);
    cleanup();
    return 1;
  }
  await plane.started();
  if (a.metricsListen !== undefined) metrics = await (await import('./run-metrics.js')).startMetrics(a.metricsListen, plane, log);
  log.info({}, 'Startup complete');
  return untilStopped(d, plane, log, cleanup);
}

/**
 * Before anything is opened: an unknown --status-group or an unsafe socket directory (exit 2), and
 * the capabilities VRRP needs (without them every socket would fail and the daemon sit in FAULT).
 * The socket options, or the exit code.
 */
function preflight(a: RunArgs, io: Io, cfg: FrozenConfig): Exclude<ReturnType<typeof socketOptions>, string> | number {
  const sockets = socketOptions(a.controlSocket, a.statusSocket, a.statusGroup);
  if (typeof sockets === 'string') {
    io.err(`vrrpd run: ${sockets}`);
    return 2;
  }

  if (cfg.instances.length > 0) {
    const missing = ownMissingCapabilities();
    if (missing.length > 0) {
      io.err(
        `vrrpd run: missing capabilit${missing.length === 1 ? 'y' : 'ies'} ${missing.join(', ')}: VRRP needs raw sockets and address changes: run it as root with both in its capability bounding set (systemd/vrrpd.service: CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW ...), or give them to its user (AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN)`,
      );
      return EXIT_NO_CAPABILITY;
    }
  }

  return sockets;
}

type FirstLoad = { ok: true; loaded: LoadResult; cfg: FrozenConfig } | { ok: false; exitCode: number };

/** The config at start: refused ones are printed like `vrrpd check` and give the exit code. */
async function loadFirstConfig(a: RunArgs, io: Io, loading: Promise<LoadOutcome>): Promise<FirstLoad> {
  const first = await loading;
  if (!first.ok) {
    io.err(formatDiagnostic(failureDiagnostic(first)));
    io.err(`vrrpd run: ${a.file}: configuration refused (see above); nothing was started`);
    return { ok: false, exitCode: EXIT_CONFIG };
  }
  const loaded = first.result;
  const cfg = loaded.config;
  // a config that starts has its ignored keywords in the log (below), not twice
  for (const d of loaded.diagnostics) if (d.severity !== 'info' && (cfg === undefined || !isNotRun(d))) io.err(formatDiagnostic(d));
  if (cfg === undefined) {
    io.err(`vrrpd run: ${a.file}: configuration refused (see above); nothing was started`);
    return { ok: false, exitCode: loaded.exitCode === 0 ? 1 : loaded.exitCode };
  }
  return { ok: true, loaded, cfg };
}

/**
 * The first full collection and page drop after start: the
 * instances have started and the first load's thread has ended (IDLE_WORKER_MS, config-loader.ts).
 */
const FIRST_COLLECTION_MS = 10_000;

/**
 * Then four more, 25 s apart, before the 5-minute rhythm: start-up leaves V8 a high limit for its
 * old generation, and with 255 instances the adverts' promoted garbage took RSS from 42 to 67 MiB
 * in the second minute before V8 collected it itself; with these it stays at 41-47 MiB (BENCHMARKS.md,
 * "Resident memory").
 */
const FIRST_COLLECTIONS_MS = [FIRST_COLLECTION_MS, 25_000, 25_000, 25_000, 25_000];

/** The real ports (compose.ts) and the daemon on them. */
function composeDaemon(
  a: RunArgs,
  log: Log,
  stateFiles: StateFilesOptions | null,
  beforeStart: () => void | Promise<void>,
  onLagSample: (lagMs: number) => void,
): { d: Daemon; ports: SystemPorts } {
  let daemon: Daemon | undefined;
  const ports = systemPorts({
    log,
    stateFiles,
    onLateTimer: (lateMsExact, lagMs) => {
      if (daemon) daemon.lateTimers++;
      const lateMs = Math.round(lateMsExact);
      log.warn({ lateMs, lagMs }, `timer fired ${lateMs} ms late (event loop lag ${lagMs} ms)`);
    },
    onLag: (lagMs) => {
      if (daemon && lagMs > daemon.maxLagMs) daemon.maxLagMs = lagMs;
    },
    onLagSample,
  });
  // A full collection every few minutes keeps RSS at the live heap (io/heap.ts; issue 10's soak),
  // and malloc's free pages go back with it (trimMalloc).
  // With the first one, once the first load's thread has ended, the file pages start-up touched
  // and the daemon no longer uses are handed back (io/resident-pages.ts). Only then: each drop
  // leaves the code a failover runs to be faulted in again when it next runs, and a failover
  // minutes later would pay that (BENCHMARKS.md, "Resident memory").
  const gc = fullCollector();
  let dropped = false;
  const collectGarbage = (): void => {
    gc?.();
    trimMalloc();
    if (!dropped) dropCleanFilePages();
    dropped = true;
  };
  daemon = new Daemon({
    io: ports.io,
    notifier: ports.notifier,
    log,
    vipDeleted: a.vipDeleted,
    advertGridMs: ADVERT_GRID_MS,
    beforeStart,
    collectGarbage,
    firstCollectionsMs: FIRST_COLLECTIONS_MS,
  });
  return { d: daemon, ports };
}

/**
 * SIGHUP / `vrrpd reload`: reloads parse in a worker thread, so the event loop keeps sending adverts
 * and firing timers while a new file is read, and a load that fails, times out or runs out of
 * memory changes nothing (false). A config that loads is handed to `apply`.
 */
function reloader(
  file: string,
  req: LoadRequest,
  log: Log,
  signal: AbortSignal,
  apply: (cfg: FrozenConfig) => Promise<void>,
): () => Promise<void | false> {
  return async () => {
    log.info({}, 'Reloading configuration (SIGHUP)');
    const out = await loadConfigOffThread(req, { signal });
    if (signal.aborted) return false;
    if (!out.ok) {
      log.error({ file, reason: out.reason }, `${out.message} - keeping the running configuration`);
      return false;
    }
    const r = out.result;
    if (r.config === undefined) {
      for (const dg of r.diagnostics) if (dg.severity === 'fatal' || dg.severity === 'error') log.error({}, formatDiagnostic(dg));
      log.error({ file }, `New config failed validation - keeping the running configuration`);
      return false;
    }
    for (const dg of r.diagnostics) if (dg.severity === 'warning' || dg.severity === 'error') log.warn({}, formatDiagnostic(dg));
    for (const dg of r.diagnostics) if (dg.severity === 'info') log.info({}, formatDiagnostic(dg));
    return apply(r.config);
  };
}

/** Serve until SIGTERM/SIGINT (graceful stop, exit code 0); SIGHUP reloads. */
function untilStopped(d: Daemon, plane: ControlPlane, log: Log, cleanup: () => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, `Received ${sig}`);
      plane.stopping();
      void d.stop().then(() => {
        cleanup();
        for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.removeAllListeners(s);
        // Anything a hook left behind must not keep us past the 2 s budget.
        setTimeout(() => process.exit(0), 200).unref();
        resolve(0);
      });
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', () => void plane.reload('SIGHUP'));
    process.on('SIGPIPE', () => {});
  });
}

/** A diagnostic about a keyword vrrpd reads but does not run (src/config/support.ts). */
function isNotRun(d: Diagnostic): boolean {
  return d.message.startsWith(`${NOT_SUPPORTED}:`);
}

/** The root logger in the format asked for, or the one that fits where the output goes. */
function rootLog(a: RunArgs): Log {
  const statFd = (fd: 1 | 2): { dev: number; ino: number } | null => {
    try {
      const st = fstatSync(fd);
      return { dev: st.dev, ino: st.ino };
    } catch {
      return null;
    }
  };
  const journalFd = journalStreamFd(process.env.JOURNAL_STREAM, statFd);
  const format: LogFormat = a.logFormat ?? (journalFd !== null ? 'journal' : a.logConsole ? 'console' : 'json');
  const write = format === 'journal' && journalFd === 2 ? (l: string) => void process.stderr.write(l) : undefined;
  return createLog({ format, detail: a.logDetail, ...(write !== undefined ? { write } : {}) });
}
