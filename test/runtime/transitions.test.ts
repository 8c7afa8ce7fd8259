/**
 * An instance's transition log (src/runtime/transition-log.ts) on the real daemon, fake ports:
 * every state change lands in the history (bounded to TRANSITION_HISTORY) and in the counts by
 * from, to and cause, and each cause is the one its reason names (src/protocol/transition-cause.ts).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { TRANSITION_CAUSES, transitionCause } from '../../src/protocol/transition-cause.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { TRANSITION_HISTORY } from '../../src/runtime/transition-log.js';
import { MemoryLog } from '../../src/log.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

const CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100
  }
}
`;

const higher = (): Buffer =>
  buildIpv4Packet({
    srcIp: '10.0.0.2',
    dstIp: '224.0.0.18',
    ttl: 255,
    id: 1,
    payload: encodeAdvert({ vrid: 51, priority: 200, authType: 0, authPass: '', adverIntSec: 1, vips: ['10.0.0.100'] }),
  });

t.test('history and counts over takeovers, preemptions and stop', async (t) => {
  const io = new FakeIo();
  const d = new Daemon(withTestNotifier({ io, log: new MemoryLog() }));
  const r = await d.start(configFromText(CONF));
  t.ok(r.ok);
  const inst = d.instances.find((i) => i.name === 'VI_1')!;
  t.same(
    inst.transitions.recent().map((e) => [e.from, e.to, e.cause]),
    [['INIT', 'BACKUP', 'init']],
  );
  for (let round = 0; round < 7; round++) {
    await advanceDaemon(d, io, 4000); // no master heard: Master_Down_Interval runs out
    t.equal(inst.state, 'MASTER', `round ${round}: master`);
    io.receive('eth0', higher());
    await advanceDaemon(d, io, 0);
    t.equal(inst.state, 'BACKUP', `round ${round}: preempted by priority 200`);
  }
  await d.stop();
  const recent = inst.transitions.recent();
  t.equal(recent.length, TRANSITION_HISTORY, 'the history keeps the last ten');
  t.same(recent.at(-1) && [recent.at(-1)!.from, recent.at(-1)!.to, recent.at(-1)!.cause], ['BACKUP', 'STOP', 'stop']);
  const preempted = recent.find((e) => e.cause === 'preempted')!;
  t.match(preempted.reason, /higher priority advert from 10\.0\.0\.2 \(200 > 100\)/);
  t.ok(
    recent.every((e, i) => i === 0 || e.atMs >= recent[i - 1]!.atMs),
    'oldest first',
  );
  const counts = Object.fromEntries(inst.transitions.counts().map((c) => [`${c.from}>${c.to}:${c.cause}`, c.count]));
  t.same(counts, { 'INIT>BACKUP:init': 1, 'BACKUP>MASTER:master_down': 7, 'MASTER>BACKUP:preempted': 7, 'BACKUP>STOP:stop': 1 });
});

t.test('every reason the state machine and the operator give has its own cause', async (t) => {
  const reasons: [string, string, string][] = [
    ['BACKUP', 'not started', 'init'],
    ['BACKUP', 'init', 'init'],
    ['BACKUP', 'tracked scripts reported', 'init'],
    ['MASTER', 'master down timer expired', 'master_down'],
    ['MASTER', 'address owner with state MASTER', 'address_owner'],
    ['BACKUP', 'higher priority advert from 10.0.0.2 (200 > 100)', 'preempted'],
    ['BACKUP', 'equal priority advert from higher IP 10.0.0.9 (100)', 'preempted'],
    ['FAULT', 'interface eth0 down', 'fault'],
    ['FAULT', 'script chk_nginx failed, interface eth1 down', 'fault'],
    ['BACKUP', 'tracked items recovered', 'recovered'],
    ['MASTER', 'tracked items recovered; address owner with state MASTER', 'recovered'],
    ['MASTER', 'promoted by root', 'operator'],
    ['BACKUP', 'maintenance (by root)', 'operator'],
    ['BACKUP', 'yield (by alice)', 'operator'],
    ['BACKUP', 'switchover (by root)', 'operator'],
    ['BACKUP', 'address 10.0.0.100 deleted externally', 'vip_deleted'],
    ['MASTER', 'sync group G going MASTER', 'sync_group'],
    ['FAULT', 'sync group G in FAULT', 'sync_group'],
    ['STOP', 'daemon stopping', 'stop'],
  ];
  for (const [to, reason, cause] of reasons) t.equal(transitionCause(to, reason), cause, reason);
  t.equal(transitionCause('MASTER', 'something new'), 'other', 'an unknown reason is counted, as other');
  const schema = JSON.parse(readFileSync(new URL('../../src/control/status.schema.json', import.meta.url), 'utf8')) as {
    $defs: { cause: { enum: string[] } };
  };
  t.same(schema.$defs.cause.enum, [...TRANSITION_CAUSES], 'status.schema.json lists the same causes');
});
