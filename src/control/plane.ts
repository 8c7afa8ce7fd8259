/**
 * The daemon's control plane, wired by `vrrpd run`: the control socket and its commands, the
 * manual holds (promote, switchover, maintenance), reload orchestration (SIGHUP and `vrrpd
 * reload` take the same path), and systemd's notify protocol (READY, RELOADING, STOPPING,
 * STATUS, WATCHDOG fed through the work queue).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Log } from '../log.js';
import type { Daemon } from '../runtime/daemon.js';
import { ManualControl, manualStateFile } from './manual.js';
import type { ControlSocketStats } from './metrics.js';
import type { ControlRequest, ControlResponse, EncodedResponse, RequestEnvelope, StatusReport } from './protocol.js';
import { buildReport } from './report.js';
import { ControlServer, type Caller, type ControlLimits } from './server.js';
import { SdNotify } from './sd-notify.js';
import { StatusSnapshot } from './snapshot.js';

export interface ControlPlaneOptions {
  readonly daemon: Daemon;
  readonly log: Log;
  readonly version: string;
  /** Control socket path; '' = none. */
  readonly socketPath: string;
  /** The daemon's state dir (manual.json lives there). */
  readonly stateDir: string;
  /**
   * Re-read and validate the config and hand it to the daemon: the promise of the daemon's reload,
   * or undefined (or a promise of false, when the config is loaded asynchronously) when the new
   * config was refused (the reason is logged by the caller).
   */
  readonly reload: () => Promise<void | false> | undefined;
  readonly socketMode?: number;
  /**
   * The read-only socket (`--status-socket`): only status and ping, mode 0660, group `statusGid`
   * (default: the daemon's group). '' or absent = none.
   */
  readonly statusSocketPath?: string;
  readonly statusGid?: number;
  /** Per-socket limits (tests shorten the idle timeout). */
  readonly limits?: Partial<ControlLimits>;
  /** Reuse a status snapshot at least this long (ms; default 0, snapshot.ts; tests lengthen it). */
  readonly snapshotReuseMs?: number;
  readonly sd?: SdNotify;
}

/** Mode of the read-only status socket: its group may connect, nobody else. */
export const STATUS_SOCKET_MODE = 0o660;

const STATE_CODE: Readonly<Record<string, number>> = { INIT: 1, BACKUP: 2, MASTER: 3, FAULT: 4, STOP: 5 };

export class ControlPlane {
  readonly manual: ManualControl;
  readonly sd: SdNotify;
  readonly #o: ControlPlaneOptions;
  #server: ControlServer | undefined;
  #statusServer: ControlServer | undefined;
  /** What `status` is answered from (snapshot.ts): never one queue item per request. */
  readonly snapshot: StatusSnapshot;
  #configLoadedAtMs: number | null = null;
  readonly #lag: IntervalHistogram;
  #lagReset: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #lastSdStatus = '';
  #reloading: Promise<ControlResponse> | undefined;

  constructor(o: ControlPlaneOptions) {
    this.#o = o;
    this.sd =
      o.sd ??
      new SdNotify({
        onError: (errno, what) => o.log.warn({ errno }, `sd_notify ${what} to ${process.env.NOTIFY_SOCKET ?? ''} failed (errno ${errno})`),
      });
    this.manual = new ManualControl({ daemon: o.daemon, log: o.log, stateFile: manualStateFile(o.stateDir) });
    this.#lag = monitorEventLoopDelay({ resolution: 20 });
    this.#lag.enable();
    this.#lagReset = setInterval(() => this.#lag.reset(), 60_000);
    this.#lagReset.unref();
    this.snapshot = new StatusSnapshot({
      build: () => {
        const d = this.#o.daemon;
        return d.queue.run('control status', () => {
          const t0 = performance.now();
          const report = this.#build();
          return { report, costMs: performance.now() - t0 };
        });
      },
      fingerprint: () => this.#fingerprint(),
      nowMs: () => performance.now(),
      ...(o.snapshotReuseMs !== undefined ? { reuseMs: o.snapshotReuseMs } : {}),
    });
  }

