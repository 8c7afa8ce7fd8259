/**
 * The daemon on fake ports (no root, fake clock): startup, the action executor's order on the
 * wire, demux and drop counters, self-healing, missing interface, tracking inputs, stop and reload.
 */
import t from 'tap';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

const inst = (body: string, name = 'VI_1', vrid = 51): string => `vrrp_instance ${name} {
  interface eth0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret12
  }
${body}
}
`;

const BASIC = inst(`  virtual_ipaddress {
    10.0.0.100/24 dev eth0 label eth0:vip
    10.0.0.101
  }
  notify "/bin/notify.sh"
  notify_master "/bin/master.sh arg"
  notify_stop /bin/stop.sh`);

async function boot(text: string, io = new FakeIo(), vipDeleted: 'restore' | 'keepalived' = 'restore', advertGridMs = 0) {
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log, vipDeleted, advertGridMs }));
  const r = await d.start(configFromText(text));
  if (!r.ok) throw new Error(r.error.message);
  /** Advance the fake clock to exactly +ms, running queued work at every deadline. */
  const advance = (ms: number): Promise<void> => advanceDaemon(d, io, ms);
  return { d, io, log, advance, st: (name = 'VI_1') => d.status().instances.find((i) => i.name === name)! };
}

function advertFrom(
  src: string,
  priority: number,
  opts: { vrid?: number; pass?: string; vips?: string[]; dst?: string; ttl?: number } = {},
): Buffer {
  const payload = encodeAdvert({
    vrid: opts.vrid ?? 51,
    priority,
    authType: 1,
    authPass: opts.pass ?? 'secret12',
    adverIntSec: 1,
    vips: opts.vips ?? ['10.0.0.100', '10.0.0.101'],
  });
  return buildIpv4Packet({ srcIp: src, dstIp: opts.dst ?? '224.0.0.18', ttl: opts.ttl ?? 255, id: 1, payload });
}

t.test('startup: stale VIPs removed, BACKUP (init), one socket per interface', async (t) => {
  const { io, log, st } = await boot(BASIC + inst('  virtual_ipaddress {\n    10.0.0.200\n  }', 'VI_2', 52));
  t.same(io.opened, [{ ifname: 'eth0', groups: ['224.0.0.18'] }], 'one socket for two instances');
  t.same(
    io.netOps.filter((o) => o.op === 'del').map((o) => o.detail),
    ['10.0.0.100/24', '10.0.0.101/32', '10.0.0.200/32'],
    'stale VIPs removed at start',
  );
  t.equal(st().state, 'BACKUP');
  t.ok(log.messages().includes('(VI_1) Entering BACKUP STATE (init)'));
  t.equal(st().srcIp, '10.0.0.1', 'source = the interface primary address');
  t.notOk(JSON.stringify(log.lines).includes('secret12'), 'auth_pass never logged');
});

t.test('becoming MASTER: advert first, then VIPs, then the GARP burst; IP ids from 1', async (t) => {
  const { io, log, advance, st } = await boot(BASIC);
  const t0 = io.fake.now();
  io.trace.length = 0;
  await advance(3608);
  t.equal(st().state, 'BACKUP', 'not before Master_Down_Interval (3 x 1 s + 609 ms)');
  await advance(1);
  t.equal(st().state, 'MASTER');
  t.equal(io.fake.now() - t0, 3609);
  t.same(
    io.trace.slice(0, 4),
    ['advert prio 100 to 224.0.0.18', 'add 10.0.0.100', 'add 10.0.0.101', 'garp 10.0.0.100'],
    'advert, VIPs, GARPs',
  );
  t.equal(io.garps.length, 10, '5 rounds x 2 VIPs, back to back');
  t.same(
    io.garps.slice(0, 4).map((g) => g.ip),
    ['10.0.0.100', '10.0.0.101', '10.0.0.100', '10.0.0.101'],
    'rounds interleave',
  );
  t.ok(
    io.netOps.some((o) => o.detail === '10.0.0.100/24 eth0:vip'),
    'prefix and label reach netlink',
  );
  await advance(3000);
  const ads = io.adverts();
  t.same(
    ads.map((a) => a.id),
    [1, 2, 3, 4],
    'per-instance IP id counter starting at 1',
  );
  t.same(
    ads.map((a) => a.atMs - ads[0]!.atMs),
    [0, 1000, 2000, 3000],
    'one advert per second',
  );
  t.ok(ads.every((a) => a.ttl === 255 && a.src === '10.0.0.1'));
  await advance(2100);
  t.equal(io.garps.length, 20, 'second burst garp_master_delay (5 s) later');
  t.ok(log.messages().includes('(VI_1) Entering MASTER STATE'));
  t.same(
    io.runs.map((r) => r.argv.join(' ')),
    ['/bin/notify.sh INSTANCE VI_1 BACKUP 100', '/bin/master.sh arg', '/bin/notify.sh INSTANCE VI_1 MASTER 100'],
    'hooks in order with keepalived argv',
  );
});

