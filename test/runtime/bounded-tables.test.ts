/**
 * Issue 10 audit: every table or queue in the runtime that input from the LAN, the kernel or time
 * can grow has a named bound. Each test feeds more than the bound and checks the size stays within
 * it (on the old code each of these grew with the input). Fake ports and a fake clock; no root.
 */
import t from 'tap';
import { FakeClock } from '../support/fake-clock.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon, WORK_QUEUE_MAX_PACKETS } from '../../src/runtime/daemon.js';
import { GarpPacer } from '../../src/runtime/garp.js';
import type { LinkInfo, NetlinkEvent } from '../../src/runtime/ports/index.js';
import { MemoryLog, RATE_LIMIT_MAX_KEYS, RateLimiter } from '../../src/log.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

const CONF = `global_defs {
  log_unknown_vrids
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_interface {
    eth3
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

/** A daemon on fake ports whose netlink events the test can emit. */
async function boot() {
  const io = new FakeIo();
  let emit: (e: NetlinkEvent) => void = () => {};
  const start = io.netlink.start;
  (io.netlink as { start: typeof start }).start = async (h) => {
    emit = h;
    return start(h);
  };
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  const r = await d.start(configFromText(CONF));
  if (!r.ok) throw new Error(r.error.message);
  return { d, io, log, emit: (e: NetlinkEvent) => emit(e), advance: (ms: number) => advanceDaemon(d, io, ms) };
}

function link(ifname: string, ifindex: number): LinkInfo {
  return {
    ifindex,
    ifname,
    up: true,
    running: true,
    lowerUp: true,
    noarp: false,
    loopback: false,
    mac: '02:00:00:00:00:99',
    mtu: 1500,
    master: undefined,
  };
}

function advert(src: string, vrid: number, priority = 50): Buffer {
  const payload = encodeAdvert({ vrid, priority, authType: 0, adverIntSec: 1, vips: ['10.0.0.100'] });
  return buildIpv4Packet({ srcIp: src, dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

t.test('link churn: the daemon forgets links nothing refers to when they go or are renamed', async (t) => {
  const { d, emit } = await boot();
  const before = d.knownLinks().length;
  // 2,000 container veths created and deleted, some renamed on the way.
  for (let i = 0; i < 2000; i++) {
    const l = link(`veth${i}`, 100 + i);
    emit({ kind: 'link', op: 'new', link: l, previous: undefined, synthetic: false });
    if (i % 2 === 0) {
      const renamed = { ...l, ifname: `ctr${i}` };
      emit({ kind: 'link', op: 'new', link: renamed, previous: l, synthetic: false });
      emit({ kind: 'link', op: 'del', link: renamed, previous: renamed, synthetic: false });
    } else emit({ kind: 'link', op: 'del', link: l, previous: l, synthetic: false });
  }
  await d.queue.idle();
  t.equal(d.knownLinks().length, before, `still ${before} link(s) known after 2,000 come and go`);
  // A tracked interface is remembered across its deletion, so its return is reported.
  const eth3 = link('eth3', 5);
  emit({ kind: 'link', op: 'new', link: eth3, previous: undefined, synthetic: false });
  emit({ kind: 'link', op: 'del', link: eth3, previous: eth3, synthetic: false });
  await d.queue.idle();
  t.ok(d.knownLinks().includes('eth3'), 'a tracked interface is kept');
  t.ok(d.knownLinks().includes('eth0'), "the instance's interface is kept");
});

t.test(`received packets waiting on the queue: at most WORK_QUEUE_MAX_PACKETS (${WORK_QUEUE_MAX_PACKETS}), the rest counted`, async (t) => {
  const { d, io } = await boot();
  // A netlink request that does not come back (until its timeout) holds the queue.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  void d.queue.run('held by a slow netlink request', () => held);
  const N = WORK_QUEUE_MAX_PACKETS + 5000;
  for (let i = 0; i < N; i++) io.receive('eth0', advert(`10.0.${(i >> 8) & 255}.${i & 255}`, 99));
  t.ok(d.queue.length <= WORK_QUEUE_MAX_PACKETS + 1, `queue length ${d.queue.length} <= ${WORK_QUEUE_MAX_PACKETS} packets + the held item`);
  t.equal(d.status().interfaces.eth0?.queueDrops, 5000, 'the packets beyond the bound are counted');
  release();
  await d.queue.idle();
  t.equal(d.status().interfaces.eth0?.unknownVrid, WORK_QUEUE_MAX_PACKETS, 'every queued packet was handled');
  // And the bound frees up: packets are queued again.
  io.receive('eth0', advert('10.0.0.2', 99));
  await d.queue.idle();
  t.equal(d.status().interfaces.eth0?.unknownVrid, WORK_QUEUE_MAX_PACKETS + 1);
  t.equal(d.status().interfaces.eth0?.queueDrops, 5000);
});

t.test(`rate limiter: at most RATE_LIMIT_MAX_KEYS (${RATE_LIMIT_MAX_KEYS}) keys, and at most that many lines per window`, async (t) => {
  const r = new RateLimiter(10_000);
  let logged = 0;
  // Keys carrying addresses: a new one for every message.
  for (let i = 0; i < 20_000; i++) if (r.check(`from:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, i / 100) !== null) logged++;
  t.ok(r.size <= RATE_LIMIT_MAX_KEYS, `size ${r.size}`);
  t.equal(logged, RATE_LIMIT_MAX_KEYS, 'one line per key until the table is full of keys inside their window');
  t.equal(r.overflowed, 20_000 - RATE_LIMIT_MAX_KEYS);
  // Once the window has passed, old keys are forgotten and new keys logged again.
  t.same(r.check('later', 200 + 10_000), { suppressed: 0 });
  t.ok(r.size <= RATE_LIMIT_MAX_KEYS);
  // A known key inside its window still counts what it suppressed.
  const s = new RateLimiter(1000, 2);
  t.same(s.check('a', 0), { suppressed: 0 });
  t.equal(s.check('a', 1), null);
  t.same(s.check('b', 2), { suppressed: 0 });
  t.equal(s.check('c', 3), null, 'full of live keys: suppressed');
  t.same(s.check('a', 1001), { suppressed: 1 }, "a's count survived");
  t.same(s.check('c', 1003), { suppressed: 0 }, 'b expired and made room');
});

