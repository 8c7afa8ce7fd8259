/**
 * Hook process trees (issue 10: "hook children that call setsid escape the timeout kill"). Real
 * processes: a hook that starts a child which calls setsid, a double fork (with and without setsid
 * in the grandchild), then hangs past its timeout. Afterwards /proc must hold nothing of the tree.
 * With cgroup v2 (root, writable cgroup2) every case is caught; the /proc fallback catches all but
 * the double fork + setsid, which is its documented gap. A hook that exits normally keeps its
 * background child (as keepalived does). The pure parts (stat parsing, tree walk, cgroup path) on
 * fixed inputs.
 */
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HookCgroups, ownCgroupDir } from '../../src/notify/hook-cgroups.js';
import { SpawnRunner } from '../../src/notify/runner.js';
import { parseProcStat, processTree, type ProcEntry } from '../../src/util/process-group.js';

/** Live (non-zombie) processes whose command line contains `token`. */
function alive(token: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (!cmd.includes(token)) continue;
      const st = parseProcStat(readFileSync(`/proc/${n}/stat`, 'utf8'));
      if (st && st.state !== 'Z') out.push({ pid: Number(n), cmd });
    } catch {
      // gone
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let seq = 0;
/** A hook script in a temp dir; `token` makes its processes findable (and killable in teardown). */
function hook(t: { teardown(f: () => void): void }, body: (token: string) => string): { path: string; token: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-tree-'));
  // A sleep length nobody else uses: 86400.PIDSEQ seconds.
  const token = `86400.${process.pid}${++seq}`;
  const path = join(dir, 'hook.sh');
  writeFileSync(path, `#!/bin/sh\n${body(token)}\n`);
  chmodSync(path, 0o755);
  t.teardown(() => {
    for (const p of alive(token)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { path, token };
}

/** Every escape route, then hang. */
const ESCAPES = (tok: string): string =>
  [
    `setsid sleep ${tok} &`, // a child that calls setsid (its parent, the hook, stays alive)
    `( sleep ${tok} & )`, // double fork, same session: re-parented to init
    `( setsid sleep ${tok} & )`, // double fork + setsid: new session AND re-parented to init
    `sleep ${tok} &`, // a plain background child
    `sleep ${tok}`, // hang
  ].join('\n');

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

const root = process.getuid?.() === 0;
const probe = root ? HookCgroups.probe() : { ok: false as const, reason: 'not root' };

t.test(
  'cgroup v2: a timed-out hook is killed with every descendant, setsid and double forks included',
  { skip: probe.ok ? false : `cgroup v2 not usable here: ${probe.ok ? '' : probe.reason}` },
  async (t) => {
    const runner = new SpawnRunner();
    t.ok(runner.treeTracking().cgroups, runner.treeTracking().detail);
    const { path, token } = hook(t, ESCAPES);
    const run = runner.run({ argv: [path], timeoutMs: 600 });
    t.ok(await waitFor(() => alive(token).length === 5, 2000), 'five processes running before the timeout');
    const r = await run;
    t.equal(r.timedOut, true);
    t.equal(r.signal, 'SIGKILL');
    await waitFor(() => alive(token).length === 0, 1000);
    t.same(alive(token), [], 'nothing of the tree is left in /proc');
    const runs = (): string[] => readdirSync(runner.treeTracking().base!).filter((n) => n.startsWith('run-'));
    await waitFor(() => runs().length === 0, 1000);
    t.same(runs(), [], "the run's cgroup is removed once empty");
  },
);

t.test(
  'cgroup v2: a hook that exits normally keeps its background children (keepalived leaves them)',
  { skip: probe.ok ? false : 'cgroup v2 not usable here' },
  async (t) => {
    const runner = new SpawnRunner();
    const { path, token } = hook(t, (tok) => `setsid sleep ${tok} &\n( setsid sleep ${tok} & )\nexit 0`);
    const r = await runner.run({ argv: [path], timeoutMs: 5000 });
    t.equal(r.code, 0);
    t.equal(r.timedOut, false);
    await sleep(300);
    const left = alive(token);
    t.equal(left.length, 2, 'both background children still run');
    // They were moved out of the run's cgroup into the daemon's `left` cgroup, which is never killed.
    for (const p of left) t.match(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8'), /\/vrrpd-hooks-\d+\/left\n/, `${p.pid} in left`);
    // A later hook timing out does not touch them.
    const hung = hook(t, (tok) => `sleep ${tok}`);
    const r2 = await runner.run({ argv: [hung.path], timeoutMs: 300 });
    t.equal(r2.timedOut, true);
    await sleep(200);
    t.equal(alive(token).length, 2, "another hook's timeout leaves them alone");
    t.same(alive(hung.token), [], 'and kills its own');
  },
);

t.test(
  'fallback (/proc walk): setsid child, same-session double fork and plain children are killed',
  { skip: root ? false : 'root runs only (the hook tests signal process trees)' },
  async (t) => {
    const runner = new SpawnRunner({ trees: 'proc' });
    t.notOk(runner.treeTracking().cgroups);
    t.match(runner.treeTracking().detail, /double-forked child that also called setsid escapes/);
    const { path, token } = hook(t, ESCAPES);
    const run = runner.run({ argv: [path], timeoutMs: 600 });
    t.ok(await waitFor(() => alive(token).length === 5, 2000), 'five processes running before the timeout');
    const r = await run;
    t.equal(r.timedOut, true);
    await sleep(300);
    const left = alive(token);
    // The documented gap: a process that left the session AND lost its parent carries no trace.
    t.equal(left.length, 1, `only the double fork + setsid survives the fallback: ${JSON.stringify(left)}`);
    const st = left[0] && parseProcStat(readFileSync(`/proc/${left[0].pid}/stat`, 'utf8'));
    t.ok(st && st.session === left[0]!.pid, 'the survivor leads its own session');
  },
);

t.test("fallback: killAll(SIGTERM) reaches a running hook's setsid child", { skip: root ? false : 'root runs only' }, async (t) => {
  const runner = new SpawnRunner({ trees: 'proc' });
  const { path, token } = hook(t, (tok) => `setsid sleep ${tok} &\nsleep ${tok}`);
  const run = runner.run({ argv: [path], timeoutMs: 30_000 });
  t.ok(await waitFor(() => alive(token).length === 2, 2000));
  runner.killAll('SIGTERM');
  const r = await run;
  t.equal(r.timedOut, false);
  t.ok(await waitFor(() => alive(token).length === 0, 2000), 'both got SIGTERM');
});

t.test('pure: /proc/PID/stat parsing survives spaces and parentheses in comm', async (t) => {
  t.same(parseProcStat('4242 (a (b) c) S 1 4242 4242 0 -1 4194560 ...'), { pid: 4242, ppid: 1, pgrp: 4242, session: 4242, state: 'S' });
  t.equal(parseProcStat('garbage'), undefined);
});

t.test('pure: the tree is the session, the group and their descendants by parent pid', async (t) => {
  const e = (pid: number, ppid: number, pgrp: number, session: number, state = 'S'): ProcEntry => ({ pid, ppid, pgrp, session, state });
  const table = [
    e(1, 0, 1, 1),
    e(50, 1, 50, 50), // the daemon
    e(100, 50, 100, 100), // the hook (leader)
    e(101, 100, 101, 101), // setsid child, parent alive
    e(102, 101, 102, 102), // its child, which setsid again
    e(103, 1, 100, 100), // double fork, same session, re-parented to init
    e(104, 103, 104, 104), // setsid child of that orphan
    e(105, 1, 105, 105), // double fork + setsid: no trace
    e(200, 50, 200, 200), // another hook
  ];
  t.same([...processTree(100, table, 50)].sort(), [100, 101, 102, 103, 104]);
  t.same([...processTree(100, table, 50, false)].sort(), [100, 101, 102, 103, 104], 'the leader is still taken as a session member');
  t.same(
    [
      ...processTree(
        100,
        table.filter((x) => x.pid !== 100),
        50,
        false,
      ),
    ].sort(),
    [103, 104],
    'leader reaped: only what carries its ids',
  );
  t.notOk(processTree(50, table, 999).has(1), 'never pid 1');
  t.notOk(processTree(100, [...table, e(100, 50, 100, 100)], 100).has(100), 'never the caller');
});

t.test('pure: own cgroup directory from /proc/self/cgroup and mountinfo', async (t) => {
  const hybrid = '36 25 0:31 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw\n';
  t.equal(ownCgroupDir('9:name=systemd:/\n0::/\n', hybrid), '/sys/fs/cgroup/unified');
  const unified = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
  t.equal(ownCgroupDir('0::/system.slice/vrrpd.service\n', unified), '/sys/fs/cgroup/system.slice/vrrpd.service');
  const nsRoot = '30 23 0:26 /system.slice/ctr.scope /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n';
  t.equal(ownCgroupDir('0::/system.slice/ctr.scope/inner\n', nsRoot), '/sys/fs/cgroup/inner');
  t.match(ownCgroupDir('4:memory:/x\n', unified), { reason: /no cgroup v2/ });
  t.match(ownCgroupDir('0::/\n', ''), { reason: /no cgroup2/ });
});

t.test('a cgroup2 mount that mountinfo lists but another mount hides is not used (no mkdir into the wrong file system)', async (t) => {
  // A fresh sysfs on /sys (a container, a test's mount namespace) hides /sys/fs/cgroup/*, but
  // /proc/self/mountinfo still lists the cgroup2 mount: its path then leads to another file system,
  // where the old probe created directories (and Node's recursive mkdir spun for ever on sysfs).
  const proc = mkdtempSync(join(tmpdir(), 'vn-cg-proc-'));
  const fake = mkdtempSync(join(tmpdir(), 'vn-cg-mnt-'));
  t.teardown(() => {
    rmSync(proc, { recursive: true, force: true });
    rmSync(fake, { recursive: true, force: true });
  });
  mkdirSync(join(proc, 'self'));
  writeFileSync(join(proc, 'self', 'cgroup'), '0::/\n');
  writeFileSync(join(proc, 'self', 'mountinfo'), `30 25 0:26 / ${fake} rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n`);
  const r = HookCgroups.probe(proc);
  t.equal(r.ok, false, 'refused');
  t.match(r.ok ? '' : r.reason, /not on a cgroup2 file system/);
  t.same(readdirSync(fake), [], 'nothing created there');
});