t.test('advert grid: periodic adverts on the 50 ms grid, Adver_Interval apart; the takeover advert at once', async (t) => {
  const two = BASIC + inst('  priority 200\n  virtual_ipaddress {\n    10.0.0.200\n  }', 'VI_2', 52).replace('  priority 100\n', '');
  const { d, io } = await boot(two, undefined, 'restore', 50);
  const t0 = io.fake.now();
  await advanceDaemon(d, io, 10_000);
  const byVrid = (vrid: number): number[] => io.sent.filter((s) => s.packet[21] === vrid).map((s) => s.atMs - t0);
  for (const [vrid, takeover] of [
    [51, 3609],
    [52, 3218.75],
  ] as const) {
    const at = byVrid(vrid);
    t.ok(Math.abs(at[0]! - takeover) < 1, `VRID ${vrid}: the advert on becoming MASTER goes out at once (${at[0]} ms, off the grid)`);
    const periodic = at.slice(1);
    t.ok(periodic.length >= 5, `VRID ${vrid}: ${periodic.length} periodic adverts`);
    t.ok(
      periodic.every((x) => (x + t0) % 50 === 0),
      `VRID ${vrid}: every periodic advert on a 50 ms grid point`,
    );
    t.ok(
      Math.abs(periodic[0]! - takeover - 1000) <= 25,
      `VRID ${vrid}: first periodic advert within half a grid step of its deadline (${periodic[0]! - takeover} ms)`,
    );
    const gaps = periodic.slice(1).map((x, i) => x - periodic[i]!);
    t.same([...new Set(gaps)], [1000], `VRID ${vrid}: then exactly Adver_Interval apart (no drift)`);
  }
  await d.stop();
});

t.test('advert grid: instances sharing a grid point; one leaving MASTER cancels only its own callback', async (t) => {
  const { d, io } = await boot(BASIC + inst('  virtual_ipaddress {\n    10.0.0.200\n  }', 'VI_3', 53), undefined, 'restore', 50);
  const t0 = io.fake.now();
  await advanceDaemon(d, io, 6_000);
  const at = (vrid: number): number[] => io.sent.filter((s) => s.packet[21] === vrid).map((s) => s.atMs - t0);
  t.same(at(51).slice(1), at(53).slice(1), 'same priority, same takeover: their periodic adverts share grid points');
  // VI_3 hears a higher priority and goes BACKUP; VI_1 goes on alone on the same grid points.
  io.receive('eth0', advertFrom('10.0.0.9', 200, { vrid: 53, vips: ['10.0.0.200'] }));
  await advanceDaemon(d, io, 0);
  const before53 = at(53).length;
  const before51 = at(51).length;
  await advanceDaemon(d, io, 3_000); // less than its Master_Down_Interval: it stays BACKUP
  t.equal(at(51).length - before51, 3, 'the other instance still advertises every second');
  t.equal(at(53).length, before53, 'no periodic advert from the instance that left MASTER');
  const p1 = at(51).slice(1);
  t.same([...new Set(p1.slice(1).map((x, i) => x - p1[i]!))], [1000], 'the other instance keeps its cadence on the shared grid');
  t.equal(d.status().instances.find((i) => i.name === 'VI_3')?.state, 'BACKUP');
  await d.stop();
});

