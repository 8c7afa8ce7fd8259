/**
 * Issue 10, file writes: an unprivileged local user (uid 4242, no passwd entry) plants symlinks
 * at every name the daemon writes, pointing at a root-owned victim file, and the daemon's real
 * code then writes: the victim must keep its content, mode and owner. Run with
 * fs.protected_symlinks 0 and 1 (host-wide: saved and restored). The places:
 *  (a) dumps in a sticky world-writable directory used as TMPDIR (writeDump), and the real /tmp
 *      names (keepalived.data/.stats/.json) of a real daemon whose /tmp is a private bind mount
 *      of such a directory (SIGUSR1, SIGUSR2, SIGRTMIN+2);
 *  (b) the state files and state log in a state directory the user owns (StateFiles and the
 *      real daemon), and a state directory whose parent the user owns (swapped for a link);
 *  (c) manual.json (the maintenance hold's save);
 *  (d) the pid file (the real daemon refuses to start);
 *  (e) a track_file's init_file (keepalived replaces it too, CVE-2018-19044's fix).
 * Also: a regular file the user planted at a dump name is replaced even with
 * fs.protected_regular = 2; a stale pid file whose pid is alive elsewhere does not block
 * start-up; a real second daemon does. Needs root; runs daemons (flock /tmp/vrrpd-netns.lock npx tap ...).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t, { type Test } from 'tap';
import { launcherArgv } from '../../src/cli/launcher.js';
import { ManualControl } from '../../src/control/manual.js';
import { MemoryLog } from '../../src/log.js';
import { StateFiles } from '../../src/notify/state-files.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { writeDump, type DumpHost, type DumpKind } from '../../src/runtime/dumps.js';
import { safeFileWriter } from '../../src/host/file-writer.js';
import { nodeTrackFiles } from '../../src/host/track-files.js';
import { scriptRunIds } from '../../src/notify/users.js';
import { TrackFileWatcher } from '../../src/runtime/track-inputs.js';
import { requireBuild } from '../support/build-check.js';
import { configFromText, ONE_INSTANCE_CONF } from '../support/config-host.js';
import { FakeIo, withTestNotifier } from '../runtime/fake-io.js';

const USER = 4242;
const VRRPD_BIN = resolve(import.meta.dirname, '../../bin/vrrpd');
const VRRPD_ARGV = launcherArgv(VRRPD_BIN);
const SYSCTL = '/proc/sys/fs/protected_symlinks';
const REGULAR = '/proc/sys/fs/protected_regular';
/** Names the old writer used for its temp files: `.PID.N.tmp` with a per-process counter. */
const OLD_TEMP_GUESSES = 300;

// ---------------------------------------------------------------------------------------------
// Helpers

function base(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'vrrpd-links-'));
  chmodSync(d, 0o755); // the user must reach what it plants in
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function dir(path: string, mode: number, uid = 0): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
  chownSync(path, uid, uid);
  return path;
}

/** A root-owned file nothing may touch. */
class Victim {
  readonly before: { content: string; mode: number; uid: number; gid: number };
  constructor(readonly path: string) {
    writeFileSync(path, 'precious: root only\n');
    chmodSync(path, 0o640);
    chownSync(path, 0, 0);
    const st = statSync(path);
    this.before = { content: readFileSync(path, 'utf8'), mode: st.mode, uid: st.uid, gid: st.gid };
  }
  now(): Victim['before'] {
    const st = statSync(this.path);
    return { content: readFileSync(this.path, 'utf8'), mode: st.mode, uid: st.uid, gid: st.gid };
  }
}

function unchanged(t: Test, v: Victim, what: string): void {
  t.same(v.now(), v.before, `${what}: victim unchanged (content, mode, owner)`);
}

