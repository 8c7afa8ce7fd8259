/**
 * Script checks at load time, as keepalived's `check_script_secure()` (KEEPALIVED.md 4.1 "Path
 * handling"): a bare name is searched in PATH, the path is resolved (symlinks too); a script that
 * does not exist or is not executable for the user it runs as is disabled; with
 * `enable_script_security`, a script run as root whose file or any parent directory a non-root
 * user could write is disabled. Messages name the path, its owner and mode, and the fix.
 */
import { accessSync, constants, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export type ScriptVerdict =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly path: string; readonly message: string };

export interface CheckOptions {
  /** Numeric uid/gid the script will run as (undefined: the daemon's). */
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly enableScriptSecurity: boolean;
  /** For tests: PATH and a stat function. */
  readonly path?: string;
}

function userName(uid: number): string {
  try {
    const row = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((r) => r[2] === String(uid));
    return row?.[0] ?? String(uid);
  } catch {
    return String(uid);
  }
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/** Can `uid:gid` execute a file with these stats (root: any x bit)? */
export function executableBy(st: Pick<Stats, 'mode' | 'uid' | 'gid'>, uid: number, gid: number): boolean {
  if (uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === uid) return (st.mode & 0o100) !== 0;
  if (st.gid === gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * Is this path component writable by someone other than root? Owned by non-root, or group/other
 * writable (a sticky directory such as /tmp only lets owners replace their own files, so it is
 * safe as a parent).
 */
export function unsafeComponent(st: Pick<Stats, 'mode' | 'uid'> & { isDirectory(): boolean }): boolean {
  if (st.uid !== 0) return true;
  if ((st.mode & 0o022) === 0) return false;
  return !(st.isDirectory() && (st.mode & 0o1000) !== 0);
}

/** Judge one hook's argv[0]. */
export function checkScript(cmd: string, o: CheckOptions): ScriptVerdict {
  const uid = o.uid ?? process.getuid?.() ?? 0;
  const gid = o.gid ?? process.getgid?.() ?? 0;
  let p = cmd;
  if (!cmd.includes('/')) {
    const dirs = (o.path ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
    const found = dirs.map((d) => join(d, cmd)).find((c) => {
      try {
        accessSync(c, constants.F_OK);
        return statSync(c).isFile();
      } catch {
        return false;
      }
    });
    if (found === undefined) return { ok: false, path: cmd, message: `Script ${cmd} cannot be accessed - not found in PATH (${dirs.join(':')}) - disabling` };
    p = found;
  }
  let real: string;
  let st: Stats;
  try {
    real = realpathSync(p);
    st = statSync(real);
  } catch (e) {
    return { ok: false, path: p, message: `Script ${p} cannot be accessed - ${(e as NodeJS.ErrnoException).code ?? String(e)} - disabling` };
  }
  if (!st.isFile() || !executableBy(st, uid, gid)) {
    return {
      ok: false,
      path: real,
      message: `WARNING - script '${real}' is not executable for uid:gid ${uid}:${gid} - disabling. It is owned by ${userName(st.uid)} (uid ${st.uid}) with mode ${octal(st.mode)}; fix with: chmod +x ${real}`,
    };
  }
  if (o.enableScriptSecurity && uid === 0) {
    for (let d = real; ; d = dirname(d)) {
      let ds: Stats;
      try {
        ds = statSync(d);
      } catch {
        break;
      }
      if (unsafeComponent(ds)) {
        const fix = ds.uid !== 0 ? `chown root ${d}` : `chmod go-w ${d}`;
        return {
          ok: false,
          path: real,
          message: `Unsafe permissions found for script '${real}' - disabling. ${d} is owned by ${userName(ds.uid)} (uid ${ds.uid}) with mode ${octal(ds.mode)}, so a non-root user could change what runs as root; fix with: ${fix} (or run it as a script_user)`,
        };
      }
      if (d === '/') break;
    }
  }
  return { ok: true, path: real };
}