t.test('demux and receive: higher priority keeps us BACKUP; drops counted by reason; unknown VRID', async (t) => {
  const { io, advance, st, d } = await boot(BASIC);
  for (let i = 0; i < 6; i++) {
    io.receive('eth0', advertFrom('10.0.0.2', 200));
    await advance(1000);
  }
  t.equal(st().state, 'BACKUP', 'adverts from a better master keep the down timer reset');
  t.same(st().master, { ip: '10.0.0.2', priority: 200 });
  io.receive('eth0', advertFrom('10.0.0.2', 200, { pass: 'wrong' }));
  io.receive('eth0', advertFrom('10.0.0.2', 200, { ttl: 64 }));
  io.receive('eth0', advertFrom('10.0.0.2', 200, { vrid: 99 }));
  io.receive('eth0', advertFrom('10.0.0.2', 200, { dst: '10.0.0.1' }));
  io.receive('eth0', Buffer.from([0x45, 0, 0]));
  await d.queue.idle();
  const s = st();
  t.equal(s.drops['auth-password'], 1);
  t.equal(s.drops.ttl, 1);
  t.equal(s.drops['expected-multicast'], 1, 'a unicast packet for a multicast instance reaches it and is dropped by the codec');
  t.equal(d.status().interfaces.eth0?.unknownVrid, 1);
  t.equal(d.status().interfaces.eth0?.malformed, 1);
  await advance(3700);
  t.equal(st().state, 'MASTER', 'invalid adverts never reset the timer');
});

t.test('self-healing: an external VIP delete while MASTER is re-added with GARP, no flap', async (t) => {
  const { io, log, advance, st } = await boot(BASIC);
  await advance(3609);
  t.equal(st().state, 'MASTER');
  const garpsBefore = io.garps.length;
  const advertsBefore = io.adverts().length;
  io.deleteAddress('10.0.0.101');
  await advance(1);
  t.equal(st().state, 'MASTER', 'still MASTER');
  t.ok(
    io.addrs.some((a) => a.address === '10.0.0.101'),
    're-added',
  );
  t.equal(io.garps.length - garpsBefore, 5, 'a garp_master_repeat burst for that address');
  t.ok(io.garps.slice(garpsBefore).every((g) => g.ip === '10.0.0.101'));
  t.equal(st().counters.vipRestored, 1, 'counted in status');
  t.equal(io.adverts().length, advertsBefore, 'no priority-0 advert');
  t.match(log.messages().join('\n'), /\(VI_1\) VIP 10\.0\.0\.101 was removed by another process \(netlink port 4242\) - re-added it/);
  t.notOk(
    log.messages().some((m) => m.includes('Entering BACKUP STATE') && !m.includes('(init)')),
    'no transition logged',
  );
});

t.test('vip-deleted keepalived mode: BACKUP, priority 0, back to MASTER after the skew', async (t) => {
  const { io, advance, st } = await boot(BASIC, new FakeIo(), 'keepalived');
  await advance(3609);
  io.deleteAddress('10.0.0.101');
  await advance(1);
  t.equal(st().state, 'BACKUP');
  t.equal(io.adverts().at(-1)?.priority, 0);
  await advance(609);
  t.equal(st().state, 'MASTER', 'takes over again after the skew time');
});

t.test('missing interface at start: FAULT with a clear reason, recovered when it appears', async (t) => {
  const text =
    `global_defs {\n  dynamic_interfaces\n}\n` +
    inst('  virtual_ipaddress {\n    10.0.1.100\n  }').replace('interface eth0', 'interface eth1');
  const { io, log, advance, st } = await boot(text);
  t.equal(st().state, 'FAULT');
  t.match(st().reason, /interface eth1 does not exist/);
  t.ok(log.messages().includes('(VI_1) Entering FAULT STATE (init)'));
  io.addLink('eth1', 3, '10.0.1.1', true);
  await advance(1);
  t.equal(st().state, 'BACKUP', 'BACKUP once it exists');
  t.same(io.opened.at(-1), { ifname: 'eth1', groups: ['224.0.0.18'] }, 'socket opened on the new interface');
  await advance(3609);
  t.equal(st().state, 'MASTER');
  t.equal(st().srcIp, '10.0.1.1');
});

