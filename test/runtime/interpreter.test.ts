/**
 * The instance's action interpreter is the one path to host addresses and GARPs (issue 11.2): the
 * VIP self-heal and a reload's diff are actions it performs, with the same calls to the host
 * (InstanceEnv.setAddress, InstanceEnv.garp) as the state machine's own actions. One shipped
 * Instance on a recording env; no daemon, no root.
 */
import t from 'tap';
import { instanceSpecs } from '../../src/runtime/params.js';
import { configFromText } from '../support/config-host.js';
import { fakeEnv, instanceIn } from './fake-env.js';

const conf = (vips: string, extra = ''): string => `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
${vips}
  }
${extra}}
`;

const spec = (text: string) => instanceSpecs(configFromText(text))[0]!;

const BASE = conf('    10.0.0.100/24 dev eth0 label eth0:vip\n    10.0.0.101', '  virtual_ipaddress_excluded {\n    10.0.0.150\n  }\n');

t.test('self-heal: a restore is one address add and one garp_master_repeat burst, through the interpreter', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(spec(BASE), f);
  await inst.restoreAddress('10.0.0.101', 'another process (netlink port 4242)');
  t.same(
    f.addressCalls,
    [{ add: true, kind: 'vips', key: '10.0.0.101', defaultIf: 'eth0' }],
    'exactly one host change: the VIP, on the instance interface',
  );
  t.equal(f.garps.length, 1, 'one request to the GARP module');
  t.same(
    f.garps[0]!.packets.map((p) => p.address),
    Array(5).fill('10.0.0.101'),
    '5 rounds (garp_master_repeat) for that address only',
  );
  t.equal(inst.counters.vipRestored, 1);
  t.equal(inst.counters.garpPackets, 5);
  t.match(f.log.messages('warn'), [
    /^\(VI_1\) VIP 10\.0\.0\.101 was removed by another process \(netlink port 4242\) - re-added it and sent gratuitous ARPs$/,
  ]);
});

t.test('self-heal: an eVIP is restored too; a BACKUP or an address not ours changes nothing', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(spec(BASE), f);
  await inst.restoreAddress('10.0.0.150', 'the kernel');
  t.same(
    f.addressCalls.map((c) => [c.kind, c.key]),
    [['evips', '10.0.0.150']],
  );
  t.match(f.log.messages('warn').at(-1), /eVIP 10\.0\.0\.150 was removed by the kernel/);
  await inst.restoreAddress('10.9.9.9', 'the kernel');
  const g = fakeEnv();
  const backup = instanceIn(spec(BASE), g, 'BACKUP');
  await backup.restoreAddress('10.0.0.101', 'the kernel');
  t.equal(f.addressCalls.length, 1, 'an address that is not a VIP of the instance: nothing');
  t.same(g.addressCalls, [], 'a BACKUP holds no VIPs: nothing to restore');
  t.same(g.garps, []);
});

t.test('self-heal: a failed re-add is counted and logged, and no GARP announces an address that is not there', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(spec(BASE), f);
  f.failNext(1, 'EPERM');
  await inst.restoreAddress('10.0.0.101', 'the kernel');
  t.equal(inst.counters.addressErrors, 1);
  t.equal(inst.counters.vipRestored, 0);
  t.same(f.garps, []);
  t.match(f.log.messages('warn'), [/^\(VI_1\) could not re-add 10\.0\.0\.101 deleted by the kernel: RTM_NEWADDR: EPERM/]);
});

t.test('tracksAddress: VIPs and eVIPs on their interface, not no_track ones', async (t) => {
  const inst = instanceIn(spec(conf('    10.0.0.100\n    10.0.0.102 no_track\n    10.0.1.100 dev eth1')), fakeEnv());
  t.ok(inst.tracksAddress('10.0.0.100', 'eth0'));
  t.ok(inst.tracksAddress('10.0.0.100', undefined), 'interface unknown (already gone): ours');
  t.notOk(inst.tracksAddress('10.0.0.100', 'eth1'), 'same address on another interface: not ours');
  t.ok(inst.tracksAddress('10.0.1.100', 'eth1'), 'a VIP with its own dev');
  t.notOk(inst.tracksAddress('10.0.0.102', 'eth0'), 'no_track');
  t.notOk(inst.tracksAddress('10.0.0.1', 'eth0'));
});

