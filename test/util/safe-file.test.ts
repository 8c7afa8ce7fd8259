/**
 * The safe file writer (src/util/safe-file.ts), no root needed (the few root-only cases say so):
 * a link planted at the target or at guessable temp names is never followed, temp names are
 * random, the mode is exact whatever the umask, the temp file is removed on failure, appends
 * refuse links, other owners' files, hard links and FIFOs, and directories on the way must be
 * ones no other user can swap.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  appendToFile,
  ensureDir,
  ensureDirSync,
  entryStable,
  readOwnFileSync,
  replaceFile,
  replaceFileSync,
} from '../../src/util/safe-file.js';

const isRoot = process.geteuid?.() === 0;
const me = process.geteuid?.() ?? 0;

function tmp(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'vrrpd-safe-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A file the writer must never touch: its content, mode and owner. */
function victim(dir: string): { path: string; same(): boolean } {
  const path = join(dir, 'victim');
  writeFileSync(path, 'precious\n');
  chmodSync(path, 0o640);
  const before = statSync(path);
  return {
    path,
    same: () => {
      const now = statSync(path);
      return (
        readFileSync(path, 'utf8') === 'precious\n' &&
        now.mode === before.mode &&
        now.uid === before.uid &&
        now.gid === before.gid &&
        now.nlink === before.nlink
      );
    },
  };
}

const temps = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.tmp'));

t.test('replace: content, a new inode each time, exact mode whatever the umask', async (t) => {
  const d = tmp(t);
  const p = join(d, 'state');
  const old = process.umask(0o077);
  t.teardown(() => process.umask(old));
  t.same(await replaceFile(p, 'MASTER', { mode: 0o644 }), { ok: true, value: undefined });
  t.equal(readFileSync(p, 'utf8'), 'MASTER');
  t.equal(statSync(p).mode & 0o7777, 0o644, '0644 under umask 077');
  const ino = statSync(p).ino;
  process.umask(0o000);
  t.ok(replaceFileSync(p, Buffer.from('BACKUP'), { mode: 0o600 }).ok);
  t.equal(readFileSync(p, 'utf8'), 'BACKUP');
  t.equal(statSync(p).mode & 0o7777, 0o600, '0600 under umask 000');
  t.not(statSync(p).ino, ino, 'replaced by rename, not rewritten in place');
  t.same(temps(d), [], 'no temp file left');
});

t.test('replace: a symlink planted at the target is replaced, not followed', async (t) => {
  const d = tmp(t);
  const v = victim(d);
  const p = join(d, 'keepalived.data');
  symlinkSync(v.path, p);
  t.ok((await replaceFile(p, 'dump', { mode: 0o600 })).ok);
  t.ok(v.same(), 'victim unchanged');
  t.ok(lstatSync(p).isFile(), 'the link itself was replaced by a regular file');
  t.equal(readFileSync(p, 'utf8'), 'dump');
  // A dangling link (the file to be created) likewise.
  const q = join(d, 'state');
  symlinkSync(join(d, 'created-through-link'), q);
  t.ok(replaceFileSync(q, 'x', { mode: 0o644 }).ok);
  t.notOk(readdirSync(d).includes('created-through-link'), 'nothing created at the link target');
});

t.test('replace: links planted at guessable temp names are never used; temp names are random', async (t) => {
  const d = tmp(t);
  const v = victim(d);
  // Every name the old writer used (.PID.N.tmp) and a few obvious ones.
  const guesses = [
    ...Array.from({ length: 200 }, (_, i) => `.${process.pid}.${i + 1}.tmp`),
    'state.tmp',
    '.state.tmp',
    `state.${process.pid}.tmp`,
    'state~',
    '.state.swp',
  ];
  for (const g of guesses) symlinkSync(v.path, join(d, g));
  const seen = new Set<string>();
  const w = watch(d, (_ev, name) => {
    if (name !== null && name.endsWith('.tmp') && !guesses.includes(name)) seen.add(name);
  });
  t.teardown(() => w.close());
  for (let i = 0; i < 20; i++) t.ok((await replaceFile(join(d, 'state'), `v${i}`, { mode: 0o644 })).ok);
  await new Promise((r) => setTimeout(r, 100));
  t.ok(v.same(), 'victim unchanged');
  t.equal(readFileSync(join(d, 'state'), 'utf8'), 'v19');
  t.ok(seen.size >= 20, `${seen.size} distinct temp names for 20 writes`);
  for (const n of seen) t.match(n, /^\.state\.[0-9a-f]{24}\.tmp$/, 'name carries 96 random bits');
  t.equal(temps(d).length, guesses.filter((g) => g.endsWith('.tmp')).length, 'only the planted names remain');
});

