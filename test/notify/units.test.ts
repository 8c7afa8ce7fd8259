/**
 * No root needed: FIFO line format and writes, state files (content, atomic replace, flags), the
 * hook checks' messages, the notifier's history/disabled hooks/umask, sync-group notifies derived
 * from members, and the keepalived dump formats on a synthetic status.
 */
import t from 'tap';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  constants,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fifoLine, NotifyFifo } from '../../src/notify/fifo.js';
import {
  scriptTimestamp,
  stateFilesOptions,
  stateLogLine,
  StateFiles,
  STATE_WRITES_QUEUE_MAX,
  writeAtomic,
} from '../../src/notify/state-files.js';
import { openGate, ScriptGate } from '../../src/notify/security.js';
import { checkScriptFile, executableBy, unsafeComponent } from '../../src/config/script-check.js';
import { nodeScriptFs } from '../../src/host/script-fs.js';
import { HookHistory, Notifier } from '../../src/notify/notifier.js';
import { Notifications } from '../../src/notify/notifications.js';
import { SpawnRunner, type ProcessRunner, type RunSpec } from '../../src/notify/runner.js';
import { formatData, formatJson, formatStats, keepalivedStats, vipLine } from '../../src/runtime/dumps.js';
import { scriptRunIds } from '../../src/notify/users.js';
import type { DaemonStatus } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import { loadConfig } from '../../src/config/load.js';
import { nodeConfigHost } from '../../src/host/config-host.js';

