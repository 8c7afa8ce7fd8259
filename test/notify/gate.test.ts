/**
 * The script gate every spawn passes (src/notify/security.ts), the vrrp_script scheduler and the
 * notifier's queue bound, pure: an in-memory file system and user database, fake runners and
 * clocks. No root.
 */
import t from 'tap';
import type { ScriptCommand } from '../../src/config/model.js';
import { MemoryLog } from '../../src/log.js';
import { Notifier, HookHistory, HOOK_QUEUE_BOUND } from '../../src/notify/notifier.js';
import type { ProcessRunner, RunResult, RunSpec } from '../../src/notify/runner.js';
import { KEEPALIVED_UMASK, ScriptGate } from '../../src/notify/security.js';
import { FakeClock } from '../support/fake-clock.js';
import { ScriptScheduler } from '../../src/runtime/track-inputs.js';
import { testUsers } from '../support/config-host.js';
import { FakeScriptFs } from '../support/fake-script-fs.js';

const cmd = (argv: string[], user: string | null = null, group: string | null = null): ScriptCommand => ({ argv, user, group });
/** Default: script_user root, enable_script_security, keepalived's umask. */
const settings = (o: { scriptUser?: string | null; security?: boolean; umask?: number } = {}) => ({
  scriptUser: o.scriptUser === undefined ? 'root' : o.scriptUser,
  scriptGroup: null,
  enableScriptSecurity: o.security ?? true,
  umask: o.umask ?? KEEPALIVED_UMASK,
});

function gateWith(fs: FakeScriptFs, users = testUsers()) {
  const log = new MemoryLog();
  let now = 1_000_000;
  const gate = new ScriptGate({ log, fs, users, nowMs: () => now });
  return { gate, log, tick: (ms: number) => (now += ms), warns: () => log.lines.filter((l) => l.level === 'warn').map((l) => l.msg) };
}

const hooksFs = (): FakeScriptFs =>
  new FakeScriptFs()
    .file('/usr/bin/true')
    .dir('/etc/keepalived')
    .dir('/opt/hooks')
    .file('/opt/hooks/master.sh')
    .link('/etc/keepalived/master.sh', '/opt/hooks/master.sh')
    .dir('/home/u', 0o755, 1000)
    .file('/home/u/evil.sh', 0o755, 1000);

t.test("the gate runs the resolved path it approved, with the script user and keepalived's umask", async (t) => {
  const fs = hooksFs();
  const { gate } = gateWith(fs);
  const m = cmd(['/etc/keepalived/master.sh', 'a b']);
  gate.configure(settings(), [m]);
  t.same(
    gate.prepare(m, 'notify_master (VI_1)', ['x']),
    { ok: true, argv: ['/opt/hooks/master.sh', 'a b', 'x'], uid: 0, gid: 0, umask: 0o177 },
    'the link is resolved once, at the check: what runs is what was checked',
  );
  gate.configure(settings({ umask: 0o022 }), [m]);
  t.match(gate.prepare(m, 'x'), { ok: true, umask: 0o022 }, 'global_defs umask');
});

