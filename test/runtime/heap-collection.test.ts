/**
 * Periodic full collections (issue 10 memory over time; io/heap.ts says why): every
 * HEAP_COLLECT_INTERVAL_MS, right after an advert burst when a MASTER advertises on the grid (no
 * advert waits for the pause), at once otherwise; none after stop. And the real collector.
 */
import t from 'tap';
import vm from 'node:vm';
import { loadConfig } from '../../src/config/load.js';
import type { FrozenConfig } from '../../src/config/model.js';
import { Daemon, HEAP_COLLECT_INTERVAL_MS } from '../../src/runtime/daemon.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { fullCollector } from '../../src/io/heap.js';
import { silentLog } from '../../src/log.js';
import { memoryHost } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

function config(state: 'MASTER' | 'BACKUP'): FrozenConfig {
  const text = `vrrp_instance VI_1 {
  state ${state}
  interface eth0
  virtual_router_id 51
  priority ${state === 'MASTER' ? 255 : 100}
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': text }));
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

t.test('a MASTER on the advert grid: a collection every interval, right after an advert', async (t) => {
  const io = new FakeIo();
  io.fake.advance(337); // the adverts' phase is not the collection timer's
  const d = new Daemon(
    withTestNotifier({ io, log: silentLog, advertGridMs: 50, collectGarbage: () => void io.trace.push(`gc at ${io.fake.now()}`) }),
  );
  await d.start(config('MASTER'));
  await advanceDaemon(d, io, 2 * HEAP_COLLECT_INTERVAL_MS + 2000);
  const gcs = io.trace.map((x, i) => [x, i] as const).filter(([x]) => x.startsWith('gc at'));
  t.equal(gcs.length, 2, 'two intervals, two collections');
  t.equal(d.heapCollections, 2);
  for (const [k, [x, i]] of gcs.entries()) {
    const at = Number(x.slice(6));
    t.match(io.trace[i - 1], /^advert prio 255/, `${x}: the entry before is an advert`);
    const advert = io.sent.find((s) => Math.abs(s.atMs - at) < 1e-9);
    t.ok(advert, `an advert went out at the same instant (${at})`);
    const due = 1_000_337 + (k + 1) * HEAP_COLLECT_INTERVAL_MS;
    t.ok(at >= due && at < due + 1000, `at the first advert burst after the interval (${at - due} ms after)`);
  }
  await d.stop(0);
  const n = d.heapCollections;
  await advanceDaemon(d, io, 2 * HEAP_COLLECT_INTERVAL_MS);
  t.equal(d.heapCollections, n, 'none after stop');
});

t.test('a BACKUP (no advert of its own): a collection at the interval itself', async (t) => {
  const io = new FakeIo();
  const at: number[] = [];
  const d = new Daemon(withTestNotifier({ io, log: silentLog, advertGridMs: 50, collectGarbage: () => void at.push(io.fake.now()) }));
  await d.start(config('BACKUP'));
  const master = buildIpv4Packet({
    srcIp: '10.0.0.2',
    dstIp: '224.0.0.18',
    ttl: 255,
    id: 1,
    payload: encodeAdvert({ vrid: 51, priority: 200, authType: 0, adverIntSec: 1, vips: ['10.0.0.100'] }),
  });
  for (let s = 0; s < HEAP_COLLECT_INTERVAL_MS / 1000 + 2; s++) {
    io.receive('eth0', master);
    await advanceDaemon(d, io, 1000);
  }
  t.equal(d.instances[0]!.state, 'BACKUP');
  t.same(at, [1_000_000 + HEAP_COLLECT_INTERVAL_MS]);
  await d.stop(0);
});

t.test('firstCollectionsMs: the first collections at those spacings after start, then every interval', async (t) => {
  const io = new FakeIo();
  const at: number[] = [];
  const d = new Daemon(
    withTestNotifier({
      io,
      log: silentLog,
      collectGarbage: () => void at.push(io.fake.now()),
      firstCollectionsMs: [10_000, 25_000, 25_000],
    }),
  );
  await d.start(config('BACKUP'));
  await advanceDaemon(d, io, HEAP_COLLECT_INTERVAL_MS + 61_000);
  t.same(at, [1_010_000, 1_035_000, 1_060_000, 1_060_000 + HEAP_COLLECT_INTERVAL_MS]);
  await d.stop(0);
});

t.test('without collectGarbage nothing is scheduled', async (t) => {
  const io = new FakeIo();
  const d = new Daemon(withTestNotifier({ io, log: silentLog }));
  await d.start(config('MASTER'));
  await advanceDaemon(d, io, HEAP_COLLECT_INTERVAL_MS + 10);
  t.equal(d.heapCollections, 0);
  await d.stop(0);
});

t.test('the real collector: a function, and no gc global left behind', async (t) => {
  const gc = fullCollector();
  t.type(gc, 'function');
  gc?.();
  t.equal(vm.runInNewContext('typeof gc'), 'undefined', 'new contexts do not get gc');
  t.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});
