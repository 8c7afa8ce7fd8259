/**
 * No root: the daemon (fake io) exposes each instance's last hook runs in its status snapshot
 * (`lastHooks`: hook, argv, state, start time, duration, exit status), and hooks never hold up
 * the protocol: a hook that never returns leaves the adverts on time.
 */
import t from 'tap';
import { Daemon } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';
import type { RunResult, RunSpec } from '../../src/notify/runner.js';

const CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
  notify_master "/bin/master.sh arg"
  notify /bin/notify.sh
}
`;

t.test('status: lastHooks per instance; a hook that never ends delays no advert', async (t) => {
  const io = new FakeIo();
  const pending: Array<(r: RunResult) => void> = [];
  // notify_master never returns (until we say so); everything else exits 0 at once.
  io.processes.run = (spec: RunSpec): Promise<RunResult> => {
    if (spec.argv[0] === '/bin/master.sh') return new Promise((resolve) => pending.push(resolve));
    return Promise.resolve({ code: 0, signal: null, timedOut: false, durationMs: 2 });
  };
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog() }));
  const r = await d.start(configFromText(CONF));
  t.ok(r.ok);
  const advance = (ms: number): Promise<void> => advanceDaemon(d, io, ms);
  await advance(4000);
  const st = (): (typeof d.status extends () => infer S ? S : never)['instances'][number] => d.status().instances[0]!;
  t.equal(st().state, 'MASTER');
  t.equal(pending.length, 1, 'notify_master is running (hung)');
  const sentAtMaster = st().counters.advertSent ?? 0;
  await advance(5000);
  t.equal((st().counters.advertSent ?? 0) - sentAtMaster, 5, 'one advert a second while the hook hangs');
  t.match(st().lastHooks, [
    {
      hook: 'notify',
      argv: ['/bin/notify.sh', 'INSTANCE', 'VI_1', 'BACKUP', '100'],
      state: 'BACKUP',
      exitCode: 0,
      timedOut: false,
      durationMs: 2,
    },
  ]);
  t.equal(st().lastHooks.length, 1, 'the MASTER generic notify waits behind notify_master (per-instance order)');
  pending[0]!({ code: null, signal: 'SIGKILL', timedOut: true, durationMs: 30_000 });
  await new Promise((r2) => setTimeout(r2, 10));
  t.match(
    st().lastHooks.map((h) => [h.hook, h.state, h.exitCode, h.timedOut]),
    [
      ['notify', 'BACKUP', 0, false],
      ['notify_master', 'MASTER', null, true],
      ['notify', 'MASTER', 0, false],
    ],
  );
  t.ok(st().lastHooks.every((h) => typeof h.startedAtMs === 'number' && h.startedAtMs > 0));
  await d.stop(100);
});
