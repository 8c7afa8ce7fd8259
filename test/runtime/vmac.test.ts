/**
 * use_vmac on fake ports (docs/vmac.md, src/runtime/vmac.ts): the daemon makes the VMAC before the
 * first state through the instance's interpreter, with keepalived's sysctls (rp_filter handled as
 * keepalived does), sends from it with the parent's address, puts the VIP on it, and removes it at
 * stop and when a reload removes the instance, putting the parent's sysctls back; a VMAC that
 * cannot be made is logged with its name and the instance is FAULT. With `vmac_xmit_base` the socket
 * and the adverts are on the parent, the VIP and the GARPs still on the VMAC.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import type { IoResult, LinkCommands, MacvlanSpec, Sysctls } from '../../src/runtime/ports/index.js';
import { formatData, formatJson } from '../../src/runtime/dumps.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

/** FakeIo with in-memory links and /proc/sys. */
class VmacIo extends FakeIo {
  readonly linkOps: string[] = [];
  readonly sys = new Map<string, number>([
    ['net/ipv4/conf/all/rp_filter', 1],
    ['net/ipv4/conf/default/rp_filter', 0],
    ['net/ipv4/conf/eth0/rp_filter', 0],
    ['net/ipv4/conf/eth0/arp_ignore', 0],
    ['net/ipv4/conf/eth0/arp_filter', 0],
  ]);
  failCreate: IoResult<never> | null = null;
  failUp = false;
  #next = 10;

