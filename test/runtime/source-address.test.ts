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
import { resolveIfname, resolveSource, type SourceView } from '../../src/runtime/source-address.js';
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
