/**
 * Source address resolution (source-address.ts, pure; docs/keepalived-behaviour.md 3.1 "Source address") and the
 * socket pool (socket-pool.ts: one socket per interface in use, re-opened when the interface is
 * re-created). No root.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import type { AddrInfo, LinkInfo } from '../../src/runtime/ports/index.js';
import { SocketPool } from '../../src/runtime/socket-pool.js';
import { linkLocalOf, resolveIfname, resolveSource, type SourceView } from '../../src/runtime/source-address.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo } from './fake-io.js';

const link = (ifname: string, ifindex: number): LinkInfo => ({
  ifindex,
  ifname,
  up: true,
  running: true,
  lowerUp: true,
  noarp: false,
  loopback: false,
  mac: undefined,
  mtu: 1500,
  master: undefined,
});
const addr = (address: string, ifindex: number, o: Partial<AddrInfo> = {}): AddrInfo => ({
  ifindex,
  address,
  prefixLen: 24,
  peer: undefined,
  broadcast: undefined,
  scope: 0,
  label: undefined,
  secondary: false,
  ...o,
});
const spec = (body: string, iface = '  interface eth0\n') =>
  instanceSpecs(
    configFromText(
      `vrrp_instance VI_1 {\n${iface}  virtual_router_id 51\n  priority 100\n${body}  virtual_ipaddress {\n    10.0.0.100\n  }\n}\n`,
    ),
  )[0]!;
const view = (links: LinkInfo[], addrs: AddrInfo[], o: Partial<SourceView> = {}): SourceView => ({
  links,
  addrs,
  isVip: (a) => a === '10.0.0.100',
  hasSocket: () => true,
  ...o,
});

t.test('the primary address of the interface, never a VIP nor a secondary or link-scope one', async (t) => {
  const s = spec('');
  const v = view(
    [link('eth0', 2)],
    [addr('10.0.0.100', 2), addr('169.254.1.1', 2, { scope: 253 }), addr('10.0.0.7', 2, { secondary: true }), addr('10.0.0.1', 2)],
  );
  t.same(resolveSource(s, 'eth0', null, v), { ifname: 'eth0', src: '10.0.0.1', problem: null });
});

t.test('problems in words: no interface, no address, no socket; unicast_src_ip not on the interface', async (t) => {
  t.match(resolveSource(spec(''), 'eth0', null, view([], [])), { src: null, problem: 'interface eth0 does not exist' });
  t.match(resolveSource(spec(''), 'eth0', null, view([link('eth0', 2)], [])), { problem: 'no IPv4 address for interface eth0' });
  t.match(resolveSource(spec(''), 'eth0', null, view([link('eth0', 2)], [addr('10.0.0.1', 2)], { hasSocket: () => false })), {
    src: '10.0.0.1',
    problem: 'no VRRP socket on eth0',
  });
  const uni = spec('  unicast_src_ip 10.0.0.5\n  unicast_peer {\n    10.0.0.2\n  }\n');
  t.match(resolveSource(uni, 'eth0', null, view([link('eth0', 2)], [addr('10.0.0.1', 2)])), {
    problem: 'unicast_src_ip 10.0.0.5 is not on eth0',
  });
  t.match(resolveSource(uni, null, null, view([], [])), { ifname: null, problem: 'unicast_src_ip 10.0.0.5 is not on any interface' });
});

t.test('a source in use that vanished is kept, unless track_src_ip', async (t) => {
  const v = view([link('eth0', 2)], []);
  t.match(resolveSource(spec(''), 'eth0', '10.0.0.1', v), { src: '10.0.0.1', problem: null });
  t.match(resolveSource(spec('  track_src_ip\n'), 'eth0', '10.0.0.1', v), { src: null, problem: 'no IPv4 address for interface eth0' });
});

t.test('a unicast instance without `interface` is on the interface carrying its unicast_src_ip', async (t) => {
  const uni = spec('  unicast_src_ip 10.0.1.1\n  unicast_peer {\n    10.0.1.2\n  }\n', '');
  t.equal(resolveIfname(uni, null, [link('eth0', 2), link('eth1', 3)], [addr('10.0.1.1', 3)]), 'eth1');
  t.equal(resolveIfname(uni, 'eth1', [link('eth0', 2)], []), 'eth1', 'address gone: the interface it had');
});

t.test('socket pool: one socket per interface, groups joined, re-opened for a new ifindex, closed when unused', async (t) => {
  const io = new FakeIo();
  const closed: string[] = [];
  const pool = new SocketPool({ ...io.sockets, close: (n: string) => void closed.push(n) }, () => io.links, new MemoryLog());
  const mc = {
    ifname: 'eth0',
    spec: { interface: 'eth0', unicast: false, mcastGroup: '224.0.0.18', family: 4 as const, configuredSrcIp: null },
  };
  const uc = {
    ifname: 'eth0',
    spec: { interface: 'eth0', unicast: true, mcastGroup: '224.0.0.18', family: 4 as const, configuredSrcIp: null },
  };
  pool.sync([mc, uc]);
  pool.sync([mc, uc]);
  t.same(io.opened, [{ ifname: 'eth0', groups: ['224.0.0.18'] }], 'opened once for both');
  io.addLink('eth0', 7, undefined);
  pool.sync([mc, uc]);
  t.same(io.opened.at(-1), { ifname: 'eth0', groups: ['224.0.0.18'] });
  t.equal(io.opened.length, 2, 're-created interface: re-opened');
  pool.sync([uc]);
  t.same(io.opened.at(-1), { ifname: 'eth0', groups: [] }, 'groups changed: re-opened without the group');
  pool.sync([]);
  t.same(closed, ['eth0']);
  t.notOk(pool.has('eth0'));
});

// IPv6 unicast without unicast_src_ip (docs/keepalived-behaviour.md 3.1 "Source address"): the channel is
// bound to the interface's link-local address and the adverts leave from that same address.

const ll = (address: string, ifindex: number, o: Partial<AddrInfo> = {}): AddrInfo =>
  addr(address, ifindex, { family: 6, scope: 253, prefixLen: 64, ...o });
const v6uc = (src = '') => ({
  ifname: 'eth0',
  spec: { interface: 'eth0', unicast: true, mcastGroup: 'ff02::12', family: 6 as const, configuredSrcIp: src === '' ? null : src },
});

t.test('linkLocalOf: a usable link-local address of that interface, the one in use first', async (t) => {
  const addrs = [
    ll('fe80::9', 3),
    addr('fd00::1', 2, { family: 6 }),
    ll('fe80::t', 2, { tentative: true }),
    ll('fe80::d', 2, { dadFailed: true }),
    ll('fe80::1', 2),
    ll('fe80::2', 2),
  ];
  t.equal(linkLocalOf(2, addrs, null), 'fe80::1', 'the first usable one on ifindex 2 (not global, tentative, failed, or on 3)');
  t.equal(linkLocalOf(2, addrs, 'fe80::2'), 'fe80::2', 'the one in use while it is there');
  t.equal(linkLocalOf(2, addrs, 'fe80::t'), 'fe80::1', 'one in use that went tentative is not kept');
  t.equal(linkLocalOf(4, addrs, null), undefined);
});

t.test('socket pool, IPv6 unicast without unicast_src_ip: bound to the link-local address, follows it, none without it', async (t) => {
  const io = new FakeIo();
  const closed: string[] = [];
  const sockets6 = { ...io.sockets6, close: (k: string) => void closed.push(k) };
  const pool = new SocketPool(
    io.sockets,
    () => io.links,
    new MemoryLog(),
    sockets6,
    () => io.addrs,
  );
  const u = v6uc();
  t.equal(pool.sync([u]), false, 'no link-local address: nothing opened');
  t.same(io.opened6, []);
  t.equal(pool.key6(u, 'eth0'), undefined, 'no channel to send on');

  io.addAddress6('eth0', 'fd00::1');
  io.addAddress6('eth0', 'fe80::1');
  t.equal(pool.sync([u]), true, 'link-local address: opened');
  t.same(io.opened6, [{ ifname: 'eth0', unicastSrc: 'fe80::1', ifindex: 2 }], 'bound to the link-local address, not the global one');
  t.equal(pool.key6(u, 'eth0'), 'eth0|fe80::1');
  t.equal(pool.sync([u]), false, 'unchanged: nothing re-opened');

  // the same address as unicast_src_ip shares the channel (keepalived's pool keys by address)
  const explicit = v6uc('fe80::1');
  t.equal(pool.sync([u, explicit]), false, 'unicast_src_ip fe80::1: the same channel');
  t.equal(pool.key6(explicit, 'eth0'), 'eth0|fe80::1');

  // a second link-local address: the one in use stays; when it goes, the channel moves to the other
  io.addAddress6('eth0', 'fe80::2');
  t.equal(pool.sync([u]), false, 'a second link-local address: the channel stays on fe80::1');
  io.addrs = io.addrs.filter((a) => a.address !== 'fe80::1');
  t.equal(pool.sync([u]), true);
  t.same(closed, ['eth0|fe80::1'], 'the channel on the deleted address closed');
  t.same(io.opened6.at(-1), { ifname: 'eth0', unicastSrc: 'fe80::2', ifindex: 2 }, 'a channel on the other one');
  t.equal(pool.key6(u, 'eth0'), 'eth0|fe80::2');

  io.addrs = io.addrs.filter((a) => a.address !== 'fe80::2');
  t.equal(pool.sync([u]), true);
  t.same(closed, ['eth0|fe80::1', 'eth0|fe80::2'], 'no link-local address left: closed');
  t.equal(pool.key6(u, 'eth0'), undefined);
  t.notOk(pool.has('eth0', 6));
});

t.test('source of an IPv6 unicast instance without unicast_src_ip: the link-local address; FAULT without one', async (t) => {
  const s = instanceSpecs(
    configFromText(
      'vrrp_instance VI_6 {\n  interface eth0\n  virtual_router_id 61\n  priority 100\n  unicast_peer {\n    fe80::2\n  }\n  virtual_ipaddress {\n    fd00::100/64\n  }\n}\n',
    ),
  )[0]!;
  t.equal(s.family, 6);
  const v = (addrs: AddrInfo[]) => view([link('eth0', 2)], addrs);
  t.same(resolveSource(s, 'eth0', null, v([addr('fd00::1', 2, { family: 6 }), ll('fe80::1', 2)])), {
    ifname: 'eth0',
    src: 'fe80::1',
    problem: null,
  });
  t.same(
    resolveSource(s, 'eth0', 'fe80::1', v([addr('fd00::1', 2, { family: 6 })])),
    {
      ifname: 'eth0',
      src: null,
      problem: 'no IPv6 link-local address for interface eth0',
    },
    'the address in use deleted and no other: FAULT (keepalived alike), not kept as a multicast instance keeps it',
  );
  t.same(resolveSource(s, 'eth0', 'fe80::1', v([ll('fe80::2', 2)])).src, 'fe80::2', 'another link-local address: that one');
  t.match(resolveSource(s, 'eth0', null, view([link('eth0', 2)], [ll('fe80::1', 2)], { hasSocket: () => false })), {
    problem: 'no IPv6 VRRP socket on eth0',
  });
});