  /**
   * What a status reader waits for, as one number (snapshot.ts): every instance's state, effective
   * priority and last transition, and the set of instances. Memory reads only.
   */
  #fingerprint(): number {
    let h = this.#o.daemon.instances.length;
    for (const i of this.#o.daemon.instances) {
      h = (Math.imul(h, 31) + (STATE_CODE[i.state] ?? 0)) | 0;
      h = (Math.imul(h, 31) + i.snapshot.effectivePriority) | 0;
      h = (Math.imul(h, 31) + ((i.lastTransitionMs ?? 0) % 1_000_000_007)) | 0;
    }
    return h;
  }

  /** The status report the control socket would answer with now (the shared snapshot: metrics). */
  async sharedReport(): Promise<StatusReport> {
    return (await this.snapshot.get()).report;
  }

  /** The control sockets' connection counts and what they answered or refused. */
  controlStats(): readonly ControlSocketStats[] {
    const out: ControlSocketStats[] = [];
    if (this.#server) out.push({ socket: 'control', connections: this.#server.connections, stats: this.#server.stats });
    if (this.#statusServer) out.push({ socket: 'status', connections: this.#statusServer.connections, stats: this.#statusServer.stats });
    return out;
  }

  /** For the daemon's `beforeStart`: holds apply before any instance can become MASTER. */
  beforeStart(): Promise<void> {
    return this.manual.applyAllNow();
  }

  /** After the daemon started: socket, READY, watchdog, STATUS updates. */
  async started(): Promise<void> {
    this.#configLoadedAtMs = Date.now();
    const limits = this.#o.limits !== undefined ? { limits: this.#o.limits } : {};
    if (this.#o.socketPath !== '') {
      const server = new ControlServer({
        path: this.#o.socketPath,
        log: this.#o.log,
        handler: (r, c) => this.handle(r, c),
        ...(this.#o.socketMode !== undefined ? { mode: this.#o.socketMode } : {}),
        ...limits,
      });
      try {
        await server.start();
        this.#server = server;
      } catch (e) {
        this.#o.log.error({}, `cannot create control socket ${this.#o.socketPath}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const sp = this.#o.statusSocketPath ?? '';
    if (sp !== '') {
      const gid = this.#o.statusGid;
      const server = new ControlServer({
        path: sp,
        log: this.#o.log,
        handler: (r, c) => this.handle(r, c),
        mode: STATUS_SOCKET_MODE,
        readOnly: true,
        ...(gid !== undefined ? { gid } : {}),
        ...limits,
      });
      try {
        await server.start();
        this.#statusServer = server;
        this.#o.log.info({}, `read-only status socket ${sp} (mode 0660${gid !== undefined ? `, group ${gid}` : ''})`);
      } catch (e) {
        this.#o.log.error({}, `cannot create status socket ${sp}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.sd.ready(this.#summary());
    this.sd.startWatchdog(() => this.#o.daemon.queue.run('watchdog', () => undefined));
    if (this.sd.enabled) {
      this.#statusTimer = setInterval(() => {
        const s = this.#summary();
        if (s !== this.#lastSdStatus) this.sd.status(s);
        this.#lastSdStatus = s;
      }, 1000);
      this.#statusTimer.unref();
    }
  }

  /** Reload from SIGHUP or the control socket (one at a time; a second request joins the first). */
  reload(by: string): Promise<ControlResponse> {
    this.#reloading ??= this.#reload(by).finally(() => {
      this.#reloading = undefined;
      this.snapshot.invalidate();
    });
    return this.#reloading;
  }

  async #reload(by: string): Promise<ControlResponse> {
    if (by !== 'SIGHUP') this.#o.log.info({ by }, `reload requested by ${by}`);
    this.sd.reloading();
    try {
      const p = this.#o.reload();
      if (p === undefined || (await p) === false)
        return { ok: false, error: 'the new configuration was refused (see the daemon log); the running one is kept' };
      this.#configLoadedAtMs = Date.now();
      await this.manual.applyAll();
      return { ok: true, reloaded: true };
    } finally {
      this.sd.ready(this.#summary());
    }
  }

  stopping(): void {
    this.sd.stopping();
  }

  close(): void {
    this.#server?.close();
    this.#server = undefined;
    this.#statusServer?.close();
    this.#statusServer = undefined;
    this.manual.close();
    this.#lag.disable();
    if (this.#lagReset !== undefined) clearInterval(this.#lagReset);
    if (this.#statusTimer !== undefined) clearInterval(this.#statusTimer);
    this.sd.close();
  }

  /** A fresh report, built on the work queue (tests; the socket answers from `snapshot`). */
  report(): Promise<StatusReport> {
    return this.#o.daemon.queue.run('control status', () => this.#build());
  }

  /** The report. Must run on the work queue. */
  #build(): StatusReport {
    return buildReport(this.#o.daemon, {
      version: this.#o.version,
      configLoadedAtMs: this.#configLoadedAtMs,
      eventLoop: { p50Ms: round(this.#lag.percentile(50) / 1e6), p99Ms: round(this.#lag.percentile(99) / 1e6) },
      holdFor: (n) => this.manual.report(this.manual.holdFor(n)),
      nodeMaintenance: this.manual.report(this.manual.nodeMaintenance, true),
    });
  }

  async handle(req: ControlRequest & RequestEnvelope, caller: Caller): Promise<ControlResponse | EncodedResponse> {
    if (req.cmd === 'ping') return { ok: true, pong: true };
    if (req.cmd === 'status') {
      const snap = await this.snapshot.get();
      const status = snap.report;
      if (req.instance !== undefined && !status.instances.some((i) => i.name === req.instance)) {
        return { ok: false, error: `no instance ${req.instance} (have: ${status.instances.map((i) => i.name).join(', ') || 'none'})` };
      }
      return snap.response;
    }
    try {
      return await this.#change(req, caller);
    } finally {
      // Whoever asked reads the result next: never from a snapshot older than the change.
      this.snapshot.invalidate();
    }
  }

  #change(req: Exclude<ControlRequest, { cmd: 'status' | 'ping' }> & RequestEnvelope, caller: Caller): Promise<ControlResponse> {
    switch (req.cmd) {
      case 'reload':
        return this.reload(caller.by);
      case 'promote': {
        const sel = {
          ...(req.instance !== undefined ? { instance: req.instance } : {}),
          ...(req.vrid !== undefined ? { vrid: req.vrid } : {}),
        };
        return req.clear === true ? this.manual.clear(sel, caller.by) : this.manual.promote(sel, caller.by, req.priority);
      }
      case 'switchover':
        return this.manual.switchover(req.instance, req.peerSockets ?? [], caller.by);
      case 'maintenance':
        return this.manual.maintenance(req.on, req.instance, req.forMs, caller.by);
    }
  }

  /** One line for systemd's STATUS=: `VI_1 MASTER, VI_2 BACKUP` (+ maintenance). */
  #summary(): string {
    const parts = this.#o.daemon.instances.map((i) => `${i.name} ${i.state}`);
    const m = this.manual.nodeMaintenance;
    return `${parts.join(', ') || 'no instances'}${m ? ' (maintenance)' : ''}`;
  }
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : 0;
}
