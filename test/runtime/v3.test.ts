/**
 * VRRPv3 over IPv4 in the runtime (issue 12): shipped daemons on the fake LAN and clock
 * (test/support/fake-network.ts). What is checked is what keepalived 2.2.7 does (test/fixtures/v3/README.md):
 *  - the adverts on the wire are version 3 with the Max Adver Int in centiseconds and the
 *    pseudo-header checksum, and the peer's v3 decoder accepts them;
 *  - at advert_int 0.1 the backup takes over Master_Down_Interval after the last advert
 *    (3 * 100 + (256 - 100) * 100 / 256 = 360.9 ms at priority 100);
 *  - a backup adopts the master's interval (Master_Adver_Interval), reports it, and times its take-over
 *    on it (keepalived, master at 0.5 s, backup at 1 s: 1806 ms measured, 1804.7 ms by RFC 5798);
 *  - a priority-0 advert makes the backup take over after Skew_Time at the learned interval;
 *  - status and the dumps name the version and both intervals.
 * Root not needed; deterministic.
 */
import t from 'tap';
import { decodeAdvertV3Ipv4 } from '../../src/protocol/advert-v3-checks.js';
import { formatData, formatJson } from '../../src/runtime/dumps.js';
import { FakeNetwork, type NetNode } from '../support/fake-network.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

/** The IPv4 packets `n` sent (current boot). */
function packetsOf(n: NetNode): Buffer[] {
  return n.io.sent.map((s) => Buffer.from(s.packet));
}

/** Start a and b (a first, so it is master), run until a is MASTER and b BACKUP. */
async function pair(
  net: FakeNetwork,
  a: { priority: number; advertIntSec: number },
  b: { priority: number; advertIntSec: number },
): Promise<[NetNode, NetNode]> {
  const na = net.node({ ip: A, version: 3, ...a });
  const nb = net.node({ ip: B, version: 3, ...b });
  na.start();
  await net.advance(5000);
  nb.start();
  await net.advance(3000);
  return [na, nb];
}

t.test('adverts are VRRPv3: version 3, interval in centiseconds, a checksum the peer verifies', async (t) => {
  const net = new FakeNetwork();
  const [a, b] = await pair(net, { priority: 150, advertIntSec: 0.1 }, { priority: 100, advertIntSec: 0.1 });
  t.equal(a.state, 'MASTER');
  t.equal(b.state, 'BACKUP');
  const ads = packetsOf(a).filter((p) => p[9] === 112);
  t.ok(ads.length > 50, `a advertised every 100 ms (${ads.length})`);
  for (const p of ads.slice(-5)) {
    t.equal(p[20]! >> 4, 3, 'version 3');
    t.equal(p.readUInt16BE(24) & 0x0fff, 10, 'Max Adver Int 10 cs');
    const r = decodeAdvertV3Ipv4(p, { family: 'ipv4', vips: ['10.0.0.100'], checkVips: true, unicast: false });
    t.ok(r.ok, r.ok ? 'accepted by the v3 decoder' : `${r.reason}: ${r.detail}`);
  }
  t.same(
    Object.entries(b.status().drops).filter(([, n]) => n > 0),
    [],
    'b dropped nothing',
  );
  const st = b.status();
  t.match(st, { version: 3, family: 4, advertIntMs: 100, learnedAdvertIntMs: null });
});

t.test('advert_int 0.1: the backup takes over Master_Down_Interval (360.9 ms) after the last advert', async (t) => {
  const net = new FakeNetwork();
  const [a, b] = await pair(net, { priority: 150, advertIntSec: 0.1 }, { priority: 100, advertIntSec: 0.1 });
  const lastAdvert = a.advertsSent.at(-1)!.atMs;
  a.crash();
  await net.advance(1000);
  t.equal(b.state, 'MASTER');
  const took = b.logs.find((l) => l.atMs > lastAdvert && /Entering MASTER STATE/.test(l.msg))!;
  t.ok(took, 'b became MASTER');
  const ms = took.atMs - lastAdvert;
  t.ok(Math.abs(ms - 360.9) < 1.5, `take-over ${ms} ms after the last advert (RFC 5798: 360.9 ms)`);
});