t.test('a path swapped after load is refused before the spawn: logged with the reason (rate-limited) and counted', async (t) => {
  const fs = hooksFs();
  const { gate, tick, warns } = gateWith(fs);
  const m = cmd(['/etc/keepalived/master.sh']);
  gate.configure(settings(), [m]);
  t.match(gate.prepare(m, 'notify_master (VI_1)'), { ok: true });

  // the link's own directory does not matter: what runs is the resolved, checked path (as keepalived)
  fs.set('/etc/keepalived', { mode: 0o777 });
  t.match(gate.prepare(m, 'notify_master (VI_1)'), { ok: true, argv: ['/opt/hooks/master.sh'] });
  fs.set('/etc/keepalived', { mode: 0o755 });
  // an operator makes the target's directory world-writable: anyone could replace master.sh
  fs.set('/opt/hooks', { mode: 0o777 });
  const r = gate.prepare(m, 'notify_master (VI_1)');
  t.match(r, {
    ok: false,
    reason:
      /^Unsafe permissions found for script '\/opt\/hooks\/master.sh' - disabling\. \(\/opt\/hooks is owned by uid 0 \(group 0\) with mode 0777, .*fix: chmod go-w \/opt\/hooks/,
  });
  // someone with write access to /etc/keepalived points the link at their own file
  fs.set('/opt/hooks', { mode: 0o755 }).remove('/etc/keepalived/master.sh').link('/etc/keepalived/master.sh', '/home/u/evil.sh', 1000);
  t.match(
    gate.prepare(m, 'notify_master (VI_1)'),
    { ok: false, reason: /\/home\/u is owned by uid 1000/ },
    'a link to a user-owned file: refused',
  );
  for (let i = 0; i < 5; i++) gate.prepare(m, 'notify_master (VI_1)');
  t.equal(gate.stats().refused, 7, 'every refusal counted');
  t.match(gate.stats().lastRefusal, { what: 'notify_master (VI_1)', path: '/etc/keepalived/master.sh' });
  t.equal(warns().length, 1, 'logged once in 10 s');
  t.match(warns()[0], /^Refusing to run notify_master \(VI_1\) script \/etc\/keepalived\/master.sh: Unsafe permissions found/);
  tick(10_000);
  gate.prepare(m, 'notify_master (VI_1)');
  t.match(
    warns()[1],
    /^Refusing to run notify_master \(VI_1\) script \/etc\/keepalived\/master.sh: Unsafe permissions found for script '\/home\/u\/evil.sh'.* \(6 more since the last report\)$/,
  );

  fs.remove('/etc/keepalived/master.sh');
  t.match(
    gate.prepare(m, 'y'),
    { ok: false, reason: /^Script \/etc\/keepalived\/master.sh cannot be accessed - No such file or directory/ },
    'a vanished script',
  );
  fs.file('/etc/keepalived/master.sh', 0o644);
  t.match(gate.prepare(m, 'y'), { ok: false, reason: /is not executable for uid:gid 0:0/ }, 'not executable');
});

t.test('without enable_script_security: insecure at load runs (keepalived), insecure since load is refused', async (t) => {
  const fs = hooksFs().dir('/srv/w', 0o777).file('/srv/w/old.sh');
  const { gate, warns } = gateWith(fs);
  const old = cmd(['/srv/w/old.sh']);
  const m = cmd(['/etc/keepalived/master.sh']);
  gate.configure(settings({ security: false }), [old, m]);
  t.match(
    gate.prepare(old, 'notify_backup (VI_1)'),
    { ok: true, argv: ['/srv/w/old.sh'] },
    'the operator kept an insecure script (SECURITY VIOLATION at load): it runs, as with keepalived',
  );
  t.equal(gate.stats().insecureRuns, 1);
  t.match(
    warns()[0],
    /notify_backup \(VI_1\) script \/srv\/w\/old.sh: Unsafe permissions found for script '\/srv\/w\/old.sh'\. It runs because enable_script_security is off/,
  );
  fs.set('/opt/hooks', { mode: 0o777 });
  t.match(
    gate.prepare(m, 'notify_master (VI_1)'),
    { ok: false, reason: /^its path became writable by a non-root user after the configuration was loaded \(\/opt\/hooks is owned/ },
    'never runs as root from a path that turned unsafe',
  );
});

t.test('who runs it: keepalived_script, else root; a numeric script_user is a name, never uid with gid 0', async (t) => {
  const fs = new FakeScriptFs().file('/usr/bin/true');
  const c = cmd(['/usr/bin/true']);
  const ks = gateWith(fs, testUsers(['keepalived_script:x:4243:4244::/:/bin/false']));
  ks.gate.configure(settings({ scriptUser: null, security: false }), [c]);
  t.match(ks.gate.prepare(c, 'n'), { ok: true, uid: 4243, gid: 4244 }, 'keepalived_script and its primary group');
  const root = gateWith(fs);
  root.gate.configure(settings({ scriptUser: null, security: false }), [c]);
  t.match(root.gate.prepare(c, 'n'), { ok: true, uid: 0, gid: 0 });
  root.gate.configure(settings({ scriptUser: null, security: true }), [c]);
  t.match(root.gate.prepare(c, 'n'), {
    ok: false,
    reason: /^no user to run it as: Unable to set default user keepalived_script for script/,
  });

  const numeric = gateWith(fs, testUsers(['u1234:x:1234:777::/:/bin/false']));
  numeric.gate.configure(settings({ scriptUser: '1234' }), [c]);
  t.match(
    numeric.gate.prepare(c, 'n'),
    { ok: false, reason: /^no user to run it as: Error setting global script uid\/gid/ },
    'uid 1234 exists but no user is NAMED 1234: refused (the old code ran it as uid 1234 with gid 0)',
  );
  const named = gateWith(fs, testUsers(['1234:x:1234:777::/:/bin/false']));
  named.gate.configure(settings({ scriptUser: '1234' }), [c]);
  t.match(named.gate.prepare(c, 'n'), { ok: true, uid: 1234, gid: 777 }, 'the user named 1234 runs it with ITS gid');
  t.match(named.gate.prepare(cmd(['/usr/bin/true'], 'nosuchuser'), 'n'), {
    ok: false,
    reason: /^no user to run it as: Script user 'nosuchuser' does not exist/,
  });
});

class FakeRunner implements ProcessRunner {
  readonly runs: RunSpec[] = [];
  /** Pending completions, oldest first; `autoExit` resolves at once. */
  readonly waiting: ((r: RunResult) => void)[] = [];
  constructor(private readonly autoExit: number | null = 0) {}
  run(spec: RunSpec): Promise<RunResult> {
    this.runs.push(spec);
    if (this.autoExit !== null) return Promise.resolve({ code: this.autoExit, signal: null, timedOut: false, durationMs: 1 });
    return new Promise((r) => this.waiting.push(r));
  }
  killAll(): void {}
  async drain(): Promise<void> {}
}

t.test('vrrp_script: a run the gate refuses is not started and counts as a failed run', async (t) => {
  const fs = new FakeScriptFs().dir('/etc/keepalived').file('/etc/keepalived/chk.sh');
  const { gate } = gateWith(fs);
  const def = {
    name: 'chk',
    script: cmd(['/etc/keepalived/chk.sh']),
    intervalMs: 1000,
    timeoutMs: 0,
    weight: 0,
    reverse: false,
    rise: 1,
    fall: 1,
    initFail: false,
    origin: { file: '', line: 0 },
  };
  gate.configure(settings(), [def.script]);
  const clock = new FakeClock(0);
  const runner = new FakeRunner(0);
  const results: boolean[] = [];
  const log = new MemoryLog();
  const s = new ScriptScheduler(def, {
    clock: {
      nowMs: () => clock.now(),
      setTimer: (ms, cb) => {
        const id = clock.setTimeout(cb, ms);
        return { cancel: () => clock.cancel(id) };
      },
    },
    runner,
    log,
    gate,
    onResult: (_n, ok) => results.push(ok),
  });
  s.start();
  clock.advance(0);
  await new Promise((r) => setImmediate(r));
  t.same(results, [true]);
  t.match(
    runner.runs[0],
    { argv: ['/etc/keepalived/chk.sh'], uid: 0, gid: 0, umask: 0o177 },
    "keepalived's umask 0177 (the old scheduler passed none: 022)",
  );
  fs.set('/etc/keepalived', { mode: 0o777 });
  clock.advance(1000);
  await new Promise((r) => setImmediate(r));
  t.same(results, [true, false], 'refused = failed (weight 0: FAULT; the check fails closed)');
  t.equal(runner.runs.length, 1, 'never started');
  t.equal(s.refused, 1);
  t.ok(
    log.messages().some((m) => /^VRRP_Script\(chk\) failed \(not run: Unsafe permissions found/.test(m)),
    'the script line says why',
  );
  s.stop();
});

t.test('hook queue: bounded behind a hung hook; overflow coalesces to the newest state change, in order', async (t) => {
  const hooks = { master: cmd(['/m.sh']), backup: cmd(['/b.sh']), generic: cmd(['/n.sh']) };
  const release = async (runner: FakeRunner, n: Notifier): Promise<void> => {
    for (let i = 0; i < 50 && (runner.waiting.length > 0 || n.pending > 0); i++) {
      for (const w of runner.waiting.splice(0)) w({ code: 0, signal: null, timedOut: false, durationMs: 1 });
      await new Promise((r) => setImmediate(r));
    }
    await n.idle(1000);
  };

  const runner = new FakeRunner(null);
  const log = new MemoryLog();
  const n = new Notifier({ runner, log, history: new HookHistory(50) });
  n.notify('INSTANCE', 'VI_1', hooks, 'MASTER', 100); // starts, and hangs
  for (let i = 0; i < HOOK_QUEUE_BOUND; i++) n.notify('INSTANCE', 'VI_1', hooks, i % 2 === 0 ? 'BACKUP' : 'MASTER', 100);
  t.equal(n.dropped, 0, `up to ${HOOK_QUEUE_BOUND} waiting state changes nothing is dropped`);
  n.notify('INSTANCE', 'VI_1', hooks, 'BACKUP', 100); // one more: over the bound
  t.equal(runner.runs.length, 1, 'only the hung hook has started');
  t.equal(n.dropped, 2 * HOOK_QUEUE_BOUND, "the waiting changes' hook runs are dropped and counted");
  t.equal(n.pending, 2 + 2, 'the running change and the newest one remain');
  const warns = log.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
  t.equal(warns.length, 1);
  t.match(
    warns[0],
    /^\(VI_1\) hook queue full \(more than 16 state changes waiting behind a running hook\): dropped the hooks of BACKUP, MASTER, .*, MASTER; the hooks of BACKUP will run next$/,
  );
  await release(runner, n);
  t.same(
    runner.runs.map((r) => r.argv.join(' ')),
    ['/m.sh', '/n.sh INSTANCE VI_1 MASTER 100', '/b.sh', '/n.sh INSTANCE VI_1 BACKUP 100'],
    'the running change finishes, then the newest one runs, in order',
  );
  t.equal(n.pending, 0);

  // a flood behind a hung hook never grows the queue past the bound; the log line is rate-limited
  const r2 = new FakeRunner(null);
  const log2 = new MemoryLog();
  const n2 = new Notifier({ runner: r2, log: log2 });
  n2.notify('INSTANCE', 'VI_1', hooks, 'MASTER', 100);
  const flood = 10_000;
  let maxPending = 0;
  for (let i = 0; i < flood; i++) {
    n2.notify('INSTANCE', 'VI_1', hooks, i % 2 === 0 ? 'BACKUP' : 'MASTER', 100);
    maxPending = Math.max(maxPending, n2.pending);
  }
  t.ok(
    maxPending <= 2 * (HOOK_QUEUE_BOUND + 1),
    `pending hooks never above ${2 * (HOOK_QUEUE_BOUND + 1)} (max ${maxPending}; the old queue held all ${2 * flood})`,
  );
  t.equal(n2.dropped + n2.pending, 2 * flood + 2, 'every hook run is either waiting, running or counted as dropped');
  t.equal(log2.lines.filter((l) => l.level === 'warn').length, 1, 'one log line per 10 s');
  await release(r2, n2);
  const last = r2.runs.slice(-2).map((r) => r.argv.join(' '));
  t.same(last, ['/m.sh', '/n.sh INSTANCE VI_1 MASTER 100'], 'the newest state (MASTER) ran last');
});
