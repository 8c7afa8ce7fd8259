/**
 * The machine's user database for script users, as keepalived reads it: getpwnam_r(3) and
 * getgrnam_r(3) through NSS (so LDAP, sssd or systemd-userdb users resolve as they do for
 * keepalived), called through koffi. Off the main thread (the config loader's worker), where koffi
 * is not loaded (util/libc.ts says why), the same NSS lookups go through getent(1). When neither
 * can be used, /etc/passwd and /etc/group are read instead. Every call reads afresh (no cache): a
 * config load asks a handful of names.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { libc } from '../util/libc.js';
import { userDbFromFiles, type UserDb, type UserEntry } from '../config/script-user.js';

interface Nss {
  user(name: string): UserEntry | undefined;
  group(name: string): number | undefined;
}

/** getpwnam_r asks for a buffer; glibc's sysconf(_SC_GETPW_R_SIZE_MAX) is 1024, NSS modules may need more. */
const BUF_START = 16 * 1024;
/** A user or group entry larger than this is treated as unknown (bounded retries on ERANGE). */
const BUF_MAX = 1024 * 1024;
const ERANGE = 34;

let nss: Nss | null | undefined;

function loadNss(): Nss | null {
  if (nss !== undefined) return nss;
  if (!isMainThread) return (nss = getentNss());
  const c = libc();
  if (c === null) return (nss = null);
  const { koffi, lib } = c;
  try {
    koffi.struct('vrrpd_passwd', {
      pw_name: 'char *',
      pw_passwd: 'char *',
      pw_uid: 'uint32_t',
      pw_gid: 'uint32_t',
      pw_gecos: 'char *',
      pw_dir: 'char *',
      pw_shell: 'char *',
    });
    koffi.struct('vrrpd_group', { gr_name: 'char *', gr_passwd: 'char *', gr_gid: 'uint32_t', gr_mem: 'void *' });
    const getpwnam = lib.func(
      'int getpwnam_r(const char *name, _Out_ vrrpd_passwd *pwd, uint8_t *buf, size_t buflen, _Out_ void **result)',
    );
    const getgrnam = lib.func('int getgrnam_r(const char *name, _Out_ vrrpd_group *grp, uint8_t *buf, size_t buflen, _Out_ void **result)');
    const call = <T>(
      fn: (name: string, out: Record<string, unknown>, buf: Buffer, len: number, res: unknown[]) => number,
      name: string,
      pick: (o: Record<string, unknown>) => T,
    ): T | undefined => {
      for (let size = BUF_START; size <= BUF_MAX; size *= 4) {
        const out: Record<string, unknown> = {};
        const res: unknown[] = [null];
        const buf = Buffer.alloc(size);
        const rc = fn(name, out, buf, size, res);
        if (rc === ERANGE) continue;
        // rc != 0: keepalived's "Unable to resolve script username" - treated as unknown
        if (rc !== 0 || res[0] === null) return undefined;
        return pick(out);
      }
      return undefined;
    };
    nss = {
      user: (name) => call(getpwnam as never, name, (o) => ({ uid: Number(o.pw_uid), gid: Number(o.pw_gid) })),
      group: (name) => call(getgrnam as never, name, (o) => Number(o.gr_gid)),
    };
  } catch {
    nss = null;
  }
  return nss;
}

/** One getent(1) lookup's wall-clock bound (an NSS backend such as LDAP may be slow). */
const GETENT_TIMEOUT_MS = 5000;

/**
 * `getent passwd|group -- NAME` (getpwnam/getgrnam through NSS, in a child process): the fields of
 * the entry named NAME, undefined when there is none (exit 2, or an entry found by number whose
 * name differs: getpwnam("1234") finds no user named 1234), null when getent cannot be run.
 */
function getent(db: 'passwd' | 'group', name: string): string[] | undefined | null {
  let out: string;
  try {
    out = execFileSync('getent', [db, '--', name], {
      encoding: 'utf8',
      timeout: GETENT_TIMEOUT_MS,
      maxBuffer: BUF_MAX,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
  const f = (out.split('\n')[0] ?? '').split(':');
  return f[0] === name ? f : undefined;
}

function getentNss(): Nss | null {
  if (getent('passwd', 'root') === null) return null;
  const num = (v: string | undefined): number | undefined => {
    const n = Number(v);
    return v !== undefined && v !== '' && Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  return {
    user: (name) => {
      const f = getent('passwd', name);
      const uid = num(f?.[2]);
      const gid = num(f?.[3]);
      return uid === undefined || gid === undefined ? undefined : { uid, gid };
    },
    group: (name) => num(getent('group', name)?.[2] ?? undefined),
  };
}

function fileDb(): UserDb {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return userDbFromFiles(read('/etc/passwd'), read('/etc/group'));
}

/** The running host's user database (NSS through libc, or getent off the main thread, when possible; else the /etc files). */
export function nodeUserDb(): UserDb {
  return {
    user: (name) => {
      // NUL can't be in a C string; such a name is no user
      if (name.includes('\0')) return undefined;
      const n = loadNss();
      return n ? n.user(name) : fileDb().user(name);
    },
    group: (name) => {
      if (name.includes('\0')) return undefined;
      const n = loadNss();
      return n ? n.group(name) : fileDb().group(name);
    },
  };
}