t.test('link down: own interface -> FAULT (priority 0 twice from MASTER); up -> BACKUP', async (t) => {
  const { io, log, advance, st } = await boot(BASIC);
  await advance(3609);
  io.setLink('eth0', false);
  await advance(1);
  t.equal(st().state, 'FAULT');
  t.ok(log.messages().includes('Netlink reports eth0 down'));
  t.same(
    io
      .adverts()
      .slice(-2)
      .map((a) => a.priority),
    [0, 0],
  );
  t.notOk(
    io.addrs.some((a) => a.address === '10.0.0.100'),
    'VIPs removed',
  );
  io.setLink('eth0', true);
  await advance(1);
  t.equal(st().state, 'BACKUP');
  t.ok(log.messages().includes('Netlink reports eth0 up'));
});

t.test('track_script weight and track_file values feed the effective priority', async (t) => {
  const io = new FakeIo();
  io.exitCodes.set('/bin/chk', 1);
  io.fileData.set('/run/prio', '  7 junk');
  const text =
    `vrrp_script chk {\n  script /bin/chk\n  interval 2\n  weight 20\n}\ntrack_file tf {\n  file /run/prio\n  weight 2\n}\n` +
    inst('  virtual_ipaddress {\n    10.0.0.100\n  }\n  track_script {\n    chk\n  }\n  track_file {\n    tf\n  }');
  const { advance, st, log } = await boot(text, io);
  await advance(1);
  t.equal(st().effectivePriority, 114, 'file 7 x weight 2; failing weighted script adds nothing');
  io.exitCodes.set('/bin/chk', 0);
  await advance(2000);
  t.equal(st().effectivePriority, 134, 'script OK adds its weight');
  t.ok(log.messages().includes('VRRP_Script(chk) succeeded'));
  io.fileData.set('/run/prio', '-5\n');
  io.fileWatchers.get('/run/prio')!();
  await advance(1);
  t.equal(st().effectivePriority, 110);
  t.ok(log.messages().includes('(VI_1) Changing effective priority from 134 to 110'));
});

t.test('graceful stop: priority 0 from the MASTER, VIPs removed, notify_stop', async (t) => {
  const { io, d, advance } = await boot(BASIC);
  await advance(3609);
  await d.stop(0);
  t.equal(io.adverts().at(-1)?.priority, 0);
  t.notOk(
    io.addrs.some((a) => a.address.startsWith('10.0.0.10')),
    'VIPs gone',
  );
  await new Promise((r) => setImmediate(r));
  t.ok(
    io.runs.some((r) => r.argv.join(' ') === '/bin/stop.sh'),
    'notify_stop ran',
  );
  t.ok(io.runs.some((r) => r.argv.join(' ') === '/bin/notify.sh INSTANCE VI_1 STOP 100'));
  t.ok(d.stopped);
});