t.test('replace: the temp file is removed on failure, and the error names the path', async (t) => {
  const d = tmp(t);
  const p = join(d, 'target');
  mkdirSync(p);
  writeFileSync(join(p, 'inside'), '');
  const r = await replaceFile(p, 'x', { mode: 0o644 });
  t.match(r, { ok: false, code: /EISDIR|ENOTEMPTY|EEXIST/, error: new RegExp(`cannot write ${p}`) });
  t.same(temps(d), [], 'temp removed after the failed rename (async)');
  t.match(replaceFileSync(p, 'x', { mode: 0o644 }), { ok: false });
  t.same(temps(d), [], 'temp removed after the failed rename (sync)');
  if (!isRoot) {
    // fchown to another user fails without CAP_CHOWN: a failure after the temp exists.
    t.match(await replaceFile(join(d, 'owned'), 'x', { mode: 0o644, uid: me + 1, gid: me + 1 }), { ok: false, code: 'EPERM' });
    t.same(temps(d), [], 'temp removed after the failed fchown');
  }
  t.match(await replaceFile(join(d, 'missing', 'f'), 'x', { mode: 0o644 }), {
    ok: false,
    code: 'ENOENT',
    error: new RegExp(`${d}/missing`),
  });
});

t.test(
  'replace: fchown on the descriptor when an owner is asked (root)',
  { skip: isRoot ? false : 'needs root (CAP_CHOWN)' },
  async (t) => {
    const d = tmp(t);
    const p = join(d, 'owned');
    t.ok((await replaceFile(p, 'x', { mode: 0o640, uid: 4242, gid: 4243 })).ok);
    const st = statSync(p);
    t.same([st.uid, st.gid, st.mode & 0o7777], [4242, 4243, 0o640]);
  },
);

t.test('append: created with the exact mode, appended in place, one line per call', async (t) => {
  const d = tmp(t);
  const p = join(d, 'log', 'keepalived.log');
  const old = process.umask(0o077);
  t.teardown(() => process.umask(old));
  t.ok((await appendToFile(p, 'one\n', { mode: 0o644, dirMode: 0o755 })).ok);
  t.ok((await appendToFile(p, 'two\n', { mode: 0o600 })).ok);
  t.equal(readFileSync(p, 'utf8'), 'one\ntwo\n');
  t.equal(statSync(p).mode & 0o7777, 0o644, 'mode set at creation (fchmod), kept afterwards');
  t.equal(statSync(join(d, 'log')).mode & 0o7777, 0o700, 'missing directory created (mkdir mode under the umask)');
});

t.test('append: refuses a symlink, a hard link, a FIFO and a file owned by someone else', async (t) => {
  const d = tmp(t);
  const v = victim(d);
  const link = join(d, 'sym.log');
  symlinkSync(v.path, link);
  t.match(await appendToFile(link, 'x\n', { mode: 0o644 }), {
    ok: false,
    code: 'UNSAFE',
    error: /refusing to append to .*sym\.log: it is a symbolic link/,
  });
  const hard = join(d, 'hard.log');
  linkSync(v.path, hard);
  t.match(await appendToFile(hard, 'x\n', { mode: 0o644 }), { ok: false, code: 'UNSAFE', error: /2 hard links/ });
  rmSync(hard);
  t.ok(v.same(), 'victim unchanged');
  const fifo = join(d, 'fifo.log');
  execFileSync('mkfifo', [fifo]);
  t.match(
    await appendToFile(fifo, 'x\n', { mode: 0o644 }),
    { ok: false, code: 'UNSAFE', error: /FIFO/ },
    'refused at once (no reader: the open would have blocked)',
  );
  const dir = join(d, 'dir.log');
  mkdirSync(dir);
  t.match(await appendToFile(dir, 'x\n', { mode: 0o644 }), { ok: false });
  const theirs = join(d, 'theirs.log');
  writeFileSync(theirs, '');
  if (isRoot) chownSync(theirs, 4242, 4242);
  // Without root, expect another owner than the file's to see the same check.
  const r = await appendToFile(theirs, 'x\n', { mode: 0o644, ...(isRoot ? {} : { owner: me + 1 }) });
  t.match(r, { ok: false, code: 'UNSAFE', error: /owned by uid \d+, not \d+/ });
  t.equal(readFileSync(theirs, 'utf8'), '', 'nothing written');
});

