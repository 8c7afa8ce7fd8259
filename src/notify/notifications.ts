/**
 * Everything a state change tells the outside world, in keepalived's order
 * (`send_instance_notifies()`, docs/keepalived-behaviour.md 4.1): the hooks (state script, then generic `notify`;
 * queued, serialized per instance, never awaited by the protocol), then the FIFO line(s), plus
 * vrrpd's built-in state files, then the SMTP alert (smtp-alerts.ts: queued, sent one at a time, never
 * awaited). Priority changes write `MASTER_PRIORITY` / `BACKUP_PRIORITY` FIFO
 * lines when `notify_priority_changes` applies (keepalived runs no script for them, observed).
 *
 * `configure()` is called with each loaded config (start, reload): it gives the script gate
 * (security.ts) the config's script_user, enable_script_security and umask, and opens the FIFOs.
 * Hooks that failed keepalived's checks at load time are no longer in the config; every hook and
 * FIFO reader script is checked again by the gate right before it is spawned.
 * Sync groups: the daemon reports a group's moves (`VRRP_Group(G) Syncing instances to ...`); the
 * group's first state (BACKUP or FAULT at start-up, before its members' own notifies) and its STOP
 * (once every member stopped) are derived here from the members' notifies, as keepalived sends them.
 *
 * Unlike keepalived, a FIFO whose path and reader script did not change is kept open across a
 * reload (its reader does not see EOF; no line is lost in between). The hook history survives
 * reloads.
 */
import type { DeepReadonly, FifoSpec, FrozenConfig, ScriptCommand } from '../config/model.js';
import type { Log } from '../log.js';
import { fifoLine, NotifyFifo, type FifoState, type FifoStats } from './fifo.js';
import type { HookRun, NotifyHooks, NotifyState, RuntimeNotifier } from '../runtime/ports/notifier.js';
import type { ProcessRunner } from '../runtime/ports/processes.js';
import { HookHistory, Notifier } from './notifier.js';
import { openGate, ScriptGate } from './security.js';
import { SmtpAlerts, type MailTransportFactory, type SmtpAlertStats } from './smtp-alerts.js';
import { StateFiles, type StateFilesOptions } from './state-files.js';

export interface NotificationsOptions {
  readonly runner: ProcessRunner;
  readonly log: Log;
  /** Built-in state files; null = off. */
  readonly stateFiles?: StateFilesOptions | null;
  /** Timeout of hooks other than notify_stop (ms, default 30 s). */
  readonly hookTimeoutMs?: number;
  /**
   * Check scripts against the host's files and users before every spawn (ScriptGate.forHost);
   * default true. false: no checks, scripts run as the daemon (tests on fake runners).
   */
  readonly checkScripts?: boolean;
  /** A gate to use instead (tests). */
  readonly gate?: ScriptGate;
  /** Makes the SMTP alerts' transport (src/io/smtp-transport.ts for the daemon); absent: no mail is sent. */
  readonly mailTransport?: MailTransportFactory | null;
}

type Hooks = NotifyHooks;

/** A FIFO is kept across a reload only when nothing that shapes it changed (owner, mode, reader). */
function fifoKey(
  spec: DeepReadonly<FifoSpec> | null,
  script: DeepReadonly<ScriptCommand> | null,
  g: DeepReadonly<FrozenConfig['global']>,
): string {
  return spec === null ? '' : JSON.stringify([spec, script, g.scriptUser, g.scriptGroup, g.enableScriptSecurity, g.umask]);
}

/** Every script command a config may spawn (hooks, vrrp_scripts, FIFO readers). */
export function* scriptCommands(cfg: FrozenConfig): Generator<DeepReadonly<ScriptCommand>> {
  for (const i of cfg.instances) for (const c of Object.values(i.notify)) if (c && c.argv.length > 0) yield c;
  for (const sg of cfg.syncGroups) for (const c of Object.values(sg.notify)) if (c) yield c;
  for (const s of cfg.scripts) yield s.script;
  for (const c of [cfg.global.vrrpNotifyFifoScript, cfg.global.notifyFifoScript]) if (c) yield c;
}

