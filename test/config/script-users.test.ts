/**
 * Script users and script checks at config load, pure (injected users and file system): who each
 * script runs as (keepalived_script by default when it exists, else root), keepalived's
 * diagnostics and consequences for unknown users (global, per vrrp_script, per hook, numeric
 * names), and scripts failing keepalived's check removed from what runs. The messages and lines
 * are the ones keepalived 2.2.7 prints (config-cases script-user-*.conf hold its -t output; its
 * log-only lines were taken from a running keepalived).
 */
import t from 'tap';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { defaultIdentity, lookupIdentity, scriptIdentity, type UserDb } from '../../src/config/script-user.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import { memoryHost, testUsers } from '../support/config-host.js';
import { FakeScriptFs } from '../support/fake-script-fs.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';

const KS = 'keepalived_script:x:4243:4243::/nonexistent:/usr/sbin/nologin';
const withKs = (): UserDb => testUsers([KS], ['keepalived_script:x:4243:']);
const noKs = (): UserDb => testUsers();

function load(text: string, users: UserDb, fs?: FakeScriptFs): LoadResult {
  return loadConfig('/k.conf', memoryHost({ '/k.conf': text }, { users, ...(fs ? { scriptFs: fs } : {}) }));
}

/** What `vrrpd check` prints (keepalived -t's lines plus uncounted notices). */
const shown = (r: LoadResult): string[] =>
  r.diagnostics.filter((d) => d.severity !== 'info').map((d) => (d.line > 0 ? `${d.line}: ${d.message}` : d.message));
const logged = (r: LoadResult): string[] =>
  r.diagnostics.filter((d) => d.severity === 'info' || d.exitClass === 'none').map((d) => d.message);
const counted = (r: LoadResult): string[] =>
  r.diagnostics.filter((d) => d.exitClass !== 'none').map((d) => (d.line > 0 ? `${d.line}: ${d.message}` : d.message));

const instance = (extra: string): string => `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.168.200.100/24
    }
${extra}
}
`;

t.test("the default script user: keepalived_script when it exists, else root with keepalived's log line", async (t) => {
  // chk.sh is executable by root only: who the script runs as decides whether it stays
  const fs = new FakeScriptFs().file('/usr/bin/true').file('/etc/keepalived/chk.sh', 0o700);
  const text =
    `global_defs {\n    enable_script_security\n}\nvrrp_script chk {\n    script /etc/keepalived/chk.sh\n}\n` +
    instance('    track_script {\n        chk\n    }\n    notify_master /usr/bin/true');

  const a = load(text, withKs(), fs);
  t.same(counted(a), [], 'keepalived_script exists: no diagnostic printed');
  t.notOk(
    logged(a).some((m) => m.includes('does not exist')),
    'no "does not exist" line',
  );
  t.ok(
    logged(a).some((m) => m.startsWith("WARNING - script '/etc/keepalived/chk.sh' is not executable for uid:gid 4243:4243 - disabling.")),
    'the script was judged as keepalived_script (uid 4243)',
  );
  t.same(a.config!.scripts, [], 'and removed: keepalived_script cannot execute it');
  t.same(a.config!.instances[0]!.trackScripts, [], 'the instance no longer tracks it');
  t.same(a.config!.instances[0]!.notify.master?.argv, ['/usr/bin/true'], 'the hook it can run stays');

  const b = load(text, noKs(), fs);
  t.same(
    counted(b),
    [
      '6: Unable to set default user keepalived_script for script',
      '6: Unable to set default user for vrrp script chk - removing',
      '15: (VI_1) track script chk not found, ignoring...',
    ],
    'enable_script_security and no keepalived_script: refused, said once, on the first script that needed it (keepalived -t)',
  );
  t.ok(logged(b).includes("Script user 'keepalived_script' does not exist"), "keepalived's log line");
  t.ok(
    logged(b).includes('Failed to set default user for notify script /usr/bin/true - ignoring'),
    'the hook too (log only, as keepalived)',
  );
  t.equal(b.config!.instances[0]!.notify.master, undefined, 'the hook is not set');
  t.equal(b.exitCode, 5);

  const c = load(text.replace('    enable_script_security\n', ''), noKs(), fs);
  t.same(
    c.config!.scripts.map((s) => s.name),
    ['chk'],
    'without script security and without keepalived_script scripts run as root',
  );
  t.ok(logged(c).includes("Script user 'keepalived_script' does not exist"));
  t.match(counted(c), ['SECURITY VIOLATION - scripts are being executed but script_security not enabled.']);
  t.equal(c.exitCode, 6);
});

