/**
 * RawVrrpTransport on real namespaced networks (prefix vio-tr-, subnet 10.232.1.0/24).
 * Hosts a, b, c on one bridge; transports live in a, b (and c) through setns.
 */
import t from 'tap';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RawVrrpTransport, type ReceivedPacket } from '../../src/io/raw-transport.js';
import { Lab, netnsSkip, pollUntil, sleep, waitForEvent } from '../support/netns.js';
import { buildTestAdvert, peekAdvert } from '../support/vrrp-packet.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';

t.test('importing and constructing needs no root and opens nothing', async (t) => {
  const tr = new RawVrrpTransport({ onPacket: () => {} });
  t.same(tr.interfaces(), []);
  const r = await tr.send('eth0', buildTestAdvert({ srcIp: '10.0.0.1', dstIp: '224.0.0.18', vrid: 1, priority: 100, vips: [] }));
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.error.code, 'EBADF');
  const bad = tr.open('lo', { groups: ['10.0.0.1'] });
  t.equal(bad.ok, false, 'a non-multicast group is refused before any socket is opened');
});

t.test('raw transport in namespaces', { skip: netnsSkip() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vio-tr-', subnet: '10.232.1', hosts: ['a', 'b', 'c'] });
  const [a, b, c] = [lab.host('a'), lab.host('b'), lab.host('c')];
  const got: Record<string, ReceivedPacket[]> = { a: [], b: [], c: [] };
  const waiters = new Set<() => void>();
  let microtaskAfterMs: number | undefined;
  const mk = (name: string): RawVrrpTransport =>
    new RawVrrpTransport({
      onPacket: (p) => {
        got[name]!.push(p);
        const t0 = performance.now();
        // raw-socket calls the handler from libuv's poll phase (Nan::Call, no callback scope): a
        // promise it starts must still run at once (Node's check phase opens one every loop turn)
        void Promise.resolve().then(() => (microtaskAfterMs ??= performance.now() - t0));
        for (const w of [...waiters]) w();
      },
    });
  const trA = mk('a');
  const trB = mk('b');
  const trC = mk('c');
  t.teardown(() => {
    trA.closeAll();
    trB.closeAll();
    trC.closeAll();
  });
  /** Wait until host `name` received a packet matching `pred`. */
  const receive = (name: string, pred: (p: ReceivedPacket) => boolean, timeoutMs = 3000): Promise<ReceivedPacket> =>
    waitForEvent<ReceivedPacket>(
      (deliver) => {
        const w = (): void => {
          const hit = got[name]!.find(pred);
          if (hit) deliver(hit);
        };
        waiters.add(w);
        w();
        return () => waiters.delete(w);
      },
      timeoutMs,
      `a packet at ${name}`,
    );

  const openA = lab.inNetns('a', () => trA.open('eth0'));
  const openB = lab.inNetns('b', () => trB.open('eth0'));
  // c joins no group: it must still get unicast addressed to it, and no multicast.
  const openC = lab.inNetns('c', () => trC.open('eth0', { groups: [] }));
  t.ok(openA.ok && openB.ok && openC.ok, 'sockets opened');
  if (openA.ok) t.equal(openA.value.ifindex, a.ifindex, 'ifindex resolved inside the namespace');

  t.test('open on a missing interface is an ENODEV IoError', async (t) => {
    const r = lab.inNetns('a', () => trA.open('nosuch0'));
    t.equal(r.ok, false);
    if (!r.ok) t.match(r.error, { kind: 'IoError', code: 'ENODEV', ifname: 'nosuch0' });
  });

  await t.test('multicast advert a -> b: header on the wire and at the receiver', async (t) => {
    const cap = await lab.capture('b', { filter: 'ip proto 112' });
    const pkt = buildTestAdvert({ srcIp: a.ip, dstIp: '224.0.0.18', vrid: 51, priority: 100, vips: ['10.232.1.100'], id: 7 });
    const sent = await trA.send('eth0', pkt);
    t.same(sent, { ok: true, value: pkt.length });
    const rx = await receive('b', (p) => peekAdvert(p.packet)?.vrid === 51);
    const adv = peekAdvert(rx.packet)!;
    t.match(adv, { ttl: 255, tos: 0xc0, proto: 112, src: a.ip, dst: '224.0.0.18', version: 2, type: 1, priority: 100, id: 7 });
    t.equal(rx.ifname, 'eth0');
    t.equal(rx.ifindex, b.ifindex);
    t.equal(rx.packet.length, pkt.length, 'the whole IPv4 packet is delivered');
    t.ok(rx.packet.readUInt16BE(10) !== 0, 'kernel filled the IP checksum');
    t.ok(microtaskAfterMs !== undefined && microtaskAfterMs < 50, `a promise started by the handler ran at once (${microtaskAfterMs} ms)`);
    await sleep(100);
    t.equal(got.a!.length, 0, 'IP_MULTICAST_LOOP=0: the sender does not hear itself');
    t.equal(got.c!.length, 0, 'c joined no group: no multicast delivered');
    const res = await cap.stop();
    const f = res.frames.find((x) => x.ip?.protocol === 112);
    t.ok(f, 'advert captured on b');
    t.match(f, {
      eth: { dst: '01:00:5e:00:00:12', src: a.mac },
      ip: { ttl: 255, tos: 0xc0, protocol: 112, dst: '224.0.0.18', src: a.ip, fragOff: 0 },
    });
    t.match(await res.text(), /tos 0xc0, ttl 255, id 7, offset 0, flags \[none\], proto VRRP \(112\)/);
  });

  await t.test('unicast a -> c with a custom TTL: only c receives it', async (t) => {
    got.b!.length = 0;
    const pkt = buildTestAdvert({ srcIp: a.ip, dstIp: c.ip, vrid: 52, priority: 90, vips: ['10.232.1.101'], ttl: 64, id: 9 });
    const sent = await trA.send('eth0', pkt);
    t.ok(sent.ok, 'sent');
    const rx = await receive('c', (p) => peekAdvert(p.packet)?.vrid === 52);
    t.match(peekAdvert(rx.packet), { ttl: 64, src: a.ip, dst: c.ip, priority: 90 });
    await sleep(100);
    t.notOk(
      got.b!.some((p) => peekAdvert(p.packet)?.vrid === 52),
      'b does not see unicast to c',
    );
  });

  await t.test('one copy per unicast peer', async (t) => {
    got.b!.length = 0;
    got.c!.length = 0;
    for (const peer of [b.ip, c.ip]) {
      const r = await trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: peer, vrid: 53, priority: 80, vips: [] }));
      t.ok(r.ok, `sent to ${peer}`);
    }
    await receive('b', (p) => peekAdvert(p.packet)?.vrid === 53 && peekAdvert(p.packet)?.dst === b.ip);
    await receive('c', (p) => peekAdvert(p.packet)?.vrid === 53 && peekAdvert(p.packet)?.dst === c.ip);
  });

  await t.test('send is a sendto(2) inside the call: the packet has left when send() returns', async (t) => {
    const before = trA.interfaces().find((i) => i.ifname === 'eth0')!.txPackets;
    const p1 = trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: c.ip, vrid: 54, priority: 80, vips: [] }));
    const p2 = trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: b.ip, vrid: 54, priority: 80, vips: [] }));
    // No await, no event-loop turn yet: a netlink request issued now (VIPs) comes after both.
    t.equal(trA.interfaces().find((i) => i.ifname === 'eth0')!.txPackets - before, 2, 'both counted as sent before any turn of the loop');
    t.same([(await p1).ok, (await p2).ok], [true, true]);
    await receive('c', (p) => peekAdvert(p.packet)?.vrid === 54);
    await receive('b', (p) => peekAdvert(p.packet)?.vrid === 54);
  });

  await t.test('link down: send errors are values; after link up adverts flow again', async (t) => {
    await lab.linkDown('a', 'host');
    const r = await trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: '224.0.0.18', vrid: 54, priority: 1, vips: [] }));
    t.equal(r.ok, false, 'send on a downed link fails');
    if (!r.ok) {
      t.equal(r.error.kind, 'IoError');
      t.equal(r.error.syscall, 'sendto');
      t.ok(typeof r.error.errno === 'number', `errno ${r.error.code} (${r.error.message})`);
    }
    await lab.linkUp('a', 'host');
    await lab.waitLink('a', true);
    // b's membership survives its own link bounce too.
    await lab.linkDown('b', 'host');
    await lab.linkUp('b', 'host');
    await lab.waitLink('b', true);
    got.b!.length = 0;
    await pollUntil(
      async () => {
        await trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: '224.0.0.18', vrid: 55, priority: 1, vips: [] }));
        return got.b!.some((p) => peekAdvert(p.packet)?.vrid === 55);
      },
      5000,
      'advert after link up',
      100,
    );
    t.pass('adverts flow after link bounce');
  });

  await t.test('a burst is drained in one poll wake-up, not one wake-up per packet', async (t) => {
    got.b!.length = 0;
    const before = trB.interfaces().find((i) => i.ifname === 'eth0')!;
    // 20 sendto(2) calls in one turn of the loop: all 20 wait in b's socket before b's poll runs.
    const sends = Array.from({ length: 20 }, (_, k) =>
      trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: '224.0.0.18', vrid: 57, priority: 1 + k, vips: [] })),
    );
    t.same(
      (await Promise.all(sends)).map((r) => r.ok),
      Array(20).fill(true),
      'sent',
    );
    await pollUntil(async () => got.b!.filter((p) => peekAdvert(p.packet)?.vrid === 57).length === 20, 3000, '20 packets at b', 20);
    const after = trB.interfaces().find((i) => i.ifname === 'eth0')!;
    // (a late advert of the previous subtest may come along)
    t.ok(after.rxPackets - before.rxPackets >= 20, `counted (${after.rxPackets - before.rxPackets})`);
    const wakeups = after.rxWakeups - before.rxWakeups;
    t.ok(wakeups >= 1 && wakeups <= 3, `20 packets in ${wakeups} wake-up(s)`);
    t.same(
      got.b!.filter((p) => peekAdvert(p.packet)?.vrid === 57).map((p) => peekAdvert(p.packet)!.priority),
      Array.from({ length: 20 }, (_, k) => 1 + k),
      'in order, each its own copy',
    );
    t.equal(after.kernelDrops, 0, "the kernel's drop counter is read (SO_MEMINFO) and is 0");
  });

  await t.test("the kernel's receive drops are counted and logged", async (t) => {
    const warns: { obj: object; msg: string }[] = [];
    let n = 0;
    const trD = new RawVrrpTransport({
      onPacket: () => n++,
      logger: { warn: (obj, msg) => warns.push({ obj, msg }), debug: () => {} },
    });
    t.teardown(() => trD.closeAll());
    t.ok(lab.inNetns('b', () => trD.open('eth0')).ok, 'second socket on b');
    // More than the default receive buffer holds (~200 small packets), sent in one turn of the
    // loop: b cannot read before the buffer is full, so the kernel drops the rest.
    const total = 600;
    const sends = Array.from({ length: total }, () =>
      trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: '224.0.0.18', vrid: 58, priority: 1, vips: [] })),
    );
    await Promise.all(sends);
    let last = -1;
    await pollUntil(
      async () => {
        const stable = n === last;
        last = n;
        return stable;
      },
      5000,
      'receive settles',
      200,
    );
    const info = trD.interfaces()[0]!;
    t.ok(info.kernelDrops !== null && info.kernelDrops > 0, `kernel drops ${info.kernelDrops}, received ${n}`);
    t.equal(n + info.kernelDrops!, total, 'every packet either read or counted as a kernel drop');
    t.ok(info.rxWakeups < n / 2, `${n} packets in ${info.rxWakeups} wake-ups`);
    t.match(warns[0]?.msg ?? '', /the kernel dropped \d+ packet/, 'logged');
  });

  await t.test('rxCoalesceMs: packets spread over the window are read in one wake-up', async (t) => {
    let n = 0;
    const trE = new RawVrrpTransport({ onPacket: () => n++, rxCoalesceMs: 200 });
    t.teardown(() => trE.closeAll());
    t.ok(lab.inNetns('b', () => trE.open('eth0')).ok, 'coalescing socket on b');
    // Six packets 20 ms apart: the first wakes b, the next five arrive while it does not poll.
    for (let k = 0; k < 6; k++) {
      await trA.send('eth0', buildTestAdvert({ srcIp: a.ip, dstIp: '224.0.0.18', vrid: 59, priority: 1, vips: [] }));
      await sleep(20);
    }
    await pollUntil(async () => n >= 6, 3000, '6 packets', 20);
    const info = trE.interfaces()[0]!;
    t.equal(n, 6);
    t.ok(info.rxWakeups <= 3, `6 packets spread over 100 ms in ${info.rxWakeups} wake-ups`);
  });

  await t.test('reopen is idempotent; groups reconcile', async (t) => {
    const again = lab.inNetns('b', () => trB.open('eth0'));
    t.ok(again.ok);
    if (again.ok) t.same(again.value.groups, ['224.0.0.18']);
    const more = lab.inNetns('b', () => trB.open('eth0', { groups: ['224.0.0.18', '224.0.0.19'] }));
    if (more.ok) t.same(more.value.groups, ['224.0.0.18', '224.0.0.19']);
    const less = lab.inNetns('b', () => trB.open('eth0'));
    if (less.ok) t.same(less.value.groups, ['224.0.0.18']);
    t.equal(trB.interfaces().length, 1);
  });

  await t.test('interop: keepalived 2.2.7 adverts reach us, and ours drive keepalived', async (t) => {
    const conf = join(lab.tmpDir, 'keepalived.conf');
    const pid = lab.trackFile('/tmp/vio-tr.pid');
    const vpid = lab.trackFile('/tmp/vio-tr-vrrp.pid');
    writeFileSync(
      conf,
      `global_defs {
  router_id vio-tr-c
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 61
  priority 200
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret12
  }
  virtual_ipaddress {
    10.232.1.200/24
  }
}
`,
    );
    const ka = lab.spawn('c', ['keepalived', '-n', '-l', '-D', '-p', pid, '-r', vpid, '-f', conf]);
    t.teardown(() => ka.kill('SIGKILL', 1000));
    got.b!.length = 0;
    // keepalived with state MASTER and priority < 255 waits ~3 advert intervals as BACKUP first.
    const rx = await receive('b', (p) => peekAdvert(p.packet)?.vrid === 61, 8000);
    t.match(peekAdvert(rx.packet), { ttl: 255, tos: 0xc0, src: c.ip, dst: '224.0.0.18', priority: 200, version: 2, type: 1 });
    await ka.waitFor(/Entering MASTER STATE/, 2000);

    // Now we advertise a higher priority for the same VRID, VIP and password, built by the real
    // codec (src/protocol/advert.ts): keepalived must accept it and yield.
    let id = 1;
    const payload = encodeAdvert({ vrid: 61, priority: 250, authType: 1, authPass: 'secret12', adverIntSec: 1, vips: ['10.232.1.200'] });
    const timer = setInterval(() => {
      void trA.send('eth0', buildIpv4Packet({ srcIp: a.ip, dstIp: '224.0.0.18', ttl: 255, id: id++, payload }));
    }, 200);
    try {
      await ka.waitFor(/Entering BACKUP STATE/, 5000);
      t.pass('keepalived accepted our advert and went BACKUP');
    } finally {
      clearInterval(timer);
    }
    t.notMatch(ka.output, /(bogus|invalid|checksum|wrong|error)/i, 'keepalived logged no packet errors');
    const t0 = Date.now();
    await ka.kill('SIGTERM', 5000);
    t.comment(`keepalived stopped in ${Date.now() - t0} ms`);
    t.notOk(existsSync(pid) || existsSync(vpid), 'keepalived exited and removed its pid files');
  });
});
