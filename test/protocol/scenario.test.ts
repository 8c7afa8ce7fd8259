/**
 * Whole elections of shipped daemons (test/support/fake-network.ts: real Daemon, Instance, state
 * machine and codec on fake ports) on one FakeLan, with exact times on one fake clock. Nodes:
 * A = 10.0.0.1, B = 10.0.0.2, C = 10.0.0.3; VRID 51; VIP 10.0.0.100; advert_int 1 s.
 * Master_Down_Interval: prio 100 -> 3609 ms, prio 110 -> 3570 ms.
 */
import t from 'tap';
import { FakeNetwork, type NetNode, type NodeConfig } from '../support/fake-network.js';

const VIP = '10.0.0.100';

function node(net: FakeNetwork, ip: string, c: Omit<NodeConfig, 'ip'> = {}): NetNode {
  return net.node({ ip, vips: [VIP], ...c });
}

function world() {
  const net = new FakeNetwork();
  return { net, lan: net.lan, advance: (ms: number) => net.advance(ms) };
}

const masters = (nodes: NetNode[]) => nodes.filter((n) => n.state === 'MASTER').map((n) => n.id);
const when = (n: NetNode, to: string) => n.transitions.filter((x) => x.to === to).map((x) => x.atMs);
const dropped = (n: NetNode) => Object.values(n.status().drops).reduce((a, b) => a + b, 0);

t.test('cold start: a lone node becomes MASTER at 3 x 1 s + (256-100)/256 s = 3609 ms', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1');
  a.start();
  await advance(3608);
  t.equal(a.state, 'BACKUP');
  await advance(1);
  t.equal(a.state, 'MASTER');
  t.same(when(a, 'MASTER'), [3609]);
  t.same([...a.held], [VIP]);
  await advance(10_000);
  t.same(
    a.advertsSent.slice(0, 4).map((x) => x.atMs),
    [3609, 4609, 5609, 6609],
    'adverts every advert_int from the takeover',
  );
  t.same(
    a.garps.map((g) => g.atMs),
    [3609, 3609, 3609, 3609, 3609, 8609, 8609, 8609, 8609, 8609],
    '5 GARPs now and 5 more garp_master_delay (5 s) later',
  );
  t.same(
    a.notifies.map((n) => `${n.kind}@${n.atMs}`),
    ['BACKUP@0', 'MASTER@3609'],
  );
});

t.test('cold start of two nodes: the higher priority wins when its shorter timer expires', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 100 });
  const b = node(net, '10.0.0.2', { priority: 110 });
  a.start();
  b.start();
  await advance(20_000);
  t.same(when(b, 'MASTER'), [3570]);
  t.same(when(a, 'MASTER'), [], 'the lower node never becomes MASTER');
  t.same(a.snapshot.master, { ip: '10.0.0.2', priority: 110 });
  t.same(a.status().master, { ip: '10.0.0.2', priority: 110 }, 'and its status says so');
});

t.test('equal priorities from cold start: the first node up stays MASTER (no tie-break in BACKUP)', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1');
  const b = node(net, '10.0.0.2');
  a.start();
  await advance(1000);
  b.start();
  await advance(20_000);
  t.same(masters([a, b]), ['10.0.0.1'], 'the lower IP keeps MASTER because it was first');
});

t.test('a higher priority joining takes over when its own timer expires, not at once', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 100 });
  const b = node(net, '10.0.0.2', { priority: 110 });
  a.start();
  await advance(10_000); // A MASTER since 3609, adverts at 10609, 11609, 12609
  b.start();
  await advance(10_000);
  t.same(when(b, 'MASTER'), [13_570], 'join at 10000 + 3570');
  t.same(
    b.logs.filter((l) => l.msg.includes('discarding')).map((l) => l.atMs),
    [10_609, 11_609, 12_609],
    'three lower adverts discarded',
  );
  t.same(when(a, 'BACKUP'), [0, 13_570], 'A yields on the first advert of B');
  t.same([...b.held], [VIP]);
  t.same([...a.held], []);
});

t.test('nopreempt: a higher-priority joiner leaves the incumbent MASTER', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 100 });
  const b = node(net, '10.0.0.2', { priority: 110, nopreempt: true });
  a.start();
  await advance(10_000);
  b.start();
  await advance(60_000);
  t.same(masters([a, b]), ['10.0.0.1']);
  t.same(when(b, 'MASTER'), []);
});

t.test('preempt_delay: the joiner accepts lower adverts for the delay, then takes over on its timer', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 100 });
  const b = node(net, '10.0.0.2', { priority: 110, preemptDelaySec: 3 });
  a.start();
  await advance(10_000);
  b.start();
  await advance(20_000);
  // Delay starts with A's advert at 10609 and ends at 13609; adverts at 10609, 11609, 12609 are
  // accepted (the last re-arms the timer to 12609 + 3570), 13609 onwards are discarded.
  t.same(when(b, 'MASTER'), [16_179]);
  t.same(when(a, 'BACKUP'), [0, 16_179]);
});