t.test('directories: a path another user could swap is refused; stable links are followed', async (t) => {
  const d = tmp(t);
  const open = join(d, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777); // writable by everyone, not sticky
  mkdirSync(join(open, 'sub'));
  const r = await replaceFile(join(open, 'sub', 'state'), 'x', { mode: 0o644 });
  t.match(r, {
    ok: false,
    code: 'UNSAFE',
    error: new RegExp(`unsafe path ${open}/sub: ${open} \\(owner uid \\d+, mode 0777\\) lets a non-root user replace ${open}/sub`),
  });
  t.notOk(readdirSync(join(open, 'sub')).length, 'nothing written');
  t.match(ensureDirSync(join(open, 'new'), 0o755), { ok: false, code: 'UNSAFE', error: /cannot create/ }, 'no mkdir there either');
  // The last directory may be writable by others: its entries are never followed.
  t.ok((await replaceFile(join(open, 'state'), 'x', { mode: 0o644 })).ok, 'a file directly in it is fine');
  // A sticky world-writable directory (like /tmp) is a safe parent for our own entries.
  const sticky = join(d, 'sticky');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  t.ok((await replaceFile(join(sticky, 'keepalived.data'), 'x', { mode: 0o600 })).ok);
  t.match(
    await ensureDir(join(sticky, 'mine', 'deeper'), 0o755),
    { ok: true, value: join(sticky, 'mine', 'deeper') },
    'created through our own entry',
  );
  if (isRoot) {
    mkdirSync(join(sticky, 'theirs'));
    chownSync(join(sticky, 'theirs'), 4242, 4242);
    t.match(await replaceFile(join(sticky, 'theirs', 'f'), 'x', { mode: 0o644 }), {
      ok: false,
      code: 'UNSAFE',
      error: /is owned by uid 4242 in the sticky directory/,
    });
  }
  // A link at a stable position (only we could have placed it) is followed to the real path.
  const real = join(d, 'real');
  mkdirSync(real);
  symlinkSync(real, join(d, 'alias'));
  t.match(ensureDirSync(join(d, 'alias'), 0o755), { ok: true, value: real });
  t.ok(replaceFileSync(join(d, 'alias', 'f'), 'y', { mode: 0o644 }).ok);
  t.equal(readFileSync(join(real, 'f'), 'utf8'), 'y');
  // A link inside the writable directory, on the way to the file's directory, is not.
  symlinkSync(real, join(open, 'elsewhere'));
  t.match(replaceFileSync(join(open, 'elsewhere', 'f'), 'z', { mode: 0o644 }), { ok: false, code: 'UNSAFE' });
  t.equal(readFileSync(join(real, 'f'), 'utf8'), 'y', 'not written through the link');
  // A loop of links ends with an error naming the bound.
  symlinkSync(join(d, 'loop2'), join(d, 'loop1'));
  symlinkSync(join(d, 'loop1'), join(d, 'loop2'));
  t.match(ensureDirSync(join(d, 'loop1'), 0o755), { ok: false, code: 'ELOOP', error: /SYMLINK_LIMIT/ });
  writeFileSync(join(d, 'plain'), '');
  t.match(ensureDirSync(join(d, 'plain', 'sub'), 0o755), { ok: false, code: 'ENOTDIR' });
});

t.test('stable entries: who may change what a name refers to', async (t) => {
  const other = me + 4242;
  t.ok(entryStable({ uid: 0, mode: 0o40755 }, { uid: other }), 'root dir, not writable by others');
  t.notOk(entryStable({ uid: other, mode: 0o40755 }, { uid: 0 }), "another user's directory");
  t.notOk(entryStable({ uid: 0, mode: 0o40775 }, { uid: 0 }), 'group-writable');
  t.notOk(entryStable({ uid: 0, mode: 0o40777 }, { uid: 0 }), 'world-writable, not sticky');
  t.ok(entryStable({ uid: 0, mode: 0o41777 }, { uid: 0 }), "sticky /tmp, root's entry");
  t.notOk(entryStable({ uid: 0, mode: 0o41777 }, { uid: other }), "sticky /tmp, another user's entry");
  t.notOk(entryStable({ uid: other, mode: 0o41777 }, { uid: 0 }), 'sticky but owned by another user');
});

t.test('readOwnFileSync: our regular file only', async (t) => {
  const d = tmp(t);
  const v = victim(d);
  const p = join(d, 'manual.json');
  t.match(readOwnFileSync(p), { ok: false, code: 'ENOENT' });
  writeFileSync(p, '{}');
  const r = readOwnFileSync(p);
  t.equal(r.ok ? r.value.toString() : r.error, '{}');
  rmSync(p);
  symlinkSync(v.path, p);
  t.match(readOwnFileSync(p), { ok: false, code: 'UNSAFE', error: /symbolic link/ });
  rmSync(p);
  linkSync(v.path, p);
  t.match(readOwnFileSync(p), { ok: false, code: 'UNSAFE', error: /2 links/ });
  rmSync(p);
  t.ok(v.same());
  writeFileSync(p, 'x'.repeat(100));
  t.match(readOwnFileSync(p, 10), { ok: false, code: 'EFBIG', error: /READ_LIMIT_BYTES/ });
});
