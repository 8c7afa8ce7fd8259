/**
 * keepalived's script check (lib/notify.c `check_script_secure()`, `check_security()`;
 * docs/keepalived-behaviour.md 4.1 "Path handling"), pure over an injected file-system view so the same code
 * judges a script at load time (config completion) and again right before every spawn
 * (src/notify/security.ts):
 *
 * 1. A bare name is searched in PATH for a regular file the script's user can execute.
 * 2. The path is resolved (realpath: `..`, `//` and symbolic links); a path the user cannot reach
 *    is "cannot be accessed". The resolved path is what runs (keepalived replaces argv[0] with it;
 *    when the link's name differs and the same file is reachable under that name in the resolved
 *    directory, that name is kept: some programs act on their argv[0]).
 * 3. The file must be executable by the script's uid:gid.
 * 4. When it runs as root (uid 0 or gid 0, or it is setuid/setgid root), every component of the
 *    path from `/` down is checked with lstat: each parent must be a directory, the last a regular
 *    file (or the kept link), and none may be writable by a non-root user: owned by non-root, or
 *    group-writable with a non-root group, or world-writable (a directory with the sticky bit,
 *    such as /tmp, is exempt from the group/world rule). Such a script is "insecure"; with
 *    `enable_script_security` it is refused, without it it runs (keepalived's SECURITY VIOLATION).
 *    A component of the wrong type refuses the script either way.
 *
 * Root bypasses permission bits for the search and resolve steps; for another user the
 * directories on the resolved path must be searchable by its uid:gid (keepalived does these two
 * steps with that euid; vrrpd cannot switch its euid, so it reads the mode bits instead).
 */

export type FsKind = 'file' | 'dir' | 'symlink' | 'other';

export interface FsEntry {
  readonly kind: FsKind;
  readonly uid: number;
  readonly gid: number;
  /** st_mode permission and set-id bits (& 0o7777). */
  readonly mode: number;
  readonly dev: number;
  readonly ino: number;
}

/** An errno code, as Node reports it (`ENOENT`, `EACCES`...). */
export interface FsError {
  readonly error: string;
}

/** The file-system calls the check needs (Node's: src/host/script-fs.ts; tests give fakes). */
export interface ScriptFs {
  /** stat(2), following links. */
  stat(path: string): FsEntry | FsError;
  /** lstat(2). */
  lstat(path: string): FsEntry | FsError;
  /** realpath(3). */
  realpath(path: string): string | FsError;
  /** PATH for bare names: the daemon's environment, else glibc's _CS_PATH (`/bin:/usr/bin`). */
  readonly searchPath: string;
}

export interface ScriptCheck {
  /** argv[0] as it will run (resolved). */
  readonly path: string;
  /** Any file was found (keepalived's SC_ISSCRIPT: counts for the SECURITY VIOLATION). */
  readonly isScript: boolean;
  /** May run: found, executable, and not refused for its path. */
  readonly usable: boolean;
  readonly notFound: boolean;
  readonly notExecutable: boolean;
  /** A non-root user could change what runs (SC_INSECURE). */
  readonly insecure: boolean;
  /** Refused for its path (SC_INHIBIT): insecure with enable_script_security, or a wrong file type. */
  readonly inhibited: boolean;
  /** keepalived's log lines for this check, in order. */
  readonly messages: readonly string[];
  /** For the operator: what is wrong and how to fix it (when not usable, or insecure). */
  readonly detail?: string;
}

const isErr = (x: unknown): x is FsError => typeof x === 'object' && x !== null && 'error' in x;

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
};
const strerror = (code: string): string => STRERROR[code] ?? code;

