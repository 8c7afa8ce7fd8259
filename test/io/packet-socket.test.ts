/**
 * PacketSocket (AF_PACKET via koffi) sending keepalived-identical gratuitous ARPs in namespaces
 * (prefix vio-garp-, subnet 10.232.2.0/24). a sends GARPs for a VIP; b captures and updates its
 * neighbour table.
 */
import t from 'tap';
import { PacketSocket, ifNameToIndex, sockaddrLl } from '../../src/io/packet-socket.js';
import { buildGratuitousArp } from '../../src/protocol/arp-frame.js';
import { Lab, netnsSkip, pollUntil } from '../support/netns.js';

t.test('sockaddr_ll layout', async (t) => {
  const sa = sockaddrLl(7, 0x0806, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  t.equal(sa.length, 20);
  t.equal(sa.readUInt16LE(0), 17, 'AF_PACKET (host order)');
  t.equal(sa.readUInt16BE(2), 0x0806, 'protocol in network order');
  t.equal(sa.readInt32LE(4), 7, 'ifindex');
  t.equal(sa[11], 6, 'halen');
});

t.test('construction opens nothing; short frames are refused as values', async (t) => {
  const ps = new PacketSocket();
  t.equal(ps.isOpen, false);
  const r = ps.send(1, Buffer.alloc(10));
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.error.code, 'EINVAL');
  t.equal(ps.isOpen, false);
});

t.test('gratuitous ARP on the wire and in the neighbour table', { skip: netnsSkip() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vio-garp-', subnet: '10.232.2', hosts: ['a', 'b'] });
  const a = lab.host('a');
  const vip = '10.232.2.100';
  const ps = new PacketSocket();
  t.teardown(() => ps.close());
  const opened = lab.inNetns('a', () => ps.open());
  t.ok(opened.ok, 'AF_PACKET socket opened in a');
  const idx = lab.inNetns('a', () => ifNameToIndex('eth0'));
  t.same(idx, { ok: true, value: a.ifindex });

  // b already has a stale neighbour entry for the VIP (as a client would after the old master).
  await lab.exec('b', ['ip', 'neigh', 'replace', vip, 'lladdr', '02:00:00:00:00:99', 'dev', 'eth0', 'nud', 'stale']);
  const cap = await lab.capture('b', { filter: 'arp' });
  const frame = buildGratuitousArp(a.mac, vip);
  for (let i = 0; i < 3; i++) {
    const r = ps.send(a.ifindex, frame, 'eth0');
    t.same(r, { ok: true, value: 42 }, `GARP ${i + 1} sent`);
  }
  await pollUntil(
    async () => {
      const n = (await lab.exec('b', ['ip', 'neigh', 'show', vip, 'dev', 'eth0'])).stdout;
      return n.includes(a.mac);
    },
    3000,
    "b to learn the VIP at a's MAC",
  );
  t.pass("b's ARP entry for the VIP now points at a");
  const res = await cap.stop();
  const garps = res.frames.filter((f) => f.arp?.senderIp === vip);
  t.equal(garps.length, 3, 'three GARPs captured');
  t.match(garps[0], {
    eth: { dst: 'ff:ff:ff:ff:ff:ff', src: a.mac, etherType: 0x0806 },
    arp: { op: 1, senderMac: a.mac, senderIp: vip, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: vip },
  });
  t.match(
    await res.text(),
    new RegExp(`Request who-has ${vip.replace(/\./g, '\\.')} \\(ff:ff:ff:ff:ff:ff\\) tell ${vip.replace(/\./g, '\\.')}`),
  );
  t.same(ps.counters, { sent: 3, errors: 0 });

  const bad = ps.send(9999, frame, 'ghost0');
  t.equal(bad.ok, false, 'unknown ifindex is an error value');
  if (!bad.ok) t.match(bad.error, { kind: 'IoError', syscall: 'sendto(AF_PACKET)', ifname: 'ghost0' });
  t.ok(!bad.ok && typeof bad.error.errno === 'number' && bad.error.errno > 0, `errno ${!bad.ok ? bad.error.code : ''}`);

  await lab.linkDown('a', 'host');
  const down = ps.send(a.ifindex, frame, 'eth0');
  t.equal(down.ok, false, 'sending on a downed link is an error value');
  if (!down.ok) t.equal(down.error.code, 'ENETDOWN');
});
