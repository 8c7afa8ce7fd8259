/**
 * Receive and demux (receive.ts): each packet to its instance on the work queue, or counted per
 * interface by why none takes it (malformed, unknown VRID, queue full); unknown VRIDs logged only
 * with log_unknown_vrids, rate-limited. Shipped Instances on a recording env; no root.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { FakeClock } from '../support/fake-clock.js';
import type { Instance } from '../../src/runtime/instance.js';
import { InterfaceTable } from '../../src/runtime/interfaces.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import { Receiver, WORK_QUEUE_MAX_PACKETS } from '../../src/runtime/receive.js';
import { configFromText } from '../support/config-host.js';
import { fakeEnv, instanceIn } from './fake-env.js';

const CONF = ['VI_A 51', 'VI_B 52']
  .map((x) => {
    const [name, vrid] = x.split(' ');
    return `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.${vrid}\n  }\n}\n`;
  })
  .join('');

function advert(vrid: number, priority = 150): Buffer {
  const payload = encodeAdvert({ vrid, priority, authType: 0, adverIntSec: 1, vips: [`10.0.0.${vrid}`] });
  return buildIpv4Packet({ srcIp: '10.0.0.2', dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

function setup(logUnknown = true) {
  const f = fakeEnv();
  const insts: Instance[] = instanceSpecs(configFromText(CONF)).map((s) => instanceIn(s, f, 'BACKUP'));
  const ifs = new InterfaceTable();
  ifs.setLink('eth0', true, 2);
  const queue: (() => void | Promise<void>)[] = [];
  const log = new MemoryLog();
  let stopping = false;
  const clock = new FakeClock(5000);
  const r = new Receiver({
    clock: { nowMs: () => clock.now(), setTimer: () => ({ cancel: () => {} }) },
    log,
    submit: (_what, fn) => void queue.push(fn),
    drops: (n) => ifs.get(n),
    instances: () => insts,
    logUnknownVrids: () => logUnknown,
    stopping: () => stopping,
  });
  const drain = async (): Promise<void> => {
    for (let fn = queue.shift(); fn !== undefined; fn = queue.shift()) await fn();
  };
  const pkt = (packet: Buffer, ifname = 'eth0') => ({ packet, ifindex: 2, ifname, rxMs: f.fake.now() });
  return { f, insts, ifs, r, queue, log, drain, pkt, clock, stop: () => void (stopping = true) };
}

t.test('a valid advert reaches the instance with its VRID, and only that one', async (t) => {
  const { insts, r, drain, pkt } = setup();
  r.enqueue(pkt(advert(52)));
  await drain();
  t.same(
    insts.map((i) => i.snapshot.master?.ip ?? null),
    [null, '10.0.0.2'],
    'VI_B heard the master, VI_A did not',
  );
});

t.test('drops by reason, counted per interface: malformed, unknown VRID (logged, rate-limited)', async (t) => {
  const { ifs, r, drain, pkt, log } = setup();
  r.enqueue(pkt(Buffer.from([0x45, 0, 0])));
  for (let i = 0; i < 3; i++) r.enqueue(pkt(advert(99)));
  await drain();
  t.match(ifs.get('eth0'), { malformed: 1, unknownVrid: 3, queueDrops: 0 });
  t.same(log.messages('info'), ['Unknown VRID(99) received on interface(eth0). ignoring...'], 'one line for three packets');
});

t.test('without log_unknown_vrids the drop is counted, not logged; an interface the daemon does not know is not counted', async (t) => {
  const { ifs, r, drain, pkt, log } = setup(false);
  r.enqueue(pkt(advert(99)));
  r.enqueue(pkt(advert(99), 'eth9'));
  await drain();
  t.equal(ifs.get('eth0')?.unknownVrid, 1);
  t.equal(ifs.get('eth9'), undefined);
  t.same(log.messages(), []);
});

t.test(`at most WORK_QUEUE_MAX_PACKETS (${WORK_QUEUE_MAX_PACKETS}) wait on the queue; the rest are queueDrops`, async (t) => {
  const { ifs, r, drain, pkt, queue } = setup();
  const p = pkt(advert(99));
  for (let i = 0; i < WORK_QUEUE_MAX_PACKETS + 7; i++) r.enqueue(p);
  t.equal(queue.length, WORK_QUEUE_MAX_PACKETS);
  t.equal(ifs.get('eth0')?.queueDrops, 7);
  await drain();
  r.enqueue(p);
  t.equal(queue.length, 1, 'room again once handled');
});

t.test('after stop, queued packets are ignored; a new instance set is seen after instancesChanged()', async (t) => {
  const s = setup();
  s.r.enqueue(s.pkt(advert(51)));
  s.stop();
  await s.drain();
  t.equal(s.insts[0]!.snapshot.master, null, 'not handled');
  t.equal(s.ifs.get('eth0')?.unknownVrid, 0);
  const t2 = setup();
  t2.r.enqueue(t2.pkt(advert(52)));
  await t2.drain();
  t2.insts.splice(1, 1);
  t2.r.enqueue(t2.pkt(advert(52)));
  await t2.drain();
  t.equal(t2.ifs.get('eth0')?.unknownVrid, 0, 'the cached VRID index still routes to the old set');
  t2.r.instancesChanged();
  t2.r.enqueue(t2.pkt(advert(52)));
  await t2.drain();
  t.equal(t2.ifs.get('eth0')?.unknownVrid, 1, 'rebuilt: VRID 52 is unknown now');
});