t.test('a backup adopts the master interval, reports it, and times its take-over on it', async (t) => {
  const net = new FakeNetwork();
  // keepalived's measurement (test/fixtures/v3/rx-interval.txt): master at 50 cs, backup at 1 s.
  const [a, b] = await pair(net, { priority: 200, advertIntSec: 0.5 }, { priority: 100, advertIntSec: 1 });
  t.equal(b.state, 'BACKUP');
  t.match(b.status(), { advertIntMs: 1000, learnedAdvertIntMs: 500 });
  t.ok(
    b.logs.some((l) => l.msg === '(VI_1) advertisement interval updated from 1000ms to 500ms by master'),
    "keepalived's -D line",
  );
  const data = formatData(b.daemon.status(), net.configOf(b.config), () => ({ uid: 0, gid: 0 }));
  t.match(data, /VRRP Version = 3\n/);
  t.match(data, /Master advert int = 0\.50 sec\n/);
  t.match(data, /Advert interval = 1000 milli-sec\n/);
  t.match(data, /Master advert interval = 500 milli-sec\n/);
  const json = JSON.parse(formatJson(b.daemon.status(), net.configOf(b.config))) as { data: Record<string, unknown> }[];
  t.match(json[0]!.data, { version: 3, adver_int: 1, master_adver_int: 0.5 });

  const lastAdvert = a.advertsSent.at(-1)!.atMs;
  a.crash();
  await net.advance(4000);
  const took = b.logs.find((l) => l.atMs > lastAdvert && /Entering MASTER STATE/.test(l.msg))!;
  const ms = took.atMs - lastAdvert;
  // 3 * 500 + (256 - 100) * 500 / 256 = 1804.7 ms, not 3609 ms at its own interval
  t.ok(Math.abs(ms - 1804.7) < 1.5, `take-over ${ms} ms after the last advert`);
  t.ok(
    b.logs.some((l) => l.msg === '(VI_1) changing advert interval from 500ms to locally configured 1000ms'),
    'back to its own interval as MASTER',
  );
  t.match(b.status(), { state: 'MASTER', learnedAdvertIntMs: null });
  const mine = b.advertsSent.filter((x) => x.atMs >= took.atMs).map((x) => x.atMs);
  t.same(
    mine.slice(1).map((x, i) => x - mine[i]!),
    [1000, 1000],
    'its adverts at its own advert_int',
  );
});

t.test('priority 0 from the master: take-over after Skew_Time at the learned interval', async (t) => {
  const net = new FakeNetwork();
  const [a, b] = await pair(net, { priority: 200, advertIntSec: 0.2 }, { priority: 100, advertIntSec: 1 });
  await a.stop();
  const zero = a.advertsSent.find((x) => x.priority === 0);
  t.ok(zero, 'a sent priority 0');
  await net.advance(2000);
  const took = b.logs.find((l) => l.atMs >= zero!.atMs && /Entering MASTER STATE/.test(l.msg))!;
  // Skew_Time = (256 - 100) * 20 cs / 256 = 121.9 ms (RFC 5798 6.1)
  t.ok(Math.abs(took.atMs - zero!.atMs - 121.9) < 1.5, `take-over ${took.atMs - zero!.atMs} ms after priority 0`);
});

t.test('v2 and v3 do not talk: a v2 backup drops v3 adverts and takes over', async (t) => {
  const net = new FakeNetwork();
  const a = net.node({ ip: A, version: 3, priority: 150 });
  const b = net.node({ ip: B, priority: 100 });
  a.start();
  await net.advance(5000);
  b.start();
  await net.advance(6000);
  t.equal(b.state, 'MASTER', 'b hears no master it can accept');
  t.ok((b.status().drops['version'] ?? 0) > 0, `dropped as wrong version (${JSON.stringify(b.status().drops)})`);
});
