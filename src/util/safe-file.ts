/**
 * The one safe file writer (DESIGN.md style 11, issue 10): every file the daemon creates, replaces
 * or appends to goes through here, so a link planted by a local user never turns a root write
 * against another file (the class keepalived fixed in CVE-2018-19044/19045/19046).
 *
 * **Replace** ({@link replaceFile}, {@link replaceFileSync}): a temporary file with a random name
 * (96 bits from the CSPRNG) in the target's own directory, opened
 * `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC` (a name that exists, link or not, is never
 * opened: EEXIST, and another random name is tried); then `fchmod` on the descriptor (the exact
 * mode whatever the umask), `fchown` on the descriptor when an owner is asked, the write, `fsync`,
 * `close` and `rename` over the target. `rename` replaces whatever sits at the target (a planted
 * symlink is itself replaced, never followed). On any failure the temporary file is removed.
 *
 * **Append** ({@link appendToFile}): a new file is created `O_EXCL|O_NOFOLLOW` and given its mode
 * by `fchmod`; an existing one is opened `O_WRONLY|O_APPEND|O_NOFOLLOW|O_NONBLOCK` (no `O_CREAT`,
 * so `fs.protected_regular` never applies, and a planted FIFO cannot block the open), then
 * `fstat` on the descriptor must show a regular file owned by the expected owner (the daemon's
 * uid) with one link (a hard link to a root file is refused). The data goes in one `write(2)`.
 *
 * **Directories** (the same rule for every file): the directory is looked up one component at a
 * time from `/` with `lstat`, and each lookup must be *stable*, i.e. no non-root user can change
 * what the name refers to:
 *  - the directory holding the name is owned by root (or the daemon's uid) and not writable by
 *    group or others; or
 *  - it is sticky and owned by root (like /tmp) and the entry is owned by root (or the daemon's
 *    uid): a sticky directory lets only an entry's owner rename or remove it.
 * Otherwise the write is refused with an error naming the directory, its owner and mode
 * (`code: 'UNSAFE'`): e.g. `/tmp/x/state` where `/tmp/x` belongs to another user, who could swap
 * `/tmp/x` for a link to `/etc`. Symlinks met on the way are followed only at stable positions (a
 * link only root could have placed), and the writer then works on the resolved, link-free path,
 * which only root can change. A missing directory is created (`mkdir`, never following a link)
 * only at a stable position.
 *
 * The *last* directory, the one the file lives in, may be writable by others: its entries are
 * hostile but never followed. That is how each of the daemon's files is handled:
 *  - dumps in `$TMPDIR` or /tmp (sticky, world-writable): random `O_EXCL` temp + rename. Root may
 *    rename over another user's entry in /tmp because root owns /tmp (the sticky rule lets the
 *    directory's owner replace any entry; no CAP_FOWNER needed, and `fs.protected_regular` only
 *    restricts `O_CREAT` opens, which the writer never makes on an existing name).
 *  - state files, state log, manual.json and the pid file in a state directory that a
 *    `script_user` owns (non-root, non-sticky): the user may plant links or files at any name in
 *    it, but temps are `O_EXCL` with random names, targets are renamed over, the log is checked
 *    by `fstat`; the directory itself cannot be swapped as long as its parent is root's (else the
 *    write is refused as above).
 *
 * Every function returns a value ({@link SafeResult}); errors name the path. The async variants
 * run every step on libuv's thread pool, so the event loop never waits for a disk.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Linux `O_CLOEXEC` (node's fs.constants lacks it; libuv adds it to every open anyway). */
const O_CLOEXEC = 0o2000000;
const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND, O_NONBLOCK } = fs.constants;
const S_ISVTX = 0o1000;

/** Random temporary names tried before giving up (a clash needs someone guessing 96 random bits). */
export const TEMP_NAME_ATTEMPTS = 8;
/** Symlinks followed while resolving one directory (Linux's MAXSYMLINKS). */
export const SYMLINK_LIMIT = 40;
/** Largest file {@link readOwnFileSync} reads. */
export const READ_LIMIT_BYTES = 1024 * 1024;

/** `code` is an errno name (`ENOENT`, ...) or `UNSAFE` when the writer refused on its own checks. */
export type SafeResult<T = undefined> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string; readonly code: string };

export interface ReplaceOptions {
  /** Exact permission bits of the file (fchmod on the descriptor, whatever the umask). */
  readonly mode: number;
  /** Owner and group to give the file (fchown on the descriptor); absent = the daemon's. */
  readonly uid?: number;
  readonly gid?: number;
  /** fsync before the rename (default true: after a crash the file is the old or the new one). */
  readonly fsync?: boolean;
  /** Create missing directories with this mode (stable positions only); absent = they must exist. */
  readonly dirMode?: number;
}

