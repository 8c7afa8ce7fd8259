/**
 * Creating a control socket's file without handing a local user a way to redirect it (DESIGN.md
 * style 11). The policy:
 *  - every directory on the way to the socket (as written, and after symlinks are resolved) must be
 *    owned by root or the daemon's own uid and not writable by group or others, unless it has the
 *    sticky bit (like /tmp: others cannot rename or remove entries they do not own). Otherwise the
 *    socket is refused with an error naming the directory: whoever can write there could swap the
 *    socket file for a link between its creation and its chmod/chown;
 *  - an existing entry at the path is removed only when it is a socket (the last run's); a regular
 *    file, a directory or a symlink there is refused, never followed or deleted;
 *  - the file is created with its final mode and group (the umask and the effective gid are set
 *    around bind(2)), so no chmod or chown by path follows (lchown, which never follows a link, is
 *    the fallback for the group); then lstat checks the result is a socket with the expected
 *    owner, group and mode.
 * Group names come from /etc/group (no NSS, like the user lookups elsewhere in vrrpd).
 */
import { existsSync, lchownSync, lstatSync, readFileSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:net';
import { dirname, resolve, sep } from 'node:path';

const S_ISVTX = 0o1000;

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `/a/b/c` -> [`/`, `/a`, `/a/b`, `/a/b/c`]. */
function prefixes(abs: string): string[] {
  const parts = abs.split(sep).filter((p) => p !== '');
  const out = ['/'];
  for (let i = 1; i <= parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

/** Owners a socket's directories may have: root and the daemon's own uid. */
function trustedUids(): ReadonlySet<number> {
  return new Set([0, process.getuid?.() ?? 0]);
}

function dirProblem(p: string, trusted: ReadonlySet<number>): string | null {
  let st;
  try {
    st = statSync(p);
  } catch (e) {
    return `cannot stat ${p}: ${errMsg(e)}`;
  }
  if (!st.isDirectory()) return `${p} is not a directory`;
  if (!trusted.has(st.uid)) return `${p} is owned by uid ${st.uid}, not root`;
  if ((st.mode & 0o022) !== 0 && (st.mode & S_ISVTX) === 0) {
    return `${p} is writable by ${st.mode & 0o002 ? 'others' : 'its group'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}) and not sticky`;
  }
  return null;
}

/**
 * Why a socket may not be created at `path` (the directory policy above), or null when it may.
 * Checks the directories as written and after resolving symlinks. Needs the directory to exist.
 */
export function socketDirProblem(path: string): string | null {
  const trusted = trustedUids();
  const dir = dirname(resolve(path));
  for (const p of prefixes(dir)) {
    const why = dirProblem(p, trusted);
    if (why !== null) return why;
  }
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (e) {
    return `cannot resolve ${dir}: ${errMsg(e)}`;
  }
  if (real !== dir) {
    for (const p of prefixes(real)) {
      const why = dirProblem(p, trusted);
      if (why !== null) return `${why} (${dir} resolves to ${real})`;
    }
  }
  return null;
}

/** Remove a previous run's socket at `path`; anything else there is refused (an error), never followed. */
export function clearStaleSocket(path: string): string | null {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `cannot stat ${path}: ${errMsg(e)}`;
  }
  if (!st.isSocket()) {
    const what = st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : 'not a socket';
    return `${path} exists and is ${what}: refusing to replace it (remove it if it is yours)`;
  }
  try {
    unlinkSync(path);
  } catch (e) {
    return `cannot remove the old socket ${path}: ${errMsg(e)}`;
  }
  return null;
}

/**
 * listen(2) on `path` with the file created at `mode` and, when `gid` is given, in group `gid`:
 * the umask (and the effective gid, when we may set it) are set around the synchronous bind inside
 * `server.listen`, then restored. Setting the effective gid needs CAP_SETGID, which the systemd
 * unit keeps; chown needs CAP_CHOWN, which it drops, so lchown is only the fallback (it works for
 * a daemon that is a member of the group). Rejects on a listen error.
 */
export function listenWithMode(server: Server, path: string, mode: number, gid?: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    const oldMask = process.umask(~mode & 0o777);
    const oldGid = process.getegid?.();
    let gidSet = false;
    try {
      if (gid !== undefined && oldGid !== undefined && oldGid !== gid && process.setegid !== undefined) {
        try {
          process.setegid(gid);
          gidSet = true;
        } catch {
          // no CAP_SETGID: finishSocketFile's lchown
        }
      }
      server.listen(path, () => {
        server.off('error', reject);
        resolvePromise();
      });
    } finally {
      if (gidSet) process.setegid!(oldGid!);
      process.umask(oldMask);
    }
  });
}

