/**
 * The tracking inputs the daemon feeds to instances as `track` events (docs/keepalived-behaviour.md 3.6):
 * `vrrp_script` checks run every `interval` (never overlapping themselves, killed at `timeout`),
 * and `track_file` files watched and re-read with strtol semantics.
 *
 * Every vrrp_script run first passes the script gate (the notifier's, src/notify/security.ts): it runs as its user
 * (its own `user`, script_user, keepalived_script, else root), with keepalived's umask (0177:
 * files it creates are 0600), and its file is checked again. A run the gate refuses (the path
 * became unsafe, the file vanished) is not started and counts as a FAILED run: the script's
 * fall/rise and weight apply as for a script that exited non-zero (weight 0: the instance goes to
 * FAULT). A check that cannot be made safely fails closed; keepalived, which does not re-check,
 * would run whatever the path now holds, as root.
 */
import type { DeepReadonly, TrackFile, VrrpScript } from '../config/model.js';
import type { Log } from '../log.js';
import { nextScriptState, type ScriptTrackState } from '../protocol/tracking.js';
import type { MonotonicClock, ProcessRunner, RunResult, ScriptGatePort, TimerHandle, TrackFileIo } from './ports/index.js';

/**
 * C strtol(s, NULL, 10) as keepalived reads a track file: leading white space, optional sign,
 * decimal digits up to the first non-digit; nothing parsable is 0; clamped to the 32-bit range.
 */
export function strtol(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (m === null) return 0;
  const v = Number(`${m[1]}${m[2]}`);
  return Math.max(-2147483648, Math.min(2147483647, v));
}

export interface ScriptResultSink {
  (name: string, ok: boolean): void;
}

/** Runs one vrrp_script on its interval and reports each completed run. */
export class ScriptScheduler {
  def: DeepReadonly<VrrpScript>;
  #timer: TimerHandle | undefined;
  #running = false;
  #stopped = false;
  /** Script-level OK/KO for the log lines ("VRRP_Script(x) succeeded"). */
  #state: ScriptTrackState;
  #lastCode: number | null | undefined;
  lastResult: boolean | undefined;
  /** Runs the gate refused (not started, counted as failed). */
  refused = 0;

  constructor(
    def: DeepReadonly<VrrpScript>,
    private readonly deps: { clock: MonotonicClock; runner: ProcessRunner; log: Log; gate: ScriptGatePort; onResult: ScriptResultSink },
  ) {
    this.def = def;
    this.#state = def.initFail ? { result: 0, status: 'ko' } : { result: Math.max(1, def.rise) - 1, status: 'init' };
  }

  start(): void {
    this.#stopped = false;
    this.#arm(0);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.deps.clock.setTimer(delayMs, () => void this.#tick());
  }

  async #tick(): Promise<void> {
    const interval = Math.max(1000, this.def.intervalMs);
    this.#arm(interval);
    if (this.#running) {
      this.deps.log.info({ script: this.def.name }, `Track script ${this.def.name} is already running, expect idle - skipping run`);
      return;
    }
    const launch = this.deps.gate.prepare(this.def.script, `vrrp_script ${this.def.name}`);
    if (!launch.ok) {
      this.refused++;
      this.#report({ code: null, signal: null, timedOut: false, durationMs: 0, error: `not run: ${launch.reason}` });
      return;
    }
    this.#running = true;
    const timeoutMs = this.def.timeoutMs > 0 ? this.def.timeoutMs : interval;
    let r: RunResult;
    try {
      r = await this.deps.runner.run({ argv: launch.argv, uid: launch.uid, gid: launch.gid, timeoutMs, umask: launch.umask });
    } catch (e) {
      r = { code: null, signal: null, timedOut: false, durationMs: 0, error: e instanceof Error ? e.message : String(e) };
    } finally {
      this.#running = false;
    }
    if (this.#stopped) return;
    this.#report(r);
  }

  #report(r: RunResult): void {
    const ok = !r.timedOut && r.error === undefined && r.code === 0;
    const name = this.def.name;
    if (r.code !== this.#lastCode && r.code !== null && this.#lastCode !== undefined) {
      this.deps.log.info({ script: name }, `Script \`${name}\` now returning ${r.code}`);
    }
    this.#lastCode = r.code;
    const def = {
      name,
      weight: this.def.weight,
      reverse: this.def.reverse,
      rise: Math.max(1, this.def.rise),
      fall: Math.max(1, this.def.fall),
      initFail: this.def.initFail,
    };
    const before = this.#state.status;
    this.#state = nextScriptState(def, this.#state, ok);
    if (this.#state.status !== before) {
      if (this.#state.status === 'ok') this.deps.log.info({ script: name }, `VRRP_Script(${name}) succeeded`);
      else if (r.timedOut) this.deps.log.info({ script: name }, `VRRP_Script(${name}) timed_out`);
      else if (r.error !== undefined) this.deps.log.info({ script: name }, `VRRP_Script(${name}) failed (${r.error})`);
      else if (r.signal !== null) this.deps.log.info({ script: name }, `VRRP_Script(${name}) failed (due to signal ${r.signal})`);
      else this.deps.log.info({ script: name }, `VRRP_Script(${name}) failed (exited with status ${r.code})`);
    }
    this.lastResult = ok;
    this.deps.onResult(name, ok);
  }
}

/** Watches one track_file and reports its value whenever it changes. */
export class TrackFileWatcher {
  def: DeepReadonly<TrackFile>;
  value: number | undefined;
  #watch: TimerHandle | undefined;

  constructor(
    def: DeepReadonly<TrackFile>,
    private readonly deps: { io: TrackFileIo; log: Log; onValue: (name: string, value: number) => void },
  ) {
    this.def = def;
  }

  start(): void {
    const { io } = this.deps;
    if (this.def.initValue !== null && (this.def.initOverwrite || io.read(this.def.file) === undefined)) {
      try {
        io.write(this.def.file, `${this.def.initValue}\n`);
      } catch (e) {
        this.deps.log.warn(
          { file: this.def.file },
          `track_file ${this.def.name}: cannot create ${this.def.file}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    this.#watch = io.watch(this.def.file, () => this.poll());
    this.poll();
  }

  /** Re-read the file and report a changed value (a missing file reads as 0). */
  poll(): void {
    const text = this.deps.io.read(this.def.file);
    const v = text === undefined ? 0 : strtol(text);
    if (v === this.value) return;
    this.value = v;
    this.deps.log.debug({ file: this.def.file, value: v }, `track_file ${this.def.name} is now ${v}`);
    this.deps.onValue(this.def.name, v);
  }

  stop(): void {
    this.#watch?.cancel();
    this.#watch = undefined;
  }
}
