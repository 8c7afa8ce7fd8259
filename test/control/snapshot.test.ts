/**
 * `status` answered from a snapshot (src/control/snapshot.ts, issue 10): requests share one build;
 * a request that comes alone gets a new build, a flood gets at most the build budget (a burst of 5,
 * then 10 a second) and never more than a twentieth of the time; the daemon changed
 * (fingerprint), or a command said so; and on the daemon's fake ports, status requests are
 * answered while the work queue is busy (they never queue ahead of adverts and timers), a promote
 * or a transition is seen by the very next status, and 1,000 pipelined requests spend at most a
 * twentieth of their time building reports.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from '../../src/control/client.js';
import { ControlPlane } from '../../src/control/plane.js';
import type { StatusReport } from '../../src/control/protocol.js';
import { SdNotify } from '../../src/control/sd-notify.js';
import { SNAPSHOT_BUILD_BURST, SNAPSHOT_BUILDS_PER_SECOND, SNAPSHOT_COST_FACTOR, StatusSnapshot } from '../../src/control/snapshot.js';
import { MemoryLog } from '../../src/log.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { configFromText, ONE_INSTANCE_CONF } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';
import { validate } from './json-schema.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../../src/control/status.schema.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

t.test('StatusSnapshot: shared builds, age scaled by cost, fingerprint and invalidate', async (t) => {
  let now = 0;
  let fp = 1;
  let builds = 0;
  let cost = 1;
  let release: (() => void) | undefined;
  const s = new StatusSnapshot({
    build: async () => {
      builds++;
      await new Promise<void>((r) => (release = r));
      return { report: { n: builds } as unknown as StatusReport, costMs: cost };
    },
    fingerprint: () => fp,
    nowMs: () => now,
  });
  const waiting = Array.from({ length: 100 }, () => s.get());
  t.equal(builds, 1, '100 concurrent requests: one build');
  release!();
  const got = await Promise.all(waiting);
  t.ok(
    got.every((g) => g === got[0]),
    'all answered from the same snapshot',
  );
  t.equal(got[0]!.response.line(), got[0]!.response.line(), 'serialized once: the same bytes for every reply');
  t.equal(
    got[0]!.response.line(7),
    `${JSON.stringify({ ok: true, status: { n: 1 }, id: 7 })}\n`,
    'an id spliced in gives what encodeLine would',
  );

  now += SNAPSHOT_COST_FACTOR * 1 - 1;
  t.equal(await s.get(), got[0], `a 1 ms build, ${SNAPSHOT_COST_FACTOR - 1} ms later: reused`);
  now += 1;
  const p = s.get();
  t.equal(builds, 2, 'old enough: a new build');
  cost = 50;
  release!();
  await p;
  now += 50 * SNAPSHOT_COST_FACTOR - 1;
  await s.get();
  t.equal(
    builds,
    2,
    `a 50 ms build is kept ${50 * SNAPSHOT_COST_FACTOR} ms (at most 1/${SNAPSHOT_COST_FACTOR} of the time goes to builds)`,
  );

  fp = 2;
  const q = s.get();
  t.equal(builds, 3, 'the daemon changed (fingerprint): a new build at once');
  release!();
  await q;

  const r1 = s.get();
  t.equal(builds, 3, 'fresh: no build');
  s.invalidate();
  const r2 = s.get();
  t.equal(builds, 4, 'invalidate(): a new build at once');
  release!();
  await Promise.all([r1, r2]);
});

t.test('StatusSnapshot: requests that come alone always get a new build; a flood gets the build budget', async (t) => {
  let now = 0;
  let builds = 0;
  const s = new StatusSnapshot({
    build: async () => {
      builds++;
      return { report: { n: builds } as unknown as StatusReport, costMs: 0.01 };
    },
    fingerprint: () => 1,
    nowMs: () => now,
  });
  for (let i = 0; i < 20; i++) {
    now += 200;
    await s.get();
  }
  t.equal(builds, 20, 'one request every 200 ms: each one sees a new build (everything before it)');
  builds = 0;
  const t0 = now;
  for (let i = 0; i < 2000; i++) {
    now += 1;
    await s.get();
  }
  const want = SNAPSHOT_BUILD_BURST + ((now - t0) / 1000) * SNAPSHOT_BUILDS_PER_SECOND;
  t.ok(
    builds <= want + 1 && builds >= want - 2,
    `2,000 requests in 2 s: ${builds} builds (burst ${SNAPSHOT_BUILD_BURST} + ${SNAPSHOT_BUILDS_PER_SECOND}/s)`,
  );
});

const CONF = ONE_INSTANCE_CONF;

function advertFrom(src: string, priority: number): Buffer {
  const payload = encodeAdvert({ vrid: 51, priority, authType: 0, adverIntSec: 1, vips: ['10.0.0.100'] });
  return buildIpv4Packet({ srcIp: src, dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

async function boot(t: Test, snapshotReuseMs?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vc-snap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const io = new FakeIo();
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  const socket = join(dir, 'vrrpd.sock');
  const plane = new ControlPlane({
    daemon: d,
    log,
    version: '9.9.9',
    socketPath: socket,
    stateDir: dir,
    reload: () => d.reload(configFromText(CONF)),
    sd: new SdNotify({ env: {} }),
    ...(snapshotReuseMs !== undefined ? { snapshotReuseMs } : {}),
  });
  const r = await d.start(configFromText(CONF));
  if (!r.ok) throw new Error(r.error.message);
  await plane.started();
  t.teardown(() => plane.close());
  const status = async (): Promise<StatusReport> => {
    const res = await request(socket, { cmd: 'status' }, 3000);
    if (!res.ok) throw new Error(res.error);
    return res.status as StatusReport;
  };
  return { d, io, plane, socket, status, advance: (ms: number) => advanceDaemon(d, io, ms) };
}

t.test('status is answered while the work queue is busy: it never waits behind adverts and timers', async (t) => {
  const { d, io, socket, status } = await boot(t, 60_000);
  io.kernelDrops.set('eth0', 17);
  const first = await status();
  t.same(validate(SCHEMA, first), [], 'the snapshot validates against the schema');
  t.same(
    first.sockets,
    [{ family: 4, ifname: 'eth0', channel: null, rxPackets: 0, kernelDrops: 17 }],
    "the receive socket with the kernel's drops",
  );
  let release: (() => void) | undefined;
  d.queue.push('a long protocol step', () => new Promise<void>((r) => (release = r)));
  const replies = await Promise.all(Array.from({ length: 20 }, () => request(socket, { cmd: 'status' }, 2000)));
  t.ok(
    replies.every((r) => r.ok),
    '20 status requests answered with the queue blocked',
  );
  t.equal(d.queue.length, 1, 'and none of them added work to the queue');
  release!();
  await d.queue.idle();
});

t.test('a command or a transition is seen by the very next status, however young the snapshot', async (t) => {
  const { d, io, socket, status, advance } = await boot(t, 60_000);
  io.receive('eth0', advertFrom('10.0.0.2', 150));
  await d.queue.idle();
  let i = (await status()).instances[0]!;
  t.equal(i.state, 'BACKUP');
  t.equal(i.hold, null);
  const p = await request(socket, { cmd: 'promote', instance: 'VI_1' }, 3000);
  t.match(p, { ok: true, state: 'MASTER' });
  i = (await status()).instances[0]!;
  t.match(i, { state: 'MASTER', hold: { kind: 'promote' } }, 'promote: invalidated');
  await request(socket, { cmd: 'promote', clear: true }, 3000);
  io.receive('eth0', advertFrom('10.0.0.2', 200));
  await d.queue.idle();
  await advance(10);
  i = (await status()).instances[0]!;
  t.equal(i.state, 'BACKUP', 'a transition on the wire: the fingerprint changed, a new snapshot');
  t.equal(i.masterPriority, 200);
});

t.test('1,000 pipelined status requests on one connection: at most a twentieth of the time building, every reply whole', async (t) => {
  const { plane, socket } = await boot(t);
  await request(socket, { cmd: 'status' }, 3000);
  const before = plane.snapshot.builds;
  const beforeMs = plane.snapshot.buildMs;
  const N = 1000;
  const sock = connect(socket);
  let n = 0;
  let bad = 0;
  let buf = '';
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        if (!buf.startsWith('{"ok":true,"status":{"protocol":1')) bad++;
        buf = buf.slice(i + 1);
        if (++n === N) resolve();
      }
    });
    sock.write('{"cmd":"status"}\n'.repeat(N));
  });
  sock.destroy();
  const ms = performance.now() - t0;
  const builds = plane.snapshot.builds - before;
  const buildMs = plane.snapshot.buildMs - beforeMs;
  t.equal(bad, 0, 'every reply a whole status');
  t.ok(
    builds <= SNAPSHOT_BUILD_BURST + 1 + (ms / 1000) * SNAPSHOT_BUILDS_PER_SECOND,
    `${builds} builds for ${N} requests in ${ms.toFixed(0)} ms (burst ${SNAPSHOT_BUILD_BURST} + ${SNAPSHOT_BUILDS_PER_SECOND}/s)`,
  );
  t.ok(
    buildMs <= ms / SNAPSHOT_COST_FACTOR + buildMs / Math.max(1, builds) + 1,
    `${buildMs.toFixed(1)} ms of ${ms.toFixed(0)} ms spent building reports (at most 1/${SNAPSHOT_COST_FACTOR}, plus the last build)`,
  );
});
