/**
 * The user database of a lab node: the daemons (vrrpd and keepalived) run in a private mount
 * namespace where /etc/passwd and /etc/group are bind-mounted files written here, so who a hook
 * runs as never depends on the users of the machine the lab runs on. keepalived and vrrpd run
 * scripts as `keepalived_script` when that user exists, else as root: the base database has only
 * root and nobody; KEEPALIVED_SCRIPT_USERS adds keepalived_script.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabUsers {
  /** Extra /etc/passwd lines (`name:x:uid:gid:gecos:home:shell`). */
  readonly passwd?: readonly string[];
  /** Extra /etc/group lines (`name:x:gid:members`). */
  readonly group?: readonly string[];
}

const BASE_PASSWD = ['root:x:0:0:root:/root:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'];
const BASE_GROUP = ['root:x:0:', 'nogroup:x:65534:'];

/** uid and gid of the lab's keepalived_script user (no such uid on a usual machine). */
export const KEEPALIVED_SCRIPT_UID = 4243;

/** A node where the user keepalived_script exists: keepalived and vrrpd run hooks as it. */
export const KEEPALIVED_SCRIPT_USERS: LabUsers = {
  passwd: [`keepalived_script:x:${KEEPALIVED_SCRIPT_UID}:${KEEPALIVED_SCRIPT_UID}:keepalived scripts:/nonexistent:/usr/sbin/nologin`],
  group: [`keepalived_script:x:${KEEPALIVED_SCRIPT_UID}:`],
};

/** Write `dir/etc-passwd` and `dir/etc-group` (mode 0644) and return their paths. */
export function writeLabUsers(dir: string, users: LabUsers = {}): { passwd: string; group: string } {
  const passwd = join(dir, 'etc-passwd');
  const group = join(dir, 'etc-group');
  writeFileSync(passwd, [...BASE_PASSWD, ...(users.passwd ?? [])].map((l) => `${l}\n`).join(''), { mode: 0o644 });
  writeFileSync(group, [...BASE_GROUP, ...(users.group ?? [])].map((l) => `${l}\n`).join(''), { mode: 0o644 });
  return { passwd, group };
}

/**
 * argv prefix: run the rest in a private mount namespace whose /etc/passwd and /etc/group are the
 * given files (`unshare` and `sh` exec in place: the daemon keeps the pid the caller sees).
 */
export function withLabUsers(files: { passwd: string; group: string }, argv: readonly string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 && exec "$@"',
    'lab-users',
    files.passwd,
    files.group,
    ...argv,
  ];
}