/**
 * Give the socket file its group if bind did not (lchown: a link put there is never followed),
 * then check with lstat that `path` is a socket owned by us, with `gid` (when given) and exactly
 * `mode`.
 */
export function finishSocketFile(path: string, mode: number, gid: number | undefined): string | null {
  try {
    if (gid !== undefined && lstatSync(path).gid !== gid) lchownSync(path, -1, gid);
    const st = lstatSync(path);
    const uid = process.getuid?.() ?? 0;
    if (!st.isSocket()) return `${path} is no longer a socket after creation`;
    if (st.uid !== uid) return `${path} is owned by uid ${st.uid}, expected ${uid}`;
    if (gid !== undefined && st.gid !== gid) return `${path} has group ${st.gid}, expected ${gid}`;
    if ((st.mode & 0o7777) !== mode) return `${path} has mode ${(st.mode & 0o7777).toString(8)}, expected ${mode.toString(8)}`;
  } catch (e) {
    return `cannot set up ${path}: ${errMsg(e)}`;
  }
  return null;
}

/**
 * A group given by name or number -> gid, or an error sentence. A number is taken as is (it need
 * not exist in /etc/group); a name must be in `groupFile`.
 */
export function resolveGroup(spec: string, groupFile = '/etc/group'): { ok: true; gid: number } | { ok: false; error: string } {
  if (/^\d+$/.test(spec)) {
    const gid = Number(spec);
    if (gid > 0xfffffffe) return { ok: false, error: `group ${spec} is out of range` };
    return { ok: true, gid };
  }
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch (e) {
    return { ok: false, error: `cannot read ${groupFile} to find group '${spec}': ${errMsg(e)}` };
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === spec && f.length >= 3 && /^\d+$/.test(f[2]!)) return { ok: true, gid: Number(f[2]) };
  }
  return {
    ok: false,
    error: `unknown group '${spec.replace(/[^\x20-\x7e]/g, '?').slice(0, 64)}' (not in ${groupFile}; a number is accepted as is)`,
  };
}

/** Remove our socket at close, only if a socket is still what sits there. */
export function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * `vrrpd run`'s socket flags, checked before anything starts: the plane's status-socket options,
 * or an error sentence (unknown group, --status-group alone, a socket directory that fails the
 * policy). Directories that do not exist yet (the default state dir) are checked again at listen.
 */
export function socketOptions(
  controlSocket: string | undefined,
  statusSocket: string | undefined,
  statusGroup: string | undefined,
): { statusSocketPath?: string; statusGid?: number } | string {
  if (statusGroup !== undefined && statusSocket === undefined) return '--status-group needs --status-socket';
  for (const [flag, p] of [
    ['--control-socket', controlSocket],
    ['--status-socket', statusSocket],
  ] as const) {
    const why = p !== undefined && p !== '' && existsSync(dirname(resolve(p))) ? socketDirProblem(p) : null;
    if (why !== null) return `${flag} ${p}: ${why}`;
  }
  if (statusSocket === undefined || statusSocket === '') return {};
  if (statusGroup === undefined) return { statusSocketPath: statusSocket };
  const g = resolveGroup(statusGroup);
  if (!g.ok) return `--status-group: ${g.error}`;
  return { statusSocketPath: statusSocket, statusGid: g.gid };
}
