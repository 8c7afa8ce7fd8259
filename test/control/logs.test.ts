/**
 * Logs as the issue asks (DESIGN.md style 9): JSON lines with fixed keys for journald, console
 * lines whose text matches keepalived's for the events users grep, manual actions logged with who
 * asked, repeated packet errors rate-limited, and the password in neither logs nor status.
 */
import t from 'tap';
import { ControlPlane } from '../../src/control/plane.js';
import { SdNotify } from '../../src/control/sd-notify.js';
import { createLog } from '../../src/log.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';

const PASS = 'Zq9secret';
const CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass ${PASS}
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

const advert = (src: string, priority: number, pass = PASS): Buffer =>
  buildIpv4Packet({
    srcIp: src,
    dstIp: '224.0.0.18',
    ttl: 255,
    id: 1,
    payload: encodeAdvert({ vrid: 51, priority, authType: 1, authPass: pass, adverIntSec: 1, vips: ['10.0.0.100'] }),
  });

/** The console clock of these runs: a one-digit day, the case a `\d\d` pattern got wrong (issue 9). */
const CONSOLE_NOW = new Date(2026, 11, 2, 4, 48, 56);

async function run(consoleLines: boolean) {
  const lines: string[] = [];
  const log = createLog({ console: consoleLines, detail: false, write: (l) => void lines.push(l), now: () => CONSOLE_NOW });
  const io = new FakeIo();
  const d = new Daemon(withTestNotifier({ io, log }));
  const plane = new ControlPlane({
    daemon: d,
    log,
    version: 't',
    socketPath: '',
    stateDir: '/nonexistent-vc-logs',
    reload: () => undefined,
    sd: new SdNotify({ env: {} }),
  });
  const r = await d.start(configFromText(CONF));
  if (!r.ok) throw new Error(r.error.message);
  await plane.started();
  const advance = (ms: number): Promise<void> => advanceDaemon(d, io, ms);
  // A master at 150, 50 adverts with a wrong password, then a promote by "alice".
  io.receive('eth0', advert('10.0.0.2', 150));
  for (let i = 0; i < 50; i++) io.receive('eth0', advert('10.0.0.2', 150, 'wrong'));
  await d.queue.idle();
  await plane.manual.promote({ instance: 'VI_1' }, 'alice (uid 0, pid 7)');
  await advance(11_000);
  io.receive('eth0', advert('10.0.0.2', 150, 'wrong'));
  await d.queue.idle();
  const report = JSON.stringify(await plane.report());
  plane.close();
  return { lines, report };
}

t.test('JSON lines: fixed keys on transitions, who asked on manual actions, no password', async (t) => {
  const { lines, report } = await run(false);
  const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const master = objs.find((o) => o.msg === '(VI_1) Entering MASTER STATE');
  t.match(master, { level: 'info', instance: 'VI_1', vrid: 51, state: 'MASTER', reason: 'promoted by alice (uid 0, pid 7)' });
  t.ok(typeof master?.pid === 'number');
  t.match(master?.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'time in ISO 8601');
  const backup = objs.find((o) => o.msg === '(VI_1) Entering BACKUP STATE (init)');
  t.match(backup, { instance: 'VI_1', vrid: 51, state: 'BACKUP', reason: 'init' });
  const promote = objs.find((o) => typeof o.msg === 'string' && o.msg.includes('promote requested by alice'));
  t.match(promote, { level: 'warn', instance: 'VI_1', by: 'alice (uid 0, pid 7)' });
  const bad = objs.filter((o) => o.reason === 'auth-password');
  t.equal(
    bad.length,
    2,
    `51 bad-password adverts in 11 s: logged twice (first, then once after the 10 s window): ${bad.map((o) => o.msg).join(' / ')}`,
  );
  t.match(bad[1]?.msg, /\(49 similar messages suppressed\)/);
  t.notOk(lines.join('').includes(PASS), 'password in no log line');
  t.notOk(report.includes(PASS), 'password not in the status report');
});

t.test('console lines: keepalived text, ctime prefix', async (t) => {
  const { lines } = await run(true);
  const text = lines.join('');
  t.match(text, /^Wed Dec {2}2 04:48:56 2026: \(VI_1\) Entering BACKUP STATE \(init\)$/m);
  t.match(text, /^Wed Dec {2}2 04:48:56 2026: \(VI_1\) Entering MASTER STATE$/m);
  t.match(
    text,
    /: \(VI_1\) promote requested by alice \(uid 0, pid 7\): holding priority 254 and taking over from 10\.0\.0\.2 \(priority 150\)$/m,
  );
  t.notOk(text.includes(PASS));
});

t.test("console timestamp is C-locale %c: the day is space-padded like keepalived's", async (t) => {
  const { ctime } = await import('../../src/log.js');
  t.equal(ctime(new Date(2026, 10, 4, 2, 25, 4)), 'Wed Nov  4 02:25:04 2026');
  t.equal(ctime(new Date(2026, 10, 24, 2, 25, 4)), 'Tue Nov 24 02:25:04 2026');
});
