/**
 * Host state (host-state.ts): link events fed to the trackers and remembered per name, source
 * addresses resolved, and the VIP self-heal: an address someone else deletes from a MASTER is an
 * event for that instance, whose interpreter re-adds it (or, with vip_deleted keepalived, the
 * state machine's vip-deleted-externally). Fake netlink and sockets, shipped Instances; no root.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import type { TrackUpdate } from '../../src/protocol/tracking.js';
import { HostState, type VipDeletedPolicy } from '../../src/runtime/host-state.js';
import type { Instance } from '../../src/runtime/instance.js';
import { InterfaceTable } from '../../src/runtime/interfaces.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import type { AddrInfo, NetlinkEvent } from '../../src/runtime/ports/index.js';
import { SocketPool } from '../../src/runtime/socket-pool.js';
import { configFromText } from '../support/config-host.js';
import { fakeEnv, instanceIn } from './fake-env.js';
import { FakeIo } from './fake-io.js';

const CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_interface {
    eth1
  }
  virtual_ipaddress {
    10.0.0.100
    10.0.0.101 no_track
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.200
  }
}
`;

function setup(policy: VipDeletedPolicy = 'restore', states: ('MASTER' | 'BACKUP')[] = ['MASTER', 'BACKUP']) {
  const io = new FakeIo();
  io.addLink('eth1', 3, '10.0.1.1');
  const f = fakeEnv();
  const insts: Instance[] = instanceSpecs(configFromText(CONF)).map((s, i) => instanceIn(s, f, states[i]));
  const ifs = new InterfaceTable();
  const log = new MemoryLog();
  const sockets = new SocketPool(io.sockets, () => io.netlink.links(), log);
  const tracked: TrackUpdate[] = [];
  const host = new HostState({
    netlink: io.netlink,
    clock: io.clock,
    log,
    ifs,
    sockets,
    instances: () => insts,
    vipDeleted: policy,
    track: async (u) => void tracked.push(u),
  });
  host.init();
  host.syncSockets();
  return { io, f, insts, ifs, log, host, tracked };
}

const addr = (address: string, ifindex = 2): AddrInfo => ({
  ifindex,
  address,
  prefixLen: 32,
  peer: undefined,
  broadcast: undefined,
  scope: 0,
  label: undefined,
  secondary: true,
});
const deleted = (address: string, origin: 'self' | 'other' | 'kernel', port = 4242): NetlinkEvent => ({
  kind: 'addr',
  op: 'del',
  addr: addr(address),
  ifname: 'eth0',
  origin,
  port,
  synthetic: false,
});

t.test('self-heal: a VIP another process deletes from a MASTER is re-added by that instance (one host change, one burst)', async (t) => {
  const { f, insts, host } = setup();
  await host.onNetlink(deleted('10.0.0.100', 'other'));
  t.same(
    f.addressCalls.map((c) => [c.add, c.key]),
    [[true, '10.0.0.100']],
  );
  t.equal(f.garps.length, 1);
  t.equal(insts[0]!.counters.vipRestored, 1);
  t.match(f.log.messages('warn'), [/removed by another process \(netlink port 4242\) - re-added it/]);
});

t.test('self-heal: the kernel named as the deleter; our own deletes, no_track and BACKUPs ignored', async (t) => {
  const { f, host } = setup('restore', ['MASTER', 'BACKUP']);
  await host.onNetlink(deleted('10.0.0.100', 'self'));
  await host.onNetlink(deleted('10.0.0.101', 'other'));
  await host.onNetlink(deleted('10.0.0.200', 'other'));
  t.same(f.addressCalls, [], 'own delete, no_track VIP, and a BACKUP instance: nothing');
  await host.onNetlink(deleted('10.0.0.100', 'kernel', 0));
  t.match(f.log.messages('warn'), [/VIP 10\.0\.0\.100 was removed by the kernel/]);
});

t.test("vip_deleted keepalived: the deletion is the state machine's event (BACKUP, priority 0), no re-add", async (t) => {
  const { f, insts, host } = setup('keepalived');
  await host.onNetlink(deleted('10.0.0.100', 'other'));
  t.equal(insts[0]!.state, 'BACKUP');
  t.notOk(
    f.addressCalls.some((c) => c.add),
    'nothing re-added',
  );
  t.ok(
    f.addressCalls.some((c) => !c.add && c.key === '10.0.0.100'),
    'the remaining VIPs are removed by the transition',
  );
  t.equal(f.sent.length, 1, 'one advert (priority 0)');
  t.equal(f.sent[0]!.packet[22], 0);
});

t.test('link events: up/down fed to the trackers once per change, logged; a link nothing uses is forgotten when it goes', async (t) => {
  const { io, host, tracked, log } = setup();
  const eth1 = io.links.find((l) => l.ifname === 'eth1')!;
  await host.onNetlink({ kind: 'link', op: 'new', link: { ...eth1, running: false }, previous: eth1, synthetic: false });
  await host.onNetlink({ kind: 'link', op: 'new', link: { ...eth1, running: false }, previous: eth1, synthetic: false });
  t.same(tracked, [{ kind: 'interface', name: 'eth1', up: false }], 'one update for two identical events');
  t.ok(log.messages().includes('Netlink reports eth1 down'));
  t.notOk(host.isUp('eth1'));
  const veth = { ...eth1, ifindex: 9, ifname: 'veth9' };
  await host.onNetlink({ kind: 'link', op: 'new', link: veth, previous: undefined, synthetic: false });
  t.ok(host.knownLinks().includes('veth9'));
  await host.onNetlink({ kind: 'link', op: 'del', link: veth, previous: veth, synthetic: false });
  t.notOk(host.knownLinks().includes('veth9'), 'forgotten');
  await host.onNetlink({ kind: 'link', op: 'del', link: eth1, previous: eth1, synthetic: false });
  t.ok(host.knownLinks().includes('eth1'), 'a tracked interface is kept after it goes');
});

t.test('madeUp (a VMAC a reload made): up at once; the down event of its creation is ignored, a later down is not', async (t) => {
  const { io, host, tracked, log } = setup();
  const eth1 = io.links.find((l) => l.ifname === 'eth1')!;
  const vmac = { ...eth1, ifindex: 12, ifname: 'vrrp1.51' };
  host.madeUp('vrrp1.51', 12);
  t.ok(host.isUp('vrrp1.51'), 'up at once');
  await host.onNetlink({ kind: 'link', op: 'new', link: { ...vmac, up: false, running: false }, previous: undefined, synthetic: false });
  t.ok(host.isUp('vrrp1.51'), 'the creation (down) is not news');
  await host.onNetlink({ kind: 'link', op: 'new', link: vmac, previous: undefined, synthetic: false });
  t.same(tracked, [], 'no tracking update: it was up all along');
  await host.onNetlink({ kind: 'link', op: 'new', link: { ...vmac, up: false }, previous: vmac, synthetic: false });
  t.notOk(host.isUp('vrrp1.51'), 'set down once it was up: down');
  t.same(tracked, [{ kind: 'interface', name: 'vrrp1.51', up: false }]);
  t.ok(log.messages().includes('Netlink reports vrrp1.51 down'));
});

t.test('source address: the primary address, FAULT reason when the interface has none, back when one appears', async (t) => {
  const { io, insts, host } = setup('restore', ['BACKUP', 'BACKUP']);
  const vi1 = insts[0]!;
  await host.refreshSource(vi1, false);
  t.equal(vi1.srcIp, '10.0.0.1');
  io.addrs = io.addrs.filter((a) => a.address !== '10.0.0.1');
  vi1.srcIp = null;
  await host.refreshAll();
  t.equal(vi1.state, 'FAULT');
  t.equal(vi1.sourceProblem, 'no IPv4 address for interface eth0');
  io.addrs.push({ ...addr('10.0.0.9'), secondary: false });
  await host.onNetlink({ kind: 'addr', op: 'new', addr: io.addrs.at(-1)!, ifname: 'eth0', origin: 'other', port: 1, synthetic: false });
  t.equal(vi1.srcIp, '10.0.0.9');
  t.equal(vi1.state, 'BACKUP');
});