t.test('graceful stop: the backup takes over after its skew time', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 110 });
  const b = node(net, '10.0.0.2', { priority: 100 });
  a.start();
  b.start();
  await advance(20_000); // A MASTER at 3570
  await a.stop();
  t.same(a.advertsSent.at(-1), { atMs: 20_000, priority: 0 }, 'the leaving master sends priority 0');
  t.same([...a.held], []);
  t.same(a.notifies.at(-1)?.kind, 'STOP');
  await advance(5000);
  t.same(when(b, 'MASTER'), [20_609], '20000 + skew(100) = 609 ms');
});

t.test('link fault and recovery of the master', async (t) => {
  const { net, lan, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 110, trackInterface: true });
  const b = node(net, '10.0.0.2', { priority: 100, trackInterface: true });
  a.start();
  b.start();
  await advance(20_000); // A MASTER at 3570, adverts at ...19570, 20570
  lan.setLink(a.id, false); // the priority-0 adverts cannot leave a dead link
  a.io.setLink('eth0', false);
  await advance(0);
  t.equal(a.state, 'FAULT');
  t.same([...a.held], []);
  await advance(10_000);
  t.same(when(b, 'MASTER'), [19_570 + 3609], 'B takes over one Master_Down_Interval after the last advert');
  lan.setLink(a.id, true);
  a.io.setLink('eth0', true);
  await advance(0);
  t.equal(a.state, 'BACKUP');
  await advance(10_000);
  t.same(when(a, 'MASTER'), [3570, 30_000 + 3570], 'A (higher) preempts when its full down timer expires');
  t.same(masters([a, b]), ['10.0.0.1']);
});

t.test('a fault with the link still up: priority 0 makes the backup take over after its skew', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 110, trackScript: 'chk' });
  const b = node(net, '10.0.0.2', { priority: 100 });
  a.start(); // the script runs at 0 and every second after, succeeding (exit 0)
  b.start();
  await advance(19_999);
  a.io.exitCodes.set('/bin/chk', 1); // its run at 20000 fails
  await advance(1);
  t.same(
    a.advertsSent.slice(-2).map((x) => x.priority),
    [0, 0],
  );
  await advance(5000);
  t.same(when(b, 'MASTER'), [20_609]);
});

t.test("a VIP deleted behind the master's back: it re-takes over after its skew time", async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 110, vipDeleted: 'keepalived' });
  const b = node(net, '10.0.0.2', { priority: 100 });
  a.start();
  b.start();
  await advance(20_000);
  a.io.deleteAddress(VIP);
  await advance(5000);
  t.same(when(a, 'MASTER'), [3570, 20_570], '20000 + skew(110) = 570 ms, before B (609 ms)');
  t.same(when(b, 'MASTER'), []);
  t.same(masters([a, b]), ['10.0.0.1']);
});

function splitBrain(
  name: string,
  ca: Omit<NodeConfig, 'ip'>,
  cb: Omit<NodeConfig, 'ip'>,
  heal: (a: NetNode, b: NetNode) => Promise<void>,
  expectHealMs?: number,
) {
  t.test(`split brain by ${name}, and its heal: the lower IP yields`, async (t) => {
    const { net, advance } = world();
    const a = node(net, '10.0.0.1', ca);
    const b = node(net, '10.0.0.2', cb);
    a.start();
    b.start();
    await advance(20_000);
    t.same(masters([a, b]), ['10.0.0.1', '10.0.0.2'], "both MASTER: each drops the other's adverts");
    t.ok(dropped(a) > 0 && dropped(b) > 0);
    await heal(a, b);
    await advance(10_000);
    t.same(masters([a, b]), ['10.0.0.2']);
    const yielded = when(a, 'BACKUP').at(-1);
    if (expectHealMs !== undefined) t.equal(yielded, expectHealMs, 'on the first advert after the heal');
    t.equal(b.state, 'MASTER');
  });
}

// The heal is a reload of one node. A reloaded MASTER advertises at once (docs/keepalived-behaviour.md 6 step 5,
// `reload_master`; reload.ts), so the first advert after the heal goes out at the reload instant,
// 20000: either B's own, or (VIP mismatch: A reloads) B's immediate answer to A's lower-IP advert.
splitBrain(
  'password mismatch',
  { authPass: 'secret1' },
  { authPass: 'secret2' },
  (_a, b) => b.reconfigure({ ...b.config, authPass: 'secret1' }),
  20_000,
);
splitBrain('VIP mismatch', {}, { vips: [VIP, '10.0.0.101'] }, (a, b) => a.reconfigure({ ...a.config, vips: b.config.vips ?? [] }), 20_000);
splitBrain('advert_int mismatch', {}, { advertIntSec: 2 }, (_a, b) => b.reconfigure({ ...b.config, advertIntSec: 1 }), 20_000);

t.test('crash of the master and restart', async (t) => {
  const { net, advance } = world();
  const a = node(net, '10.0.0.1', { priority: 110 });
  const b = node(net, '10.0.0.2', { priority: 100 });
  a.start();
  b.start();
  await advance(20_000);
  a.crash();
  await advance(10_000);
  t.same(when(b, 'MASTER'), [19_570 + 3609], 'no goodbye: a full Master_Down_Interval after the last advert');
  t.same(
    a.advertsSent.filter((x) => x.atMs >= 20_000),
    [],
    'the crashed machine sends nothing',
  );
  a.restart();
  await advance(10_000);
  t.same(when(a, 'MASTER').at(-1), 30_000 + 3570);
  t.same(masters([a, b]), ['10.0.0.1']);
});