export interface AppendOptions {
  /** Mode given to a file the append creates (fchmod; an existing file keeps its mode). */
  readonly mode: number;
  /** The owner an existing file must have (default: the daemon's effective uid). */
  readonly owner?: number;
  /** Create missing directories with this mode (stable positions only). */
  readonly dirMode?: number;
}

const euid = (): number => process.geteuid?.() ?? 0;
const trustedOwner = (uid: number): boolean => uid === 0 || uid === euid();
const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/**
 * Can no one but root (or the daemon's uid) change what `entry` names in `dir`? `entry` null: a
 * name we are about to create (only a trusted, non-shared directory keeps it stable before it
 * exists; in a sticky one it becomes stable once created, as ours).
 */
export function entryStable(dir: Pick<fs.Stats, 'uid' | 'mode'>, entry: Pick<fs.Stats, 'uid'> | null): boolean {
  if (!trustedOwner(dir.uid)) return false;
  if ((dir.mode & 0o022) === 0) return true;
  return (dir.mode & S_ISVTX) !== 0 && (entry === null || trustedOwner(entry.uid));
}

// ---------------------------------------------------------------------------------------------
// One implementation, two drivers: the steps are yielded by a generator and run either
// synchronously (start-up, operator commands) or on the thread pool (hot paths).

type Step =
  | { readonly k: 'lstat'; readonly path: string }
  | { readonly k: 'readlink'; readonly path: string }
  | { readonly k: 'mkdir'; readonly path: string; readonly mode: number }
  | { readonly k: 'open'; readonly path: string; readonly flags: number; readonly mode: number }
  | { readonly k: 'fstat'; readonly fd: number }
  | { readonly k: 'fchmod'; readonly fd: number; readonly mode: number }
  | { readonly k: 'fchown'; readonly fd: number; readonly uid: number; readonly gid: number }
  | { readonly k: 'write'; readonly fd: number; readonly data: Uint8Array; readonly once: boolean }
  | { readonly k: 'read'; readonly fd: number; readonly max: number }
  | { readonly k: 'fsync'; readonly fd: number }
  | { readonly k: 'close'; readonly fd: number }
  | { readonly k: 'rename'; readonly from: string; readonly to: string }
  | { readonly k: 'unlink'; readonly path: string };

type Res<T> = { ok: true; v: T } | { ok: false; e: NodeJS.ErrnoException };
type Flow<T> = Generator<Step, T, Res<unknown>>;

function* run<T>(s: Step): Flow<Res<T>> {
  return (yield s) as Res<T>;
}

function fail<T = undefined>(code: string, error: string): SafeResult<T> {
  return { ok: false, code, error };
}

function errnoFail<T = undefined>(what: string, e: NodeJS.ErrnoException): SafeResult<T> {
  return fail(e.code ?? 'EIO', `${what}: ${e.message}`);
}

function writeAllSync(fd: number, data: Uint8Array): number {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
  return off;
}

function stepSync(s: Step): unknown {
  switch (s.k) {
    case 'lstat':
      return fs.lstatSync(s.path);
    case 'readlink':
      return fs.readlinkSync(s.path);
    case 'mkdir':
      return fs.mkdirSync(s.path, { mode: s.mode });
    case 'open':
      return fs.openSync(s.path, s.flags | O_CLOEXEC, s.mode);
    case 'fstat':
      return fs.fstatSync(s.fd);
    case 'fchmod':
      return fs.fchmodSync(s.fd, s.mode);
    case 'fchown':
      return fs.fchownSync(s.fd, s.uid, s.gid);
    case 'write':
      return s.once ? fs.writeSync(s.fd, s.data, 0, s.data.length) : writeAllSync(s.fd, s.data);
    case 'read': {
      const buf = Buffer.alloc(s.max + 1);
      let n = 0;
      for (let r = -1; r !== 0 && n < buf.length; n += r) r = fs.readSync(s.fd, buf, n, buf.length - n, null);
      return buf.subarray(0, n);
    }
    case 'fsync':
      return fs.fsyncSync(s.fd);
    case 'close':
      return fs.closeSync(s.fd);
    case 'rename':
      return fs.renameSync(s.from, s.to);
    case 'unlink':
      return fs.unlinkSync(s.path);
  }
}

function driveSync<T>(flow: Flow<T>): T {
  let it = flow.next();
  while (!it.done) {
    let r: Res<unknown>;
    try {
      r = { ok: true, v: stepSync(it.value) };
    } catch (e) {
      r = { ok: false, e: e as NodeJS.ErrnoException };
    }
    it = flow.next(r);
  }
  return it.value;
}