t.test('defaultIdentity / scriptIdentity: names only, the primary group unless one is named', async (t) => {
  const db = testUsers(
    [KS, 'u1234:x:1234:777::/:/bin/false', '1234:x:1234:778::/:/bin/false'],
    ['keepalived_script:x:4243:', 'ops:x:500:'],
  );
  const g = { scriptUser: null, scriptGroup: null, enableScriptSecurity: false };
  t.same(defaultIdentity(db, g), { ok: true, uid: 4243, gid: 4243 });
  t.same(defaultIdentity(noKs(), g), { ok: true, uid: 0, gid: 0 }, 'root when keepalived_script is missing');
  t.same(defaultIdentity(noKs(), { ...g, enableScriptSecurity: true }), {
    ok: false,
    message: 'Unable to set default user keepalived_script for script',
  });
  t.same(defaultIdentity(db, { ...g, scriptUser: 'u1234' }), { ok: true, uid: 1234, gid: 777 });
  t.same(defaultIdentity(db, { ...g, scriptUser: 'u1234', scriptGroup: 'ops' }), { ok: true, uid: 1234, gid: 500 });
  t.same(
    defaultIdentity(db, { ...g, scriptUser: 'nosuchuser' }),
    { ok: false, message: 'Error setting global script uid/gid' },
    'an unknown script_user refuses the default; no fallback to root',
  );
  t.same(scriptIdentity(db, { user: 'root', group: 'nosuchgroup' }, g), {
    ok: false,
    message: "Script group 'nosuchgroup' does not exist",
  });
  t.same(
    scriptIdentity(db, { user: '1234', group: null }, g),
    { ok: true, uid: 1234, gid: 778 },
    '"1234" is the user NAMED 1234 (gid 778), never uid 1234 with gid 0',
  );
  t.same(
    lookupIdentity(testUsers(['u1234:x:1234:777::/:/bin/false']), '1234', null),
    { ok: false, message: "Script user '1234' does not exist" },
    'a uid is not a user name (getpwnam)',
  );
});

t.test("an unknown script_user: keepalived's diagnostic on its line, and every script relying on it refused", async (t) => {
  const fs = new FakeScriptFs().file('/usr/bin/true');
  const text =
    `global_defs {\n    script_user nosuchuser\n    enable_script_security\n}\nvrrp_script chk {\n    script /usr/bin/true\n}\nvrrp_script own {\n    script /usr/bin/true\n    user root\n}\n` +
    instance('    track_script {\n        chk\n        own\n    }\n    notify_master /usr/bin/true\n    notify_backup /usr/bin/true root');
  const r = load(text, noKs(), fs);
  t.same(counted(r), [
    '2: Error setting global script uid/gid',
    '7: Unable to set default user for vrrp script chk - removing',
    '20: (VI_1) track script chk not found, ignoring...',
  ]);
  t.equal(r.exitCode, 5, 'the same exit code as keepalived -t (config-cases/script-user-unknown)');
  t.ok(logged(r).includes("Script user 'nosuchuser' does not exist"));
  t.ok(logged(r).includes('Failed to set default user for notify script /usr/bin/true - ignoring'));
  t.same(
    r.config!.scripts.map((s) => s.name),
    ['own'],
    'a script with its own known user stays',
  );
  t.same(Object.keys(r.config!.instances[0]!.notify), ['backup'], 'notify_master (default user) dropped, notify_backup (root) kept');
});

t.test('a numeric script_user is a user name: unknown unless a user is named so', async (t) => {
  const fs = new FakeScriptFs().file('/usr/bin/true');
  const text =
    `global_defs {\n    script_user 1234\n}\nvrrp_script chk {\n    script /usr/bin/true\n}\n` +
    instance('    track_script {\n        chk\n    }');
  // uid 1234 exists, but not a user named "1234": keepalived's getpwnam does not find it
  const a = load(text, testUsers(['u1234:x:1234:777::/:/bin/false']), fs);
  t.same(
    counted(a),
    [
      '2: Error setting global script uid/gid',
      '6: Unable to set default user for vrrp script chk - removing',
      '15: (VI_1) track script chk not found, ignoring...',
    ],
    'keepalived -t (config-cases/script-user-numeric): refused, so nothing runs with uid 1234 and gid 0',
  );
  t.same(a.config!.scripts, []);
  const b = load(text, testUsers(['1234:x:1234:777::/:/bin/false']), fs);
  t.same(
    b.config!.scripts.map((s) => s.name),
    ['chk'],
    'a user named "1234" is found',
  );
  t.notOk(counted(b).some((m) => m.includes('uid/gid')));
});

