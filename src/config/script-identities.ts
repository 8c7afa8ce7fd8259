/**
 * Script users at parse time, with keepalived's diagnostics and consequences (lib/notify.c
 * `notify_script_init()`, `set_default_script_user()`; vrrp_parser.c `vrrp_vscript_user_handler()`,
 * `vrrp_vscript_end_handler()`; global_parser.c `script_user_handler()`, `notify_fifo()`):
 *
 * | what                         | user unknown                                      | keepalived -t shows | consequence |
 * |------------------------------|---------------------------------------------------|---------------------|-------------|
 * | `script_user U [G]`          | `Error setting global script uid/gid` (its line)  | yes                 | every script relying on the default is refused |
 * | vrrp_script `user U [G]`     | `Unable to set uid/gid for script 'CMD'`          | yes                 | the vrrp_script is removed |
 * | vrrp_script, default refused | `Unable to set default user for vrrp script N - removing` | yes         | removed |
 * | notify line `CMD U [G]`      | `Invalid user/group for notify script CMD - ignoring` | no (log only)   | the hook is not set |
 * | notify line, default refused | `Failed to set default user for notify script CMD - ignoring` | no      | not set |
 * | `*notify_fifo PATH U [G]`    | `Invalid user/group for ... fifo PATH - ignoring`  | no                  | no FIFO |
 * | `*notify_fifo_script`        | as a notify line                                   | no                  | no reader script |
 *
 * The default is decided once per load, at its first use: `keepalived_script` when it exists
 * (keepalived logs `Script user 'keepalived_script' does not exist` otherwise), else root; with
 * `enable_script_security` and no such user it is refused, reported once:
 * `Unable to set default user keepalived_script for script` (on the line of the first script that
 * needed it). Messages keepalived only logs are `info` diagnostics (shown by `vrrpd run`).
 *
 * Without a user database (`--no-host-checks`) nothing is looked up and every user is accepted.
 */
import type { Diagnostics, SourceLoc } from './diagnostics.js';
import type { FifoSpec, GlobalDefs, ScriptCommand } from './model.js';
import { DEFAULT_SCRIPT_USER, lookupIdentity, ROOT_IDENTITY, type Identity, type UserDb } from './script-user.js';

export class ScriptIdentities {
  /** Identity of every accepted script command and FIFO, by object. */
  readonly #of = new Map<object, Identity & { ok: true }>();
  #default: Identity | undefined;

  constructor(
    private readonly db: UserDb | undefined,
    private readonly diags: Diagnostics,
    private readonly global: GlobalDefs,
  ) {}

  /** The identity a command (or FIFO) was accepted with; undefined when users are not checked. */
  get(x: ScriptCommand | FifoSpec): (Identity & { ok: true }) | undefined {
    return this.#of.get(x);
  }

  /** `script_user USER [GROUP]` (global_defs). */
  setGlobal(user: string, group: string | null, at: SourceLoc): void {
    if (!this.db) return;
    const id = lookupIdentity(this.db, user, group);
    if (!id.ok) {
      this.diags.info(undefined, id.message, 'script_user');
      this.diags.error(at, 'Error setting global script uid/gid', 'script_user');
      this.#default = { ok: false, message: 'Error setting global script uid/gid' };
      return;
    }
    this.#default = id;
  }

  /** keepalived's get_default_script_user(), decided at its first use. */
  #defaultAt(at: SourceLoc): Identity {
    if (this.#default !== undefined) return this.#default;
    const ks = this.db!.user(DEFAULT_SCRIPT_USER);
    if (ks !== undefined) this.#default = { ok: true, uid: ks.uid, gid: ks.gid };
    else {
      this.diags.info(undefined, `Script user '${DEFAULT_SCRIPT_USER}' does not exist`, 'script_user');
      if (this.global.enableScriptSecurity) {
        this.diags.error(at, `Unable to set default user ${DEFAULT_SCRIPT_USER} for script`, 'script_user');
        this.#default = { ok: false, message: `Unable to set default user ${DEFAULT_SCRIPT_USER} for script` };
      } else this.#default = ROOT_IDENTITY;
    }
    return this.#default;
  }

  #own(user: string, group: string | null): Identity {
    const id = lookupIdentity(this.db!, user, group);
    if (!id.ok) this.diags.info(undefined, id.message, 'user');
    return id;
  }

  /**
   * A notify-type command (instance and sync-group hooks, FIFO reader scripts). Returns false when
   * keepalived would drop it (the caller then does not set it).
   */
  acceptNotify(cmd: ScriptCommand, type: string, at: SourceLoc): boolean {
    if (!this.db) return true;
    const prog = cmd.argv[0] ?? '';
    const id = cmd.user !== null ? this.#own(cmd.user, cmd.group) : this.#defaultAt(at);
    if (!id.ok) {
      this.diags.info(
        undefined,
        cmd.user !== null
          ? `Invalid user/group for ${type} script ${prog} - ignoring`
          : `Failed to set default user for ${type} script ${prog} - ignoring`,
        type,
      );
      return false;
    }
    this.#of.set(cmd, id);
    return true;
  }

  /** `vrrp_notify_fifo` / `notify_fifo PATH [USER [GROUP]]`: false = no FIFO. */
  acceptFifo(spec: FifoSpec, keyword: string, at: SourceLoc): boolean {
    if (!this.db) return true;
    const id = spec.user !== null ? this.#own(spec.user, spec.group) : this.#defaultAt(at);
    if (!id.ok) {
      this.diags.info(
        undefined,
        spec.user !== null
          ? `Invalid user/group for ${keyword} ${spec.path} - ignoring`
          : `Failed to set default user for ${keyword} ${spec.path} - ignoring`,
        keyword,
      );
      return false;
    }
    this.#of.set(spec, id);
    return true;
  }

  /** vrrp_script `user USER [GROUP]`: false = the script is to be removed (reported here). */
  vrrpScriptUser(argv: readonly string[], user: string, group: string | null, at: SourceLoc): boolean {
    if (!this.db) return true;
    if (this.#own(user, group).ok) return true;
    // keepalived's cmd_str(): every word in single quotes
    this.diags.error(at, `Unable to set uid/gid for script ${argv.map((w) => `'${w}'`).join(' ')}`, 'user');
    return false;
  }

  /** End of a vrrp_script block whose user was accepted (or not given): false = remove it. */
  acceptVrrpScript(name: string, cmd: ScriptCommand, at: SourceLoc): boolean {
    if (!this.db) return true;
    const id = cmd.user !== null ? lookupIdentity(this.db, cmd.user, cmd.group) : this.#defaultAt(at);
    if (!id.ok) {
      this.diags.error(at, `Unable to set default user for vrrp script ${name} - removing`, 'vrrp_script');
      return false;
    }
    this.#of.set(cmd, id);
    return true;
  }
}
