/**
 * Manual control of who is MASTER, on top of the state machine's `priority-override`, `take-over`
 * and `hand-over` events (every change goes through the daemon's work queue, like a packet):
 *
 *  - promote: hold the instance above the current master (254, or 255 over a 254 master; never
 *    against an address owner) and, on a BACKUP, take MASTER at once. The old master (vrrpd or
 *    keepalived) yields as soon as it hears the higher-priority advert (RFC 3768 6.4.3), which
 *    goMaster sends before adding the VIPs and the GARP burst. Holds until `promote --clear`.
 *  - switchover (on the MASTER): ask a reachable vrrpd peer (its control socket) to promote itself;
 *    otherwise "yield": hold this instance at priority 1 and hand over with a priority-0 advert, so
 *    the best backup takes over after its skew time. The yield holds until `promote --clear`.
 *  - maintenance (node-wide or one instance, optionally for a duration): hold at priority 1 and hand
 *    over when MASTER. Persisted in `<stateDir>/manual.json` and re-applied on reload and before
 *    the instances start after a restart. A node in maintenance is still a VRRP router at priority 1:
 *    it only becomes MASTER if no other router is alive (better a VIP on it than no VIP at all).
 *
 * Promote and yield holds live in memory: they survive a reload, not a restart.
 */
import { join } from 'node:path';
import type { Log } from '../log.js';
import { readOwnFileSync, replaceFileSync } from '../util/safe-file.js';
import type { Daemon } from '../runtime/daemon.js';
import type { Instance } from '../runtime/instance.js';
import { request } from './client.js';
import type { HoldReport, InstanceReport } from './protocol.js';

export interface Hold {
  readonly kind: 'promote' | 'yield' | 'maintenance';
  readonly priority: number;
  readonly by: string;
  readonly sinceMs: number;
  /** Wall-clock end, or null. */
  readonly untilMs: number | null;
}

export interface ManualOptions {
  readonly daemon: Daemon;
  readonly log: Log;
  /** Where maintenance is persisted (`<stateDir>/manual.json`); null = not persisted. */
  readonly stateFile: string | null;
  /** Wall clock (tests). */
  readonly now?: () => number;
}

/** An answer for the operator: ok with details, or an error sentence. */
export type ManualResult = { ok: true; [k: string]: unknown } | { ok: false; error: string };

const MAINTENANCE_PRIORITY = 1;
/** manual.json's mode: only root reads who put the node in maintenance. */
const MANUAL_FILE_MODE = 0o600;

export function manualStateFile(stateDir: string): string {
  return join(stateDir, 'manual.json');
}

export class ManualControl {
  readonly #d: Daemon;
  readonly #log: Log;
  readonly #file: string | null;
  readonly #now: () => number;
  /** promote / yield holds by instance name. */
  readonly #holds = new Map<string, Hold>();
  #nodeMaintenance: Hold | null = null;
  readonly #maintenance = new Map<string, Hold>();
  #expiry: NodeJS.Timeout | undefined;

