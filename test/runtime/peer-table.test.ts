/**
 * The peer table (issue 10: "the peer table grows for ever"): entries expire after
 * PEER_EXPIRY_DOWN_INTERVALS master-down intervals without an advert, and at most PEER_TABLE_MAX
 * are kept, the one heard from longest ago evicted first and counted. On the shipped Daemon and
 * Instance with fake ports and a fake clock, then on the table alone.
 */
import t from 'tap';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { PEER_EXPIRY_DOWN_INTERVALS, PEER_TABLE_MAX, PeerTable } from '../../src/runtime/peer-table.js';
import { MemoryLog } from '../../src/log.js';
import { configFromText, ONE_INSTANCE_CONF } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

const CONF = ONE_INSTANCE_CONF;
/** priority 100, advert_int 1: 3 x 1000 + 609 ms. */
const MASTER_DOWN_MS = 3609;
const EXPIRY_MS = PEER_EXPIRY_DOWN_INTERVALS * MASTER_DOWN_MS;

async function boot() {
  const io = new FakeIo();
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog() }));
  const r = await d.start(configFromText(CONF));
  if (!r.ok) throw new Error(r.error.message);
  const inst = d.instances[0]!;
  const peers = (): string[] => [...inst.peers].map(([ip]) => ip).sort();
  return { d, io, inst, peers, advance: (ms: number) => advanceDaemon(d, io, ms) };
}

function advertFrom(src: string, priority: number): Buffer {
  const payload = encodeAdvert({ vrid: 51, priority, authType: 0, adverIntSec: 1, vips: ['10.0.0.100'] });
  return buildIpv4Packet({ srcIp: src, dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

t.test('a peer no longer heard from expires after 3 master-down intervals; a live master stays', async (t) => {
  const { d, io, inst, peers, advance } = await boot();
  io.receive('eth0', advertFrom('10.0.0.2', 150)); // the master
  io.receive('eth0', advertFrom('10.0.0.3', 50)); // heard once
  await d.queue.idle();
  t.same(peers(), ['10.0.0.2', '10.0.0.3']);
  // The master keeps advertising every second; 10.0.0.3 falls silent.
  for (let s = 0; s < EXPIRY_MS / 1000 - 1; s++) {
    await advance(1000);
    io.receive('eth0', advertFrom('10.0.0.2', 150));
  }
  await d.queue.idle();
  t.same(peers(), ['10.0.0.2', '10.0.0.3'], 'still listed just before the expiry');
  await advance(1000);
  t.same(peers(), ['10.0.0.2'], 'expired after 3 x Master_Down_Interval (10,827 ms) without an advert');
  t.equal(inst.state, 'BACKUP', 'the live master kept this node BACKUP');
  // The master stops; the instance takes over after its master-down interval and the old master
  // stays on show until the expiry.
  await advance(MASTER_DOWN_MS + 100);
  t.equal(inst.state, 'MASTER');
  t.same(peers(), ['10.0.0.2'], 'the old master is still shown a few seconds after the failover');
  await advance(EXPIRY_MS - MASTER_DOWN_MS);
  t.same(peers(), [], 'and gone after the expiry');
  t.equal(inst.counters.peersEvicted, 0, 'expiry is not eviction');
  const report = d.status().instances[0]!;
  t.equal(report.counters['peersEvicted'], 0, 'the eviction counter is in status');
});

t.test('a flood of sources: at most PEER_TABLE_MAX entries, the live master kept, evictions counted', async (t) => {
  const { d, io, inst, advance } = await boot();
  io.receive('eth0', advertFrom('10.0.0.2', 150));
  await d.queue.idle();
  const N = 1000;
  for (let i = 0; i < N; i++) {
    // Interleave the master's adverts as a live master would (its entry refreshed every second).
    if (i % 100 === 0) {
      await advance(100);
      io.receive('eth0', advertFrom('10.0.0.2', 150));
    }
    io.receive('eth0', advertFrom(`10.9.${i >> 8}.${i & 255}`, 50));
  }
  await d.queue.idle();
  const ips = [...inst.peers].map(([ip]) => ip);
  t.equal(ips.length, PEER_TABLE_MAX, `capped at ${PEER_TABLE_MAX}`);
  t.ok(ips.includes('10.0.0.2'), 'the refreshed master survived the flood');
  t.equal(inst.counters.peersEvicted, N + 1 - PEER_TABLE_MAX, 'every eviction counted');
  t.equal(inst.state, 'BACKUP');
  // The flood's sources expire like any other.
  await advance(EXPIRY_MS + 1);
  t.same(
    [...inst.peers].map(([ip]) => ip),
    [],
    'everything expires once nobody advertises',
  );
});

t.test('PeerTable alone: ordered by last advert, refresh moves an entry, cap evicts the oldest', async (t) => {
  let now = 0;
  const table = new PeerTable(
    () => now,
    () => 1000,
    3,
  );
  table.seen('a', 1, 0);
  now = 10;
  table.seen('b', 2, 10);
  now = 20;
  table.seen('c', 3, 20);
  now = 30;
  table.seen('a', 4, 30); // refreshed: now the newest
  now = 40;
  table.seen('d', 5, 40); // full: evicts b, heard from longest ago
  t.same(
    [...table].map(([ip, e]) => [ip, e.priority]),
    [
      ['c', 3],
      ['a', 4],
      ['d', 5],
    ],
  );
  t.equal(table.evicted, 1);
  now = 1020;
  t.equal(table.size, 2, 'c (seen at 20) expired at 1020');
  t.equal(table.get('c'), undefined);
  t.equal(table.get('a')?.lastSeenMs, 30, 'wall-clock time kept for status');
  now = 5000;
  t.equal(table.size, 0);
  t.equal(table.evicted, 1, 'expiry is not counted as eviction');
});

t.test('PeerTable alone: the protected entry (the current master) is never the one evicted', async (t) => {
  let now = 0;
  const table = new PeerTable(
    () => now,
    () => 1000,
    3,
    () => 'm',
  );
  table.seen('m', 200, 0);
  for (let i = 0; i < 10; i++) {
    now++;
    table.seen(`x${i}`, 1, now);
  }
  t.same(
    [...table].map(([ip]) => ip),
    ['m', 'x8', 'x9'],
  );
  t.equal(table.evicted, 8);
  const one = new PeerTable(
    () => now,
    () => 1000,
    1,
    () => 'm',
  );
  one.seen('m', 200, 0);
  one.seen('y', 1, 0);
  t.same(
    [...one].map(([ip]) => ip),
    ['y'],
    'a cap of 1 still holds',
  );
});