function stepAsync(s: Step): Promise<Res<unknown>> {
  return new Promise((done) => {
    const cb = (e: NodeJS.ErrnoException | null, v?: unknown): void => done(e ? { ok: false, e } : { ok: true, v });
    switch (s.k) {
      case 'lstat':
        return fs.lstat(s.path, cb);
      case 'readlink':
        return fs.readlink(s.path, cb);
      case 'mkdir':
        return fs.mkdir(s.path, { mode: s.mode }, (e) => cb(e));
      case 'open':
        return fs.open(s.path, s.flags | O_CLOEXEC, s.mode, cb);
      case 'fstat':
        return fs.fstat(s.fd, cb);
      case 'fchmod':
        return fs.fchmod(s.fd, s.mode, cb);
      case 'fchown':
        return fs.fchown(s.fd, s.uid, s.gid, cb);
      case 'write': {
        const more = (off: number): void =>
          fs.write(s.fd, s.data, off, s.data.length - off, null, (e, n) => {
            if (e) cb(e);
            else if (s.once || off + n >= s.data.length) cb(null, off + n);
            else more(off + n);
          });
        return more(0);
      }
      case 'read': {
        const buf = Buffer.alloc(s.max + 1);
        const more = (n: number): void =>
          fs.read(s.fd, buf, n, buf.length - n, null, (e, r) => {
            if (e) cb(e);
            else if (r === 0 || n + r >= buf.length) cb(null, buf.subarray(0, n + r));
            else more(n + r);
          });
        return more(0);
      }
      case 'fsync':
        return fs.fsync(s.fd, cb);
      case 'close':
        return fs.close(s.fd, cb);
      case 'rename':
        return fs.rename(s.from, s.to, cb);
      case 'unlink':
        return fs.unlink(s.path, cb);
    }
  });
}

async function driveAsync<T>(flow: Flow<T>): Promise<T> {
  let it = flow.next();
  while (!it.done) it = flow.next(await stepAsync(it.value));
  return it.value;
}

// ---------------------------------------------------------------------------------------------
// The steps.

/**
 * Resolve `dir` to a link-free absolute path whose every lookup is stable (see the file
 * comment), creating missing directories with `createMode` when given.
 */
function* resolveDirFlow(dir: string, createMode: number | undefined): Flow<SafeResult<string>> {
  const want = resolve(dir);
  const unsafe = (msg: string): SafeResult<string> => fail('UNSAFE', `unsafe path ${want}: ${msg}`);
  const root = yield* run<fs.Stats>({ k: 'lstat', path: '/' });
  if (!root.ok) return errnoFail(`cannot check ${want}`, root.e);
  let cur = '/';
  let curStat = root.v;
  const todo = want.split('/').filter((c) => c !== '');
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      cur = dirname(cur);
      const up = yield* run<fs.Stats>({ k: 'lstat', path: cur });
      if (!up.ok) return errnoFail(`cannot check ${want}`, up.e);
      curStat = up.v;
      continue;
    }
    const next = join(cur, name);
    let st = yield* run<fs.Stats>({ k: 'lstat', path: next });
    if (!st.ok && st.e.code === 'ENOENT' && createMode !== undefined) {
      if (!entryStable(curStat, null))
        return unsafe(
          `cannot create ${next}: ${cur} (owner uid ${curStat.uid}, mode ${octal(curStat.mode)}) is writable by a non-root user`,
        );
      const made = yield* run<void>({ k: 'mkdir', path: next, mode: createMode });
      if (!made.ok && made.e.code !== 'EEXIST') return errnoFail(`cannot create ${next}`, made.e);
      st = yield* run<fs.Stats>({ k: 'lstat', path: next });
    }
    if (!st.ok) return errnoFail(`cannot use ${want}`, st.e);
    if (!entryStable(curStat, st.v)) {
      return (curStat.mode & S_ISVTX) !== 0 && trustedOwner(curStat.uid)
        ? unsafe(`${next} is owned by uid ${st.v.uid} in the sticky directory ${cur}, so that user can replace it`)
        : unsafe(`${cur} (owner uid ${curStat.uid}, mode ${octal(curStat.mode)}) lets a non-root user replace ${next}`);
    }
    if (st.v.isSymbolicLink()) {
      if (++links > SYMLINK_LIMIT) return fail('ELOOP', `cannot use ${want}: more than ${SYMLINK_LIMIT} symbolic links (SYMLINK_LIMIT)`);
      const target = yield* run<string>({ k: 'readlink', path: next });
      if (!target.ok) return errnoFail(`cannot use ${want}`, target.e);
      todo.unshift(...target.v.split('/').filter((c) => c !== ''));
      if (target.v.startsWith('/')) {
        cur = '/';
        curStat = root.v;
      }
      continue;
    }
    if (!st.v.isDirectory()) return fail('ENOTDIR', `cannot use ${want}: ${next} is not a directory`);
    cur = next;
    curStat = st.v;
  }
  return { ok: true, value: cur };
}