  constructor(o: ManualOptions) {
    this.#d = o.daemon;
    this.#log = o.log;
    this.#file = o.stateFile;
    this.#now = o.now ?? Date.now;
    this.#load();
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  /** The hold in force for an instance (maintenance first), or null. */
  holdFor(name: string): Hold | null {
    this.#dropExpired();
    return this.#nodeMaintenance ?? this.#maintenance.get(name) ?? this.#holds.get(name) ?? null;
  }

  get nodeMaintenance(): Hold | null {
    this.#dropExpired();
    return this.#nodeMaintenance;
  }

  report(h: Hold | null, nodeWide = false): HoldReport | null {
    if (h === null) return null;
    return {
      kind: h.kind,
      priority: h.priority,
      by: h.by,
      since: new Date(h.sinceMs).toISOString(),
      until: h.untilMs === null ? null : new Date(h.untilMs).toISOString(),
      ...(nodeWide || h === this.#nodeMaintenance ? { nodeWide: true } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Applying holds (on the work queue)

  /** Bring one instance in line with its hold. Must run on the work queue. */
  async applyNow(inst: Instance, reason?: string): Promise<void> {
    const h = this.holdFor(inst.name);
    const want = h?.priority ?? null;
    const nowMs = (): number => this.#d.nowMs();
    if (inst.snapshot.priorityOverride !== want) await inst.handle({ type: 'priority-override', priority: want, nowMs: nowMs() });
    if (h !== null && h.kind !== 'promote' && inst.state === 'MASTER') {
      await inst.handle({ type: 'hand-over', reason: reason ?? `${h.kind} (by ${h.by})`, nowMs: nowMs() });
    }
  }

  /** Apply every hold (after start and reload). Must run on the work queue. */
  async applyAllNow(): Promise<void> {
    for (const inst of [...this.#d.instances]) await this.applyNow(inst);
  }

  applyAll(): Promise<void> {
    return this.#d.queue.run('manual holds', () => this.applyAllNow());
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  async promote(sel: { instance?: string; vrid?: number }, by: string, priority?: number): Promise<ManualResult> {
    return this.#d.queue.run('control promote', async (): Promise<ManualResult> => {
      const inst = this.#find(sel);
      if (typeof inst === 'string') return { ok: false, error: inst };
      const name = inst.name;
      const s = inst.snapshot;
      if (this.#nodeMaintenance !== null || this.#maintenance.has(name)) {
        return {
          ok: false,
          error: `${name} is in maintenance (by ${(this.#nodeMaintenance ?? this.#maintenance.get(name))!.by}); turn it off first: vrrpd maintenance off`,
        };
      }
      if (s.state !== 'BACKUP' && s.state !== 'MASTER')
        return { ok: false, error: `${name} is ${s.state} (${inst.describe(s.reason)}): only a BACKUP can be promoted` };
      const master = s.state === 'BACKUP' ? s.master : null;
      const mp = master?.priority ?? 0;
      if (master !== null && mp >= 255)
        return { ok: false, error: `the master ${master.ip} is the address owner (priority 255): nothing advertises above it` };
      const prio = priority ?? (mp >= 254 ? 255 : 254);
      if (master !== null && prio <= mp) return { ok: false, error: `priority ${prio} is not above the master's (${master.ip}, ${mp})` };
      this.#holds.set(name, { kind: 'promote', priority: prio, by, sinceMs: this.#now(), untilMs: null });
      const from = master ? ` from ${master.ip} (priority ${mp})` : '';
      inst.log.warn(
        { state: s.state, by, priority: prio },
        `(${name}) promote requested by ${by}: holding priority ${prio}${s.state === 'BACKUP' ? ` and taking over${from}` : ' (already MASTER)'}`,
      );
      await this.applyNow(inst);
      if (inst.state === 'BACKUP') await inst.handle({ type: 'take-over', reason: `promoted by ${by}`, nowMs: this.#d.nowMs() });
      return { ok: true, instance: name, state: inst.state, priority: prio, previousMaster: master };
    });
  }

  /** Drop the promote/yield hold of one instance (or of all). */
  async clear(sel: { instance?: string; vrid?: number }, by: string): Promise<ManualResult> {
    return this.#d.queue.run('control promote --clear', async (): Promise<ManualResult> => {
      let targets: Instance[];
      if (sel.instance === undefined && sel.vrid === undefined) targets = this.#d.instances.filter((i) => this.#holds.has(i.name));
      else {
        const inst = this.#find(sel);
        if (typeof inst === 'string') return { ok: false, error: inst };
        targets = [inst];
      }
      const cleared: string[] = [];
      for (const inst of targets) {
        const h = this.#holds.get(inst.name);
        this.#holds.delete(inst.name);
        if (h !== undefined) {
          cleared.push(inst.name);
          inst.log.warn({ state: inst.state, by }, `(${inst.name}) ${h.kind} hold (priority ${h.priority}) cleared by ${by}`);
        }
        await this.applyNow(inst);
      }
      return { ok: true, cleared };
    });
  }

  /**
   * Hand a MASTER instance over: first to a vrrpd peer that answers on one of `peerSockets` (it
   * promotes itself: no gap beyond one advert), else by priority 0 with a yield hold.
   */
  async switchover(name: string, peerSockets: readonly string[], by: string): Promise<ManualResult> {
    const inst = this.#d.instances.find((i) => i.name === name);
    if (inst === undefined)
      return { ok: false, error: `no instance ${name} (have: ${this.#d.instances.map((i) => i.name).join(', ') || 'none'})` };
    if (inst.state !== 'MASTER') {
      const m = inst.snapshot.master;
      return {
        ok: false,
        error: `${name} is ${inst.state} here${m ? `; the master is ${m.ip}` : ''}: run switchover on the master, or promote on a backup`,
      };
    }
    const tried: string[] = [];
    // Best vrrpd peer first: a BACKUP of the same VRID, highest priority.
    const candidates: { path: string; name: string; priority: number }[] = [];
    for (const path of peerSockets) {
      try {
        const r = await request(path, { cmd: 'status' }, 1000);
        const st = r.ok ? (r.status as { instances?: InstanceReport[] } | undefined) : undefined;
        const peer = st?.instances?.find((i) => i.vrid === inst.spec.vrid && i.state === 'BACKUP');
        if (peer) candidates.push({ path, name: peer.name, priority: peer.effectivePriority });
        else tried.push(`${path}: no BACKUP for VRID ${inst.spec.vrid}`);
      } catch (e) {
        tried.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    candidates.sort((a, b) => b.priority - a.priority);
    for (const c of candidates) {
      inst.log.warn(
        { state: 'MASTER', by, peer: c.path },
        `(${name}) switchover requested by ${by}: asking the vrrpd peer at ${c.path} (${c.name}) to take over`,
      );
      try {
        // The peer's server appends its caller's credentials, which are this daemon's: the claim
        // names the operator and where the switchover comes from, so each is named once there.
        const r = await request(
          c.path,
          { cmd: 'promote', instance: c.name },
          2000,
          `${by} via switchover from ${name}@${inst.srcIp ?? '?'}`,
        );
        if (!r.ok) {
          tried.push(`${c.path}: ${r.error}`);
          continue;
        }
        const left = await this.#waitLeaveMaster(inst, 3000);
        return { ok: true, instance: name, via: 'peer', peer: c.path, peerInstance: c.name, state: inst.state, leftMaster: left, tried };
      } catch (e) {
        tried.push(`${c.path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    // No vrrpd peer: yield (priority 1) and send priority 0.
    return this.#d.queue.run('control switchover', async (): Promise<ManualResult> => {
      if (inst.state !== 'MASTER') return { ok: true, instance: name, via: 'none', state: inst.state, tried };
      this.#holds.set(name, { kind: 'yield', priority: MAINTENANCE_PRIORITY, by, sinceMs: this.#now(), untilMs: null });
      inst.log.warn(
        { state: 'MASTER', by },
        `(${name}) switchover requested by ${by}: no vrrpd peer reachable, yielding with priority 0 (holding priority ${MAINTENANCE_PRIORITY} until 'vrrpd promote --clear ${name}')`,
      );
      await this.applyNow(inst, `switchover (by ${by})`);
      return { ok: true, instance: name, via: 'priority-0', state: inst.state, tried };
    });
  }

  async maintenance(on: boolean, instance: string | undefined, forMs: number | undefined, by: string): Promise<ManualResult> {
    return this.#d.queue.run('control maintenance', async (): Promise<ManualResult> => {
      if (instance !== undefined && !this.#d.instances.some((i) => i.name === instance)) {
        return { ok: false, error: `no instance ${instance} (have: ${this.#d.instances.map((i) => i.name).join(', ') || 'none'})` };
      }
      const what = instance === undefined ? 'node' : instance;
      if (on) {
        const h: Hold = {
          kind: 'maintenance',
          priority: MAINTENANCE_PRIORITY,
          by,
          sinceMs: this.#now(),
          untilMs: forMs === undefined ? null : this.#now() + forMs,
        };
        if (instance === undefined) this.#nodeMaintenance = h;
        else this.#maintenance.set(instance, h);
        this.#log.warn(
          { instance, by, untilMs: h.untilMs },
          `maintenance ON for ${what} by ${by}${h.untilMs !== null ? ` until ${new Date(h.untilMs).toISOString()}` : ''}: holding priority ${MAINTENANCE_PRIORITY}, handing over any MASTER`,
        );
      } else {
        if (instance === undefined) {
          this.#nodeMaintenance = null;
          this.#maintenance.clear();
        } else this.#maintenance.delete(instance);
        this.#log.warn({ instance, by }, `maintenance OFF for ${what} by ${by}`);
      }
      const saved = this.#save();
      this.#armExpiry();
      await this.applyAllNow();
      return {
        ok: true,
        maintenance: on,
        instance: instance ?? null,
        until: forMs === undefined || !on ? null : new Date(this.#now() + forMs).toISOString(),
        persisted: saved,
      };
    });
  }

  close(): void {
    if (this.#expiry !== undefined) clearTimeout(this.#expiry);
    this.#expiry = undefined;
  }

  // -------------------------------------------------------------------------------------------

  #find(sel: { instance?: string; vrid?: number }): Instance | string {
    const all = this.#d.instances;
    const inst = sel.instance !== undefined ? all.find((i) => i.name === sel.instance) : all.find((i) => i.spec.vrid === sel.vrid);
    if (inst) return inst;
    const want = sel.instance ?? `VRID ${sel.vrid}`;
    return `no instance ${want} (have: ${all.map((i) => i.name).join(', ') || 'none'})`;
  }

  async #waitLeaveMaster(inst: Instance, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (inst.state !== 'MASTER') return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return inst.state !== 'MASTER';
  }

  #dropExpired(): boolean {
    const now = this.#now();
    let changed = false;
    if (this.#nodeMaintenance?.untilMs != null && this.#nodeMaintenance.untilMs <= now) {
      this.#log.warn({ by: this.#nodeMaintenance.by }, `maintenance for node ended (--for elapsed)`);
      this.#nodeMaintenance = null;
      changed = true;
    }
    for (const [n, h] of this.#maintenance) {
      if (h.untilMs !== null && h.untilMs <= now) {
        this.#log.warn({ instance: n, by: h.by }, `maintenance for ${n} ended (--for elapsed)`);
        this.#maintenance.delete(n);
        changed = true;
      }
    }
    if (changed) this.#save();
    return changed;
  }

  #armExpiry(): void {
    if (this.#expiry !== undefined) clearTimeout(this.#expiry);
    this.#expiry = undefined;
    const ends = [this.#nodeMaintenance, ...this.#maintenance.values()].flatMap((h) => (h?.untilMs != null ? [h.untilMs] : []));
    if (ends.length === 0) return;
    const delay = Math.max(0, Math.min(...ends) - this.#now());
    this.#expiry = setTimeout(
      () => {
        this.#expiry = undefined;
        this.#d.queue.push('maintenance expiry', async () => {
          this.#dropExpired();
          this.#armExpiry();
          await this.applyAllNow();
        });
      },
      Math.min(delay, 2 ** 31 - 1),
    );
    this.#expiry.unref();
  }

  #load(): void {
    if (this.#file === null) return;
    // Read only our own file: a link planted in a user-writable state directory must not make
    // the daemon read (and quote in a parse error) another file.
    const read = readOwnFileSync(this.#file);
    if (!read.ok) {
      if (read.code !== 'ENOENT') this.#log.warn({ file: this.#file }, `ignoring ${this.#file}: ${read.error}`);
      return;
    }
    const raw = read.value.toString('utf8');
    try {
      const v = JSON.parse(raw) as { maintenance?: { node?: Hold | null; instances?: Record<string, Hold> } };
      const ok = (h: unknown): h is Hold =>
        typeof h === 'object' && h !== null && (h as Hold).kind === 'maintenance' && typeof (h as Hold).by === 'string';
      const fix = (h: Hold): Hold => ({ ...h, priority: MAINTENANCE_PRIORITY });
      if (ok(v.maintenance?.node)) this.#nodeMaintenance = fix(v.maintenance.node);
      for (const [n, h] of Object.entries(v.maintenance?.instances ?? {})) if (ok(h)) this.#maintenance.set(n, fix(h));
      this.#dropExpired();
      this.#armExpiry();
      const names = [...(this.#nodeMaintenance ? ['node'] : []), ...this.#maintenance.keys()];
      if (names.length > 0) this.#log.warn({ file: this.#file }, `maintenance restored from ${this.#file} for ${names.join(', ')}`);
    } catch (e) {
      this.#log.warn({ file: this.#file }, `ignoring unreadable ${this.#file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Atomic write through the safe writer (random `O_EXCL|O_NOFOLLOW` temp, fchmod 0600, fsync,
   * rename); false when it could not be written (logged).
   */
  #save(): boolean {
    if (this.#file === null) return false;
    const body = JSON.stringify(
      { version: 1, maintenance: { node: this.#nodeMaintenance, instances: Object.fromEntries(this.#maintenance) } },
      null,
      2,
    );
    const r = replaceFileSync(this.#file, `${body}\n`, { mode: MANUAL_FILE_MODE });
    if (!r.ok) this.#log.error({ file: this.#file, code: r.code }, `cannot save maintenance state: ${r.error}`);
    return r.ok;
  }
}
