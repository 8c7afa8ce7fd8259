/**
 * The pid file held with flock (src/util/pid-file.ts), no root needed (one owner case says so):
 * the pid written once locked, exact mode, a held lock refuses a second taker and names the
 * holder, a stale file whose pid is alive elsewhere does not block, planted links are refused,
 * removal only of our own file, and hooks never inherit the descriptor (nor the lock).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { acquirePidFile } from '../../src/util/pid-file.js';
import { signalGroup } from '../../src/util/process-group.js';

const isRoot = process.geteuid?.() === 0;

function tmp(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'vrrpd-pid-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function child(t: Test, argv: string[]): ChildProcess {
  // Its own process group: flock(1) forks the command, and the whole group must go.
  const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  t.teardown(() => signalGroup(c.pid!, 'SIGKILL'));
  return c;
}

async function line(c: ChildProcess, want: string, ms = 5000): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${want}' from the child within ${ms} ms`)), ms);
    c.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(want)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

t.test('lock, pid written, exact mode; a second taker is refused with the holder named; removed on release', async (t) => {
  const d = tmp(t);
  const p = join(d, 'run', 'vrrpd.pid');
  const old = process.umask(0o077);
  t.teardown(() => process.umask(old));
  const a = acquirePidFile(p, 4321);
  t.ok(a.ok, a.ok ? 'held' : a.error);
  if (!a.ok) return;
  t.equal(readFileSync(p, 'utf8'), '4321\n');
  t.equal(statSync(p).mode & 0o7777, 0o644, 'fchmod: 0644 under umask 077');
  t.match(acquirePidFile(p), { ok: false, code: 'EWOULDBLOCK', holder: 4321, error: `another daemon (pid 4321) holds ${p}` });
  t.equal(spawnSync('flock', ['-n', p, 'true']).status, 1, 'flock(1) sees the lock too');
  a.value.release();
  t.notOk(existsSync(p), 'removed at release');
  a.value.release(); // idempotent
  const b = acquirePidFile(p);
  t.ok(b.ok, 'free again');
  if (b.ok) b.value.release();
});

t.test('a stale pid file whose pid is alive (another process) does not block', async (t) => {
  const d = tmp(t);
  const p = join(d, 'vrrpd.pid');
  const sleeper = child(t, ['sleep', '30']);
  writeFileSync(p, `${sleeper.pid}\n`);
  const a = acquirePidFile(p);
  t.ok(a.ok, a.ok ? 'taken over' : a.error);
  t.equal(readFileSync(p, 'utf8'), `${process.pid}\n`, 'our pid replaces the stale one (truncated first)');
  if (a.ok) a.value.release();
});

t.test('a process holding the lock blocks, whatever the file says', async (t) => {
  const d = tmp(t);
  const p = join(d, 'vrrpd.pid');
  writeFileSync(p, '');
  const holder = child(t, ['flock', '-x', p, '-c', 'echo locked; exec sleep 30']);
  await line(holder, 'locked');
  writeFileSync(p, `${holder.pid}\n`);
  t.match(acquirePidFile(p), { ok: false, code: 'EWOULDBLOCK', holder: holder.pid });
  t.equal(readFileSync(p, 'utf8'), `${holder.pid}\n`, 'not truncated: the lock comes first');
});

t.test('planted links and foreign files are refused; the victim is untouched', async (t) => {
  const d = tmp(t);
  const victim = join(d, 'victim');
  writeFileSync(victim, 'precious\n');
  chmodSync(victim, 0o640);
  const p = join(d, 'vrrpd.pid');
  symlinkSync(victim, p);
  t.match(acquirePidFile(p), { ok: false, code: 'UNSAFE', error: /symbolic link/ });
  rmSync(p);
  symlinkSync(join(d, 'nowhere'), p);
  t.match(acquirePidFile(p), { ok: false, code: 'UNSAFE', error: /symbolic link/ }, 'a dangling link too');
  t.notOk(existsSync(join(d, 'nowhere')), 'nothing created at its target');
  rmSync(p);
  linkSync(victim, p);
  t.match(acquirePidFile(p), { ok: false, code: 'UNSAFE', error: /2 hard links/ });
  rmSync(p);
  t.equal(readFileSync(victim, 'utf8'), 'precious\n');
  t.equal(statSync(victim).mode & 0o7777, 0o640);
  if (isRoot) {
    writeFileSync(p, '');
    chownSync(p, 4242, 4242);
    t.match(acquirePidFile(p), { ok: false, code: 'UNSAFE', error: /owned by uid 4242/ });
  }
});

t.test('release removes only our own file; hooks do not inherit the descriptor', async (t) => {
  const d = tmp(t);
  const p = join(d, 'vrrpd.pid');
  const a = acquirePidFile(p);
  if (!a.ok) return t.fail(a.error);
  const hook = child(t, ['sh', '-c', 'echo up; exec sleep 30']);
  await line(hook, 'up');
  const fds = readdirSync(`/proc/${hook.pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${hook.pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  t.notOk(fds.includes(p), 'O_CLOEXEC: the child has no descriptor on the pid file');
  writeFileSync(join(d, 'other'), 'someone else\n');
  renameSync(join(d, 'other'), p);
  a.value.release();
  t.equal(readFileSync(p, 'utf8'), 'someone else\n', 'a file that replaced ours is left alone');
});
