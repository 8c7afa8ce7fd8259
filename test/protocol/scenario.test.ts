/**
 * Whole elections on a FakeLan with the real codec (encoded adverts, TTL 255), with exact times on
 * the fake clock. Nodes: A = 10.0.0.1, B = 10.0.0.2, C = 10.0.0.3; VRID 51; VIP 10.0.0.100;
 * advert_int 1 s. Master_Down_Interval: prio 100 -> 3609 ms, prio 110 -> 3570 ms.
 */
import t from 'tap';
import { FakeClock } from '../support/fake-clock.js';
import { FakeLan } from '../support/fake-lan.js';
import { SimNode } from '../support/sim-node.js';
import { makeInstanceParams, type InstanceParams } from '../../src/protocol/instance-params.js';

const VIP = '10.0.0.100';

function node(clock: FakeClock, lan: FakeLan, ip: string, p: Partial<Parameters<typeof makeInstanceParams>[0]> = {}, authPass?: string): SimNode {
  const params = makeInstanceParams({ name: 'VI_1', vrid: 51, srcIp: ip, vips: [VIP], ...p });
  return new SimNode(clock, lan, { params, ...(authPass !== undefined ? { authPass } : {}) });
}

function world() {
  const clock = new FakeClock();
  const lan = new FakeLan(clock);
  return { clock, lan };
}

const masters = (nodes: SimNode[]) => nodes.filter((n) => n.state === 'MASTER').map((n) => n.id);
const when = (n: SimNode, to: string) => n.transitions.filter((x) => x.to === to).map((x) => x.atMs);

t.test('cold start: a lone node becomes MASTER at 3 x 1 s + (256-100)/256 s = 3609 ms', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1');
  a.start();
  clock.advance(3608);
  t.equal(a.state, 'BACKUP');
  clock.advance(1);
  t.equal(a.state, 'MASTER');
  t.same(when(a, 'MASTER'), [3609]);
  t.same([...a.held], [VIP]);
  clock.advance(10_000);
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
  t.same(a.notifies.map((n) => `${n.kind}@${n.atMs}`), ['BACKUP@0', 'MASTER@3609']);
});

t.test('cold start of two nodes: the higher priority wins when its shorter timer expires', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1', { basePriority: 100 });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 110 });
  a.start();
  b.start();
  clock.advance(20_000);
  t.same(when(b, 'MASTER'), [3570]);
  t.same(when(a, 'MASTER'), [], 'the lower node never becomes MASTER');
  t.same(a.snapshot.master, { ip: '10.0.0.2', priority: 110 });
});

t.test('equal priorities from cold start: the first node up stays MASTER (no tie-break in BACKUP)', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1');
  const b = node(clock, lan, '10.0.0.2');
  a.start();
  clock.advance(1000);
  b.start();
  clock.advance(20_000);
  t.same(masters([a, b]), ['10.0.0.1'], 'the lower IP keeps MASTER because it was first');
});

t.test('a higher priority joining takes over when its own timer expires, not at once', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1', { basePriority: 100 });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 110 });
  a.start();
  clock.advance(10_000); // A MASTER since 3609, adverts at 10609, 11609, 12609
  b.start();
  clock.advance(10_000);
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
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1', { basePriority: 100 });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 110, nopreempt: true });
  a.start();
  clock.advance(10_000);
  b.start();
  clock.advance(60_000);
  t.same(masters([a, b]), ['10.0.0.1']);
  t.same(when(b, 'MASTER'), []);
});

t.test('preempt_delay: the joiner accepts lower adverts for the delay, then takes over on its timer', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1', { basePriority: 100 });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 110, preemptDelayMs: 3000 });
  a.start();
  clock.advance(10_000);
  b.start();
  clock.advance(20_000);
  // Delay starts with A's advert at 10609 and ends at 13609; adverts at 10609, 11609, 12609 are
  // accepted (the last re-arms the timer to 12609 + 3570), 13609 onwards are discarded.
  t.same(when(b, 'MASTER'), [16_179]);
  t.same(when(a, 'BACKUP'), [0, 16_179]);
});

t.test('graceful stop: the backup takes over after its skew time', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1', { basePriority: 110 });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 100 });
  a.start();
  b.start();
  clock.advance(20_000); // A MASTER at 3570
  a.stop();
  t.same(a.advertsSent.at(-1), { atMs: 20_000, priority: 0 }, 'the leaving master sends priority 0');
  t.same([...a.held], []);
  t.same(a.notifies.at(-1)?.kind, 'STOP');
  clock.advance(5000);
  t.same(when(b, 'MASTER'), [20_609], '20000 + skew(100) = 609 ms');
});

