/**
 * `vrrpd switchover` through a vrrpd peer: the master asks the peer's control socket to promote
 * itself. The peer records and logs who asked once: the operator (as the master's control socket
 * saw them), the switchover and the master it came from, and the master daemon's own credentials
 * (the peer's SO_PEERCRED). Two daemons on fake ports, their control planes on real Unix sockets
 * in a temporary directory; no root.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ControlPlane } from '../../src/control/plane.js';
import { SdNotify } from '../../src/control/sd-notify.js';
import { MemoryLog } from '../../src/log.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';

const conf = (priority: number): string =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority ${priority}\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.100\n  }\n}\n`;

async function node(dir: string, priority: number, runMs: number) {
  mkdirSync(dir);
  const io = new FakeIo();
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  const socketPath = join(dir, 'vrrpd.sock');
  const sd = new SdNotify({ env: {} });
  const plane = new ControlPlane({ daemon: d, log, version: '9.9.9', socketPath, stateDir: dir, reload: () => undefined, sd });
  const r = await d.start(configFromText(conf(priority)));
  if (!r.ok) throw new Error(r.error.message);
  await plane.started();
  await advanceDaemon(d, io, runMs);
  return { io, log, d, plane, socketPath };
}

t.test('the peer names the operator, the switchover and the master daemon, each once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-switchover-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const b = await node(join(dir, 'b'), 50, 1000);
  const a = await node(join(dir, 'a'), 100, 4000);
  t.teardown(() => {
    a.plane.close();
    b.plane.close();
  });
  t.equal(a.d.instances[0]!.state, 'MASTER');
  t.equal(b.d.instances[0]!.state, 'BACKUP');
  const done = a.plane.manual.switchover('VI_1', [b.socketPath], 'tester (uid 0, pid 1)');
  for (let i = 0; i < 200 && b.d.instances[0]!.state !== 'MASTER'; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(b.d.instances[0]!.state, 'MASTER', 'the peer took over');
  // the peer's first advert reaches the master, which steps down
  const payload = encodeAdvert({ vrid: 51, priority: 254, authType: 0, adverIntSec: 1, vips: ['10.0.0.100'] });
  a.io.receive('eth0', buildIpv4Packet({ srcIp: '10.0.0.2', dstIp: '224.0.0.18', ttl: 255, id: 1, payload }));
  await advanceDaemon(a.d, a.io, 10);
  t.match(await done, { ok: true, via: 'peer', leftMaster: true });

  const uid = process.getuid?.() ?? 0;
  const daemonCred = `\\(uid ${uid}, pid ${process.pid}\\)`;
  const by = `tester \\(uid 0, pid 1\\) via switchover from VI_1@10\\.0\\.0\\.1 ${daemonCred}`;
  const reason = (await b.plane.report()).instances[0]!.reason;
  t.match(reason, new RegExp(`^promoted by ${by}$`), 'the peer records the operator, then the master daemon');
  const line = b.log.messages('warn').find((m) => m.includes('promote requested by')) ?? '';
  t.match(line, new RegExp(`^\\(VI_1\\) promote requested by ${by}: holding priority 254 and taking over$`));
  t.equal(line.split('requested by').length - 1, 1, '"requested by" once');
  t.equal(line.split('tester').length - 1, 1, 'the operator once');
});
