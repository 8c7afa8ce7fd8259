/**
 * Vrrp6Transport (IPv6 VRRP sockets) on real namespaced networks (prefix vr-v6io-tr-, subnet
 * 10.232.61.0/24, IPv6 link-local plus fd00:6e::/64). What is checked is what keepalived 2.2.7 does
 * (test/fixtures/ipv6-na/README.md): hop limit 255 and traffic class 0xc0 on multicast adverts, the
 * source from IPV6_PKTINFO, the checksum filled by the kernel (IPV6_CHECKSUM), the hop limit and
 * destination handed to the receiver, multicast and unicast channels apart.
 */
import t from 'tap';
import { Vrrp6Transport, channelKey, VRRP_MULTICAST_GROUP6 } from '../../src/io/vrrp6-transport.js';
import type { ReceivedPacket6 } from '../../src/runtime/ports/packets.js';
import { onesComplementSum } from '../../src/protocol/checksum.js';
import { parseIpv6 } from '../../src/protocol/ipv6-address.js';
import { Lab, netnsSkip, waitForEvent } from '../support/netns.js';
import { enableIpv6 } from '../support/lab-ipv6.js';
import { PacketSocket } from '../../src/io/packet-socket.js';
import { buildNeighbourAdvert } from '../../src/protocol/na-frame.js';
import { buildTestAdvertV3 } from '../support/vrrp-packet.js';

/** RFC 5798 5.2.8: the checksum over the IPv6 pseudo-header (next header 112) and the message. */
function checksumOk(src: string, dst: string, msg: Buffer): boolean {
  const pseudo = Buffer.alloc(40);
  parseIpv6(src)!.copy(pseudo, 0);
  parseIpv6(dst)!.copy(pseudo, 16);
  pseudo.writeUInt32BE(msg.length, 32);
  pseudo[39] = 112;
  return onesComplementSum(msg, 0, msg.length, onesComplementSum(pseudo)) === 0xffff;
}

t.test('no root needed to refuse bad channels and sends', async (t) => {
  const tr = new Vrrp6Transport();
  t.equal(channelKey({ ifname: 'eth0' }), `eth0|${VRRP_MULTICAST_GROUP6}`);
  t.equal(channelKey({ ifname: 'eth0', unicastSrc: 'fd00::1', group: 'ff02::12' }), 'eth0|fd00::1');
  t.match(tr.open({ ifname: 'eth0', group: 'fd00::1' }), { ok: false, error: { code: 'EINVAL' } }, 'a unicast address as group');
  t.match(tr.open({ ifname: 'eth0', unicastSrc: 'ff02::12' }), { ok: false, error: { code: 'EINVAL' } }, 'a group as unicast source');
  t.match(tr.open({ ifname: 'eth0', group: 'ff02::12%eth0' }), { ok: false, error: { code: 'EINVAL' } }, 'not an address');
  t.match(tr.send('eth0|ff02::12', Buffer.alloc(8), { src: 'fe80::1', dst: 'ff02::12' }), { ok: false, error: { code: 'EBADF' } });
  t.same(tr.channels(), []);
});