t.test("unknown users on a vrrp_script, a hook and a FIFO: keepalived's messages and consequences", async (t) => {
  const fs = new FakeScriptFs().file('/usr/bin/true');
  const text =
    `global_defs {\n    script_user root\n    vrrp_notify_fifo /run/k.fifo nosuchuser\n    vrrp_notify_fifo_script /usr/bin/true nosuchuser\n}\n` +
    `vrrp_script chk {\n    script "/usr/bin/true arg"\n    user nosuchuser\n}\nvrrp_script chk2 {\n    user root nosuchgroup\n    script /usr/bin/true\n}\nvrrp_script chk3 {\n    user nosuchuser\n    user root\n    script /usr/bin/true\n}\n` +
    instance(
      '    track_script {\n        chk\n        chk2\n        chk3\n    }\n    notify_master /usr/bin/true nosuchuser\n    notify /usr/bin/true',
    );
  const r = load(text, noKs(), fs);
  t.same(
    counted(r).filter((m) => !m.startsWith('SECURITY')),
    [
      "8: Unable to set uid/gid for script '/usr/bin/true' 'arg'",
      '11: Unable to set uid/gid for script ',
      '15: Unable to set uid/gid for script ',
      '27: (VI_1) track script chk not found, ignoring...',
      '28: (VI_1) track script chk2 not found, ignoring...',
    ],
    'keepalived -t (config-cases/vscript-user-unknown): the `user` line; a later good `user` line clears it (chk3)',
  );
  t.same(
    r.config!.scripts.map((s) => s.name),
    ['chk3'],
  );
  t.same(r.config!.scripts[0]!.script, { argv: ['/usr/bin/true'], user: 'root', group: null }, 'the script line does not reset the user');
  t.equal(r.config!.instances[0]!.notify.master, undefined, 'notify_master with an unknown user is not set');
  t.same(r.config!.instances[0]!.notify.generic?.argv, ['/usr/bin/true']);
  t.equal(r.config!.global.vrrpNotifyFifo, null, 'no FIFO for an unknown user');
  t.equal(r.config!.global.vrrpNotifyFifoScript, null);
  t.same(
    logged(r).filter((m) => m.startsWith('Invalid')),
    [
      'Invalid user/group for vrrp_notify_fifo /run/k.fifo - ignoring',
      'Invalid user/group for vrrp_notify_fifo script /usr/bin/true - ignoring',
      'Invalid user/group for notify script /usr/bin/true - ignoring',
    ],
  );
});

t.test('without a user database (--no-host-checks) every user is taken as valid', async (t) => {
  const text =
    `global_defs {\n    script_user nosuchuser\n}\nvrrp_script chk {\n    script /usr/bin/true\n}\n` +
    instance('    track_script {\n        chk\n    }');
  const r = loadConfig('/k.conf', memoryHost({ '/k.conf': text }));
  t.same(counted(r), []);
  t.same(
    r.config!.scripts.map((s) => s.name),
    ['chk'],
  );
});