/** As uid 4242 (no passwd entry, no groups): `ln -s TARGET LINK` for each pair. */
function plant(t: Test, pairs: Array<[link: string, target: string]>): void {
  const args = pairs.flatMap(([l, tg]) => [tg, l]);
  const r = spawnSync('/bin/sh', ['-c', 'while [ $# -gt 0 ]; do ln -s "$1" "$2" || exit 1; shift 2; done', 'sh', ...args], {
    uid: USER,
    gid: USER,
    encoding: 'utf8',
  });
  if (r.status !== 0) t.fail(`planting as uid ${USER} failed: ${r.stderr}`);
}

function asUser(t: Test, script: string, ...args: string[]): void {
  const r = spawnSync('/bin/sh', ['-c', script, 'sh', ...args], { uid: USER, gid: USER, encoding: 'utf8' });
  if (r.status !== 0) t.fail(`as uid ${USER}: ${script}: ${r.stderr}`);
}

const oldTemps = (d: string, pid: number): string[] => Array.from({ length: OLD_TEMP_GUESSES }, (_, i) => join(d, `.${pid}.${i + 1}.tmp`));

/** A regular root-owned file with this mode (the link itself was replaced). */
function ours(t: Test, p: string, mode: number): void {
  const st = lstatSync(p);
  t.ok(
    st.isFile() && st.uid === 0 && (st.mode & 0o7777) === mode,
    `${p}: regular, root, ${mode.toString(8)} (is ${st.isSymbolicLink() ? 'a symlink' : `uid ${st.uid} mode ${(st.mode & 0o7777).toString(8)}`})`,
  );
}

const CONF = ONE_INSTANCE_CONF;

/** The dumps' real writer and user lookup (as `vrrpd run` composes them), writing in `dir`. */
const dumpHost = (dir: string): DumpHost => ({ writer: safeFileWriter, ids: scriptRunIds, dir });

async function fakeDaemon(t: Test): Promise<Daemon> {
  const d = new Daemon(withTestNotifier({ io: new FakeIo(), log: new MemoryLog() }));
  const r = await d.start(configFromText(CONF));
  if (!r.ok) throw new Error(r.error.message);
  t.teardown(() => d.stop(0));
  return d;
}

interface Proc {
  readonly child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, ms: number): Promise<boolean>;
  exited(ms: number): Promise<number | null | 'running'>;
}

function start(t: Test, argv: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let code: number | null | undefined;
  const wake = new Set<() => void>();
  const poke = (): void => wake.forEach((f) => f());
  child.stdout!.on('data', (b: Buffer) => ((out += b.toString()), poke()));
  child.stderr!.on('data', (b: Buffer) => ((out += b.toString()), poke()));
  child.on('exit', (c) => ((code = c), poke()));
  t.teardown(() => {
    if (code === undefined) child.kill('SIGKILL');
  });
  const until = (ok: () => boolean, ms: number): Promise<boolean> =>
    new Promise((done) => {
      if (ok()) return done(true);
      const check = (): void => {
        if (!ok()) return;
        clearTimeout(timer);
        wake.delete(check);
        done(true);
      };
      const timer = setTimeout(() => (wake.delete(check), done(false)), ms);
      wake.add(check);
    });
  return {
    child,
    output: () => out,
    waitFor: (re, ms) => until(() => re.test(out), ms),
    exited: async (ms) => ((await until(() => code !== undefined, ms)) ? (code ?? null) : 'running'),
  };
}

async function stop(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  if ((await p.exited(5000)) === 'running') p.child.kill('SIGKILL');
}

async function poll(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return ok();
}