t.test('IPv6 VRRP channels in namespaces', { skip: netnsSkip() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vr-v6io-tr-', subnet: '10.232.61', hosts: ['a', 'b'] });
  const [llA, llB] = [await enableIpv6(lab, 'a'), await enableIpv6(lab, 'b')];
  await lab.exec('a', ['ip', 'addr', 'add', 'fd00:6e::1/64', 'dev', 'eth0', 'nodad']);
  await lab.exec('b', ['ip', 'addr', 'add', 'fd00:6e::2/64', 'dev', 'eth0', 'nodad']);
  const got: ReceivedPacket6[] = [];
  const waiters = new Set<() => void>();
  let microtaskAfterMs: number | undefined;
  const trA = new Vrrp6Transport();
  const trB = new Vrrp6Transport({
    onPacket: (p) => {
      got.push(p);
      const t0 = performance.now();
      // the handler runs from libuv's poll phase: a promise it starts must not wait for another event
      void Promise.resolve().then(() => (microtaskAfterMs ??= performance.now() - t0));
      for (const w of [...waiters]) w();
    },
  });
  t.teardown(() => {
    trA.closeAll();
    trB.closeAll();
  });
  const receive = (pred: (p: ReceivedPacket6) => boolean): Promise<ReceivedPacket6> =>
    waitForEvent<ReceivedPacket6>(
      (deliver) => {
        const w = (): void => {
          const hit = got.find(pred);
          if (hit) deliver(hit);
        };
        waiters.add(w);
        w();
        return () => waiters.delete(w);
      },
      3000,
      'an IPv6 advert at b',
    );

  const mcA = lab.inNetns('a', () => trA.open({ ifname: 'eth0' }));
  const mcB = lab.inNetns('b', () => trB.open({ ifname: 'eth0' }));
  const ucA = lab.inNetns('a', () => trA.open({ ifname: 'eth0', unicastSrc: 'fd00:6e::1' }));
  const ucB = lab.inNetns('b', () => trB.open({ ifname: 'eth0', unicastSrc: 'fd00:6e::2' }));
  if (!(mcA.ok && mcB.ok && ucA.ok && ucB.ok)) {
    t.fail(`channels did not open: ${JSON.stringify([mcA, mcB, ucA, ucB])}`);
    return;
  }
  t.equal(mcB.value.ifindex, lab.host('b').ifindex, 'ifindex resolved inside the namespace');
  t.same(
    lab.inNetns('b', () => trB.open({ ifname: 'eth0' })),
    mcB,
    'opening the same channel again keeps it',
  );

  await t.test('multicast: ff02::12, link-local source, hop limit 255, tclass 0xc0, kernel checksum', async (t) => {
    const cap = await lab.capture('b', { filter: 'ip6 proto 112' });
    const msg = buildTestAdvertV3(61, 100, 'fd00:61::100');
    t.same(trA.send(mcA.value.key, msg, { src: llA, dst: 'ff02::12' }), { ok: true, value: msg.length });
    const rx = await receive((p) => p.packet[1] === 61);
    t.match(rx, { family: 6, src: llA, dst: 'ff02::12', hopLimit: 255, truncated: false, ifname: 'eth0', ifindex: lab.host('b').ifindex });
    t.ok(checksumOk(llA, 'ff02::12', rx.packet), 'the kernel wrote a valid checksum at offset 6 (IPV6_CHECKSUM)');
    t.same(rx.packet.subarray(8), msg.subarray(8), 'the rest of the message as sent');
    t.ok(microtaskAfterMs !== undefined && microtaskAfterMs < 50, `a promise started by the handler ran at once (${microtaskAfterMs} ms)`);
    const frames = (await cap.stop()).pcap.records.map((r) => r.data);
    const f = frames.find((d) => d.length > 62 && d[54 + 1] === 61);
    t.ok(f, 'captured on the wire');
    if (!f) return;
    t.equal(f.subarray(0, 6).toString('hex'), '333300000012', 'Ethernet destination 33:33:00:00:00:12');
    t.equal(f.readUInt32BE(14) >>> 20, 0x6c0, 'IPv6, traffic class 0xc0');
    t.equal(f[14 + 6], 112, 'next header 112');
    t.equal(f[14 + 7], 255, 'hop limit 255');
    t.equal(rx.packet.readUInt16BE(6), f.readUInt16BE(54 + 6), 'the receiver sees the checksum that was on the wire');
  });

  await t.test('the hop limit reaches the receiver, so the checks can drop hop limit != 255', async (t) => {
    const msg = buildTestAdvertV3(62, 100, 'fd00:61::100');
    t.ok(trA.send(mcA.value.key, msg, { src: llA, dst: 'ff02::12', hopLimit: 1 }).ok);
    const rx = await receive((p) => p.packet[1] === 62);
    t.equal(rx.hopLimit, 1);
  });

  await t.test('unicast: bound to unicast_src_ip, kernel default hop limit unless one is given', async (t) => {
    t.ok(trA.send(ucA.value.key, buildTestAdvertV3(63, 100, 'fd00:63::1'), { src: 'fd00:6e::1', dst: 'fd00:6e::2' }).ok);
    const rx = await receive((p) => p.packet[1] === 63);
    t.match(
      rx,
      { src: 'fd00:6e::1', dst: 'fd00:6e::2', hopLimit: 64 },
      "keepalived leaves IPv6 unicast to the kernel's hop limit (64 here)",
    );
    t.ok(checksumOk('fd00:6e::1', 'fd00:6e::2', rx.packet));
    t.ok(trA.send(ucA.value.key, buildTestAdvertV3(64, 100, 'fd00:63::1'), { src: 'fd00:6e::1', dst: 'fd00:6e::2', hopLimit: 255 }).ok);
    t.equal((await receive((p) => p.packet[1] === 64)).hopLimit, 255, 'unicast_ttl as IPV6_HOPLIMIT');
    const counts = trB.channels();
    t.equal(counts.find((c) => c.key === ucB.value.key)?.rxPackets, 2, 'unicast reached only the unicast channel');
    t.equal(counts.find((c) => c.key === mcB.value.key)?.rxPackets, 2, 'multicast reached only the multicast channel');
  });

  await t.test('errors are values', async (t) => {
    t.match(
      lab.inNetns('a', () => trA.open({ ifname: 'nosuch0' })),
      { ok: false, error: { code: 'ENODEV' } },
    );
    t.match(
      lab.inNetns('a', () => trA.open({ ifname: 'eth0', unicastSrc: 'fd00:6e::99' })),
      { ok: false, error: { code: 'EADDRNOTAVAIL', syscall: 'bind' } },
      'a unicast source not on the host',
    );
    t.match(trA.send(mcA.value.key, Buffer.alloc(9001), { src: llA, dst: 'ff02::12' }), { ok: false, error: { code: 'EMSGSIZE' } });
  });

  await t.test("an unsolicited NA leaves through the GARP path (PacketSocket) and overrides the peer's entry", async (t) => {
    // b has a stale entry for the VIP pointing elsewhere; keepalived's NA (Override set) must move it to a's MAC
    await lab.exec('b', ['ip', '-6', 'neigh', 'replace', 'fd00:6e::100', 'lladdr', '02:00:00:00:00:99', 'dev', 'eth0', 'nud', 'stale']);
    const cap = await lab.capture('b', { filter: 'icmp6' });
    const frame = buildNeighbourAdvert({ srcMac: lab.host('a').mac, target: 'fd00:6e::100', router: false });
    const ps = new PacketSocket();
    t.teardown(() => ps.close());
    const sent = lab.inNetns('a', () => ps.send(lab.host('a').ifindex, frame, 'eth0'));
    t.same(sent, { ok: true, value: frame.length });
    const deadline = Date.now() + 3000;
    let neigh = '';
    while (Date.now() < deadline && !neigh.includes(lab.host('a').mac)) {
      neigh = (await lab.exec('b', ['ip', '-6', 'neigh', 'show', 'fd00:6e::100', 'dev', 'eth0'])).stdout;
      await new Promise((r) => setTimeout(r, 25));
    }
    t.match(neigh, lab.host('a').mac, `b's neighbour entry now points at a (${neigh.trim()})`);
    const frames = (await cap.stop()).pcap.records.map((r) => r.data.toString('hex'));
    t.ok(frames.includes(frame.toString('hex')), "the frame on the wire is the builder's, byte for byte");
  });

  await t.test('closed channels send and receive nothing', async (t) => {
    trB.close(mcB.value.key);
    const before = got.length;
    t.ok(trA.send(mcA.value.key, buildTestAdvertV3(65, 100, 'fd00:61::100'), { src: llA, dst: 'ff02::12' }).ok);
    await new Promise((r) => setTimeout(r, 200));
    t.equal(got.length, before, 'nothing delivered after close');
    t.match(trB.send(mcB.value.key, Buffer.alloc(8), { src: llB, dst: 'ff02::12' }), { ok: false, error: { code: 'EBADF' } });
  });
});
