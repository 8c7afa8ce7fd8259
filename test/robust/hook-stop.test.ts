/**
 * Regression (found by test/robust/chaos.test.ts): hooks queued behind a hung one started after
 * the daemon's stop had killed the running hooks, and outlived the daemon (`sleep 1000` left in the
 * namespace). Now, once stopping, queued hooks other than notify_stop are skipped.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import { HookHistory, Notifier } from '../../src/notify/notifier.js';
import { SpawnRunner } from '../../src/notify/runner.js';

t.test('stopping: queued hooks behind a hung one do not start; notify_stop still runs', async (t) => {
  const hist = new HookHistory();
  const runner = new SpawnRunner();
  const n = new Notifier({ runner, log: new MemoryLog(), history: hist, timeoutMs: 30_000 });
  const cmd = (...argv: string[]) => ({ argv, user: null, group: null });
  const hooks = { master: cmd('/bin/sleep', '1000'), backup: cmd('/bin/sleep', '999'), stop: cmd('/bin/true') };
  n.notify('INSTANCE', 'VI_1', hooks, 'MASTER', 100);
  n.notify('INSTANCE', 'VI_1', hooks, 'BACKUP', 100);
  await new Promise((r) => setTimeout(r, 200));
  // What Daemon.stop() does: stopping, kill running hooks, queue notify_stop, wait.
  n.stopping();
  runner.killAll('SIGTERM');
  n.notify('INSTANCE', 'VI_1', hooks, 'STOP', 0);
  const t0 = Date.now();
  await n.idle(3000);
  t.ok(Date.now() - t0 < 2000, 'idle quickly: nothing left running');
  t.same(
    hist.get('INSTANCE', 'VI_1').map((h) => [h.hook, h.signal ?? h.exitCode]),
    [
      ['notify_master', 'SIGTERM'],
      ['notify_stop', 0],
    ],
    'the queued notify_backup (sleep 999) never started',
  );
  t.equal(n.pending, 0);
});