  readonly linkCommands: LinkCommands = {
    addMacvlan: async (s: MacvlanSpec) => {
      this.linkOps.push(`add ${s.name} ${s.mac} on ${s.parentIfindex}`);
      if (this.failCreate) return this.failCreate;
      const ifindex = this.#next++;
      this.addLink(s.name, ifindex, undefined, true);
      this.links = this.links.map((l) => (l.ifindex === ifindex ? { ...l, mac: s.mac, kind: 'macvlan', parent: s.parentIfindex } : l));
      for (const k of ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries', 'arp_filter'])
        this.sys.set(`net/ipv4/conf/${s.name}/${k}`, k === 'rp_filter' ? (this.sys.get('net/ipv4/conf/default/rp_filter') ?? 0) : 0);
      this.sys.set(`net/ipv6/conf/${s.name}/disable_ipv6`, 0);
      return { ok: true, value: { ifindex } };
    },
    linkUp: async (ifindex) => {
      this.linkOps.push(`up ${ifindex}`);
      if (this.failUp)
        return { ok: false, error: { kind: 'IoError', syscall: 'RTM_NEWLINK', errno: 100, code: 'ENETDOWN', message: 'Network is down' } };
      return { ok: true, value: true };
    },
    delLink: async (ifindex) => {
      this.linkOps.push(`del ${ifindex}`);
      const name = this.links.find((l) => l.ifindex === ifindex)?.ifname;
      this.links = this.links.filter((l) => l.ifindex !== ifindex);
      for (const k of [...this.sys.keys()]) if (name !== undefined && k.includes(`/${name}/`)) this.sys.delete(k);
      return { ok: true, value: { absent: false } };
    },
  };

  readonly sysctls: Sysctls = {
    get: (p) => {
      const v = this.sys.get(p);
      return v === undefined
        ? { ok: false, error: { kind: 'IoError', syscall: 'read', errno: 2, code: 'ENOENT', message: p } }
        : { ok: true, value: v };
    },
    set: (p, v) => {
      this.sys.set(p, v);
      return { ok: true, value: true };
    },
  };
}

const conf = (body = '  use_vmac\n'): string => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
${body}  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

async function started(io: VmacIo, text = conf()): Promise<{ d: Daemon; log: MemoryLog }> {
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  const r = await d.start(configFromText(text));
  if (!r.ok) throw new Error(r.error.message);
  return { d, log };
}

const logText = (log: MemoryLog): string => log.lines.map((e) => e.msg).join('\n');

t.test('use_vmac: made before the first state, used for adverts, VIPs and GARPs, removed at stop', async (t) => {
  const io = new VmacIo();
  const { d, log } = await started(io);
  t.same(io.linkOps.slice(0, 2), ['add vrrp.51 00:00:5e:00:01:33 on 2', 'up 10'], 'a macvlan on eth0 with the VRRP MAC, then up');
  const s = (k: string): number | undefined => io.sys.get(k);
  t.same(
    ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries'].map((k) => s(`net/ipv4/conf/vrrp.51/${k}`)),
    [1, 1, 0, 1],
    'on the VMAC: arp_ignore 1, accept_local 1, rp_filter 0, promote_secondaries 1',
  );
  t.equal(s('net/ipv6/conf/vrrp.51/disable_ipv6'), 1, 'IPv6 off on the VMAC');
  t.same([s('net/ipv4/conf/eth0/arp_ignore'), s('net/ipv4/conf/eth0/arp_filter')], [1, 1], 'on the parent: arp_ignore 1, arp_filter 1');
  t.same(
    [s('net/ipv4/conf/all/rp_filter'), s('net/ipv4/conf/default/rp_filter'), s('net/ipv4/conf/eth0/rp_filter')],
    [0, 1, 1],
    'all.rp_filter 1 -> 0, default and eth0 raised to 1 first',
  );
  t.match(logText(log), /NOTICE: setting sysctl net\.ipv4\.conf\.all\.rp_filter from 1 to 0/);
  t.match(logText(log), /\(VI_1\): Success creating VMAC interface vrrp\.51/);
  t.same(
    io.opened.map((o) => o.ifname),
    ['vrrp.51'],
    'the VRRP socket is on the VMAC',
  );
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  t.equal(io.addrs.find((a) => a.address === '10.0.0.100')?.ifindex, 10, 'the VIP is on the VMAC');
  const adv = io.sent.filter((p) => p.packet[22]! > 0);
  t.ok(adv.length > 0 && adv.every((p) => p.ifname === 'vrrp.51'), 'adverts go out on the VMAC');
  t.equal(adv[0]!.packet.subarray(12, 16).join('.'), '10.0.0.1', "from the parent's address");
  t.ok(io.garps.length > 0 && io.garps.every((g) => g.ifindex === 10), 'GARPs on the VMAC');
  await d.stop(0);
  t.equal(io.linkOps.at(-1), 'del 10', 'removed at stop');
  t.match(logText(log), /\(VI_1\) Success removing VMAC interface vrrp\.51/);
  t.same([s('net/ipv4/conf/eth0/arp_ignore'), s('net/ipv4/conf/eth0/arp_filter')], [0, 0], "the parent's values are back");
  t.same(
    [s('net/ipv4/conf/all/rp_filter'), s('net/ipv4/conf/default/rp_filter'), s('net/ipv4/conf/eth0/rp_filter')],
    [1, 0, 0],
    'rp_filter back as it was',
  );
});

t.test('use_vmac: a VMAC that cannot be made is logged with its name and the instance is FAULT', async (t) => {
  const io = new VmacIo();
  io.failCreate = {
    ok: false,
    error: { kind: 'IoError', syscall: 'RTM_NEWLINK', errno: 1, code: 'EPERM', message: 'Operation not permitted' },
  };
  const { d, log } = await started(io);
  t.teardown(() => d.stop(0));
  await advanceDaemon(d, io, 4000);
  t.match(logText(log), /\(VI_1\) Unable to create VMAC interface vrrp\.51 \(EPERM: Operation not permitted\)/);
  t.equal(d.status().instances[0]!.state, 'FAULT');
  t.same(
    io.addrs.filter((a) => a.address === '10.0.0.100'),
    [],
    'no VIP anywhere',
  );
  t.same(io.sent, [], 'no advert');
});

t.test('use_vmac: a VMAC made but not brought up is not used (FAULT) and is removed at stop', async (t) => {
  const io = new VmacIo();
  io.failUp = true;
  const { d, log } = await started(io);
  await advanceDaemon(d, io, 4000);
  t.match(logText(log), /\(VI_1\) Unable to create VMAC interface vrrp\.51 \(bringing it up: ENETDOWN: Network is down\)/);
  t.equal(d.status().instances[0]!.state, 'FAULT');
  await d.stop(0);
  t.same(io.linkOps, ['add vrrp.51 00:00:5e:00:01:33 on 2', 'up 10', 'del 10'], 'made, failed to come up, removed at stop');
});

t.test('use_vmac: a non-macvlan of that name is not touched (FAULT); a stale macvlan is made again', async (t) => {
  const io = new VmacIo();
  io.addLink('vrrp.51', 7);
  const { d, log } = await started(io);
  await advanceDaemon(d, io, 4000);
  t.match(logText(log), /Unable to create VMAC interface vrrp\.51 \(VMAC vrrp\.51 conflicts with existing interface \(device\)\)/);
  t.equal(d.status().instances[0]!.state, 'FAULT');
  t.same(io.linkOps, [], 'nothing created or deleted');
  await d.stop(0);
  t.same(io.linkOps, [], 'and nothing deleted at stop');

  const io2 = new VmacIo();
  io2.addLink('vrrp.51', 7);
  io2.links = io2.links.map((l) => (l.ifname === 'vrrp.51' ? { ...l, kind: 'macvlan' } : l));
  const r2 = await started(io2);
  t.same(io2.linkOps.slice(0, 3), ['del 7', 'add vrrp.51 00:00:5e:00:01:33 on 2', 'up 10'], 'the old macvlan deleted and made again');
  await r2.d.stop(0);
});

t.test('use_vmac: a reload adding the instance makes the VMAC, one removing it removes it', async (t) => {
  const io = new VmacIo();
  const { d } = await started(io, conf(''));
  t.same(io.linkOps, [], 'no VMAC without use_vmac');
  await d.reload(configFromText(conf('  use_vmac vmac51\n')));
  t.same(io.linkOps, ['add vmac51 00:00:5e:00:01:33 on 2', 'up 10'], 'use_vmac IFNAME: that name');
  t.same(io.opened.map((o) => o.ifname).at(-1), 'vmac51', 'socket on it');
  await d.reload(configFromText(conf('')));
  t.equal(io.linkOps.at(-1), 'del 10', 'removed with its instance');
  t.equal(io.sys.get('net/ipv4/conf/eth0/arp_ignore'), 0, "the parent's arp_ignore back");
  await d.stop(0);
});

t.test('use_vmac: a VMAC deleted behind our back is made again, and the instance wins back the VIP on it', async (t) => {
  const io = new VmacIo();
  const { d, log } = await started(io);
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  const ops = io.linkOps.length;
  const garps = io.garps.length;
  const sent = io.sent.length;
  io.deleteLink('vrrp.51');
  await d.queue.idle();
  const text = logText(log);
  t.match(
    text,
    /Netlink reports vrrp\.51 down\n[^\n]*\n\(VI_1\) Entering FAULT STATE[\s\S]*Interface vrrp\.51 deleted\n\(VI_1\): Success creating VMAC interface vrrp\.51/,
  );
  t.same(
    io.linkOps.slice(ops),
    ['add vrrp.51 00:00:5e:00:01:33 on 2', 'up 11'],
    'made again: a macvlan on eth0 with the VRRP MAC, then up',
  );
  t.same(
    ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries'].map((k) => io.sys.get(`net/ipv4/conf/vrrp.51/${k}`)),
    [1, 1, 0, 1],
    "the new VMAC's sysctls set again",
  );
  t.equal(io.sys.get('net/ipv6/conf/vrrp.51/disable_ipv6'), 1);
  t.equal(d.status().instances[0]!.state, 'BACKUP', 'BACKUP once the new VMAC is up');
  t.equal(io.sent.length, sent, 'no advert from a FAULT with no VMAC');
  t.equal(io.opened.at(-1)?.ifname, 'vrrp.51', 'the socket re-opened on the new VMAC');
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER', 'MASTER again after the Master_Down_Timer');
  t.equal(io.addrs.find((a) => a.address === '10.0.0.100')?.ifindex, 11, 'the VIP is on the new VMAC');
  t.ok(io.garps.length > garps && io.garps.slice(garps).every((g) => g.ifindex === 11), 'GARPs on the new VMAC');
  t.equal(io.sys.get('net/ipv4/conf/eth0/arp_ignore'), 1, "the parent's arp_ignore still 1");
  await d.stop(0);
  t.equal(io.linkOps.at(-1), 'del 11', 'the new VMAC removed at stop');
  t.same([io.sys.get('net/ipv4/conf/eth0/arp_ignore'), io.sys.get('net/ipv4/conf/eth0/arp_filter')], [0, 0], "the parent's values back");
});

t.test('use_vmac: a VMAC gone with its parent is made again when the parent comes back', async (t) => {
  const io = new VmacIo();
  const { d, log } = await started(io);
  await advanceDaemon(d, io, 4000);
  io.deleteLink('vrrp.51');
  io.deleteLink('eth0');
  await d.queue.idle();
  const ops = io.linkOps.length;
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'FAULT');
  t.same(io.linkOps.slice(ops), [], 'nothing made while eth0 is missing');
  io.addLink('eth0', 2, '10.0.0.1', true);
  await d.queue.idle();
  t.same(io.linkOps.slice(ops), ['add vrrp.51 00:00:5e:00:01:33 on 2', 'up 11'], 'made again with eth0');
  await advanceDaemon(d, io, 8000);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  t.notMatch(logText(log), /Unable to create/, 'no failure logged');
  await d.stop(0);
  t.equal(io.linkOps.at(-1), 'del 11');
});

