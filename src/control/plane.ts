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
import type { ControlRequest, ControlResponse, RequestEnvelope } from './protocol.js';
import { buildReport } from './report.js';
import { ControlServer, type Caller } from './server.js';
import { SdNotify } from './sd-notify.js';

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
  readonly sd?: SdNotify;
}

export class ControlPlane {
  readonly manual: ManualControl;
  readonly sd: SdNotify;
  readonly #o: ControlPlaneOptions;
  #server: ControlServer | undefined;
  #configLoadedAtMs: number | null = null;
  readonly #lag: IntervalHistogram;
  #lagReset: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #lastSdStatus = '';
  #reloading: Promise<ControlResponse> | undefined;

  constructor(o: ControlPlaneOptions) {
    this.#o = o;
    this.sd = o.sd ?? new SdNotify({ onError: (errno, what) => o.log.warn({ errno }, `sd_notify ${what} to ${process.env.NOTIFY_SOCKET ?? ''} failed (errno ${errno})`) });
    this.manual = new ManualControl({ daemon: o.daemon, log: o.log, stateFile: manualStateFile(o.stateDir) });
    this.#lag = monitorEventLoopDelay({ resolution: 20 });
    this.#lag.enable();
    this.#lagReset = setInterval(() => this.#lag.reset(), 60_000);
    this.#lagReset.unref();
  }

  /** For the daemon's `beforeStart`: holds apply before any instance can become MASTER. */
  beforeStart(): Promise<void> {
    return this.manual.applyAllNow();
  }

  /** After the daemon started: socket, READY, watchdog, STATUS updates. */
  async started(): Promise<void> {
    this.#configLoadedAtMs = Date.now();
    if (this.#o.socketPath !== '') {
      const server = new ControlServer({ path: this.#o.socketPath, log: this.#o.log, handler: (r, c) => this.handle(r, c), ...(this.#o.socketMode !== undefined ? { mode: this.#o.socketMode } : {}) });
      try {
        await server.start();
        this.#server = server;
      } catch (e) {
        this.#o.log.warn({}, `cannot create control socket ${this.#o.socketPath}: ${e instanceof Error ? e.message : String(e)}`);
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
    });
    return this.#reloading;
  }

  async #reload(by: string): Promise<ControlResponse> {
    if (by !== 'SIGHUP') this.#o.log.info({ by }, `reload requested by ${by}`);
    this.sd.reloading();
    try {
      const p = this.#o.reload();
      if (p === undefined || (await p) === false) return { ok: false, error: 'the new configuration was refused (see the daemon log); the running one is kept' };
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
    this.manual.close();
    this.#lag.disable();
    if (this.#lagReset !== undefined) clearInterval(this.#lagReset);
    if (this.#statusTimer !== undefined) clearInterval(this.#statusTimer);
    this.sd.close();
  }

  /** The report, built on the work queue. */
  report(): Promise<ReturnType<typeof buildReport>> {
    const d = this.#o.daemon;
    return d.queue.run('control status', () =>
      buildReport(d, {
        version: this.#o.version,
        configLoadedAtMs: this.#configLoadedAtMs,
        eventLoop: { p50Ms: round(this.#lag.percentile(50) / 1e6), p99Ms: round(this.#lag.percentile(99) / 1e6) },
        holdFor: (n) => this.manual.report(this.manual.holdFor(n)),
        nodeMaintenance: this.manual.report(this.manual.nodeMaintenance, true),
      }),
    );
  }

  async handle(req: ControlRequest & RequestEnvelope, caller: Caller): Promise<ControlResponse> {
    switch (req.cmd) {
      case 'ping':
        return { ok: true, pong: true };
      case 'status': {
        const status = await this.report();
        if (req.instance !== undefined && !status.instances.some((i) => i.name === req.instance)) {
          return { ok: false, error: `no instance ${req.instance} (have: ${status.instances.map((i) => i.name).join(', ') || 'none'})` };
        }
        return { ok: true, status };
      }
      case 'reload':
        return this.reload(caller.by);
      case 'promote': {
        const sel = { ...(req.instance !== undefined ? { instance: req.instance } : {}), ...(req.vrid !== undefined ? { vrid: req.vrid } : {}) };
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
