/**
 * IPv6 instances in the runtime (issue 12), on fake ports (test/runtime/fake-io.ts): the shipped
 * Daemon with an IPv6 VRRP channel, as keepalived 2.2.7 runs them:
 *  - the channel is the interface and ff02::12 (or vrrp_mcast_group6), or unicast_src_ip, or
 *    (unicast without it) the interface's link-local address, FAULT while there is none;
 *  - adverts are VRRPv3 IPv6 messages from the interface's link-local address; no link-local
 *    address (still tentative, or none) is a FAULT that clears when one appears;
 *  - VIPs are added with nodad (and preferred_lft when configured), then unsolicited neighbour
 *    advertisements (5, garp_master_repeat) sent with the Router flag when forwarding is on;
 *  - an IPv6 VIP deleted behind the daemon's back is re-added and announced again;
 *  - a received higher-priority IPv6 advert makes the MASTER a BACKUP and removes the VIP;
 *  - an IPv4 instance's IPv6 eVIP is added and announced by NA, its IPv4 VIP by ARP.
 * Root not needed; deterministic.
 */
import t from 'tap';
import { encodeAdvertV3 } from '../../src/protocol/advert-v3.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { MemoryLog } from '../../src/log.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

const LL = 'fe80::1';
const PEER_LL = 'fe80::2';

const v6inst = (body: string): string => `vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 61
  priority 150
  advert_int 0.5
${body}
}
`;
const VIP = `  virtual_ipaddress {
    fd00::100/64
  }`;

async function boot(text: string, io = new FakeIo()) {
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  const r = await d.start(configFromText(text));
  if (!r.ok) throw new Error(r.error.message);
  const advance = (ms: number): Promise<void> => advanceDaemon(d, io, ms);
  return { d, io, log, advance, st: () => d.status().instances[0]! };
}

/** The NA frames sent: target and flags. */
function nas(io: FakeIo): { target: string; router: boolean; override: boolean; srcMac: string }[] {
  return io.frameBytes
    .filter((f) => f.frame.readUInt16BE(12) === 0x86dd && f.frame[54] === 136)
    .map((f) => ({
      target: [...Array(8).keys()].map((i) => f.frame.readUInt16BE(62 + 2 * i).toString(16)).join(':'),
      router: (f.frame[58]! & 0x80) !== 0,
      override: (f.frame[58]! & 0x20) !== 0,
      srcMac: [...f.frame.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':'),
    }));
}

t.test('an IPv6 instance: channel, adverts from the link-local address, VIP with nodad, NAs', async (t) => {
  const io = new FakeIo();
  io.addAddress6('eth0', LL);
  io.forwarding.set('eth0', true);
  const { st, advance } = await boot(v6inst(VIP), io);
  t.same(io.opened6, [{ ifname: 'eth0', group: 'ff02::12', ifindex: 2 }], 'one channel: eth0 and ff02::12');
  await advance(3000);
  t.equal(st().state, 'MASTER');
  t.match(st(), { version: 3, family: 6, advertIntMs: 500 });
  const ads = io.sent6;
  t.ok(ads.length >= 2, `${ads.length} adverts`);
  const first = ads[0]!;
  t.same(first.to, { src: LL, dst: 'ff02::12' });
  t.equal(first.message[0], 0x31, 'version 3, advertisement');
  t.equal(first.message.readUInt16BE(4), 50, '50 cs');
  t.equal(first.message.subarray(8).toString('hex'), 'fd000000000000000000000000000100', 'the VIP');
  t.match(
    io.netOps.filter((o) => o.what === 'addr' && o.op === 'add'),
    [{ op: 'add', detail: 'fd00::100/64 nodad=true preferred_lft=default' }],
  );
  const sent = nas(io);
  t.equal(sent.length, 5, 'garp_master_repeat 5 NAs');
  t.ok(
    sent.every((n) => n.target === 'fd00:0:0:0:0:0:0:100' && n.router && n.override && n.srcMac === '02:00:00:00:00:02'),
    'target the VIP, Router (forwarding on) and Override, from the interface MAC',
  );
  t.same(st().vips, ['fd00::100'], 'status names the VIP');
});

t.test('no link-local address: FAULT with the reason, BACKUP when one appears', async (t) => {
  const io = new FakeIo();
  const { st, advance } = await boot(v6inst(VIP), io);
  await advance(100);
  t.equal(st().state, 'FAULT');
  t.match(st().reason, /no IPv6 link-local address for interface eth0/);
  io.addAddress6('eth0', LL, 64, true);
  await advance(100);
  t.equal(st().state, 'BACKUP');
});

t.test('a higher-priority IPv6 advert: MASTER -> BACKUP, VIP removed; then the master interval is learned', async (t) => {
  const io = new FakeIo();
  io.addAddress6('eth0', LL);
  const { st, advance } = await boot(v6inst(VIP), io);
  await advance(3000);
  t.equal(st().state, 'MASTER');
  const msg = encodeAdvertV3({
    family: 'ipv6',
    vrid: 61,
    priority: 200,
    maxAdverIntCs: 20,
    vips: ['fd00::100'],
    srcIp: PEER_LL,
    dstIp: 'ff02::12',
  });
  io.receive6('eth0', msg, PEER_LL, 'ff02::12');
  await advance(10);
  t.equal(st().state, 'BACKUP');
  t.match(st(), { learnedAdvertIntMs: 200, master: { ip: PEER_LL, priority: 200 } });
  t.match(io.netOps.at(-1), { op: 'del', what: 'addr', detail: 'fd00::100/64' });
  // hop limit other than 255 on multicast: dropped as keepalived does
  io.receive6('eth0', msg, PEER_LL, 'ff02::12', 64);
  await advance(10);
  t.ok((st().drops['ttl'] ?? 0) >= 1, 'hop limit 64 dropped');
});

