/**
 * User and group names -> numeric ids for a script, as keepalived resolves them (the rules are in
 * src/config/script-user.ts; the host's database, NSS included, in src/host/user-db.ts).
 * The runtime itself resolves through the ScriptGate (security.ts); this is the plain lookup for
 * reports such as the SIGUSR1 dump's `uid:gid`.
 */
import { DEFAULT_SCRIPT_USER, lookupIdentity, type UserDb } from '../config/script-user.js';
import { nodeUserDb } from '../host/user-db.js';
import type { IdResolver } from '../runtime/ports/files.js';

export interface Ids {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

/**
 * The ids `user [group]` stand for; `user` null = the default (keepalived_script when it exists,
 * else the daemon's own: undefined ids). A name is always a name: `1234` is the user named "1234"
 * (keepalived reads no numeric uid). Unknown names give undefined ids; such scripts never run
 * (the config loader removed them).
 */
export function resolveIds(user: string | null, group: string | null, db: UserDb = nodeUserDb()): Ids {
  const id = lookupIdentity(db, user ?? DEFAULT_SCRIPT_USER, user === null ? null : group);
  return id.ok ? { uid: id.uid, gid: id.gid } : { uid: undefined, gid: undefined };
}

/**
 * The runtime's id resolver (runtime/ports/files.ts IdResolver): {@link resolveIds}, with the
 * daemon's own ids where the default user does not exist (the script then runs as the daemon).
 */
export const scriptRunIds: IdResolver = (user, group) => {
  const ids = resolveIds(user, group);
  return { uid: ids.uid ?? process.getuid?.() ?? 0, gid: ids.gid ?? process.getgid?.() ?? 0 };
};