function splitTarget(path: string): { dir: string; name: string } | null {
  const full = resolve(path);
  const name = basename(full);
  return name === '' || name === '.' || name === '..' || full === '/' ? null : { dir: dirname(full), name };
}

const tempName = (name: string): string => `.${name.slice(0, 64)}.${randomBytes(12).toString('hex')}.tmp`;

function* replaceFlow(path: string, data: Uint8Array, o: ReplaceOptions): Flow<SafeResult> {
  const t = splitTarget(path);
  if (t === null) return fail('EINVAL', `cannot write ${path}: not a file name`);
  const dir = yield* resolveDirFlow(t.dir, o.dirMode);
  if (!dir.ok) return dir;
  let fd = -1;
  let tmp = '';
  for (let i = 0; i < TEMP_NAME_ATTEMPTS && fd < 0; i++) {
    tmp = join(dir.value, tempName(t.name));
    const r = yield* run<number>({ k: 'open', path: tmp, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600 });
    if (r.ok) fd = r.v;
    else if (r.e.code !== 'EEXIST') return errnoFail(`cannot write ${path}`, r.e);
  }
  if (fd < 0)
    return fail('EEXIST', `cannot write ${path}: ${TEMP_NAME_ATTEMPTS} random temporary names taken in ${dir.value} (TEMP_NAME_ATTEMPTS)`);
  let err: NodeJS.ErrnoException | null = null;
  const steps: Step[] = [
    { k: 'fchmod', fd, mode: o.mode },
    ...(o.uid !== undefined || o.gid !== undefined ? [{ k: 'fchown', fd, uid: o.uid ?? -1, gid: o.gid ?? -1 } as const] : []),
    { k: 'write', fd, data, once: false },
    ...(o.fsync !== false ? [{ k: 'fsync', fd } as const] : []),
  ];
  for (const s of steps) {
    const r = yield* run<unknown>(s);
    if (!r.ok) {
      err = r.e;
      break;
    }
  }
  const closed = yield* run<void>({ k: 'close', fd });
  if (err === null && !closed.ok) err = closed.e;
  if (err === null) {
    const moved = yield* run<void>({ k: 'rename', from: tmp, to: join(dir.value, t.name) });
    if (moved.ok) return { ok: true, value: undefined };
    err = moved.e;
  }
  yield* run<void>({ k: 'unlink', path: tmp });
  return errnoFail(`cannot write ${path}`, err);
}

function* appendFlow(path: string, data: Uint8Array, o: AppendOptions): Flow<SafeResult> {
  const t = splitTarget(path);
  if (t === null) return fail('EINVAL', `cannot append to ${path}: not a file name`);
  const dir = yield* resolveDirFlow(t.dir, o.dirMode);
  if (!dir.ok) return dir;
  const file = join(dir.value, t.name);
  const refuse = (why: string): SafeResult => fail('UNSAFE', `refusing to append to ${path}: ${why}`);
  let fd = -1;
  // Two rounds: the file may be removed between the exclusive create and the plain open.
  for (let round = 0; round < 2 && fd < 0; round++) {
    const made = yield* run<number>({ k: 'open', path: file, flags: O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600 });
    if (made.ok) {
      fd = made.v;
      const chmod = yield* run<void>({ k: 'fchmod', fd, mode: o.mode });
      if (!chmod.ok) {
        yield* run<void>({ k: 'close', fd });
        return errnoFail(`cannot append to ${path}`, chmod.e);
      }
      break;
    }
    if (made.e.code !== 'EEXIST') return errnoFail(`cannot append to ${path}`, made.e);
    const opened = yield* run<number>({ k: 'open', path: file, flags: O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK, mode: 0 });
    if (opened.ok) fd = opened.v;
    else if (opened.e.code === 'ELOOP') return refuse('it is a symbolic link');
    else if (opened.e.code === 'ENXIO') return refuse('it is a FIFO or a socket');
    else if (opened.e.code !== 'ENOENT') return errnoFail(`cannot append to ${path}`, opened.e);
  }
  if (fd < 0) return fail('ENOENT', `cannot append to ${path}: it keeps disappearing`);
  const owner = o.owner ?? euid();
  const st = yield* run<fs.Stats>({ k: 'fstat', fd });
  let why: string | null = null;
  if (!st.ok) why = `fstat: ${st.e.message}`;
  else if (!st.v.isFile()) why = 'it is not a regular file';
  else if (st.v.uid !== owner) why = `it is owned by uid ${st.v.uid}, not ${owner}`;
  else if (st.v.nlink !== 1) why = `it has ${st.v.nlink} hard links (a link to another file?)`;
  if (why !== null) {
    yield* run<void>({ k: 'close', fd });
    return refuse(why);
  }
  const w = yield* run<number>({ k: 'write', fd, data, once: true });
  const closed = yield* run<void>({ k: 'close', fd });
  if (!w.ok) return errnoFail(`cannot append to ${path}`, w.e);
  if (w.v !== data.length) return fail('EIO', `cannot append to ${path}: short write (${w.v} of ${data.length} bytes)`);
  if (!closed.ok) return errnoFail(`cannot append to ${path}`, closed.e);
  return { ok: true, value: undefined };
}