t.test('unknown-VRID log lines under a flood of every VRID: the daemon stays bounded and rate-limited', async (t) => {
  const { d, io, log } = await boot();
  for (let round = 0; round < 3; round++)
    for (let vrid = 1; vrid <= 255; vrid++) if (vrid !== 51) io.receive('eth0', advert('10.0.0.2', vrid));
  await d.queue.idle();
  const lines = log.messages('info').filter((m) => m.startsWith('Unknown VRID'));
  t.equal(lines.length, 254, 'one line per VRID per window, not one per packet');
  t.equal(d.status().interfaces.eth0?.unknownVrid, 3 * 254);
});

t.test('GARP pacer: slots in the past are forgotten (one entry per interface still being paced)', async (t) => {
  const fake = new FakeClock(1000);
  const clock = {
    nowMs: () => fake.now(),
    setTimer: (ms: number, cb: () => void) => {
      const id = fake.setTimeout(cb, ms);
      return { cancel: () => fake.cancel(id) };
    },
  };
  const p = new GarpPacer(clock, () => {});
  for (let i = 0; i < 500; i++) {
    p.schedule(`if${i}`, [{ address: '10.0.0.100', atMs: fake.now() }], 10, () => true);
    fake.advance(20);
  }
  t.equal(p.pacedInterfaces, 1, 'only the interface paced last is remembered');
  fake.advance(20);
  p.schedule('eth0', [], 10, () => true);
  t.equal(p.pacedInterfaces, 0);
});