t.test('an unsafe vrrp_script is removed from the model and every track_script: never scheduled, the instance not in FAULT', async (t) => {
  // /srv/checks is world-writable: anyone can replace chk.sh, which would run as root
  const fs = new FakeScriptFs().file('/usr/bin/true').dir('/srv/checks', 0o777).file('/srv/checks/chk.sh');
  const text =
    `global_defs {\n    enable_script_security\n    script_user root\n}\nvrrp_script chk {\n    script /srv/checks/chk.sh\n    interval 1\n}\n` +
    `vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    track_script {\n        chk\n    }\n}\n` +
    instance('    track_script {\n        chk\n    }\n    notify_master /srv/checks/chk.sh\n    notify /usr/bin/true') +
    instance('')
      .replace('VI_1', 'VI_2')
      .replace('virtual_router_id 51', 'virtual_router_id 52')
      .replace('192.168.200.100', '192.168.200.101');
  const r = load(text, noKs(), fs);
  t.same(counted(r), ['Disabling track script chk due to insecure'], 'keepalived -t prints exactly this (observed)');
  t.same(
    shown(r),
    [
      "Unsafe permissions found for script '/srv/checks/chk.sh' - disabling. (/srv/checks is owned by uid 0 (group 0) with mode 0777, so a non-root user can change what runs as root; fix: chmod go-w /srv/checks, or run the script as a non-root script_user)",
      'Disabling track script chk due to insecure',
      "Unsafe permissions found for script '/srv/checks/chk.sh' - disabling. (/srv/checks is owned by uid 0 (group 0) with mode 0777, so a non-root user can change what runs as root; fix: chmod go-w /srv/checks, or run the script as a non-root script_user)",
    ],
    'vrrpd check also says why, and how to fix it (not counted in the exit code)',
  );
  t.ok(
    logged(r).some((m) =>
      m.startsWith(
        "Unsafe permissions found for script '/srv/checks/chk.sh' - disabling. (/srv/checks is owned by uid 0 (group 0) with mode 0777",
      ),
    ),
    "keepalived's log line, with what to fix",
  );
  const cfg = r.config!;
  t.same(cfg.scripts, [], 'gone from the model');
  t.same(
    cfg.instances.map((i) => i.trackScripts),
    [[], []],
    'and from the instance',
  );
  t.same(cfg.syncGroups[0]!.trackScripts, [], 'and from the sync group');
  t.equal(cfg.instances[0]!.notify.master, undefined, 'the unsafe notify_master is unset');
  t.same(cfg.instances[0]!.notify.generic?.argv, ['/usr/bin/true'], 'the safe notify stays');

  // The daemon on fake ports: nothing ever runs chk.sh, and VI_1 becomes MASTER at its own priority.
  const io = new FakeIo();
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog() }));
  t.ok((await d.start(cfg)).ok);
  await advanceDaemon(d, io, 5000);
  t.same(
    io.runs.filter((x) => x.argv[0] === '/srv/checks/chk.sh'),
    [],
    'never run',
  );
  const st = d.status().instances.find((i) => i.name === 'VI_1')!;
  t.equal(st.state, 'MASTER', 'keepalived drops the tracking: the instance is not put in FAULT (observed)');
  t.equal(st.effectivePriority, 100);
  t.ok(
    io.runs.some((x) => x.argv[0] === '/usr/bin/true' && x.argv.includes('MASTER')),
    'the safe notify ran',
  );
  await d.stop(0);
});

t.test('unsafe and missing FIFO reader scripts are unset; safe ones stay; SECURITY VIOLATION names insecure scripts', async (t) => {
  const fs = new FakeScriptFs().file('/usr/bin/true').dir('/home/u', 0o755, 1000).file('/home/u/reader.sh', 0o755, 1000);
  const text =
    `global_defs {\n    vrrp_notify_fifo /run/v.fifo\n    vrrp_notify_fifo_script /home/u/reader.sh\n    notify_fifo /run/n.fifo\n    notify_fifo_script /nonexistent/reader.sh\n    enable_script_security\n    script_user root\n}\n` +
    instance('    notify /usr/bin/true');
  const r = load(text, noKs(), fs);
  t.equal(r.config!.global.vrrpNotifyFifoScript, null, 'a reader in a user-owned directory, run as root, is refused');
  t.equal(r.config!.global.notifyFifoScript, null, 'a missing reader is refused');
  t.ok(r.config!.global.vrrpNotifyFifo, 'the FIFO itself stays (lines are still written)');
  const off = load(text.replace('    enable_script_security\n', ''), noKs(), fs);
  t.same(off.config!.global.vrrpNotifyFifoScript?.argv, ['/home/u/reader.sh'], 'without script security keepalived runs it');
  t.ok(
    counted(off).includes('SECURITY VIOLATION - scripts are being executed but script_security not enabled. There are insecure scripts.'),
  );
});

t.test("global_defs umask: keepalived's numeric and symbolic forms and messages", async (t) => {
  const base = (lines: string): LoadResult => load(`global_defs {\n${lines}}\n` + instance(''), noKs());
  t.equal(base('').config!.global.umask, 0o177, "keepalived's default");
  t.equal(base('    umask 022\n').config!.global.umask, 0o022);
  t.equal(base('    umask 0x1ff\n').config!.global.umask, 0o777);
  t.equal(base('    umask 18\n').config!.global.umask, 18, 'decimal');
  t.equal(base('    umask IWGRP|IWOTH\n').config!.global.umask, 0o022);
  t.equal(base('    umask IRGRP | IWOTH|IXOTH\n').config!.global.umask, 0o043);
  // the lines and messages of config-cases/umask-values.conf (keepalived -t)
  const r = base(
    '    umask 0177\n    umask 0999\n    umask 01000\n    umask IWGRP|IWOTH\n    umask IWGRP IWOTH\n    umask IWGRP |\n    umask FOO\n    umask 022 033\n',
  );
  t.same(counted(r), [
    '3: invalid umask value 0999',
    '4: invalid umask value 01000',
    '6: Invalid umask syntax IWOTH',
    '7: umask missing bit value',
    '8: Unknown umask bit FOO',
    '9: Extra parameter(s) to umask option',
  ]);
  t.equal(r.config!.global.umask, 0o022, 'the last valid one wins');
});