export const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/** keepalived's is_executable(): root needs any x bit; otherwise owner, group or other x bit. */
export function executableBy(st: Pick<FsEntry, 'mode' | 'uid' | 'gid'>, uid: number, gid: number): boolean {
  if (uid === 0) return (st.mode & 0o111) !== 0;
  if (uid === st.uid) return (st.mode & 0o100) !== 0;
  if (gid === st.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** Can uid:gid search (traverse) this directory? Root always can. */
function searchableBy(st: FsEntry, uid: number, gid: number): boolean {
  if (uid === 0) return true;
  if (uid === st.uid) return (st.mode & 0o100) !== 0;
  if (gid === st.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * keepalived's rule for one path component: writable by someone other than root? Owned by
 * non-root; or (a file, or a directory without the sticky bit) writable by a non-root group or
 * by the world.
 */
export function unsafeComponent(st: Pick<FsEntry, 'kind' | 'uid' | 'gid' | 'mode'>): boolean {
  if (st.uid !== 0) return true;
  const exempt = st.kind === 'dir' && (st.mode & 0o1000) !== 0;
  if (!(st.kind === 'file' || (st.kind === 'dir' && !exempt))) return false;
  return (st.gid !== 0 && (st.mode & 0o020) !== 0) || (st.mode & 0o002) !== 0;
}

const dirOf = (p: string): string => {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
};
const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** `/`, `/a`, `/a/b`, ... `p` (p absolute). */
function prefixes(p: string): string[] {
  const out = ['/'];
  let at = 0;
  for (;;) {
    const next = p.indexOf('/', at + 1);
    if (next < 0) break;
    if (next > at + 1) out.push(p.slice(0, next));
    at = next;
  }
  if (p !== '/' && !p.endsWith('/')) out.push(p);
  return out;
}

interface Walk {
  readonly notFound: boolean;
  readonly inhibit: boolean;
  readonly insecure: boolean;
  readonly message?: string;
  readonly detail?: string;
}

/** keepalived's check_security() over one absolute path. */
function walk(fs: ScriptFs, path: string, security: boolean): Walk {
  const parts = prefixes(path);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const last = i === parts.length - 1;
    const st = fs.lstat(p);
    if (isErr(st)) {
      const m = ['EACCES', 'ELOOP', 'ENOENT', 'ENOTDIR'].includes(st.error)
        ? `check_script_secure could not find script '${path}' - disabling`
        : `check_script_secure('${path}') returned errno ${st.error} - ${strerror(st.error)} - disabling`;
      return { notFound: true, inhibit: false, insecure: false, message: m, detail: `${p}: ${strerror(st.error)}` };
    }
    if ((!last && st.kind !== 'dir') || (last && st.kind !== 'file' && st.kind !== 'symlink')) {
      return {
        notFound: false,
        inhibit: true,
        insecure: false,
        message: `Wrong file type found in script path '${path}'.`,
        detail: `${p} is a ${st.kind === 'symlink' ? 'symbolic link' : st.kind}, where a ${last ? 'file' : 'directory'} is expected`,
      };
    }
    if (unsafeComponent(st)) {
      const fix = st.uid !== 0 ? `chown root ${p}` : `chmod go-w ${p}`;
      return {
        notFound: false,
        inhibit: security,
        insecure: true,
        message: `Unsafe permissions found for script '${path}'${security ? ' - disabling' : ''}.`,
        detail: `${p} is owned by uid ${st.uid} (group ${st.gid}) with mode ${octal(st.mode)}, so a non-root user can change what runs as root; fix: ${fix}, or run the script as a non-root script_user`,
      };
    }
  }
  return { notFound: false, inhibit: false, insecure: false };
}

/** A check that stopped before the file itself was judged: not found, not reachable. */
function failed(path: string, messages: string[], extra: Partial<ScriptCheck> & { detail: string }): ScriptCheck {
  return {
    path,
    isScript: false,
    usable: false,
    notFound: true,
    notExecutable: false,
    insecure: false,
    inhibited: false,
    messages,
    ...extra,
  };
}

/**
 * Judge one script's argv[0] for `uid:gid`. Never throws; everything it found is in the result.
 */
export function checkScriptFile(fs: ScriptFs, argv0: string, uid: number, gid: number, enableScriptSecurity: boolean): ScriptCheck {
  const messages: string[] = [];
  let cmd = argv0;
  if (cmd === '') return failed(cmd, messages, { detail: 'empty command' });

  // 1. PATH search for a bare name (keepalived's find_path(), glibc's execvp order).
  if (!cmd.includes('/')) {
    const found = searchPath(fs, cmd, uid, gid, messages);
    if (typeof found !== 'string') return found;
    cmd = found;
  }

  // 2. Resolve, as the script's user would see it.
  const resolved = resolveAs(fs, cmd, uid, gid, messages);
  if ('messages' in resolved) return resolved;
  const { path, realFile } = resolved;

  // 3. The file itself.
  const st = fs.stat(realFile ?? path);
  if (isErr(st)) {
    messages.push(`Unable to access script \`${path}\` - disabling`);
    return failed(path, messages, { detail: `${path}: ${strerror(st.error)}` });
  }
  if (st.kind !== 'file' || !executableBy(st, uid, gid)) {
    messages.push(`WARNING - script '${path}' is not executable for uid:gid ${uid}:${gid} - disabling.`);
    return {
      path,
      isScript: true,
      usable: false,
      notFound: false,
      notExecutable: true,
      insecure: false,
      inhibited: false,
      messages,
      detail: `${realFile ?? path} is ${st.kind === 'file' ? '' : `a ${st.kind}, `}owned by ${st.uid}:${st.gid} with mode ${octal(st.mode)}; fix: chmod +x ${realFile ?? path}`,
    };
  }
  const setIdRoot = (st.uid === 0 && (st.mode & 0o4100) === 0o4100) || (st.gid === 0 && (st.mode & 0o2010) === 0o2010);
  if (!(uid === 0 || gid === 0 || setIdRoot)) {
    return { path, isScript: true, usable: true, notFound: false, notExecutable: false, insecure: false, inhibited: false, messages };
  }

  // 4. Runs as root: nobody else may be able to change any part of the path.
  const w1 = walk(fs, path, enableScriptSecurity);
  const w2 = realFile !== undefined ? walk(fs, realFile, enableScriptSecurity) : undefined;
  for (const w of [w1, w2]) if (w?.message !== undefined) messages.push(w.message);
  const notFound = w1.notFound || (w2?.notFound ?? false);
  const inhibited = w1.inhibit || (w2?.inhibit ?? false);
  const insecure = w1.insecure || (w2?.insecure ?? false);
  const detail = w1.detail ?? w2?.detail;
  return {
    path,
    isScript: true,
    usable: !notFound && !inhibited,
    notFound,
    notExecutable: false,
    insecure,
    inhibited,
    messages,
    ...(detail !== undefined ? { detail } : {}),
  };
}

/** Step 1: a bare name found in PATH as a regular file `uid:gid` can execute, or why not. */
function searchPath(fs: ScriptFs, cmd: string, uid: number, gid: number, messages: string[]): string | ScriptCheck {
  let found: string | undefined;
  let denied = false;
  for (const dir of fs.searchPath.split(':')) {
    const cand = dir === '' ? cmd : `${dir}/${cmd}`;
    const st = fs.stat(cand);
    if (isErr(st)) continue;
    if (st.kind !== 'file' || !executableBy(st, uid, gid)) {
      denied = true;
      continue;
    }
    found = cand;
    break;
  }
  if (found === undefined) {
    messages.push(denied ? `Permissions failure for script ${cmd} in path - disabling` : `Cannot find script ${cmd} in path - disabling`);
    return failed(cmd, messages, { detail: `${cmd} is not an executable file in PATH (${fs.searchPath})` });
  }
  messages.push(`WARNING - script \`${cmd}\` resolved by path search to \`${found}\`. Please specify full path.`);
  return found;
}

/**
 * Step 2: the path as `uid:gid` resolves it (every directory searchable by a non-root user), and the
 * name it runs under: the resolved path, or the name it was called by when that names the same file
 * in the resolved directory (then `realFile` is the resolved path).
 */
function resolveAs(
  fs: ScriptFs,
  cmd: string,
  uid: number,
  gid: number,
  messages: string[],
): { path: string; realFile: string | undefined } | ScriptCheck {
  const real = fs.realpath(cmd);
  if (isErr(real)) {
    messages.push(`Script ${cmd} cannot be accessed - ${strerror(real.error)}`);
    return failed(cmd, messages, { detail: `${cmd}: ${strerror(real.error)}` });
  }
  if (uid !== 0) {
    for (const d of prefixes(dirOf(real))) {
      const st = fs.stat(d);
      if (!isErr(st) && !searchableBy(st, uid, gid)) {
        messages.push(`Script ${cmd} cannot be accessed - Permission denied`);
        return failed(cmd, messages, {
          detail: `${d} (mode ${octal(st.mode)}, owner ${st.uid}:${st.gid}) cannot be searched by uid:gid ${uid}:${gid}`,
        });
      }
    }
  }
  let path = real;
  let realFile: string | undefined;
  if (real !== cmd && baseOf(real) !== baseOf(cmd)) {
    // keep the name the script was called by when it names the same file in the resolved directory
    const named = `${dirOf(real)}/${baseOf(cmd)}`;
    const a = fs.stat(real);
    const b = fs.stat(named);
    if (!isErr(a) && !isErr(b) && a.dev === b.dev && a.ino === b.ino) {
      path = named;
      realFile = real;
    }
  }
  return { path, realFile };
}
