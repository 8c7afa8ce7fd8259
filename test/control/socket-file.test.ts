/**
 * Creating the control socket's file (src/control/socket-file.ts, issue 10): the directory policy
 * (no directory on the way, as written or resolved, writable by another user unless sticky, or
 * owned by one), what sits at the path already (only an old socket is removed; a file or a link is
 * refused and left alone), the mode fixed at creation whatever the umask, the group set without
 * following links, the flags of `vrrpd run` checked before start. Tests that chown to uid 4242
 * need root and skip otherwise.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from '../../src/control/client.js';
import { ControlServer } from '../../src/control/server.js';
import { resolveGroup, socketDirProblem, socketOptions } from '../../src/control/socket-file.js';
import { MemoryLog } from '../../src/log.js';
import { requireBuild } from '../support/build-check.js';

const root = process.getuid?.() === 0;
const rootSkip = root ? false : 'needs root (chown to uid 4242)';

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'vc-sockfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function server(path: string, o: { mode?: number; gid?: number } = {}): ControlServer {
  return new ControlServer({ path, log: new MemoryLog(), handler: async () => ({ ok: true, pong: true }), ...o });
}

async function refused(t: Test, path: string, re: RegExp, what: string): Promise<void> {
  const s = server(path);
  t.teardown(() => s.close());
  await t.rejects(s.start(), re, what);
}

t.test('a directory others can write (not sticky) is refused, naming it; nothing is created', async (t) => {
  const dir = tmp(t);
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  await refused(
    t,
    join(open, 'c.sock'),
    new RegExp(`${open} is writable by others \\(mode 0777\\) and not sticky`),
    'world-writable parent',
  );
  t.notOk(existsSync(join(open, 'c.sock')), 'no socket created');
  const grp = join(dir, 'grp');
  mkdirSync(grp);
  chmodSync(grp, 0o775);
  await refused(t, join(grp, 'c.sock'), /is writable by its group \(mode 0775\)/, 'group-writable parent');
  // An ancestor counts as much as the parent: whoever can write it can rename the rest away.
  mkdirSync(join(open, 'sub'));
  chmodSync(join(open, 'sub'), 0o755);
  await refused(t, join(open, 'sub', 'c.sock'), new RegExp(`${open} is writable by others`), 'world-writable ancestor');
});

t.test('a sticky world-writable directory (like /tmp) is accepted: others cannot rename what is ours', async (t) => {
  const dir = tmp(t);
  const sticky = join(dir, 'sticky');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  t.equal(socketDirProblem(join(sticky, 'c.sock')), null);
  const s = server(join(sticky, 'c.sock'));
  t.teardown(() => s.close());
  await s.start();
  t.match(await request(join(sticky, 'c.sock'), { cmd: 'ping' }), { ok: true, pong: true });
});

t.test('a directory owned by another user is refused', { skip: rootSkip }, async (t) => {
  const dir = tmp(t);
  const theirs = join(dir, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  chownSync(theirs, 4242, 4242);
  await refused(t, join(theirs, 'c.sock'), new RegExp(`${theirs} is owned by uid 4242, not root`), 'parent owned by uid 4242');
});

t.test('a directory reached through a symlink is checked where it really is', async (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'open'));
  chmodSync(join(dir, 'open'), 0o777);
  mkdirSync(join(dir, 'open', 'real'), { mode: 0o755 });
  symlinkSync(join(dir, 'open', 'real'), join(dir, 'link'));
  await refused(
    t,
    join(dir, 'link', 'c.sock'),
    /is writable by others .* \(.*link resolves to .*open\/real\)/,
    'the real path has a world-writable directory',
  );
});

t.test('what sits at the path: an old socket is replaced; a file or a symlink is refused and left alone', async (t) => {
  const dir = tmp(t);
  // A stale socket from a crashed run (SIGKILL: nobody unlinks it).
  const stale = join(dir, 'stale.sock');
  spawnSync(
    process.execPath,
    ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`],
    { timeout: 10_000 },
  );
  t.ok(lstatSync(stale).isSocket(), 'stale socket present');
  const s = server(stale);
  t.teardown(() => s.close());
  await s.start();
  t.match(await request(stale, { cmd: 'ping' }), { ok: true }, 'the old socket was replaced');

  const file = join(dir, 'important');
  writeFileSync(file, 'keep me\n', { mode: 0o644 });
  await refused(t, file, /important exists and is a regular file: refusing to replace it/, 'a regular file at the path');
  t.equal(readFileSync(file, 'utf8'), 'keep me\n', 'the file is untouched (the old code deleted it)');

  const target = join(dir, 'target');
  writeFileSync(target, 'target\n', { mode: 0o644 });
  const link = join(dir, 'link.sock');
  symlinkSync(target, link);
  await refused(t, link, /link\.sock exists and is a symlink: refusing to replace it/, 'a planted symlink at the path');
  t.ok(lstatSync(link).isSymbolicLink(), 'the link is left in place');
  t.equal(lstatSync(target).mode & 0o7777, 0o644, "its target's mode is untouched");
});

t.test('mode fixed at creation, whatever the umask; a group set by lchown', { skip: rootSkip }, async (t) => {
  const dir = tmp(t);
  const old = process.umask(0);
  let s: ControlServer;
  try {
    s = server(join(dir, 'c.sock'));
    await s.start();
  } finally {
    process.umask(old);
  }
  t.teardown(() => s.close());
  const st = lstatSync(join(dir, 'c.sock'));
  t.equal(st.mode & 0o7777, 0o600, 'mode 0600 with umask 0 (no chmod by path afterwards)');
  t.equal(process.umask(), old, 'umask restored');

  const ro = server(join(dir, 'ro.sock'), { mode: 0o660, gid: 4242 });
  t.teardown(() => ro.close());
  await ro.start();
  const rs = lstatSync(join(dir, 'ro.sock'));
  t.equal(rs.mode & 0o7777, 0o660, 'status socket mode 0660');
  t.equal(rs.gid, 4242, 'group 4242');
  t.equal(rs.uid, 0, 'owned by root');
});

const setprivSkip = (): false | string => {
  if (rootSkip) return rootSkip;
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'needs setpriv (util-linux)';
  return requireBuild();
};

t.test('the status socket gets its group without CAP_CHOWN (the systemd unit drops it)', { skip: setprivSkip() }, async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'ro.sock');
  const server = new URL('../../dist/control/server.js', import.meta.url).href;
  const code = `const { ControlServer } = await import(${JSON.stringify(server)});
const log = { debug() {}, info() {}, warn() {}, error() {}, child() { return log; } };
const s = new ControlServer({ path: ${JSON.stringify(path)}, log, handler: async () => ({ ok: true }), mode: 0o660, gid: 4242, readOnly: true });
try { await s.start(); const st = (await import('node:fs')).lstatSync(${JSON.stringify(path)}); console.log(JSON.stringify({ gid: st.gid, mode: st.mode & 0o7777, egid: process.getegid() })); }
catch (e) { console.log(JSON.stringify({ error: e.message })); }
s.close();`;
  // As root with CAP_CHOWN out of the bounding set (what the unit's CapabilityBoundingSet leaves).
  const r = spawnSync(
    'setpriv',
    ['--bounding-set', '-chown', 'env', '-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', code],
    { encoding: 'utf8', timeout: 15_000 },
  );
  t.same(
    JSON.parse(r.stdout.trim() || '{}'),
    { gid: 4242, mode: 0o660, egid: 0 },
    `created in group 4242, mode 0660, effective gid restored (stderr: ${r.stderr.trim()})`,
  );
});

t.test('groups by name (from the group file) or number; an unknown name is an error sentence', async (t) => {
  const dir = tmp(t);
  const gf = join(dir, 'group');
  writeFileSync(gf, 'root:x:0:\nvrrpmon:x:4321:alice,bob\n');
  t.same(resolveGroup('vrrpmon', gf), { ok: true, gid: 4321 });
  t.same(resolveGroup('4242', gf), { ok: true, gid: 4242 }, 'a number need not exist');
  t.match(resolveGroup('nosuch', gf), { ok: false, error: /unknown group 'nosuch' \(not in .*group; a number is accepted as is\)/ });
});

t.test('vrrpd run flags checked before start: --status-group alone, unknown group, unsafe directory', async (t) => {
  const dir = tmp(t);
  t.equal(socketOptions(undefined, undefined, 'adm'), '--status-group needs --status-socket');
  t.match(
    socketOptions(undefined, join(dir, 's.sock'), 'no-such-group-vrrpd-test'),
    /^--status-group: unknown group 'no-such-group-vrrpd-test'/,
  );
  t.same(socketOptions(undefined, join(dir, 's.sock'), '4242'), { statusSocketPath: join(dir, 's.sock'), statusGid: 4242 });
  t.same(socketOptions(undefined, join(dir, 's.sock'), undefined), { statusSocketPath: join(dir, 's.sock') });
  mkdirSync(join(dir, 'open'));
  chmodSync(join(dir, 'open'), 0o777);
  t.match(
    socketOptions(join(dir, 'open', 'c.sock'), undefined, undefined),
    /^--control-socket .*open\/c\.sock: .*open is writable by others/,
  );
  t.match(socketOptions(undefined, join(dir, 'open', 's.sock'), '4242'), /^--status-socket .*: .*writable by others/);
  t.same(socketOptions(join(dir, 'not-yet', 'c.sock'), undefined, undefined), {}, 'a directory not created yet is checked at listen');
});
