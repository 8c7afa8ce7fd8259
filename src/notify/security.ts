/**
 * The gate every script passes right before it is spawned (notify hooks, vrrp_scripts, FIFO reader
 * scripts): who it runs as, and keepalived's file check (src/config/script-check.ts) made again.
 *
 * The config loader already removed every script that failed the check at load time, as keepalived
 * does. The check is repeated here because a path can change after load (a parent directory made
 * writable, the file replaced by a link to a user-writable file): a script that fails now is not
 * run; the refusal is logged (at most once per script and reason every 10 s, with what to fix) and
 * counted. What runs is the RESOLVED path the check approved (as keepalived execs the path it
 * resolved), so a link swapped at the configured path after the check cannot redirect the exec;
 * and an approved path to a root-run script has no component a non-root user can change, so the
 * file that passed is the file that runs.
 *
 * Rules are keepalived's: a missing or non-executable file is always refused; an insecure path
 * (writable by a non-root user) is refused with `enable_script_security`. Without it keepalived
 * runs insecure scripts (its load reports a SECURITY VIOLATION): vrrpd runs a script that was
 * ALREADY insecure when the config was loaded (the operator was told and kept it; a warning is
 * logged at each run, rate-limited), but refuses one whose path BECAME insecure after the load,
 * which is what tampering looks like; so no script runs as root from a path that turned unsafe.
 * Scripts run with keepalived's umask (its default 0177, or global_defs `umask`) and the daemon's
 * environment unchanged, as keepalived's `system_call_script()` passes its own `environ`.
 *
 * Cost: a PATH search for bare names, one realpath and one lstat per path component: a few stat
 * calls per spawn, and a script runs at most once per interval.
 */
import type { DeepReadonly, GlobalDefs, ScriptCommand } from '../config/model.js';
import { checkScriptFile, type ScriptFs } from '../config/script-check.js';
import { nodeScriptFs } from '../host/script-fs.js';
import { scriptIdentity, type Identity, type UserDb } from '../config/script-user.js';
import { nodeUserDb } from '../host/user-db.js';
import type { Log } from '../log.js';
import { RateLimiter } from '../log.js';
import type { Launch, Refusal, ScriptGatePort } from '../runtime/ports/processes.js';

/** keepalived's default umask (lib/utils.c `umask_val`): files a script creates are 0600. */
export const KEEPALIVED_UMASK = 0o177;

// What prepare() answers is the runtime's (runtime/ports/processes.ts).
export type { Launch, Refusal };

export interface GateStats {
  /** Spawns approved. */
  readonly approved: number;
  /** Spawns refused since start. */
  readonly refused: number;
  /** Insecure scripts run because enable_script_security is off. */
  readonly insecureRuns: number;
  readonly lastRefusal: { readonly what: string; readonly path: string; readonly reason: string } | null;
}

export interface ScriptGateOptions {
  readonly log: Log;
  /** File system to check scripts against; null = no file checks (tests with fake runners). */
  readonly fs?: ScriptFs | null;
  /** User database; null = no user lookups (scripts run as the daemon). */
  readonly users?: UserDb | null;
  /** Clock for the log rate limit (ms); default Date.now. */
  readonly nowMs?: () => number;
}

/** Rate limit window for repeated refusal lines of one script (ms). */
export const REFUSAL_LOG_WINDOW_MS = 10_000;

type Settings = Pick<DeepReadonly<GlobalDefs>, 'scriptUser' | 'scriptGroup' | 'enableScriptSecurity' | 'umask'>;

export class ScriptGate implements ScriptGatePort {
  readonly #o: ScriptGateOptions;
  #rate = new RateLimiter(REFUSAL_LOG_WINDOW_MS);
  #g: Settings = { scriptUser: null, scriptGroup: null, enableScriptSecurity: false, umask: KEEPALIVED_UMASK };
  /** Identities by `user\0group` for this config (a load resolves a handful of names). */
  #ids = new Map<string, Identity>();
  /** Was the script's path already insecure when the config was loaded? By `argv0\0user\0group`. */
  #insecureAtLoad = new Map<string, boolean>();
  #approved = 0;
  #refused = 0;
  #insecureRuns = 0;
  #last: GateStats['lastRefusal'] = null;

  constructor(o: ScriptGateOptions) {
    this.#o = o;
  }

  /** The production gate: the host's files and users (NSS). */
  static forHost(log: Log): ScriptGate {
    return new ScriptGate({ log, fs: nodeScriptFs(), users: nodeUserDb() });
  }