/** The daemon's notifier (runtime/ports/notifier.ts RuntimeNotifier). */
export class Notifications implements RuntimeNotifier {
  readonly history = new HookHistory();
  readonly #log: Log;
  readonly #state: StateFiles | null;
  readonly #notifier: Notifier;
  readonly #smtp: SmtpAlerts;
  /** Every script spawn (hooks, FIFO readers, vrrp_scripts via the daemon) passes it. */
  readonly gate: ScriptGate;
  #fifos: { key: string; fifo: NotifyFifo }[] = [];
  #priorityChanges = new Map<string, boolean>();
  /** Sync groups by member name, and each group's last notified state (undefined: none yet). */
  #groupOf = new Map<string, { name: string; members: readonly string[]; hooks: Hooks }>();
  readonly #groupState = new Map<string, NotifyState>();
  readonly #memberState = new Map<string, NotifyState>();

  constructor(o: NotificationsOptions) {
    this.#log = o.log;
    this.#state = o.stateFiles ? new StateFiles(o.stateFiles, o.log) : null;
    this.#smtp = new SmtpAlerts({ log: o.log, transport: o.mailTransport ?? null });
    this.gate = o.gate ?? (o.checkScripts === false ? openGate(o.log) : ScriptGate.forHost(o.log));
    // One notifier for the daemon's life, so hooks stay serialized per instance across reloads.
    this.#notifier = new Notifier({
      runner: o.runner,
      log: o.log,
      gate: this.gate,
      history: this.history,
      ...(o.hookTimeoutMs !== undefined ? { timeoutMs: o.hookTimeoutMs } : {}),
    });
  }

  /** Take a (new) config: script user, umask and security for the gate, priority-change flags, FIFOs. */
  configure(cfg: FrozenConfig): void {
    const g = cfg.global;
    this.gate.configure(g, scriptCommands(cfg));
    this.#smtp.configure(cfg);
    this.#priorityChanges = new Map(cfg.instances.map((i) => [i.name, i.notifyPriorityChanges]));
    this.#groupOf = new Map(
      cfg.syncGroups.flatMap((sg) => sg.members.map((m) => [m, { name: sg.name, members: sg.members, hooks: sg.notify }] as const)),
    );
    // Names a reload removed are forgotten: these tables hold the running config's names only.
    const instances = new Set(cfg.instances.map((i) => i.name));
    const groups = new Set(cfg.syncGroups.map((sg) => sg.name));
    this.history.retain(instances, groups);
    for (const n of this.#memberState.keys()) if (!instances.has(n)) this.#memberState.delete(n);
    for (const n of this.#groupState.keys()) if (!groups.has(n)) this.#groupState.delete(n);
    // FIFOs: keep the ones that did not change, close the others, open the new ones.
    const want = [
      { spec: g.vrrpNotifyFifo, script: g.vrrpNotifyFifoScript },
      { spec: g.notifyFifo, script: g.notifyFifoScript },
    ].filter((w): w is { spec: DeepReadonly<FifoSpec>; script: DeepReadonly<ScriptCommand> | null } => w.spec !== null);
    const next: { key: string; fifo: NotifyFifo }[] = [];
    const old = [...this.#fifos];
    for (const w of want) {
      const key = fifoKey(w.spec, w.script, g);
      if (next.some((n) => n.fifo.path === w.spec.path)) continue; // both keywords on one path: one FIFO
      const i = old.findIndex((f) => f.key === key);
      if (i >= 0) next.push(old.splice(i, 1)[0]!);
      else {
        // A changed FIFO on the same path: close the old one before creating the new one.
        const same = old.findIndex((f) => f.fifo.path === w.spec.path);
        if (same >= 0) old.splice(same, 1)[0]!.fifo.close();
        next.push({ key, fifo: new NotifyFifo(w.spec, w.script, { log: this.#log, gate: this.gate, settings: g }) });
      }
    }
    for (const f of old) f.fifo.close();
    this.#fifos = next;
  }

  /**
   * An instance (`type: 'INSTANCE'`) or sync group state change: hooks queued, FIFO line written,
   * state files queued. Never blocks, never throws.
   */
  notify(type: 'INSTANCE' | 'GROUP', name: string, hooks: Hooks, state: NotifyState, priority: number): void {
    const group = type === 'INSTANCE' ? this.#groupOf.get(name) : undefined;
    if (group && !this.#groupState.has(group.name) && (state === 'BACKUP' || state === 'FAULT')) {
      this.notify('GROUP', group.name, group.hooks, state, 0); // the group's initial state, first
    }
    if (type === 'GROUP') this.#groupState.set(name, state);
    else if (state !== 'MASTER_RX_LOWER_PRI') this.#memberState.set(name, state);
    this.#send(type, name, hooks, state, priority);
    if (
      group &&
      state === 'STOP' &&
      this.#groupState.get(group.name) !== 'STOP' &&
      group.members.every((m) => this.#memberState.get(m) === 'STOP')
    ) {
      this.notify('GROUP', group.name, group.hooks, 'STOP', 0);
    }
  }

  #send(type: 'INSTANCE' | 'GROUP', name: string, hooks: Hooks, state: NotifyState, priority: number): void {
    this.#notifier.notify(type, name, hooks, state, priority);
    const line = fifoLine(type, name, state, priority);
    for (const f of this.#fifos) f.fifo.write(line);
    if (type === 'INSTANCE' && this.#state && state !== 'MASTER_RX_LOWER_PRI') this.#state.transition(name, state);
    this.#smtp.notify(type, name, state);
  }

  /** Effective priority changed: a FIFO line when the instance has notify_priority_changes. */
  priorityChanged(name: string, state: string, priority: number): void {
    if (!this.#priorityChanges.get(name)) return;
    let word: FifoState;
    if (state === 'MASTER') word = 'MASTER_PRIORITY';
    else if (state === 'BACKUP') word = 'BACKUP_PRIORITY';
    else return;
    const line = fifoLine('INSTANCE', name, word, priority);
    for (const f of this.#fifos) f.fifo.write(line);
  }

  /** The last hook runs of an instance (or group), oldest first. */
  lastHooks(name: string, type: 'INSTANCE' | 'GROUP' = 'INSTANCE'): readonly HookRun[] {
    return this.history.get(type, name);
  }

  /** Hooks queued or running. */
  get pendingHooks(): number {
    return this.#notifier.pending;
  }

  /** Hook runs dropped by the per-instance queue bound, and refused by the gate, since start. */
  get hookCounters(): { readonly dropped: number; readonly refused: number } {
    return { dropped: this.#notifier.dropped, refused: this.#notifier.refused };
  }

  /** SMTP alerts sent, failed, dropped by the queue bound, waiting. */
  get mailStats(): SmtpAlertStats {
    return this.#smtp.stats();
  }

  fifoStats(): readonly FifoStats[] {
    return this.#fifos.map((f) => f.fifo.stats());
  }

  /** Resolves when queued hooks, state-file writes and mails are done, or after `maxMs`. */
  async idle(maxMs: number): Promise<void> {
    const start = Date.now();
    await this.#notifier.idle(maxMs);
    if (this.#state) await this.#state.flush();
    await this.#smtp.idle(Math.max(0, maxMs - (Date.now() - start)));
  }

  /** The daemon is stopping: queued hooks other than notify_stop will not start. */
  stopping(): void {
    this.#notifier.stopping();
    this.#smtp.stopping();
  }

  /** Stop: close the FIFOs (their readers get SIGTERM) and the SMTP transport (waiting mails dropped). */
  close(): void {
    this.#smtp.close();
    for (const f of this.#fifos) f.fifo.close();
    this.#fifos = [];
  }
}
