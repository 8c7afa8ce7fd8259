/**
 * Trackers: the tracking inputs the instances hear as `track` events (docs/keepalived-behaviour.md 3.6), kept in
 * step with the config: one ScriptScheduler per vrrp_script and one TrackFileWatcher per
 * track_file in use (track-inputs.ts), one process watch for every vrrp_track_process in use
 * (track-process.ts: the kernel's process events, or a /proc scan), each result fed to every instance tracking it, on the work
 * queue. Link up/down comes from the host state (host-state.ts) through {@link Trackers.track}.
 * A script kept by a reload keeps its OK/KO state ("considered successful on reload").
 */
import type { DeepReadonly, TrackFile, TrackProcess, VrrpScript } from '../config/model.js';
import type { Log } from '../log.js';
import type { TrackUpdate } from '../protocol/tracking.js';
import type { Instance } from './instance.js';
import { SOURCE_TRACKER } from './params.js';
import type { MonotonicClock, ProcessEvents, ProcessRunner, ProcessTable, ScriptGatePort, TrackFileIo } from './ports/index.js';
import { ProcessWatch, type ProcessState } from './track-process.js';
import { ScriptScheduler, TrackFileWatcher } from './track-inputs.js';

type R<T> = DeepReadonly<T>;

export interface TrackersDeps {
  readonly clock: MonotonicClock;
  readonly runner: ProcessRunner;
  readonly files: TrackFileIo;
  /** The process table for track_process (absent: no process is ever counted). */
  readonly procTable?: ProcessTable;
  /** The kernel's process events for track_process (absent: /proc is scanned every second). */
  readonly procEvents?: ProcessEvents;
  readonly gate: ScriptGatePort;
  readonly log: Log;
  /** Push work on the daemon's serialized path. */
  readonly submit: (what: string, fn: () => void | Promise<void>) => void;
  readonly instances: () => readonly Instance[];
  /** Is this interface up as last reported (host-state.ts)? */
  readonly isUp: (ifname: string) => boolean;
}

export class Trackers {
  readonly #scripts = new Map<string, ScriptScheduler>();
  readonly #files = new Map<string, TrackFileWatcher>();
  readonly #processes: ProcessWatch;

