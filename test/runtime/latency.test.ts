/**
 * Failover latency on fake ports (no root): the Master_Down_Timer starts from the advert's receive
 * time; becoming MASTER issues the advert and the VIP requests without waiting for the advert's
 * send to complete, and the GARP burst leaves, all of it back to back, as soon as the netlink
 * acknowledgements are in (and never before the advert is on the wire).
 */
import t from 'tap';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import type { AddrSpec, IoResult } from '../../src/runtime/ports/index.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, withTestNotifier } from './fake-io.js';

const CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret12
  }
  virtual_ipaddress {
    10.0.0.100/24
    10.0.0.101
  }
}
`;

function advertFrom(src: string, priority: number): Buffer {
  const payload = encodeAdvert({
    vrid: 51,
    priority,
    authType: 1,
    authPass: 'secret12',
    adverIntSec: 1,
    vips: ['10.0.0.100', '10.0.0.101'],
  });
  return buildIpv4Packet({ srcIp: src, dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

/** One event-loop turn: every microtask chain started before it has run. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function boot(io = new FakeIo()) {
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog() }));
  const r = await d.start(configFromText(CONF));
  if (!r.ok) throw new Error(r.error.message);
  return { d, io, inst: d.instances[0]! };
}

t.test('the Master_Down_Timer runs from the advert receive time, not from when the queue got to it', async (t) => {
  const { d, io, inst } = await boot();
  io.fake.advance(500);
  const rx = io.fake.now() - 7.25; // read 7.25 ms ago, handled now (a busy queue, a slow turn)
  io.receive('eth0', advertFrom('10.0.0.2', 200), rx);
  await d.queue.idle();
  t.equal(inst.state, 'BACKUP');
  // RFC 3768 6.4.2 "Reset the Master_Down_Timer to Master_Down_Interval" (3 x 1 s + 609 ms for 100)
  t.equal(inst.snapshot.timers['master-down'], rx + 3609, 'deadline = receive time + Master_Down_Interval, fraction kept');

  // An advert read before an event the instance already handled cannot move its time backwards.
  io.fake.advance(100);
  const now = io.fake.now();
  io.receive('eth0', advertFrom('10.0.0.2', 200), now);
  await d.queue.idle();
  io.receive('eth0', advertFrom('10.0.0.2', 200), now - 50);
  await d.queue.idle();
  t.equal(inst.snapshot.timers['master-down'], now + 3609, 'clamped to the last event time');
});

t.test('becoming MASTER: VIP requests do not wait for the advert send; GARPs straight from the ack, after the advert', async (t) => {
  const { d, io, inst } = await boot();
  const sends: (() => void)[] = [];
  const acks: (() => void)[] = [];
  const realSend = io.sockets.send;
  const realAdd = io.netlink.addAddress;
  // The advert completes (is "on the wire", traced by the real fake) only when released; so does
  // every netlink ack.
  io.sockets.send = (ifname: string, pkt: Uint8Array): Promise<IoResult<number>> => {
    io.trace.push('advert issued');
    return new Promise((res) => sends.push(() => void realSend(ifname, pkt).then(res)));
  };
  io.netlink.addAddress = (s: AddrSpec): Promise<IoResult<{ exists: boolean }>> => {
    io.trace.push(`add issued ${s.address}`);
    return new Promise((res) => acks.push(() => void realAdd(s).then(res)));
  };
  io.trace.length = 0;
  // The Master_Down_Timer's deadline (the shared down timer wakes a little before it, then fires it on time).
  const due = inst.snapshot.timers['master-down']!;
  io.fake.advanceTo(due); // Master_Down_Timer fires
  await turn();
  t.equal(inst.state, 'MASTER');
  t.same(
    io.trace,
    ['advert issued', 'add issued 10.0.0.100'],
    'advert issued first, then the first VIP request, with the advert still in flight',
  );

  acks.shift()!();
  await turn();
  t.same(io.trace.slice(2), ['add 10.0.0.100', 'add issued 10.0.0.101'], 'VIPs one after the other as keepalived');
  acks.shift()!();
  await turn();
  t.equal(io.garps.length, 0, 'no GARP while our advert has not left');
  sends.shift()!();
  await turn();
  const firstGarp = io.trace.indexOf('garp 10.0.0.100');
  t.same(
    io.trace.slice(2, firstGarp),
    ['add 10.0.0.100', 'add issued 10.0.0.101', 'add 10.0.0.101', 'advert prio 100 to 224.0.0.18'],
    'advert on the wire before any GARP',
  );
  t.same(
    io.trace.slice(firstGarp),
    Array.from({ length: 10 }, (_, i) => `garp 10.0.0.10${i % 2}`),
    'the whole burst back to back (vrrp_garp_interval 0)',
  );
  t.ok(
    io.garps.every((g) => g.atMs === io.garps[0]!.atMs),
    'all at the same instant',
  );
  await d.queue.idle();

  // Advert already sent when the last ack arrives (the usual order): the GARPs leave in the same
  // turn as the ack, with no extra event-loop turn.
  io.sockets.send = realSend;
  const { d: d2, io: io2, inst: inst2 } = await boot();
  const acks2: (() => void)[] = [];
  const realAdd2 = io2.netlink.addAddress;
  io2.netlink.addAddress = (s: AddrSpec): Promise<IoResult<{ exists: boolean }>> =>
    new Promise((res) => acks2.push(() => void realAdd2(s).then(res)));
  io2.fake.advanceTo(inst2.snapshot.timers['master-down']!);
  await turn();
  t.equal(inst2.state, 'MASTER');
  acks2.shift()!();
  await turn();
  t.equal(io2.garps.length, 0);
  let garpsAfterAck = -1;
  acks2.shift()!();
  setImmediate(() => {
    garpsAfterAck = io2.garps.length;
  });
  await turn();
  await turn();
  t.equal(garpsAfterAck, 10, 'burst sent before the next event-loop turn after the last ack');
  await d2.queue.idle();
});

t.test('a failed advert send does not hold the VIPs or the GARPs back', async (t) => {
  const { d, io, inst } = await boot();
  io.sockets.send = async (): Promise<IoResult<number>> => ({
    ok: false,
    error: { kind: 'IoError', syscall: 'sendto', errno: 100, code: 'ENETDOWN', message: 'Network is down' },
  });
  io.fake.advanceTo(inst.snapshot.timers['master-down']!);
  await d.queue.idle();
  t.equal(inst.state, 'MASTER');
  t.equal(io.garps.length, 10);
  t.equal(inst.status().counters.advertSendErrors, 1, 'counted');
});
