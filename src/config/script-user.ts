/**
 * Who a script runs as, decided the way keepalived 2.2.7 decides it (docs/keepalived-behaviour.md 2.1
 * `script_user`, 4.1; lib/notify.c `set_uid_gid()`, `get_default_script_user()`):
 *
 * - A script's own `USER [GROUP]` (notify lines, vrrp_script `user`, FIFO lines): the user is looked
 *   up BY NAME only (getpwnam). keepalived never reads a number as a uid: `script_user 1234` is the
 *   user named "1234", and with no such name it is an unknown user (never uid 1234 with gid 0).
 *   The gid is the named group's, else the user's primary group.
 * - Otherwise the default: `script_user USER [GROUP]` when given (if that user is unknown, every
 *   script relying on the default is refused: keepalived's "Error setting global script uid/gid");
 *   else the user `keepalived_script` when it exists; else the daemon's own uid:gid (root), except
 *   that with `enable_script_security` a missing `keepalived_script` refuses every such script.
 *
 * Pure: the user database comes in as a `UserDb`.
 */

export interface UserEntry {
  readonly uid: number;
  /** Primary group. */
  readonly gid: number;
}

/** The user database, as getpwnam(3) / getgrnam(3) see it. */
export interface UserDb {
  /** A user by NAME (a numeric string is a name too, as for getpwnam); undefined when unknown. */
  user(name: string): UserEntry | undefined;
  /** A group's gid by name; undefined when unknown. */
  group(name: string): number | undefined;
}

/** The user keepalived runs scripts as when no script_user is configured and it exists. */
export const DEFAULT_SCRIPT_USER = 'keepalived_script';

export type Identity = { readonly ok: true; readonly uid: number; readonly gid: number } | { readonly ok: false; readonly message: string };

/** The daemon's own identity (vrrpd runs as root, as keepalived). */
export const ROOT_IDENTITY: Identity = { ok: true, uid: 0, gid: 0 };

/** keepalived's set_uid_gid(): the named user, and the named group or the user's primary one. */
export function lookupIdentity(db: UserDb, user: string, group: string | null): Identity {
  const u = db.user(user);
  if (u === undefined) return { ok: false, message: `Script user '${user}' does not exist` };
  if (group === null) return { ok: true, uid: u.uid, gid: u.gid };
  const g = db.group(group);
  if (g === undefined) return { ok: false, message: `Script group '${group}' does not exist` };
  return { ok: true, uid: u.uid, gid: g };
}

/** What the default identity depends on in global_defs. */
export interface ScriptUserSettings {
  readonly scriptUser: string | null;
  readonly scriptGroup: string | null;
  readonly enableScriptSecurity: boolean;
}

/**
 * The identity scripts without their own user run as (keepalived's get_default_script_user()).
 * `self` is the daemon's identity (root).
 */
export function defaultIdentity(db: UserDb, g: ScriptUserSettings, self: Identity = ROOT_IDENTITY): Identity {
  if (g.scriptUser !== null) {
    const id = lookupIdentity(db, g.scriptUser, g.scriptGroup);
    return id.ok ? id : { ok: false, message: 'Error setting global script uid/gid' };
  }
  const ks = db.user(DEFAULT_SCRIPT_USER);
  if (ks !== undefined) return { ok: true, uid: ks.uid, gid: ks.gid };
  if (g.enableScriptSecurity) return { ok: false, message: `Unable to set default user ${DEFAULT_SCRIPT_USER} for script` };
  return self;
}

/** The identity one script command runs as: its own user, else the default. */
export function scriptIdentity(
  db: UserDb,
  cmd: { readonly user: string | null; readonly group: string | null },
  g: ScriptUserSettings,
  self: Identity = ROOT_IDENTITY,
): Identity {
  if (cmd.user !== null) return lookupIdentity(db, cmd.user, cmd.group);
  return defaultIdentity(db, g, self);
}

/** A UserDb from passwd(5)/group(5) text (tests, and the fallback when NSS cannot be called). */
export function userDbFromFiles(passwd: string, group: string): UserDb {
  const users = new Map<string, UserEntry>();
  for (const l of passwd.split('\n')) {
    const f = l.split(':');
    if (f.length < 4 || f[0] === '' || l.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    // getpwnam returns the first entry of a name
    if (Number.isInteger(uid) && Number.isInteger(gid) && uid >= 0 && gid >= 0 && !users.has(f[0]!)) users.set(f[0]!, { uid, gid });
  }
  const groups = new Map<string, number>();
  for (const l of group.split('\n')) {
    const f = l.split(':');
    if (f.length < 3 || f[0] === '' || l.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (Number.isInteger(gid) && gid >= 0 && !groups.has(f[0]!)) groups.set(f[0]!, gid);
  }
  return { user: (n) => users.get(n), group: (n) => groups.get(n) };
}