  /**
   * A (re)loaded config's script_user, enable_script_security and umask, and its script commands:
   * their paths are judged now, as the baseline a later check is compared with.
   */
  configure(g: Settings, commands: Iterable<DeepReadonly<ScriptCommand>> = []): void {
    this.#g = { scriptUser: g.scriptUser, scriptGroup: g.scriptGroup, enableScriptSecurity: g.enableScriptSecurity, umask: g.umask };
    this.#ids = new Map();
    this.#rate = new RateLimiter(REFUSAL_LOG_WINDOW_MS);
    this.#insecureAtLoad = new Map();
    const fs = this.#o.fs;
    if (!fs) return;
    for (const cmd of commands) {
      const prog = cmd.argv[0];
      const key = baselineKey(cmd);
      if (prog === undefined || this.#insecureAtLoad.has(key)) continue;
      const id = this.identity(cmd);
      if (id !== undefined && !id.ok) continue;
      const r = checkScriptFile(fs, prog, id?.uid ?? process.getuid?.() ?? 0, id?.gid ?? process.getgid?.() ?? 0, g.enableScriptSecurity);
      this.#insecureAtLoad.set(key, r.insecure);
    }
  }

  get umask(): number {
    return this.#g.umask;
  }

  stats(): GateStats {
    return { approved: this.#approved, refused: this.#refused, insecureRuns: this.#insecureRuns, lastRefusal: this.#last };
  }

  /**
   * Who a script (or a FIFO, by its `user`/`group`) runs as / belongs to under the current config:
   * undefined = no user database (the daemon's own user); `ok: false` = the user is unknown.
   */
  identity(cmd: { readonly user: string | null; readonly group: string | null }): Identity | undefined {
    const db = this.#o.users;
    if (!db) return undefined;
    const key = `${cmd.user ?? ''}\0${cmd.group ?? ''}`;
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = scriptIdentity(db, cmd, this.#g);
      this.#ids.set(key, id);
    }
    return id;
  }

  /**
   * Check `cmd` now and say what to spawn (`extraArgs` appended: the notify arguments, a FIFO's
   * path). `what` names the script in the log (`notify_master (VI_1)`, `vrrp_script chk`).
   * Never throws.
   */
  prepare(cmd: DeepReadonly<ScriptCommand>, what: string, extraArgs: readonly string[] = []): Launch | Refusal {
    const prog = cmd.argv[0];
    if (prog === undefined) return this.#refuse(what, '', 'empty command');
    const id = this.identity(cmd);
    if (id !== undefined && !id.ok) return this.#refuse(what, prog, `no user to run it as: ${id.message}`);
    const uid = id?.uid;
    const gid = id?.gid;
    let path = prog;
    const fs = this.#o.fs;
    if (fs) {
      const r = checkScriptFile(fs, prog, uid ?? process.getuid?.() ?? 0, gid ?? process.getgid?.() ?? 0, this.#g.enableScriptSecurity);
      const said = r.messages[r.messages.length - 1] ?? '';
      if (!r.usable) return this.#refuse(what, prog, r.detail !== undefined ? `${said} (${r.detail})` : said);
      if (r.insecure && this.#insecureAtLoad.get(baselineKey(cmd)) !== true) {
        return this.#refuse(
          what,
          prog,
          `its path became writable by a non-root user after the configuration was loaded (${r.detail ?? 'insecure path'})`,
        );
      }
      if (r.insecure) {
        this.#insecureRuns++;
        this.#warn(
          `${what}\0${prog}\0insecure`,
          { script: prog },
          `${what} script ${prog}: ${said} It runs because enable_script_security is off (${r.detail ?? 'insecure path'})`,
        );
      }
      path = r.path;
    }
    this.#approved++;
    return { ok: true, argv: [path, ...cmd.argv.slice(1), ...extraArgs], uid, gid, umask: this.#g.umask };
  }

  #refuse(what: string, path: string, reason: string): Refusal {
    this.#refused++;
    this.#last = { what, path, reason };
    this.#warn(`${what}\0${path}\0refused`, { script: path }, `Refusing to run ${what} script ${path}: ${reason}`);
    return { ok: false, reason };
  }

  #warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const r = this.#rate.check(key, (this.#o.nowMs ?? Date.now)());
    if (r === null) return;
    this.#o.log.warn(fields, r.suppressed > 0 ? `${msg} (${r.suppressed} more since the last report)` : msg);
  }
}

const baselineKey = (cmd: DeepReadonly<ScriptCommand>): string => `${cmd.argv[0] ?? ''}\0${cmd.user ?? ''}\0${cmd.group ?? ''}`;

/** A gate that checks nothing and runs everything as the daemon (fake runners in tests). */
export function openGate(log: Log): ScriptGate {
  return new ScriptGate({ log, fs: null, users: null });
}