t.test('an IPv6 VIP deleted behind the daemon: re-added and announced again', async (t) => {
  const io = new FakeIo();
  io.addAddress6('eth0', LL);
  const { st, advance } = await boot(v6inst(VIP), io);
  await advance(3000);
  const before = nas(io).length;
  io.deleteAddress('fd00::100');
  await advance(10);
  t.match(st().counters, { vipRestored: 1 });
  t.ok(
    io.addrs.some((a) => a.address === 'fd00::100'),
    'back on the interface',
  );
  t.ok(nas(io).length > before, 'NAs sent for it');
});

t.test('an IPv4 instance with an IPv6 eVIP: ARP for the VIP, NA for the eVIP', async (t) => {
  const io = new FakeIo();
  const text = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  virtual_ipaddress {
    10.0.0.100/24
  }
  virtual_ipaddress_excluded {
    fd00::9/64 preferred_lft 0
  }
}
`;
  const { st, advance } = await boot(text, io);
  await advance(5000);
  t.equal(st().state, 'MASTER');
  t.match(
    io.netOps.filter((o) => o.what === 'addr' && o.op === 'add').map((o) => o.detail),
    ['10.0.0.100/24', 'fd00::9/64 nodad=true preferred_lft=0'],
  );
  t.ok(
    io.garps.some((g) => g.ip === '10.0.0.100'),
    'ARP for the IPv4 VIP',
  );
  t.equal(nas(io).filter((n) => n.target === 'fd00:0:0:0:0:0:0:9').length, 5, 'NA for the IPv6 eVIP');
  t.notOk(nas(io)[0]!.router, 'no Router flag: forwarding off');
});

t.test('unicast IPv6: the channel is bound to unicast_src_ip, one advert per peer', async (t) => {
  const io = new FakeIo();
  io.addAddress6('eth0', LL);
  io.addAddress6('eth0', 'fd00::1');
  const { st, advance } = await boot(v6inst(`  unicast_src_ip fd00::1\n  unicast_peer {\n    fd00::2\n    fd00::3\n  }\n${VIP}`), io);
  t.same(io.opened6, [{ ifname: 'eth0', unicastSrc: 'fd00::1', ifindex: 2 }]);
  await advance(3000);
  t.equal(st().state, 'MASTER');
  t.same(
    io.sent6.slice(0, 2).map((s) => s.to),
    [
      { src: 'fd00::1', dst: 'fd00::2' },
      { src: 'fd00::1', dst: 'fd00::3' },
    ],
  );
});

t.test('unicast IPv6 without unicast_src_ip: bound to and sending from the link-local address, as keepalived', async (t) => {
  const io = new FakeIo();
  io.addAddress6('eth0', 'fd00::1');
  io.addAddress6('eth0', LL);
  const { st, advance } = await boot(v6inst(`  unicast_peer {\n    ${PEER_LL}\n  }\n${VIP}`), io);
  t.same(io.opened6, [{ ifname: 'eth0', unicastSrc: LL, ifindex: 2 }], 'the channel is the link-local address (not fd00::1)');
  await advance(3000);
  t.equal(st().state, 'MASTER');
  t.same(io.sent6[0]?.to, { src: LL, dst: PEER_LL }, 'from the link-local address to the link-local peer');
  t.equal(io.sent6[0]?.key, `eth0|${LL}`, 'on that channel');
  // the peer's higher-priority advert, to this node's link-local address
  const msg = encodeAdvertV3({
    family: 'ipv6',
    vrid: 61,
    priority: 200,
    maxAdverIntCs: 50,
    vips: ['fd00::100'],
    srcIp: PEER_LL,
    dstIp: LL,
  });
  io.receive6('eth0', msg, PEER_LL, LL, 64);
  await advance(10);
  t.match(st(), { state: 'BACKUP', master: { ip: PEER_LL, priority: 200 } });
});

t.test('unicast IPv6 without unicast_src_ip: FAULT until a link-local address appears, FAULT again when it goes', async (t) => {
  const io = new FakeIo();
  io.addAddress6('eth0', 'fd00::1');
  const { st, advance } = await boot(v6inst(`  unicast_peer {\n    ${PEER_LL}\n  }\n${VIP}`), io);
  await advance(100);
  t.equal(st().state, 'FAULT');
  t.match(st().reason, /no IPv6 link-local address for interface eth0/);
  t.same(io.opened6, [], 'no channel without the address');
  io.addAddress6('eth0', LL, 64, true);
  await advance(100);
  t.same(io.opened6, [{ ifname: 'eth0', unicastSrc: LL, ifindex: 2 }], 'opened when it appears');
  t.equal(st().state, 'BACKUP', 'and out of FAULT (keepalived 2.2.7 stays FAULT: its bind failed at start)');
  await advance(3000);
  t.equal(st().state, 'MASTER');
  t.same(io.sent6.at(-1)?.to, { src: LL, dst: PEER_LL });
  io.deleteAddress(LL, 'kernel');
  await advance(100);
  t.equal(st().state, 'FAULT', 'the address deleted: FAULT, as keepalived');
  t.match(st().reason, /no IPv6 link-local address for interface eth0/);
  io.addAddress6('eth0', 'fe80::7', 64, true);
  await advance(100);
  t.equal(st().state, 'BACKUP', 'another link-local address: BACKUP again');
  t.same(io.opened6.at(-1), { ifname: 'eth0', unicastSrc: 'fe80::7', ifindex: 2 }, 'on a channel bound to it');
  await advance(3000);
  t.same(io.sent6.at(-1)?.to, { src: 'fe80::7', dst: PEER_LL }, 'adverts from it');
});
