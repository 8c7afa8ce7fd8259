/**
 * No root needed: the hook runner (own process group, timeout kills the group, stdio to
 * /dev/null), the notifier's ordering, and `vrrpd run` refusing a bad config before opening
 * anything.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpawnRunner } from '../../src/notify/runner.js';
import { Notifier } from '../../src/notify/notifier.js';
import { MemoryLog } from '../../src/log.js';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'vrrpd-rt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Dead, or a zombie waiting for whoever inherited it to reap it. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

t.test('runner: exit status, and a timeout kills the whole process group', async (t) => {
  const r = new SpawnRunner();
  t.match(await r.run({ argv: ['/bin/sh', '-c', 'exit 3'], timeoutMs: 2000 }), { code: 3, timedOut: false });
  const pidFile = join(dir, 'bg.pid');
  const res = await r.run({ argv: ['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; sleep 30`], timeoutMs: 300 });
  t.equal(res.timedOut, true);
  t.ok(res.durationMs < 2000, `killed after ${res.durationMs} ms`);
  const bg = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((r2) => setTimeout(r2, 100));
  t.ok(gone(bg), "the hook's background child died with its group");
  t.match(await r.run({ argv: ['/nonexistent/x'], timeoutMs: 1000 }), { error: /ENOENT/ });
});

t.test('notifier: state script then generic notify with keepalived argv, serialized per instance', async (t) => {
  const out = join(dir, 'notify.log');
  const hook = join(dir, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\nsleep 0.05\necho "$*" >> ${out}\n`, { mode: 0o755 });
  const n = new Notifier({ runner: new SpawnRunner(), log: new MemoryLog() });
  const hooks = {
    master: { argv: [hook, 'M'], user: null, group: null },
    backup: { argv: [hook, 'B'], user: null, group: null },
    generic: { argv: [hook], user: null, group: null },
  };
  n.notify('INSTANCE', 'VI_1', hooks, 'BACKUP', 100);
  n.notify('INSTANCE', 'VI_1', hooks, 'MASTER', 110);
  await n.idle(5000);
  t.same(readFileSync(out, 'utf8').trim().split('\n'), ['B', 'INSTANCE VI_1 BACKUP 100', 'M', 'INSTANCE VI_1 MASTER 110']);
});

t.test('vrrpd run refuses a config keepalived would not run, before opening anything', async (t) => {
  const conf = join(dir, 'bad.conf');
  writeFileSync(conf, 'vrrp_instance X {\n  interface eth0\n  priority 100\n}\n');
  const state = join(dir, 'state');
  const err: string[] = [];
  const code = await main(['run', '-f', conf, '--state-dir', state], { out: () => {}, err: (s) => err.push(s) });
  t.not(code, 0, `exit ${code}`);
  t.match(err.join('\n'), /configuration refused/);
  t.notOk(existsSync(join(state, 'vrrpd.pid')), 'no pid file, no state dir content');
});

t.test('vrrpd run rejects a bad --vip-deleted value', async (t) => {
  const err: string[] = [];
  t.equal(await main(['run', '--vip-deleted', 'sometimes'], { out: () => {}, err: (s) => err.push(s) }), 2);
});