t.test('reload: unchanged instance keeps state and cadence; VIP list diff applied; removed and new instances', async (t) => {
  const { io, d, log, advance, st } = await boot(BASIC + inst('  virtual_ipaddress {\n    10.0.0.200\n  }', 'VI_OLD', 60));
  await advance(3609);
  t.equal(st().state, 'MASTER');
  await advance(500);
  const newText =
    inst(`  virtual_ipaddress {\n    10.0.0.100/24 dev eth0 label eth0:vip\n    10.0.0.102\n  }`, 'RENAMED') +
    inst('  virtual_ipaddress {\n    10.0.0.210\n  }', 'VI_NEW', 61);
  const before = io.adverts().length;
  await d.reload(configFromText(newText));
  await advance(1);
  const s = d.status().instances;
  t.same(
    s.map((i) => [i.name, i.state]),
    [
      ['RENAMED', 'MASTER'],
      ['VI_NEW', 'BACKUP'],
    ],
    'renamed instance kept MASTER (matched by VRID+interface), new one starts',
  );
  t.ok(
    io.addrs.some((a) => a.address === '10.0.0.102'),
    'new VIP added',
  );
  t.notOk(
    io.addrs.some((a) => a.address === '10.0.0.101'),
    'dropped VIP removed',
  );
  t.ok(
    io.garps.some((g) => g.ip === '10.0.0.102'),
    'GARP for the new VIP',
  );
  t.ok(log.messages().includes('(RENAMED) ip address 10.0.0.101/32 dev eth0, no longer exist'));
  const after = io.adverts().slice(before);
  t.ok(
    after.some((a) => a.priority === 100 && a.src === '10.0.0.1'),
    'MASTER advertised at once on reload',
  );
  t.notOk(
    log.messages().some((m) => /RENAMED\) Entering/.test(m)),
    'no transition for the kept instance',
  );
  await advance(3000);
  const ticks = io
    .adverts()
    .slice(before)
    .filter((a) => a.priority === 100)
    .map((a) => a.atMs);
  const gaps = ticks.slice(1).map((x, i) => x - ticks[i]!);
  t.ok(
    gaps.every((g) => g <= 1000),
    `adverts never pause (gaps ${gaps.join(',')})`,
  );
  t.ok(log.messages().includes('(VI_OLD) removed by reload'));
});

t.test('a unicast instance: one copy per peer, unicast_ttl, demux by destination', async (t) => {
  const text = inst(
    `  unicast_src_ip 10.0.0.1\n  unicast_ttl 64\n  unicast_peer {\n    10.0.0.2\n    10.0.0.3\n  }\n  virtual_ipaddress {\n    10.0.0.100\n  }`,
  );
  const { io, advance, st } = await boot(text);
  t.same(io.opened, [{ ifname: 'eth0', groups: [] }], 'no multicast group for a unicast-only interface');
  await advance(3609);
  const ads = io.adverts();
  t.same(
    ads.map((a) => [a.dst, a.ttl, a.id]),
    [
      ['10.0.0.2', 64, 1],
      ['10.0.0.3', 64, 1],
    ],
  );
  const pkt = (() => {
    const payload = encodeAdvert({ vrid: 51, priority: 200, authType: 1, authPass: 'secret12', adverIntSec: 1, vips: ['10.0.0.100'] });
    return buildIpv4Packet({ srcIp: '10.0.0.2', dstIp: '10.0.0.1', ttl: 64, id: 1, payload });
  })();
  io.receive('eth0', pkt);
  await advance(1);
  t.equal(st().state, 'BACKUP', 'a higher priority unicast advert (TTL 64 is fine for unicast) wins');
});

t.test('sync group: a member losing its tracked interface pulls the group into FAULT; both recover', async (t) => {
  const io = new FakeIo();
  io.addLink('eth1', 3, '10.0.1.1');
  const text =
    `vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n` +
    inst('  virtual_ipaddress {\n    10.0.0.100\n  }\n  track_interface {\n    eth1\n  }') +
    inst('  virtual_ipaddress {\n    10.0.0.200\n  }', 'VI_2', 52);
  const { advance, st, log } = await boot(text, io);
  await advance(3609);
  t.same([st('VI_1').state, st('VI_2').state], ['MASTER', 'MASTER']);
  io.setLink('eth1', false);
  await advance(1);
  t.same([st('VI_1').state, st('VI_2').state], ['FAULT', 'FAULT'], 'the whole group follows');
  t.ok(log.messages().includes('VRRP_Group(G) Syncing instances to FAULT state'));
  t.notOk(
    io.addrs.some((a) => a.address === '10.0.0.200'),
    "the other member's VIP is removed too",
  );
  io.setLink('eth1', true);
  await advance(1);
  t.same([st('VI_1').state, st('VI_2').state], ['BACKUP', 'BACKUP']);
  await advance(3700);
  t.same([st('VI_1').state, st('VI_2').state], ['MASTER', 'MASTER']);
});