const dir = mkdtempSync(join(tmpdir(), 'vn-unit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

class FakeRunner implements ProcessRunner {
  runs: RunSpec[] = [];
  run(spec: RunSpec) {
    this.runs.push(spec);
    return Promise.resolve({ code: 0, signal: null, timedOut: false, durationMs: 1 });
  }
  killAll(): void {}
  async drain(): Promise<void> {}
}

t.test('FIFO line: keepalived format, name quoted', async (t) => {
  t.equal(fifoLine('INSTANCE', 'VI_1', 'MASTER', 110), 'INSTANCE "VI_1" MASTER 110\n');
  t.equal(fifoLine('GROUP', 'G1', 'BACKUP', 0), 'GROUP "G1" BACKUP 0\n');
  t.equal(fifoLine('INSTANCE', 'VI_1', 'MASTER_RX_LOWER_PRI', 115), 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 115\n');
});

const fifoDeps = (umask = 0o177) => {
  const log = new MemoryLog();
  return { log, gate: openGate(log), settings: { umask } };
};

t.test('NotifyFifo: created 0644 & ~umask, written without blocking, removed on close; an existing FIFO is kept', async (t) => {
  const p = join(dir, 'n.fifo');
  const f = new NotifyFifo({ path: p, user: null, group: null }, null, fifoDeps());
  t.ok(statSync(p).isFIFO(), 'mkfifo');
  t.equal(statSync(p).mode & 0o777, 0o600, "keepalived's 0644 & ~0177");
  const r = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
  f.write(fifoLine('INSTANCE', 'VI_1', 'BACKUP', 100));
  f.write(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
  const buf = Buffer.alloc(4096);
  const n = readSync(r, buf);
  t.equal(buf.subarray(0, n).toString(), 'INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n');
  // Fill the pipe: writes never block, extra lines are counted as dropped.
  for (let i = 0; i < 5000; i++) f.write(fifoLine('INSTANCE', 'VI_1', 'BACKUP', i));
  t.ok(f.stats().dropped > 0, `dropped ${f.stats().dropped} lines when the pipe was full`);
  closeSync(r);
  f.close();
  t.notOk(existsSync(p), 'the FIFO we created is removed');
  execFileSync('mkfifo', [p]);
  const g = new NotifyFifo({ path: p, user: null, group: null }, null, fifoDeps(0o022));
  g.close();
  t.ok(existsSync(p), 'a FIFO we did not create is left alone');
  rmSync(p);
});

t.test('NotifyFifo: on close only the FIFO we created is unlinked, not what replaced it', async (t) => {
  const p = join(dir, 'r.fifo');
  const d = fifoDeps();
  const f = new NotifyFifo({ path: p, user: null, group: null }, null, d);
  rmSync(p);
  execFileSync('mkfifo', [p]); // someone else's FIFO now has the name
  f.close();
  t.ok(existsSync(p), 'left in place');
  t.ok(d.log.lines.some((l) => l.level === 'warn' && l.msg === `notify fifo ${p} was replaced since it was created; left in place`));
  rmSync(p);
});

t.test('NotifyFifo: the reader script gets the FIFO path appended, umask 0177, and SIGTERM on close', async (t) => {
  const p = join(dir, 's.fifo');
  const out = join(dir, 'fifo-reader.out');
  const script = join(dir, 'reader.sh');
  writeFileSync(script, `#!/bin/sh\necho "args: $* umask: $(umask)" > ${out}\nwhile read -r l; do echo "$l" >> ${out}; done < "$2"\n`, {
    mode: 0o755,
  });
  const f = new NotifyFifo({ path: p, user: null, group: null }, { argv: [script, 'x'], user: null, group: null }, fifoDeps());
  f.write(fifoLine('GROUP', 'G1', 'MASTER', 0));
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && !(existsSync(out) && readFileSync(out, 'utf8').includes('GROUP')))
    await new Promise((r) => setTimeout(r, 20));
  t.equal(
    readFileSync(out, 'utf8'),
    `args: x ${p} umask: 0177\nGROUP "G1" MASTER 0\n`,
    "path appended; keepalived's umask (it was the daemon's own)",
  );
  const pid = f.stats().scriptPid!;
  f.close();
  await new Promise((r) => setTimeout(r, 200));
  t.throws(() => process.kill(pid, 0), 'reader script terminated');
});

t.test('NotifyFifo: close also ends what the reader started in a session of its own (setsid)', async (t) => {
  const p = join(dir, 'setsid.fifo');
  const pidFile = join(dir, 'escaped.pid');
  const script = join(dir, 'reader-setsid.sh');
  writeFileSync(script, `#!/bin/sh\nsetsid sh -c 'echo $$ > ${pidFile}; exec sleep 1000' &\nwhile read -r l; do :; done < "$1"\n`, {
    mode: 0o755,
  });
  const f = new NotifyFifo({ path: p, user: null, group: null }, { argv: [script], user: null, group: null }, fifoDeps());
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== ''))
    await new Promise((r) => setTimeout(r, 20));
  const escaped = Number(readFileSync(pidFile, 'utf8').trim());
  t.teardown(() => {
    try {
      process.kill(escaped, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  });
  t.not(
    readFileSync(`/proc/${escaped}/stat`, 'utf8').split(' ')[5],
    readFileSync(`/proc/${f.stats().scriptPid!}/stat`, 'utf8').split(' ')[5],
    "the child left the reader's session",
  );
  f.close();
  const gone = Date.now() + 3000;
  while (Date.now() < gone && existsSync(`/proc/${escaped}`) && !readFileSync(`/proc/${escaped}/stat`, 'utf8').includes(') Z '))
    await new Promise((r) => setTimeout(r, 20));
  t.notOk(
    existsSync(`/proc/${escaped}`) && !readFileSync(`/proc/${escaped}/stat`, 'utf8').includes(') Z '),
    'the setsid child of the reader is terminated too',
  );
});

t.test('state files: the same bytes notify_action.sh writes (timestamps aside), atomically', async (t) => {
  t.equal(scriptTimestamp(new Date(2026, 10, 24, 3, 4, 5)), '2026-11-24 03:04:05');
  t.equal(stateLogLine('MASTER', new Date(2026, 0, 2, 13, 0, 9)), '[2026-01-02 13:00:09]  notify_master\n');
  const d = join(dir, 'state');
  const log = join(dir, 'log', 'keepalived.log');
  const sf = new StateFiles({ dir: d, logFile: log }, new MemoryLog());
  for (const s of ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'STOP']) sf.transition('VI_1', s);
  await sf.flush();
  t.equal(readFileSync(join(d, 'state'), 'utf8'), 'STOP');
  t.equal(readFileSync(join(d, 'vip_check_failed_count'), 'utf8'), '0');
  t.equal(readFileSync(join(d, 'VI_1.state'), 'utf8'), 'STOP');
  t.same(
    readFileSync(log, 'utf8')
      .replace(/^\[[^\]]+\]/gm, '[T]')
      .split('\n'),
    ['[T]  notify_backup', '[T]  notify_master', '[T]  notify_fault', '[T]  notify_backup', '[T]  notify_stop', ''],
  );
  t.same(
    readdirSync(d).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files left',
  );
  t.equal(statSync(join(d, 'state')).mode & 0o777, 0o644);
  // The reset only happens on MASTER: another value survives BACKUP.
  writeFileSync(join(d, 'vip_check_failed_count'), '3');
  sf.transition('VI_1', 'BACKUP');
  sf.transition('VI_2', 'DELETED');
  await sf.flush();
  t.equal(readFileSync(join(d, 'vip_check_failed_count'), 'utf8'), '3');
  t.equal(readFileSync(join(d, 'VI_2.state'), 'utf8'), 'DELETED');
  t.equal(readFileSync(join(d, 'state'), 'utf8'), 'BACKUP', 'DELETED is not a shared state (the script would not be called)');
  // A directory we cannot create is a warning, not a crash.
  const ml = new MemoryLog();
  writeFileSync(join(dir, 'plainfile'), '');
  const bad = new StateFiles({ dir: join(dir, 'plainfile', 'sub'), logFile: null }, ml);
  bad.transition('VI_1', 'MASTER');
  await bad.flush();
  t.equal(bad.errors, 1);
  t.match(ml.lines.map((l) => l.msg).join('\n'), /cannot write state files/);
});

t.test("state files: a queue the disk cannot keep up with is compacted to each instance's newest transition", async (t) => {
  const d = join(dir, 'state-flood');
  const log = join(dir, 'state-flood.log');
  const ml = new MemoryLog();
  const sf = new StateFiles({ dir: d, logFile: log }, ml);
  // 10,000 transitions queued before the first write can finish: a stuck disk, seen from the queue.
  let peak = 0;
  for (let k = 0; k < 10_000; k++) {
    sf.transition(`VI_${k % 3}`, k % 2 === 0 ? 'BACKUP' : 'MASTER');
    peak = Math.max(peak, sf.pending);
  }
  t.ok(peak <= STATE_WRITES_QUEUE_MAX + 1, `at most ${STATE_WRITES_QUEUE_MAX} + 1 waiting (peak ${peak})`);
  await sf.flush();
  t.equal(sf.pending, 0);
  t.ok(sf.coalesced > 9_000, `${sf.coalesced} older transitions dropped and counted`);
  // the last ones: k = 9997 -> VI_1 MASTER, 9998 -> VI_2 BACKUP, 9999 -> VI_0 MASTER
  t.equal(readFileSync(join(d, 'VI_0.state'), 'utf8'), 'MASTER', 'each instance ends in its newest state');
  t.equal(readFileSync(join(d, 'VI_1.state'), 'utf8'), 'MASTER');
  t.equal(readFileSync(join(d, 'VI_2.state'), 'utf8'), 'BACKUP');
  t.equal(readFileSync(join(d, 'state'), 'utf8'), 'MASTER', 'the shared file holds the last transition of all');
  t.match(ml.messages('warn').join('\n'), /transitions behind \(is the disk stuck\?\)/);
  // Many instances at once (a mass takeover) are not compacted away: one entry each is kept.
  const many = new StateFiles({ dir: join(dir, 'state-many'), logFile: null }, new MemoryLog());
  for (let k = 0; k < 400; k++) many.transition(`VI_${k}`, 'MASTER');
  t.equal(many.coalesced, 0);
  await many.flush();
  t.equal(readdirSync(join(dir, 'state-many')).filter((f) => f.endsWith('.state')).length, 400);
});

t.test('writeAtomic replaces by rename (a reader never sees a partial file)', async (t) => {
  const p = join(dir, 'atomic');
  writeFileSync(p, 'OLD');
  const ino = statSync(p).ino;
  await writeAtomic(p, 'NEW', 0o600);
  t.equal(readFileSync(p, 'utf8'), 'NEW');
  t.not(statSync(p).ino, ino, 'a new inode: replaced, not rewritten in place');
  t.equal(statSync(p).mode & 0o777, 0o600);
});

t.test('run flags -> state-file options', async (t) => {
  t.same(stateFilesOptions(true, undefined, undefined), { dir: '/var/keepalived', logFile: '/var/log/keepalived.log' });
  t.same(
    stateFilesOptions(true, '/srv/x', undefined),
    { dir: '/srv/x', logFile: '/srv/x/keepalived.log' },
    '--state-dir alone keeps everything inside it',
  );
  t.same(stateFilesOptions(true, '/srv/x', '/var/log/k.log'), { dir: '/srv/x', logFile: '/var/log/k.log' });
  t.same(stateFilesOptions(true, undefined, ''), { dir: '/var/keepalived', logFile: null });
  t.equal(stateFilesOptions(false, '/srv/x', undefined), null, '--no-state-files');
});

t.test(
  'script checks on real files: missing, not executable, unsafe under enable_script_security; messages name path, owner, mode',
  async (t) => {
    const fs = nodeScriptFs('/bin:/usr/bin');
    const ok = join(dir, 'sec', 'ok.sh');
    mkdirSync(join(dir, 'sec'), { recursive: true, mode: 0o755 });
    chmodSync(join(dir, 'sec'), 0o755);
    writeFileSync(ok, '#!/bin/sh\n', { mode: 0o755 });
    chmodSync(ok, 0o755);
    const root = process.getuid?.() === 0;
    t.match(checkScriptFile(fs, '/nonexistent/x.sh', 0, 0, false), {
      usable: false,
      notFound: true,
      messages: ['Script /nonexistent/x.sh cannot be accessed - No such file or directory'],
    });
    t.match(checkScriptFile(fs, 'no-such-prog-xyz', 0, 0, false), {
      usable: false,
      messages: ['Cannot find script no-such-prog-xyz in path - disabling'],
    });
    t.match(checkScriptFile(fs, 'sh', 0, 0, false), {
      usable: true,
      messages: [/^WARNING - script `sh` resolved by path search to `\/(usr\/)?bin\/sh`/],
    });
    const noexec = join(dir, 'sec', 'noexec.sh');
    writeFileSync(noexec, '#!/bin/sh\n', { mode: 0o644 });
    chmodSync(noexec, 0o644);
    const ne = checkScriptFile(fs, noexec, 0, 0, false);
    t.match(ne, { usable: false, notExecutable: true, isScript: true, detail: /owned by \d+:\d+ with mode 0644; fix: chmod \+x/ });
    t.match(ne.messages, [/^WARNING - script '.*noexec.sh' is not executable for uid:gid 0:0 - disabling\.$/]);
    if (root) {
      t.match(checkScriptFile(fs, ok, 0, 0, true), { usable: true, insecure: false });
      chmodSync(join(dir, 'sec'), 0o777);
      const v = checkScriptFile(fs, ok, 0, 0, true);
      t.match(v, {
        usable: false,
        inhibited: true,
        insecure: true,
        detail: /\/sec is owned by uid 0 \(group 0\) with mode 0777, .*fix: chmod go-w .*\/sec/,
      });
      t.match(v.messages, [/^Unsafe permissions found for script '.*ok.sh' - disabling\.$/]);
      t.match(checkScriptFile(fs, ok, 0, 0, false), { usable: true, insecure: true }, 'without enable_script_security keepalived runs it');
      chmodSync(join(dir, 'sec'), 0o755);
    }
    t.ok(executableBy({ mode: 0o100, uid: 0, gid: 0 }, 0, 0));
    t.notOk(executableBy({ mode: 0o700, uid: 0, gid: 0 }, 1000, 1000));
    t.ok(executableBy({ mode: 0o701, uid: 0, gid: 0 }, 1000, 1000));
    t.notOk(unsafeComponent({ kind: 'dir', mode: 0o1777, uid: 0, gid: 0 }), 'sticky /tmp-like dir is safe as a parent');
    t.ok(unsafeComponent({ kind: 'file', mode: 0o755, uid: 1000, gid: 0 }));
    t.ok(unsafeComponent({ kind: 'file', mode: 0o775, uid: 0, gid: 1000 }), 'group-writable by a non-root group');
    t.notOk(unsafeComponent({ kind: 'dir', mode: 0o775, uid: 0, gid: 0 }), "group-writable by root's group is fine (keepalived)");
  },
);

t.test('notifier: history with exit status, refused hooks recorded and not run, keepalived umask 0177', async (t) => {
  const hist = new HookHistory(4);
  const out = join(dir, 'umask.out');
  const log = new MemoryLog();
  const n = new Notifier({ runner: new SpawnRunner(), log, gate: new ScriptGate({ log, fs: nodeScriptFs(), users: null }), history: hist });
  const hooks = {
    master: { argv: ['/bin/sh', '-c', `umask > ${out}; exit 3`], user: null, group: null },
    backup: { argv: ['/bad'], user: null, group: null },
    generic: { argv: ['/bin/true'], user: null, group: null },
  };
  n.notify('INSTANCE', 'VI_1', hooks, 'MASTER', 100);
  n.notify('INSTANCE', 'VI_1', hooks, 'BACKUP', 100);
  await n.idle(5000);
  t.equal(readFileSync(out, 'utf8').trim(), '0177');
  const h = hist.get('INSTANCE', 'VI_1');
  t.same(
    h.map((r) => [r.hook, r.state, r.exitCode]),
    [
      ['notify_master', 'MASTER', 3],
      ['notify', 'MASTER', 0],
      ['notify_backup', 'BACKUP', null],
      ['notify', 'BACKUP', 0],
    ],
  );
  t.match(
    h[2],
    { error: /^not run: Script \/bad cannot be accessed - No such file or directory/ },
    'the missing notify_backup was refused, and status says why',
  );
  t.ok(h.every((r) => r.durationMs >= 0 && r.startedAtMs > Date.now() - 10_000 && r.timedOut === false));
  t.match(h[1]!.argv, [/^\/(usr\/)?bin\/true$/, 'INSTANCE', 'VI_1', 'MASTER', '100'], 'the resolved path runs');
  t.equal(n.refused, 1);
  t.match(
    log.lines.filter((l) => l.level === 'warn').map((l) => l.msg),
    [/^Refusing to run notify_backup \(VI_1\) script \/bad: Script \/bad cannot be accessed - No such file or directory/],
  );
  n.notify('INSTANCE', 'VI_1', hooks, 'MASTER', 100);
  await n.idle(5000);
  t.equal(hist.get('INSTANCE', 'VI_1').length, 4, 'bounded');
});

t.test('notifier: a hook past its timeout is killed, recorded, and the next one still runs', async (t) => {
  const hist = new HookHistory();
  const n = new Notifier({ runner: new SpawnRunner(), log: new MemoryLog(), history: hist, timeoutMs: 300 });
  n.notify(
    'INSTANCE',
    'VI_1',
    { master: { argv: ['/bin/sleep', '60'], user: null, group: null }, generic: { argv: ['/bin/true'], user: null, group: null } },
    'MASTER',
    100,
  );
  const t0 = Date.now();
  await n.idle(5000);
  t.ok(Date.now() - t0 < 2000, `done in ${Date.now() - t0} ms`);
  t.match(hist.get('INSTANCE', 'VI_1'), [
    { hook: 'notify_master', timedOut: true, exitCode: null, signal: 'SIGKILL' },
    { hook: 'notify', exitCode: 0 },
  ]);
});

const CONF = `global_defs {
  router_id T
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.100/24
  }
  notify_master "/x/m.sh a 'b c'"
  notify /x/n.sh
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  priority 90
  virtual_ipaddress {
    10.0.0.102
  }
}
vrrp_instance VI_3 {
  interface eth0
  virtual_router_id 53
  priority 80
  virtual_ipaddress {
    10.0.0.103
  }
}
vrrp_sync_group G1 {
  group {
    VI_2
    VI_3
  }
  notify /x/g.sh
}
`;

function loadConf(text: string) {
  const f = join(dir, `c-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(f, text);
  const r = loadConfig(f, nodeConfigHost({ hostChecks: false } as never));
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

t.test('notifications: group state at start-up before members, group STOP after the last member', async (t) => {
  const runner = new FakeRunner();
  const n = new Notifications({ runner, log: new MemoryLog(), checkScripts: false });
  n.configure(loadConf(CONF));
  const g = { generic: { argv: ['/x/g.sh'], user: null, group: null } };
  const i = { generic: { argv: ['/x/n.sh'], user: null, group: null } };
  n.notify('INSTANCE', 'VI_2', i, 'BACKUP', 90);
  n.notify('INSTANCE', 'VI_3', i, 'BACKUP', 80);
  n.notify('INSTANCE', 'VI_2', i, 'MASTER', 90);
  n.notify('GROUP', 'G1', g, 'MASTER', 0);
  n.notify('INSTANCE', 'VI_2', i, 'STOP', 90);
  n.notify('INSTANCE', 'VI_3', i, 'STOP', 80);
  await n.idle(2000);
  // Hooks are serialized per instance/group; different names may interleave.
  const of = (name: string): string[] => runner.runs.map((r) => r.argv.slice(1).join(' ')).filter((x) => x.split(' ')[1] === name);
  t.same(of('G1'), ['GROUP G1 BACKUP 0', 'GROUP G1 MASTER 0', 'GROUP G1 STOP 0']);
  t.same(of('VI_2'), ['INSTANCE VI_2 BACKUP 90', 'INSTANCE VI_2 MASTER 90', 'INSTANCE VI_2 STOP 90']);
  t.same(of('VI_3'), ['INSTANCE VI_3 BACKUP 80', 'INSTANCE VI_3 STOP 80']);
  t.equal(runner.runs[0]!.argv.slice(1).join(' '), 'GROUP G1 BACKUP 0', "the group's initial state goes first");
});

t.test('notifications: a reload forgets the hook history and states of instances and groups it removed', async (t) => {
  const runner = new FakeRunner();
  const n = new Notifications({ runner, log: new MemoryLog(), checkScripts: false });
  n.configure(loadConf(CONF));
  const i = { generic: { argv: ['/x/n.sh'], user: null, group: null } };
  // Ever-new names across reloads: what a renaming config tool does.
  for (let k = 0; k < 50; k++) {
    const renamed = CONF.replaceAll('VI_3', `VI_R${k}`).replaceAll('G1', `G_R${k}`);
    n.configure(loadConf(renamed));
    n.notify('INSTANCE', `VI_R${k}`, i, 'BACKUP', 80);
    n.notify('INSTANCE', 'VI_1', i, 'BACKUP', 100);
    await n.idle(2000);
  }
  t.equal(n.lastHooks('VI_R49').length, 1, 'the running config keeps its history');
  t.equal(n.lastHooks('VI_R48').length, 0, 'a name the last reload removed is gone');
  t.equal(n.lastHooks('VI_R10').length, 0, 'and every older one');
  t.equal(n.lastHooks('G_R10', 'GROUP').length, 0, 'removed groups too');
  t.equal(n.lastHooks('VI_1').length, 10, 'kept names hold at most `keep` runs');
});

function status(): DaemonStatus {
  const counters = {
    advertRcvd: 3,
    becomeMaster: 1,
    releaseMaster: 0,
    priZeroRcvd: 0,
    priZeroSent: 1,
    lowerPrioDiscarded: 0,
    advertSent: 22,
    advertSendErrors: 0,
    garpPackets: 5,
    vipRestored: 0,
    addressErrors: 0,
  };
  const base = {
    vrid: 51,
    interface: 'eth0',
    srcIp: '10.0.0.1',
    unicast: false,
    version: 2 as const,
    family: 4 as const,
    advertIntMs: 1000,
    learnedAdvertIntMs: null,
    reason: '',
    faults: [],
    vips: ['10.0.0.100'],
    evips: [],
    syncGroup: null,
    lastTransitionMs: 1795487104988.147,
    counters,
    lastHooks: [],
  };
  return {
    pid: 1,
    configFile: '/x',
    startedAtMs: 0,
    reloads: 0,
    instances: [
      {
        ...base,
        name: 'VI_1',
        state: 'MASTER',
        wantState: 'MASTER',
        basePriority: 100,
        effectivePriority: 110,
        master: null,
        drops: { 'auth-password': 2, 'vip-missing': 1, ttl: 4, 'too-short': 1, 'interval-mismatch': 1 },
      },
      {
        ...base,
        name: 'VI_2',
        vrid: 52,
        state: 'BACKUP',
        wantState: 'BACKUP',
        basePriority: 90,
        effectivePriority: 90,
        master: { ip: '10.0.0.2', priority: 120 },
        drops: {},
      },
    ],
    interfaces: {},
    syncGroups: [],
    eventLoop: { maxLagMs: 0, lateTimers: 0 },
  } as unknown as DaemonStatus;
}

t.test('dumps: stats layout, JSON keys/escaping/numeric states, data lines exporters read', async (t) => {
  const st = status();
  const cfg = loadConf(
    CONF.replace('notify /x/n.sh', 'notify /x/n.sh\n  authentication {\n    auth_type PASS\n    auth_pass secret12\n  }'),
  );
  t.same(keepalivedStats(st.instances[0]!), {
    advert_rcvd: 4,
    advert_sent: 22,
    become_master: 1,
    release_master: 0,
    packet_len_err: 1,
    advert_interval_err: 1,
    ip_ttl_err: 4,
    invalid_type_rcvd: 0,
    addr_list_err: 1,
    invalid_authtype: 0,
    authtype_mismatch: 0,
    auth_failure: 2,
    pri_zero_rcvd: 0,
    pri_zero_sent: 1,
  });
  const stats = formatStats(st);
  t.equal(
    stats.split('\n').slice(0, 19).join('\n'),
    [
      'VRRP Instance: VI_1',
      '  Advertisements:',
      '    Received: 4',
      '    Sent: 22',
      '  Became master: 1',
      '  Released master: 0',
      '  Packet Errors:',
      '    Length: 1',
      '    TTL: 4',
      '    Invalid Type: 0',
      '    Advertisement Interval: 1',
      '    Address List: 1',
      '  Authentication Errors:',
      '    Invalid Type: 0',
      '    Type Mismatch: 0',
      '    Failure: 2',
      '  Priority Zero:',
      '    Received: 0',
      '    Sent: 1',
    ].join('\n'),
  );
  const json = formatJson(st, cfg);
  t.match(json, /"script_master":"'\\\/x\\\/m.sh' 'a' 'b c'"/, '/ escaped as \\/ like json-c');
  const parsed = JSON.parse(json) as Array<{ data: Record<string, unknown>; stats: Record<string, number> }>;
  t.match(parsed[0]!.data, {
    iname: 'VI_1',
    state: 2,
    wantstate: 2,
    base_priority: 100,
    effective_priority: 110,
    vrid: 51,
    last_transition: 1795487104.988147,
    vipset: true,
    auth_type: 1,
    vips: ['10.0.0.100/24 dev eth0 scope global set'],
  });
  t.notOk('auth_data' in parsed[0]!.data, 'the password is not dumped');
  t.match(parsed[1]!.data, { iname: 'VI_2', state: 1, master_priority: 120, vipset: false, vips: ['10.0.0.102 dev eth0 scope global'] });
  t.equal(parsed[0]!.stats.auth_failure, 2);
  const data = formatData(st, cfg, scriptRunIds);
  t.match(data, /^------< Global definitions >------\n Router ID = T\n/);
  t.match(data, /\n VRRP Instance = VI_1\n   VRRP Version = 2\n   State = MASTER\n   Wantstate = MASTER\n/);
  t.match(data, /\n   State = BACKUP\n   Master router = 10\.0\.0\.2\n   Master priority = 120\n/);
  t.match(data, /   Last transition = 1795487104\.988147 \(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d\.988147 \d{4}\)\n/);
  t.match(data, /   Priority = 100\n   Effective priority = 110\n   Total priority = 110\n/);
  t.match(data, /   Virtual IP \(1\):\n     10\.0\.0\.100\/24 dev eth0 scope global set\n/);
  t.match(data, /   Master state transition script = '\/x\/m\.sh' 'a' 'b c', uid:gid \d+:\d+\n/);
  t.match(data, /------< VRRP Sync groups >------\n VRRP Sync Group = G1, /);
  t.notMatch(data, /secret12/, 'the password is not dumped');
  t.equal(
    vipLine(
      {
        address: '10.0.0.1',
        family: 4,
        prefixLength: 32,
        dev: null,
        broadcast: null,
        scope: 0,
        label: 'eth0:1',
        peer: null,
        noTrack: false,
        flags: [],
        trackGroup: null,
        origin: { file: '', line: 0 },
      },
      'eth0',
      true,
    ),
    '10.0.0.1 dev eth0 scope global label eth0:1 set',
  );
});