  constructor(private readonly deps: TrackersDeps) {
    this.#processes = new ProcessWatch({
      clock: deps.clock,
      log: deps.log,
      table: deps.procTable,
      events: deps.procEvents,
      onChange: (n, quorum) => this.deps.submit(`track_process ${n}`, () => this.track({ kind: 'process', name: n, quorum })),
    });
  }

  /** A tracked process's count, quorum and source (status, tests). */
  process(name: string): ProcessState | undefined {
    return this.#processes.state(name);
  }

  /** Start the scripts and watches the instances use now, stop the others (start, reload). */
  sync(): void {
    const wantScripts = new Map<string, R<VrrpScript>>();
    const wantFiles = new Map<string, R<TrackFile>>();
    const wantProcesses = new Map<string, R<TrackProcess>>();
    for (const inst of this.deps.instances()) {
      for (const s of inst.spec.scripts) wantScripts.set(s.name, s);
      for (const f of inst.spec.trackFiles) wantFiles.set(f.name, f);
      for (const p of inst.spec.trackProcesses) wantProcesses.set(p.name, p);
    }
    this.#syncScripts(wantScripts);
    this.#syncFiles(wantFiles);
    this.#processes.sync([...wantProcesses.values()]);
  }

  #syncScripts(want: ReadonlyMap<string, R<VrrpScript>>): void {
    const { log } = this.deps;
    for (const [name, s] of this.#scripts) {
      const def = want.get(name);
      if (def === undefined) {
        s.stop();
        this.#scripts.delete(name);
      } else {
        s.def = def;
        log.info({ script: name }, `VRRP_Script(${name}) considered ${s.lastResult === false ? 'failed' : 'successful'} on reload`);
      }
    }
    for (const [name, def] of want) {
      if (this.#scripts.has(name)) continue;
      const s = new ScriptScheduler(def, {
        clock: this.deps.clock,
        runner: this.deps.runner,
        log,
        gate: this.deps.gate,
        onResult: (n, ok) => this.deps.submit(`script ${n}`, () => this.track({ kind: 'script', name: n, ok })),
      });
      this.#scripts.set(name, s);
      s.start();
    }
  }

  #syncFiles(want: ReadonlyMap<string, R<TrackFile>>): void {
    for (const [name, w] of this.#files) {
      const def = want.get(name);
      if (def === undefined || def.file !== w.def.file) {
        w.stop();
        this.#files.delete(name);
      }
    }
    for (const [name, def] of want) {
      if (this.#files.has(name)) continue;
      const w = new TrackFileWatcher(def, {
        io: this.deps.files,
        log: this.deps.log,
        onValue: (n, value) => this.deps.submit(`track_file ${n}`, () => this.track({ kind: 'file', name: n, value })),
      });
      this.#files.set(name, w);
      w.start();
    }
  }

  /** Initial tracking of a new instance (before `start`: the state machine only records it). */
  prepare(inst: Instance): void {
    const nowMs = (): number => this.deps.clock.nowMs();
    for (const t of inst.snapshot.params.trackInterfaces) {
      if (t.name === SOURCE_TRACKER) continue;
      const up = this.deps.isUp(t.name);
      if (!up) inst.trackBeforeStart({ kind: 'interface', name: t.name, up }, nowMs());
    }
    for (const s of inst.spec.scripts) {
      const last = this.#scripts.get(s.name)?.lastResult;
      if (last !== undefined) inst.trackBeforeStart({ kind: 'script', name: s.name, ok: last }, nowMs());
    }
    for (const f of inst.spec.trackFiles) {
      const v = this.#files.get(f.name)?.value;
      if (v !== undefined) inst.trackBeforeStart({ kind: 'file', name: f.name, value: v }, nowMs());
    }
    for (const p of inst.spec.trackProcesses) {
      const quorum = this.#processes.quorum(p.name);
      if (quorum !== undefined) inst.trackBeforeStart({ kind: 'process', name: p.name, quorum }, nowMs());
    }
  }

  /** A track update for every instance tracking `name` of this kind (on the queue). */
  async track(update: TrackUpdate): Promise<void> {
    for (const inst of [...this.deps.instances()]) {
      const p = inst.snapshot.params;
      const tracks =
        update.kind === 'interface'
          ? p.trackInterfaces.some((t) => t.name === update.name)
          : update.kind === 'script'
            ? p.trackScripts.some((t) => t.name === update.name)
            : update.kind === 'file'
              ? p.trackFiles.some((t) => t.name === update.name)
              : p.trackProcesses.some((t) => t.name === update.name);
      if (tracks) await inst.handle({ type: 'track', update, nowMs: this.deps.clock.nowMs() });
    }
  }

  /**
   * Re-evaluate a kept instance's tracking after a reload (new weights and items): a no-op update of
   * its source tracker, then each tracked interface whose recorded state differs from the host's.
   */
  async reevaluate(inst: Instance): Promise<void> {
    const nowMs = (): number => this.deps.clock.nowMs();
    const up = inst.snapshot.tracking.interfaces[SOURCE_TRACKER] ?? true;
    await inst.handle({ type: 'track', update: { kind: 'interface', name: SOURCE_TRACKER, up }, nowMs: nowMs() });
    for (const t of inst.snapshot.params.trackInterfaces) {
      if (t.name === SOURCE_TRACKER) continue;
      const ifUp = this.deps.isUp(t.name);
      if ((inst.snapshot.tracking.interfaces[t.name] ?? true) !== ifUp) {
        await inst.handle({ type: 'track', update: { kind: 'interface', name: t.name, up: ifUp }, nowMs: nowMs() });
      }
    }
    this.#processes.ensure(inst.spec.trackProcesses);
    for (const t of inst.snapshot.params.trackProcesses) {
      const quorum = this.#processes.quorum(t.name) ?? false;
      if (inst.snapshot.tracking.processes[t.name] !== quorum) {
        await inst.handle({ type: 'track', update: { kind: 'process', name: t.name, quorum }, nowMs: nowMs() });
      }
    }
  }

  /** Stop every script and watch (daemon stop). */
  stop(): void {
    for (const s of this.#scripts.values()) s.stop();
    for (const f of this.#files.values()) f.stop();
    this.#processes.stop();
  }
}