const isFile = (p: string): boolean => {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------------------------

async function scenario(t: Test, ps: string): Promise<void> {
  writeFileSync(SYSCTL, ps);
  t.equal(readFileSync(SYSCTL, 'utf8').trim(), ps);
  const b = base(t);
  const victim = new Victim(join(b, 'victim'));

  await t.test('(a) dumps in a sticky world-writable TMPDIR (writeDump)', async (t) => {
    const tmp = dir(join(b, 'tmp'), 0o1777);
    const files = ['keepalived.data', 'keepalived.stats', 'keepalived.json'].map((f) => join(tmp, f));
    plant(
      t,
      [...files, ...oldTemps(tmp, process.pid)].map((l) => [l, victim.path]),
    );
    const d = await fakeDaemon(t);
    const src = { status: () => d.status(), config: () => configFromText(CONF), submit: (_what: string, fn: () => void) => fn() };
    for (const kind of ['data', 'stats', 'json'] as DumpKind[])
      await writeDump(kind, src, dumpHost(tmp), new MemoryLog()).catch(() => undefined);
    unchanged(t, victim, 'SIGUSR1/SIGUSR2/SIGRTMIN+2 dumps');
    for (const f of files) ours(t, f, 0o600);
  });

  await t.test('(b) state files and state log in a state directory the user owns (StateFiles)', async (t) => {
    const state = dir(join(b, 'state'), 0o755, USER);
    const named = ['state', 'vip_check_failed_count', 'VI_1.state', 'keepalived.log'].map((f) => join(state, f));
    plant(
      t,
      [...named, ...oldTemps(state, process.pid)].map((l) => [l, victim.path]),
    );
    const log = new MemoryLog();
    const sf = new StateFiles({ dir: state, logFile: join(state, 'keepalived.log') }, log);
    for (const s of ['BACKUP', 'MASTER', 'FAULT']) sf.transition('VI_1', s);
    await sf.flush();
    unchanged(t, victim, 'state transitions');
    t.equal(readFileSync(join(state, 'state'), 'utf8'), 'FAULT');
    for (const f of named.slice(0, 3)) ours(t, f, 0o644);
    t.ok(lstatSync(join(state, 'keepalived.log')).isSymbolicLink(), 'the planted log link is left alone');
    t.equal(sf.logLinesDropped, 3, 'each refused log line dropped and counted');
    t.match(log.messages('warn').join('\n'), /state log line dropped: refusing to append to .*keepalived\.log: it is a symbolic link/);
  });

  await t.test('(b) a state directory whose parent the user owns is refused, even once swapped for a link', async (t) => {
    const home = dir(join(b, 'home'), 0o755, USER);
    const elsewhere = dir(join(b, 'elsewhere'), 0o755);
    asUser(t, 'mkdir "$1/state" && mv "$1/state" "$1/old" && ln -s "$2" "$1/state"', home, elsewhere);
    const log = new MemoryLog();
    const sf = new StateFiles({ dir: join(home, 'state'), logFile: join(home, 'state', 'keepalived.log') }, log);
    sf.transition('VI_1', 'MASTER');
    await sf.flush();
    t.same(readdirSync(elsewhere), [], 'nothing written through the swapped directory');
    t.equal(sf.errors, 1);
    t.match(log.messages('warn').join('\n'), new RegExp(`cannot write state files in ${home}/state: unsafe path`));
  });

  await t.test('(c) manual.json in a state directory the user owns (maintenance save)', async (t) => {
    const state = dir(join(b, 'state-manual'), 0o755, USER);
    const file = join(state, 'manual.json');
    plant(
      t,
      [file, `${file}.${process.pid}.tmp`, ...oldTemps(state, process.pid)].map((l) => [l, victim.path]),
    );
    const log = new MemoryLog();
    const m = new ManualControl({ daemon: await fakeDaemon(t), log, stateFile: file });
    t.teardown(() => m.close());
    t.match(await m.maintenance(true, undefined, undefined, 'tester'), { ok: true });
    unchanged(t, victim, 'maintenance on');
    ours(t, file, 0o600);
    t.equal(JSON.parse(readFileSync(file, 'utf8')).maintenance.node.by, 'tester');
  });

  await t.test('(e) track_file init_file in a directory the user owns', async (t) => {
    const watched = dir(join(b, 'track'), 0o755, USER);
    const file = join(watched, 'weight');
    plant(
      t,
      [file, ...oldTemps(watched, process.pid)].map((l) => [l, victim.path]),
    );
    const values: number[] = [];
    const def = { name: 'tf', file, weight: 1, reverse: false, initValue: 7, initOverwrite: true, origin: { file: 'k.conf', line: 1 } };
    const w = new TrackFileWatcher(def, { io: nodeTrackFiles(), log: new MemoryLog(), onValue: (_n, v) => values.push(v) });
    w.start();
    w.stop();
    unchanged(t, victim, 'init_file overwrite');
    ours(t, file, 0o644);
    t.same(values, [7], 'the value written is the value read');
  });

  await t.test('(d) pid file: a link at vrrpd.pid makes the real daemon refuse to start', async (t) => {
    const state = dir(join(b, 'state-pid'), 0o755, USER);
    plant(t, [[join(state, 'vrrpd.pid'), victim.path]]);
    const conf = join(b, 'empty.conf');
    writeFileSync(conf, 'global_defs {\n  router_id links\n}\n');
    const p = start(t, ['unshare', '-n', ...VRRPD_ARGV, 'run', '-f', conf, '--state-dir', state, '--log-console']);
    const code = await p.exited(5000);
    if (code === 'running') await stop(p);
    t.equal(code, 1, 'exit 1');
    t.match(p.output(), /refusing pid file .*vrrpd\.pid: it is a symbolic link/);
    unchanged(t, victim, 'daemon start');
  });

  // The bind mount hides the host's /tmp from the daemon: its code and node must live elsewhere.
  const hidden = [VRRPD_BIN, process.execPath].find((p) => p.startsWith('/tmp/'));
  const nsSkip = hidden === undefined ? false : `${hidden} is under /tmp, which the private /tmp would hide`;
  await t.test('(a)+(b) real daemon: /tmp is a private sticky directory, state dir owned by the user', { skip: nsSkip }, async (t) => {
    // In a mount namespace /tmp is a bind mount of `nstmp` (sticky, world-writable): the daemon
    // dumps to the real names /tmp/keepalived.* and the host's /tmp is not touched.
    const nstmp = dir(join(b, 'nstmp'), 0o1777);
    const nsVictim = new Victim(join(nstmp, 'victim'));
    const home = dir(join(nstmp, 'home'), 0o755);
    const state = dir(join(home, 'state'), 0o755, USER);
    writeFileSync(join(nstmp, 'k.conf'), CONF.replace('eth0', 'vr0'));
    const inNs = (p: string): string => p.replace(nstmp, '/tmp');
    const stateNames = ['state', 'VI_1.state', 'keepalived.log'].map((f) => join(state, f));
    plant(
      t,
      stateNames.map((l) => [l, '/tmp/victim']),
    );
    const setup = [
      'mount --bind "$1" /tmp',
      'mount -t sysfs sysfs /sys',
      'ip link add vr0 type veth peer name vr1',
      'ip link set vr0 up',
      'ip link set vr1 up',
      'ip addr add 10.9.9.1/24 dev vr0',
      'shift',
      'exec "$@"',
    ].join(' && ');
    const env = { ...process.env };
    delete env.TMPDIR;
    const p = start(
      t,
      [
        'unshare',
        '-m',
        '-n',
        '--propagation',
        'private',
        'sh',
        '-c',
        setup,
        'sh',
        nstmp,
        ...VRRPD_ARGV,
        'run',
        '-f',
        '/tmp/k.conf',
        '--state-dir',
        inNs(state),
        '--log-console',
      ],
      env,
    );
    if (!(await p.waitFor(/Startup complete/, 10_000))) {
      t.fail(`daemon did not start:\n${p.output()}`);
      return stop(p);
    }
    const pid = p.child.pid!;
    const dumps = ['keepalived.data', 'keepalived.stats', 'keepalived.json'].map((f) => join(nstmp, f));
    plant(
      t,
      [...dumps, ...oldTemps(nstmp, pid).slice(0, 20)].map((l) => [l, '/tmp/victim']),
    );
    p.child.kill('SIGUSR1');
    p.child.kill('SIGUSR2');
    process.kill(pid, 36); // SIGRTMIN+2 (child.kill takes names only)
    await poll(() => dumps.every(isFile), 3000);
    await stop(p);
    unchanged(t, nsVictim, 'dumps to /tmp and state changes');
    for (const f of dumps) ours(t, f, 0o600);
    ours(t, join(state, 'state'), 0o644);
    ours(t, join(state, 'VI_1.state'), 0o644);
    t.match(p.output(), /state log line dropped: refusing to append to \/tmp\/home\/state\/keepalived\.log: it is a symbolic link/);
  });
}

/**
 * fs.protected_regular restricts O_CREAT opens of another user's file in a sticky directory; the
 * writer never makes one (O_EXCL temp), and rename over the user's file is allowed to root because
 * root owns the directory (the sticky rule), so dumps still replace a planted regular file.
 */
async function protectedRegular(t: Test): Promise<void> {
  const saved = readFileSync(REGULAR, 'utf8').trim();
  t.teardown(() => writeFileSync(REGULAR, saved));
  writeFileSync(REGULAR, '2');
  const b = base(t);
  const tmp = dir(join(b, 'tmp'), 0o1777);
  const file = join(tmp, 'keepalived.data');
  asUser(t, 'echo fake > "$1"', file);
  t.equal(statSync(file).uid, USER, 'planted by the user');
  const d = await fakeDaemon(t);
  const src = { status: () => d.status(), config: () => configFromText(CONF), submit: (_what: string, fn: () => void) => fn() };
  t.equal(await writeDump('data', src, dumpHost(tmp), new MemoryLog()), file);
  ours(t, file, 0o600);
  t.match(readFileSync(file, 'utf8'), /VRRP Instance = VI_1/);
}

async function pidFileDaemons(t: Test): Promise<void> {
  const b = base(t);
  const state = dir(join(b, 'state'), 0o755);
  const pidFile = join(state, 'vrrpd.pid');
  const conf = join(b, 'empty.conf');
  writeFileSync(conf, 'global_defs {\n  router_id pid\n}\n');
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => sleeper.kill('SIGKILL'));
  writeFileSync(pidFile, `${sleeper.pid}\n`);
  const run = (): Proc => start(t, ['unshare', '-n', ...VRRPD_ARGV, 'run', '-f', conf, '--state-dir', state, '--log-console']);
  const a = run();
  t.ok(await a.waitFor(/Startup complete/, 10_000), `a stale pid file (pid ${sleeper.pid}, alive, not a vrrpd) does not block start-up`);
  t.equal(readFileSync(pidFile, 'utf8'), `${a.child.pid}\n`, 'the pid file now names the daemon');
  const b2 = run();
  t.equal(await b2.exited(5000), 1, 'a second daemon on the same pid file exits 1');
  t.match(b2.output(), new RegExp(`another daemon \\(pid ${a.child.pid}\\) holds ${pidFile}; use --state-dir or --pid-file`));
  await stop(a);
  t.notOk(existsSync(pidFile), 'removed at exit');
}

// ---------------------------------------------------------------------------------------------

const skip =
  process.geteuid?.() !== 0 ? 'needs root: acts as uid 4242, sets fs.protected_symlinks, runs daemons in namespaces' : requireBuild();

if (skip === false) {
  const saved = readFileSync(SYSCTL, 'utf8').trim();
  t.teardown(() => writeFileSync(SYSCTL, saved));
}
for (const ps of ['0', '1']) t.test(`fs.protected_symlinks = ${ps}`, { skip }, (t) => scenario(t, ps));
t.test('a regular file planted at a dump name is replaced, with fs.protected_regular = 2', { skip }, protectedRegular);
t.test('pid file: a stale pid does not block start-up, a running daemon does', { skip }, pidFileDaemons);