/** Someone sets vrrp.51 down (`ip link set vrrp.51 down`) or up again: its flags, then the link event. */
function setVmacUp(io: VmacIo, up: boolean): void {
  io.links = io.links.map((l) => (l.ifname === 'vrrp.51' ? { ...l, up } : l));
  io.setLink('vrrp.51', up);
}

t.test('use_vmac: a VMAC someone sets down holds the instance in FAULT until it is up again', async (t) => {
  const io = new VmacIo();
  const { d, log } = await started(io);
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  setVmacUp(io, false);
  await d.queue.idle();
  t.equal(d.status().instances[0]!.state, 'FAULT');
  t.match(logText(log), /\(VI_1\): entering FAULT state \(VMAC vrrp\.51 is down\)/);
  setVmacUp(io, true);
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER', 'up again: BACKUP, then MASTER');
  await d.stop(0);
});

/** A VRRPv2 advert from `src` for VRID 51 (multicast). */
function advertFrom(src: string, priority: number): Buffer {
  const payload = encodeAdvert({ vrid: 51, priority, authType: 0, adverIntSec: 1, vips: ['10.0.0.100'] });
  return buildIpv4Packet({ srcIp: src, dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

t.test('use_vmac + vmac_xmit_base: socket and adverts on the parent, VIP and GARPs on the VMAC', async (t) => {
  const io = new VmacIo();
  const { d } = await started(io, conf('  use_vmac\n  vmac_xmit_base\n'));
  t.same(io.linkOps.slice(0, 2), ['add vrrp.51 00:00:5e:00:01:33 on 2', 'up 10'], 'the VMAC is made as without it');
  t.same(
    io.opened.map((o) => o.ifname),
    ['eth0'],
    'the VRRP socket is on the parent',
  );
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  t.equal(d.status().instances[0]!.interface, 'vrrp.51', 'the instance is on its VMAC');
  t.equal(io.addrs.find((a) => a.address === '10.0.0.100')?.ifindex, 10, 'the VIP is on the VMAC');
  const adv = io.sent.filter((p) => p.packet[22]! > 0);
  t.ok(adv.length > 0 && adv.every((p) => p.ifname === 'eth0'), 'adverts go out on the parent');
  t.equal(adv[0]!.packet.subarray(12, 16).join('.'), '10.0.0.1', "from the parent's address");
  t.ok(io.garps.length > 0 && io.garps.every((g) => g.ifindex === 10), 'GARPs on the VMAC');
  // What reaches the VMAC is not the instance's (with vmac_xmit_base keepalived has no socket there).
  io.receive('vrrp.51', advertFrom('10.0.0.2', 200));
  await d.queue.idle();
  t.equal(d.status().instances[0]!.state, 'MASTER', 'a higher advert on the VMAC: not heard');
  io.receive('eth0', advertFrom('10.0.0.2', 200));
  await d.queue.idle();
  t.equal(d.status().instances[0]!.state, 'BACKUP', 'a higher advert on the parent: heard, BACKUP');
  t.same(
    io.addrs.filter((a) => a.address === '10.0.0.100'),
    [],
    'the VIP removed',
  );
  await d.stop(0);
  t.equal(io.linkOps.at(-1), 'del 10', 'the VMAC removed at stop');
});

t.test('use_vmac + vmac_xmit_base: the VMAC is still tracked; a reload moves the socket', async (t) => {
  const io = new VmacIo();
  const { d, log } = await started(io, conf('  use_vmac\n  vmac_xmit_base\n'));
  await advanceDaemon(d, io, 4000);
  setVmacUp(io, false);
  await d.queue.idle();
  t.equal(d.status().instances[0]!.state, 'FAULT', 'the VMAC down: FAULT, though the socket is on the parent');
  t.match(logText(log), /\(VI_1\): entering FAULT state \(VMAC vrrp\.51 is down\)/);
  setVmacUp(io, true);
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  await d.reload(configFromText(conf('  use_vmac\n')));
  t.equal(io.opened.at(-1)?.ifname, 'vrrp.51', 'without vmac_xmit_base: the socket on the VMAC');
  const sent = io.sent.length;
  await advanceDaemon(d, io, 2000);
  t.ok(io.sent.length > sent && io.sent.slice(sent).every((p) => p.ifname === 'vrrp.51'), 'adverts on the VMAC');
  await d.reload(configFromText(conf('  use_vmac\n  vmac_xmit_base\n')));
  t.equal(io.opened.at(-1)?.ifname, 'eth0', 'with it again: on the parent');
  t.equal(d.status().instances[0]!.state, 'MASTER', 'MASTER throughout');
  await d.stop(0);
});

t.test('use_vmac + unicast peers (vmac_xmit_base forced): unicast adverts and the source GARP on the parent', async (t) => {
  const io = new VmacIo();
  const { d } = await started(io, conf('  use_vmac\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n'));
  t.same(
    io.opened.map((o) => o.ifname),
    ['eth0'],
    'the VRRP socket is on the parent',
  );
  await advanceDaemon(d, io, 4000);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  t.equal(io.addrs.find((a) => a.address === '10.0.0.100')?.ifindex, 10, 'the VIP is on the VMAC');
  const adv = io.sent.filter((p) => p.packet[22]! > 0);
  t.ok(adv.length > 0 && adv.every((p) => p.ifname === 'eth0'), 'adverts go out on the parent');
  t.same([...new Set(adv.map((p) => p.packet.subarray(16, 20).join('.')))], ['10.0.0.2'], 'to the peer');
  t.ok(io.garps.length > 0 && io.garps.every((g) => g.ifindex === 10), 'GARPs for the VIP on the VMAC');
  const garps = io.garps.length;
  setVmacUp(io, false);
  await d.queue.idle();
  t.equal(d.status().instances[0]!.state, 'FAULT');
  setVmacUp(io, true);
  await d.queue.idle();
  t.equal(d.status().instances[0]!.state, 'BACKUP', 'out of FAULT');
  t.same(
    io.garps.slice(garps).map((g) => `${g.ip} on ${g.ifindex}`),
    ['10.0.0.1 on 2'],
    'leaving FAULT: the unicast source announced on the parent (keepalived: the base interface)',
  );
  await d.stop(0);
});

t.test("use_vmac in keepalived's dumps: the Use VMAC and Interface lines, the VIPs on VMAC@parent", async (t) => {
  // The lines Debian's keepalived 2.2.7 writes for the same configs (test/interop/vmac.test.ts compares the running daemons).
  const cases: Array<[string, string, string[], string]> = [
    [
      'use_vmac',
      '  use_vmac\n',
      ['   Use VMAC, i/f name vrrp.51, is_up = true, xmit_base = false', '   Interface = vrrp.51, vmac on eth0'],
      '10.0.0.100/24 dev vrrp.51@eth0 scope global set',
    ],
    [
      'a named VMAC',
      '  use_vmac vmx1\n',
      ['   Use VMAC, i/f name vmx1, is_up = true, xmit_base = false', '   Interface = vmx1, vmac on eth0'],
      '10.0.0.100/24 dev vmx1@eth0 scope global set',
    ],
    [
      'vmac_xmit_base',
      '  use_vmac\n  vmac_xmit_base\n',
      ['   Use VMAC, i/f name vrrp.51, is_up = true, xmit_base = true', '   Interface = vrrp.51, vmac on eth0, xmit base i/f'],
      '10.0.0.100/24 dev vrrp.51@eth0 scope global set',
    ],
  ];
  for (const [what, body, lines, vip] of cases) {
    const io = new VmacIo();
    const cfg = configFromText(conf(body));
    const { d } = await started(io, conf(body));
    await advanceDaemon(d, io, 4000);
    t.equal(d.status().instances[0]!.state, 'MASTER', `${what}: MASTER`);
    const data = formatData(d.status(), cfg, () => ({ uid: 0, gid: 0 }));
    const inst = data.split('\n');
    const at = inst.indexOf(lines[0]!);
    t.same(inst.slice(at, at + 2), lines, `${what}: ${lines.join(' / ')}`);
    t.match(inst[at - 1], /^ {3}Last transition = /, `${what}: after the last transition, as keepalived`);
    t.ok(inst.includes(`     ${vip}`), `${what}: VIP line ${vip}`);
    const json = JSON.parse(formatJson(d.status(), cfg)) as Array<{ data: Record<string, unknown> }>;
    t.same(json[0]!.data.vips, [vip], `${what}: the JSON dump's VIP`);
    await d.stop(0);
  }
  // VIPs on a VMAC of their own (use_vmac_addr, use_vmac on the line): keepalived 2.2.7 wrote
  // `10.236.51.100/24 dev vrrp.51@eth1 scope global set` and `... dev vrrp.51@eth1 use_vmac scope global set`.
  for (const [what, body, vip, more] of [
    ['use_vmac_addr', '  use_vmac_addr\n', '10.0.1.100/24 dev eth1', '   Use VMAC for VIPs on other interfaces\n   Interface = eth0\n'],
    ['use_vmac on the VIP line', '', '10.0.1.100/24 dev eth1 use_vmac', '   Interface = eth0\n'],
  ] as const) {
    const io = new VmacIo();
    io.addLink('eth1', 3, '10.0.1.1');
    const text = conf(body).replace('    10.0.0.100/24\n', `    10.0.0.100/24\n    ${vip}\n`);
    const cfg = configFromText(text);
    const { d } = await started(io, text);
    await advanceDaemon(d, io, 4000);
    const data = formatData(d.status(), cfg, () => ({ uid: 0, gid: 0 }));
    const set = d.status().instances[0]!.state === 'MASTER' ? ' set' : '';
    const line = `10.0.1.100/24 dev vrrp.51@eth1${vip.endsWith('use_vmac') ? ' use_vmac' : ''} scope global${set}`;
    t.match(data, `\n${more}`, `${what}: ${more.trim().replace('\n', ' / ')}`);
    t.match(data, `\n     10.0.0.100/24 dev eth0 scope global${set}\n     ${line}\n`, `${what}: ${line}`);
    const json = JSON.parse(formatJson(d.status(), cfg)) as Array<{ data: Record<string, unknown> }>;
    t.same(json[0]!.data.vips, [`10.0.0.100/24 dev eth0 scope global${set}`, line], `${what}: the JSON dump's VIPs`);
    await d.stop(0);
  }
  const io = new VmacIo();
  io.failUp = true;
  const { d } = await started(io);
  t.teardown(() => d.stop(0));
  const data = formatData(d.status(), configFromText(conf()), () => ({ uid: 0, gid: 0 }));
  t.match(
    data,
    /\n {3}Use VMAC, i\/f name vrrp\.51, is_up = false, xmit_base = false\n {3}Interface = vrrp\.51, vmac on eth0\n/,
    'not up: is_up = false',
  );
  const plain = new FakeIo();
  const p = await started(plain as VmacIo, conf(''));
  t.teardown(() => p.d.stop(0));
  const noVmac = formatData(p.d.status(), configFromText(conf('')), () => ({ uid: 0, gid: 0 }));
  t.notMatch(noVmac, /VMAC/, 'no VMAC lines without use_vmac');
  t.match(noVmac, /\n {3}Interface = eth0\n/);
});
