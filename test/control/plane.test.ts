/**
 * The control plane on the daemon's fake ports (no root): the status report (schema, VIP
 * presence, peers, holds, counters, tracked items), promote / clear / switchover / maintenance
 * through the state machine, maintenance persisted and applied before start, the control socket
 * round trip with peer credentials, and status never logged above debug.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from '../../src/control/client.js';
import { ControlPlane } from '../../src/control/plane.js';
import type { StatusReport } from '../../src/control/protocol.js';
import { SdNotify } from '../../src/control/sd-notify.js';
import { MemoryLog } from '../../src/log.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';
import { validate } from './json-schema.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../../src/control/status.schema.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

const CONF = `vrrp_script chk {
  script "/bin/true"
  interval 1
  weight 10
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
  track_script {
    chk
  }
}
`;

function advertFrom(src: string, priority: number): Buffer {
  const payload = encodeAdvert({ vrid: 51, priority, authType: 0, adverIntSec: 1, vips: ['10.0.0.100'] });
  return buildIpv4Packet({ srcIp: src, dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

async function boot(t: Test, stateDir: string, io = new FakeIo()) {
  const log = new MemoryLog();
  let plane: ControlPlane | undefined;
  const d = new Daemon(withTestNotifier({ io, log, beforeStart: () => plane?.beforeStart() }));
  plane = new ControlPlane({
    daemon: d,
    log,
    version: '9.9.9',
    socketPath: join(stateDir, 'vrrpd.sock'),
    stateDir,
    reload: () => d.reload(configFromText(CONF)),
    sd: new SdNotify({ env: {} }),
  });
  const r = await d.start(configFromText(CONF));
  if (!r.ok) throw new Error(r.error.message);
  await plane.started();
  t.teardown(() => plane!.close());
  const advance = (ms: number): Promise<void> => advanceDaemon(d, io, ms);
  const report = async (): Promise<StatusReport> => plane!.report();
  const vi1 = async () => (await report()).instances[0]!;
  return { d, io, log, plane, advance, report, vi1 };
}

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'vc-plane-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const by = 'tester (uid 0, pid 1)';

t.test('report: schema, VIP presence from the kernel cache, peers, counters, tracked items', async (t) => {
  const { io, advance, report, vi1, d } = await boot(t, tmp(t));
  io.receive('eth0', advertFrom('10.0.0.2', 150));
  await d.queue.idle();
  let r = await report();
  t.same(validate(SCHEMA, r), [], 'BACKUP report validates');
  let i = r.instances[0]!;
  t.equal(i.state, 'BACKUP');
  t.equal(i.masterIp, '10.0.0.2');
  t.equal(i.masterPriority, 150);
  t.same(
    i.peers.map((p) => [p.ip, p.priority]),
    [['10.0.0.2', 150]],
  );
  t.same(i.vips, [{ address: '10.0.0.100', present: false }]);
  t.same(
    i.tracked.find((x) => x.kind === 'script'),
    { kind: 'script', name: 'chk', status: 'init', weight: 10, contribution: 0, fault: false },
  );
  t.equal(r.version, '9.9.9');
  t.ok(r.configLoadedAt !== null);
  await advance(4000);
  i = await vi1();
  t.equal(i.state, 'MASTER', 'no more adverts: MASTER');
  t.same(i.vips, [{ address: '10.0.0.100', present: true }], 'present once added');
  t.equal(i.masterIp, '10.0.0.1', 'ourselves');
  t.ok(i.lastGarp !== null);
  t.ok(i.counters.advertsSent >= 1 && i.counters.becameMaster === 1 && i.counters.advertsReceived === 1);
  io.deleteAddress('10.0.0.100');
  r = await report();
  t.same(validate(SCHEMA, r), [], 'MASTER report validates');
  t.ok('lastHooks' in r.instances[0]!, "the notifier's hook history passes through");
});

t.test('promote a BACKUP: MASTER at once, advert above the master first; --clear drops the hold', async (t) => {
  const { io, d, plane, vi1, log } = await boot(t, tmp(t));
  io.receive('eth0', advertFrom('10.0.0.2', 150));
  await d.queue.idle();
  io.trace.length = 0;
  const r = await plane.manual.promote({ instance: 'VI_1' }, by);
  t.match(r, { ok: true, state: 'MASTER', priority: 254, previousMaster: { ip: '10.0.0.2', priority: 150 } });
  t.same(io.trace.slice(0, 3), ['advert prio 254 to 224.0.0.18', 'add 10.0.0.100', 'garp 10.0.0.100'], 'advert, VIP, GARP');
  const i = await vi1();
  t.match(i.hold, { kind: 'promote', priority: 254, by });
  t.equal(i.effectivePriority, 254);
  t.match(i.reason, /promoted by tester/);
  t.ok(
    log.lines.some((l) => l.level === 'warn' && /promote requested by tester \(uid 0, pid 1\)/.test(l.msg)),
    'logged with who asked',
  );
  io.receive('eth0', advertFrom('10.0.0.2', 150));
  await d.queue.idle();
  t.equal((await vi1()).state, 'MASTER', 'holds against the old master');
  const c = await plane.manual.clear({ instance: 'VI_1' }, by);
  t.match(c, { ok: true, cleared: ['VI_1'] });
  t.equal((await vi1()).effectivePriority, 100);
  t.equal((await vi1()).hold, null);
});

t.test('promote refusals: address owner master, FAULT, unknown instance, priority not above', async (t) => {
  const { io, d, plane } = await boot(t, tmp(t));
  io.receive('eth0', advertFrom('10.0.0.2', 255));
  await d.queue.idle();
  t.match(await plane.manual.promote({ instance: 'VI_1' }, by), { ok: false, error: /address owner/ });
  io.receive('eth0', advertFrom('10.0.0.2', 200));
  await d.queue.idle();
  t.match(await plane.manual.promote({ instance: 'VI_1' }, by, 150), { ok: false, error: /not above/ });
  t.match(await plane.manual.promote({ instance: 'VI_9' }, by), { ok: false, error: /no instance VI_9 \(have: VI_1\)/ });
  t.match(await plane.manual.promote({ vrid: 51 }, by, 201), { ok: true, priority: 201 }, 'by VRID with an explicit priority');
});

t.test('switchover without a reachable vrrpd peer: priority 0, BACKUP, yield hold until --clear', async (t) => {
  const dir = tmp(t);
  const { io, advance, plane, vi1 } = await boot(t, dir);
  await advance(4000);
  t.equal((await vi1()).state, 'MASTER');
  const r = await plane.manual.switchover('VI_1', [join(dir, 'nobody.sock')], by);
  t.match(r, { ok: true, via: 'priority-0', state: 'BACKUP' });
  t.match((r as unknown as { tried: string[] }).tried[0], /nobody\.sock: no vrrpd is listening/);
  t.ok(
    io.adverts().some((a) => a.priority === 0),
    'priority 0 sent',
  );
  const i = await vi1();
  t.match(i.hold, { kind: 'yield', priority: 1 });
  t.same(i.vips, [{ address: '10.0.0.100', present: false }]);
  t.match(await plane.manual.switchover('VI_1', [], by), { ok: false, error: /BACKUP here/ }, 'only on the master');
  await plane.manual.clear({}, by);
  t.equal((await vi1()).hold, null);
});

t.test('maintenance: hands over, persists, applies before start after a restart, ends with --for', async (t) => {
  const dir = tmp(t);
  const first = await boot(t, dir);
  await first.advance(4000);
  t.equal((await first.vi1()).state, 'MASTER');
  const r = await first.plane.manual.maintenance(true, undefined, undefined, by);
  t.match(r, { ok: true, maintenance: true, persisted: true });
  let i = await first.vi1();
  t.equal(i.state, 'BACKUP', 'left MASTER');
  t.equal(i.effectivePriority, 1);
  t.match((await first.report()).maintenance, { kind: 'maintenance', by, nodeWide: true });
  const saved = JSON.parse(readFileSync(join(dir, 'manual.json'), 'utf8'));
  t.equal(saved.maintenance.node.by, by);
  t.match(await first.plane.manual.promote({ instance: 'VI_1' }, by), { ok: false, error: /maintenance/ }, 'no promote in maintenance');
  await first.advance(10_000);
  t.equal((await first.vi1()).state, 'MASTER', 'alone on the LAN it still serves (priority 1)');
  first.plane.close();
  await first.d.stop(0);

  // "Restart": a new daemon on the same state dir starts at priority 1 before any state.
  const second = await boot(t, dir);
  i = await second.vi1();
  t.equal(i.effectivePriority, 1, 'held from the first step after restart');
  second.io.receive('eth0', advertFrom('10.0.0.2', 50));
  await second.d.queue.idle();
  await second.advance(1000);
  second.io.receive('eth0', advertFrom('10.0.0.2', 50));
  await second.advance(1000);
  second.io.receive('eth0', advertFrom('10.0.0.2', 50));
  await second.advance(1000);
  t.equal((await second.vi1()).state, 'BACKUP', 'a priority-50 peer keeps it BACKUP');
  t.ok(second.log.messages('warn').some((m) => /maintenance restored from .*manual\.json for node/.test(m)));
  // Reload keeps it.
  const rl = await second.plane.reload(by);
  t.match(rl, { ok: true });
  t.equal((await second.vi1()).effectivePriority, 1, 'still held after reload');
  // Off, then a timed one that ends by itself.
  await second.plane.manual.maintenance(false, undefined, undefined, by);
  const normal = await second.vi1();
  t.ok(
    normal.hold === null && normal.effectivePriority === 100 + (normal.tracked.find((x) => x.kind === 'script')?.contribution ?? 0),
    'off: tracked priority again',
  );
  await second.plane.manual.maintenance(true, 'VI_1', 80, by);
  t.equal((await second.vi1()).effectivePriority, 1);
  await new Promise((r) => setTimeout(r, 200));
  await second.d.queue.idle();
  t.equal((await second.vi1()).effectivePriority, normal.effectivePriority, '--for elapsed: back to normal');
  t.equal(JSON.parse(readFileSync(join(dir, 'manual.json'), 'utf8')).maintenance.instances.VI_1, undefined, 'and persisted as ended');
});

t.test('control socket: status round trip with peer credentials; bad requests; status logged at debug only', async (t) => {
  const dir = tmp(t);
  const { log } = await boot(t, dir);
  const sock = join(dir, 'vrrpd.sock');
  const r = await request(sock, { cmd: 'status' });
  t.equal(r.ok, true);
  t.same(validate(SCHEMA, (r as unknown as { status: unknown }).status), []);
  t.match(await request(sock, { cmd: 'status', instance: 'nope' }), { ok: false, error: /no instance nope/ });
  t.match(await request(sock, { cmd: 'ping' }), { ok: true, pong: true });
  const m = await request(sock, { cmd: 'maintenance', on: true, instance: 'VI_1' }, 5000, 'alice');
  t.match(m, { ok: true });
  const st = (await request(sock, { cmd: 'status' })) as unknown as { status: StatusReport };
  const who = st.status.instances[0]!.hold!.by;
  t.match(
    who,
    new RegExp(`^alice \\(uid ${process.getuid!()}, pid ${process.pid}\\)$`),
    'SO_PEERCRED uid and pid, with the client-reported name',
  );
  t.notOk(
    log.lines.some((l) => l.level !== 'debug' && /status/.test(l.msg)),
    'status requests never log above debug',
  );
  t.ok(log.lines.some((l) => l.level === 'debug' && /control: status from/.test(l.msg)));
});
