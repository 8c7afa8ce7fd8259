/**
 * User and group names -> numeric ids, from /etc/passwd and /etc/group (read once per lookup; the
 * daemon resolves at load time, not per run). `null` means "run as the daemon's own user".
 */
import { readFileSync } from 'node:fs';

export interface Ids {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

function table(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** Resolve `user` (name or number) and optional `group`; unknown names resolve to undefined ids. */
export function resolveIds(user: string | null, group: string | null): Ids {
  if (user === null) return { uid: undefined, gid: undefined };
  let uid: number | undefined;
  let gid: number | undefined;
  if (/^\d+$/.test(user)) uid = Number(user);
  else {
    const row = table('/etc/passwd').find((r) => r[0] === user);
    if (row) {
      uid = Number(row[2]);
      gid = Number(row[3]);
    }
  }
  if (group !== null) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const row = table('/etc/group').find((r) => r[0] === group);
      if (row) gid = Number(row[2]);
    }
  }
  return { uid, gid };
}