t.test("reload of a kept MASTER: the diff is performed by the instance's interpreter, in keepalived's order", async (t) => {
  const f = fakeEnv();
  const old = conf(
    '    10.0.0.100/24 dev eth0 label eth0:vip\n    10.0.0.101',
    '  virtual_routes {\n    10.1.0.0/16 via 10.0.0.254\n  }\n  virtual_rules {\n    from 10.0.0.100 table 100\n  }\n',
  );
  const inst = instanceIn(spec(old), f);
  const next = conf(
    '    10.0.0.100/24 dev eth0 label eth0:vip\n    10.0.0.102',
    '  virtual_ipaddress_excluded {\n    10.0.0.150\n  }\n  virtual_routes {\n    10.2.0.0/16 via 10.0.0.254\n  }\n',
  );
  await inst.reconfigure(spec(next));
  t.same(
    f.addressCalls.map((c) => `${c.add ? '+' : '-'}${c.kind} ${c.key}`),
    [
      '-rules from 10.0.0.100 table 100',
      '-routes 10.1.0.0/16 via 10.0.0.254',
      '-vips 10.0.0.101',
      '+vips 10.0.0.102',
      '+evips 10.0.0.150',
      '+routes 10.2.0.0/16 via 10.0.0.254',
    ],
    'gone: rules, routes, VIPs, eVIPs; then added: VIPs, eVIPs, routes, rules',
  );
  t.ok(f.log.messages('info').includes('(VI_1) ip address 10.0.0.101/32 dev eth0, no longer exist'));
  t.equal(f.garps.length, 1, 'one burst, as an address was added');
  t.same(
    f.garps[0]!.packets.map((p) => p.address),
    Array(5).fill(['10.0.0.100', '10.0.0.102', '10.0.0.150']).flat(),
    "all the instance's VIPs and eVIPs, old ones included (as keepalived), garp_master_repeat rounds",
  );
  t.same(
    inst.spec.vipEntries.map((e) => e.address),
    ['10.0.0.100', '10.0.0.102'],
    'the new settings are taken',
  );
  t.equal(inst.state, 'MASTER', 'state kept');
});

t.test('reload of a kept BACKUP: new settings, no host change', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(spec(BASE), f, 'BACKUP');
  await inst.reconfigure(spec(conf('    10.0.0.102')));
  t.same(f.addressCalls, []);
  t.same(f.garps, []);
  t.same(inst.snapshot.params.vips, ['10.0.0.102']);
});

t.test('reload: a failed add is counted and logged like any address change (it was silently ignored)', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(spec(BASE), f);
  f.failNext(1, 'EPERM');
  await inst.reconfigure(
    spec(
      conf(
        '    10.0.0.100/24 dev eth0 label eth0:vip\n    10.0.0.101\n    10.0.0.103',
        '  virtual_ipaddress_excluded {\n    10.0.0.150\n  }\n',
      ),
    ),
  );
  t.same(
    f.addressCalls.map((c) => c.key),
    ['10.0.0.103'],
  );
  t.equal(inst.counters.addressErrors, 1);
  t.match(f.log.messages('warn'), [/^\(VI_1\) cannot add 10\.0\.0\.103: RTM_NEWADDR: EPERM/]);
});

t.test('reload: removing what is already gone (EADDRNOTAVAIL) is counted but not warned', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(spec(BASE), f);
  f.failNext(1, 'EADDRNOTAVAIL');
  await inst.reconfigure(spec(conf('    10.0.0.100/24 dev eth0 label eth0:vip', '  virtual_ipaddress_excluded {\n    10.0.0.150\n  }\n')));
  t.equal(inst.counters.addressErrors, 1);
  t.same(f.log.messages('warn'), []);
  t.ok(f.log.messages('info').includes('(VI_1) ip address 10.0.0.101/32 dev eth0, no longer exist'));
});

t.test("the state machine's own address actions take the same path (becoming MASTER adds VIPs, then GARPs)", async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(spec(BASE), f, 'BACKUP');
  await inst.handle({ type: 'take-over', reason: 'test', nowMs: f.fake.now() });
  t.equal(inst.state, 'MASTER');
  t.same(
    f.addressCalls.map((c) => `${c.add ? '+' : '-'}${c.key}`),
    ['+10.0.0.100', '+10.0.0.101', '+10.0.0.150'],
  );
  t.ok(f.garps.length >= 1 && f.garps[0]!.packets.some((p) => p.address === '10.0.0.150'), 'a GARP burst through the same module call');
  t.ok(f.sent.length >= 1, 'an advert');
});