function* readOwnFlow(path: string, max: number): Flow<SafeResult<Buffer>> {
  const t = splitTarget(path);
  if (t === null) return fail('EINVAL', `cannot read ${path}: not a file name`);
  const dir = yield* resolveDirFlow(t.dir, undefined);
  if (!dir.ok) return dir;
  const opened = yield* run<number>({ k: 'open', path: join(dir.value, t.name), flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK, mode: 0 });
  if (!opened.ok)
    return opened.e.code === 'ELOOP'
      ? fail('UNSAFE', `refusing to read ${path}: it is a symbolic link`)
      : errnoFail(`cannot read ${path}`, opened.e);
  const fd = opened.v;
  const st = yield* run<fs.Stats>({ k: 'fstat', fd });
  let out: SafeResult<Buffer>;
  if (!st.ok) out = errnoFail(`cannot read ${path}`, st.e);
  else if (!st.v.isFile() || !trustedOwner(st.v.uid) || st.v.nlink !== 1)
    out = fail('UNSAFE', `refusing to read ${path}: not a regular file of ours with one link (uid ${st.v.uid}, ${st.v.nlink} links)`);
  else {
    const r = yield* run<Buffer>({ k: 'read', fd, max });
    out = !r.ok
      ? errnoFail(`cannot read ${path}`, r.e)
      : r.v.length > max
        ? fail('EFBIG', `cannot read ${path}: larger than ${max} bytes (READ_LIMIT_BYTES)`)
        : { ok: true, value: r.v };
  }
  yield* run<void>({ k: 'close', fd });
  return out;
}

const bytes = (c: string | Uint8Array): Uint8Array => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c);

// ---------------------------------------------------------------------------------------------
// Public API

/** Replace `path` atomically with `content` (see the file comment); off the event loop. */
export function replaceFile(path: string, content: string | Uint8Array, o: ReplaceOptions): Promise<SafeResult> {
  return driveAsync(replaceFlow(path, bytes(content), o));
}

/** {@link replaceFile}, synchronously (start-up and operator commands only). */
export function replaceFileSync(path: string, content: string | Uint8Array, o: ReplaceOptions): SafeResult {
  return driveSync(replaceFlow(path, bytes(content), o));
}

/**
 * Append `content` to `path` in one write(2), creating the file (mode `o.mode`) if needed;
 * refused (`code: 'UNSAFE'`) when the existing name is a link, not a regular file, owned by
 * someone else or hard-linked. Off the event loop.
 */
export function appendToFile(path: string, content: string | Uint8Array, o: AppendOptions): Promise<SafeResult> {
  return driveAsync(appendFlow(path, bytes(content), o));
}

/** Make sure directory `dir` exists (created with `mode` where missing) at a stable path; resolves to its link-free path. */
export function ensureDir(dir: string, mode: number): Promise<SafeResult<string>> {
  return driveAsync(resolveDirFlow(dir, mode));
}

/** {@link ensureDir}, synchronously. */
export function ensureDirSync(dir: string, mode: number): SafeResult<string> {
  return driveSync(resolveDirFlow(dir, mode));
}

/**
 * Read a file the daemon wrote itself (`O_NOFOLLOW`; must be a regular file owned by root or the
 * daemon with one link, at most `max` bytes), so a planted link cannot make the daemon read (and
 * log) another file. `code: 'ENOENT'` when it does not exist.
 */
export function readOwnFileSync(path: string, max = READ_LIMIT_BYTES): SafeResult<Buffer> {
  return driveSync(readOwnFlow(path, max));
}