t.test('link fault and recovery of the master', async (t) => {
  const { clock, lan } = world();
  const track = [{ name: 'eth0', weight: 0, reverse: false }];
  const a = node(clock, lan, '10.0.0.1', { basePriority: 110, trackInterfaces: track });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 100, trackInterfaces: track });
  a.start();
  b.start();
  clock.advance(20_000); // A MASTER at 3570, adverts at ...19570, 20570
  lan.setLink(a.id, false); // the priority-0 adverts cannot leave a dead link
  a.dispatch({ type: 'track', update: { kind: 'interface', name: 'eth0', up: false }, nowMs: clock.now() });
  t.equal(a.state, 'FAULT');
  t.same([...a.held], []);
  clock.advance(10_000);
  t.same(when(b, 'MASTER'), [19_570 + 3609], 'B takes over one Master_Down_Interval after the last advert');
  lan.setLink(a.id, true);
  a.dispatch({ type: 'track', update: { kind: 'interface', name: 'eth0', up: true }, nowMs: clock.now() });
  t.equal(a.state, 'BACKUP');
  clock.advance(10_000);
  t.same(when(a, 'MASTER'), [3570, 30_000 + 3570], 'A (higher) preempts when its full down timer expires');
  t.same(masters([a, b]), ['10.0.0.1']);
});

t.test('a fault with the link still up: priority 0 makes the backup take over after its skew', async (t) => {
  const { clock, lan } = world();
  const chk = [{ name: 'chk', weight: 0, reverse: false, rise: 1, fall: 1, initFail: false }];
  const a = node(clock, lan, '10.0.0.1', { basePriority: 110, trackScripts: chk });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 100 });
  a.start();
  a.dispatch({ type: 'track', update: { kind: 'script', name: 'chk', ok: true }, nowMs: 0 });
  b.start();
  clock.advance(20_000);
  a.dispatch({ type: 'track', update: { kind: 'script', name: 'chk', ok: false }, nowMs: clock.now() });
  t.same(a.advertsSent.slice(-2).map((x) => x.priority), [0, 0]);
  clock.advance(5000);
  t.same(when(b, 'MASTER'), [20_609]);
});

t.test('a VIP deleted behind the master\'s back: it re-takes over after its skew time', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1', { basePriority: 110 });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 100 });
  a.start();
  b.start();
  clock.advance(20_000);
  a.held.delete(VIP);
  a.dispatch({ type: 'vip-deleted-externally', address: VIP, nowMs: clock.now() });
  clock.advance(5000);
  t.same(when(a, 'MASTER'), [3570, 20_570], '20000 + skew(110) = 570 ms, before B (609 ms)');
  t.same(when(b, 'MASTER'), []);
  t.same(masters([a, b]), ['10.0.0.1']);
});

function splitBrain(
  name: string,
  pa: Partial<InstanceParams>,
  pb: Partial<InstanceParams>,
  heal: (a: SimNode, b: SimNode) => void,
  passA?: string,
  passB?: string,
  expectHealMs?: number,
) {
  t.test(`split brain by ${name}, and its heal: the lower IP yields`, async (t) => {
    const { clock, lan } = world();
    const a = node(clock, lan, '10.0.0.1', pa, passA);
    const b = node(clock, lan, '10.0.0.2', pb, passB);
    a.start();
    b.start();
    clock.advance(20_000);
    t.same(masters([a, b]), ['10.0.0.1', '10.0.0.2'], 'both MASTER: each drops the other\'s adverts');
    t.ok(a.drops.size > 0 && b.drops.size > 0);
    heal(a, b);
    clock.advance(10_000);
    t.same(masters([a, b]), ['10.0.0.2']);
    const yielded = when(a, 'BACKUP').at(-1);
    if (expectHealMs !== undefined) t.equal(yielded, expectHealMs, 'on the first advert after the heal');
  });
}

splitBrain(
  'password mismatch',
  { authType: 1 },
  { authType: 1 },
  (_a, b) => b.reconfigure(b.params, 'secret1'),
  'secret1',
  'secret2',
  20_609,
);
splitBrain(
  'VIP mismatch',
  {},
  { vips: [VIP, '10.0.0.101'] },
  (a, b) => a.reconfigure({ ...a.params, vips: b.params.vips }),
  undefined,
  undefined,
  20_609,
);
splitBrain(
  'advert_int mismatch',
  {},
  { adverIntMs: 2000 },
  (_a, b) => b.reconfigure({ ...b.params, adverIntMs: 1000 }),
  undefined,
  undefined,
  20_609,
);

t.test('crash of the master and restart', async (t) => {
  const { clock, lan } = world();
  const a = node(clock, lan, '10.0.0.1', { basePriority: 110 });
  const b = node(clock, lan, '10.0.0.2', { basePriority: 100 });
  a.start();
  b.start();
  clock.advance(20_000);
  a.crash();
  clock.advance(10_000);
  t.same(when(b, 'MASTER'), [19_570 + 3609], 'no goodbye: a full Master_Down_Interval after the last advert');
  a.restart();
  clock.advance(10_000);
  t.same(when(a, 'MASTER').at(-1), 30_000 + 3570);
  t.same(masters([a, b]), ['10.0.0.1']);
});
