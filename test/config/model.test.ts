/**
 * The typed model: keepalived's defaults and derivations (docs/keepalived-behaviour.md 2.1-2.7 with the
 * config-cases README corrections), the deployments users bring (test/fixtures/deployments, and the
 * vendors' originals too with VRRPD_KEEPALIVED_CORPUS), and immutability.
 * Pure: memoryHost (interfaces lo + eth0..eth3, no script checks).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { memoryHost } from '../support/config-host.js';
import { corpusAbsent, corpusDir } from '../support/corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const deploymentsDir = resolve(here, '../fixtures/deployments');
const scenarios = corpusDir('scenarios');

const one = (text: string): LoadResult => loadConfig('k.conf', memoryHost({ 'k.conf': text }));
const inst = (body: string, name = 'VI_1', vrid = 51, iface = 'eth0') =>
  `vrrp_instance ${name} {\n  interface ${iface}\n  virtual_router_id ${vrid}\n${body}\n${body.includes('virtual_ipaddress') ? '' : '  virtual_ipaddress {\n    10.0.0.1/24\n  }\n'}}\n`;
const i0 = (r: LoadResult) => r.partial.instances[0]!;
const texts = (r: LoadResult) => r.diagnostics.filter((d) => d.severity !== 'info').map((d) => d.message);
const SCRIPTS = 'vrrp_script chk_w {\n  script "/bin/true"\n  weight 10\n}\nvrrp_script chk_0 {\n  script "/bin/true"\n}\n';

t.test('2.2 instance defaults (alloc_vrrp)', async (t) => {
  const r = one(inst(''));
  t.same(texts(r), []);
  t.equal(r.exitCode, 0);
  t.match(i0(r), {
    state: 'BACKUP',
    stateConfigured: false,
    priority: 100,
    advertIntMs: 1000,
    version: 2,
    nopreempt: false,
    preemptDelayMs: 0,
    authType: 'NONE',
    authPass: null,
    unicastTtl: 255,
    unicastPeers: [],
    checkUnicastSrc: false,
    garpMasterDelayMs: 5000,
    garpMasterRepeat: 5,
    garpMasterRefreshMs: 0,
    garpMasterRefreshRepeat: 1,
    garpLowerPrioDelayMs: 5000,
    garpLowerPrioRepeat: 5,
    downTimerAdverts: 3,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    skipCheckAdvAddr: false,
    strictMode: false,
    accept: true,
    notify: {},
    syncGroup: null,
    origin: { file: 'k.conf', line: 1 },
  });
  t.match(r.partial.global, {
    vrrpMcastGroup4: '224.0.0.18',
    defaultInterface: 'eth0',
    vrrpVersion: 2,
    smtpConnectTimeoutMs: 30000,
    enableScriptSecurity: false,
  });
});

t.test('2.2 state: MASTER without priority means 255; priority 255 derives MASTER', async (t) => {
  const m = one(inst('  state MASTER'));
  t.match(i0(m), { state: 'MASTER', stateConfigured: true, priority: 255 });
  const p = one(inst('  priority 255'));
  t.match(i0(p), { state: 'MASTER', stateConfigured: false, priority: 255 });
  const b = one(inst('  state MASTER\n  priority 150'));
  t.match(i0(b), { state: 'MASTER', priority: 150 });
  const lower = one(inst('  state master'));
  t.equal(i0(lower).state, 'BACKUP');
  t.ok(texts(lower).includes("(VI_1) unknown state 'master', defaulting to BACKUP"));
});

t.test('1.3/2.2 global GARP values are copied when the instance starts', async (t) => {
  const g =
    'global_defs {\n  vrrp_garp_master_delay 2\n  vrrp_garp_master_repeat 3\n  vrrp_garp_master_refresh 10\n  vrrp_garp_master_refresh_repeat 2\n  vrrp_skip_check_adv_addr\n}\n';
  const before = one(g + inst(''));
  t.match(i0(before), {
    garpMasterDelayMs: 2000,
    garpMasterRepeat: 3,
    garpMasterRefreshMs: 10000,
    garpMasterRefreshRepeat: 2,
    skipCheckAdvAddr: true,
  });
  const after = one(inst('') + g);
  t.match(
    i0(after),
    { garpMasterDelayMs: 5000, garpMasterRepeat: 5, garpMasterRefreshMs: 0, garpMasterRefreshRepeat: 1, skipCheckAdvAddr: false },
    'global_defs after the instance does not apply to it',
  );
  t.equal(after.partial.global.vrrpGarpMasterDelayMs, 2000, 'but is the global value');
  t.same(texts(after), [], 'accepted silently (config-cases global-defs-after-instance)');
  const own = one(g + inst('  garp_master_delay 1\n  garp_master_repeat 9'));
  t.match(i0(own), { garpMasterDelayMs: 1000, garpMasterRepeat: 9, garpMasterRefreshMs: 10000 });
});

t.test('2.1 garp_lower_prio_* default to the global master values (not the instance ones)', async (t) => {
  const r = one(
    `global_defs {\n  vrrp_garp_master_delay 7\n  vrrp_garp_master_repeat 2\n}\n${inst('  garp_master_delay 1\n  garp_master_repeat 9')}`,
  );
  t.match(r.partial.global, { vrrpGarpLowerPrioDelayMs: 7000, vrrpGarpLowerPrioRepeat: 2 });
  t.match(i0(r), { garpLowerPrioDelayMs: 7000, garpLowerPrioRepeat: 2 });
  const set = one(
    `global_defs {\n  vrrp_garp_lower_prio_delay 3\n  vrrp_garp_lower_prio_repeat 4\n}\n${inst('  garp_lower_prio_repeat 6')}`,
  );
  t.match(i0(set), { garpLowerPrioDelayMs: 3000, garpLowerPrioRepeat: 6 });
  const zero = one(`global_defs {\n  vrrp_garp_master_repeat 0\n}\n${inst('')}`);
  t.equal(zero.partial.global.vrrpGarpMasterRepeat, 1, 'repeat 0 -> 1 with an error');
  t.not(zero.exitCode, 0);
});

t.test('2.3 VIP line syntax', async (t) => {
  const r = one(
    inst(
      '  virtual_ipaddress {\n    10.0.0.1/24 dev eth1 brd + scope link label eth1:1 no_track\n    10.0.0.2\n    10.0.0.3/24 brd -\n    10.0.0.4/16 broadcast 10.0.255.254 scope host\n    10.0.0.5 peer 10.0.0.9/32 scope site\n    "10.0.0.6/30" brd + scope nowhere\n  }',
    ),
  );
  const v = i0(r).virtualIpaddress;
  t.same(texts(r), []);
  t.match(v[0], {
    address: '10.0.0.1',
    family: 4,
    prefixLength: 24,
    dev: 'eth1',
    broadcast: '10.0.0.255',
    scope: 253,
    label: 'eth1:1',
    noTrack: true,
  });
  t.match(v[1], { address: '10.0.0.2', prefixLength: 32, dev: null, broadcast: null, scope: 0, label: null, noTrack: false, peer: null });
  t.match(v[2], { broadcast: '10.0.0.0', prefixLength: 24 });
  t.match(v[3], { broadcast: '10.0.255.254', scope: 254, prefixLength: 16 });
  t.match(v[4], { peer: '10.0.0.9/32', scope: 200 });
  t.match(v[5], { address: '10.0.0.6', prefixLength: 30, broadcast: '10.0.0.7', scope: 255 });
  const long = one(inst('  virtual_ipaddress {\n    10.0.0.1/31 brd +\n    10.0.0.2/24\n  }'));
  t.ok(texts(long).includes('Address prefix length 31 too long for broadcast'));
  const v6 = one(inst('  virtual_ipaddress {\n    fd00::1\n  }'));
  t.match(i0(v6).virtualIpaddress[0], { family: 6, prefixLength: 128 });
  t.equal(i0(v6).version, 3, 'an IPv6 instance is VRRPv3');
  const bad = one(inst('  virtual_ipaddress {\n    10.0.0.300/24\n    10.0.0.1 frobnicate\n  }'));
  t.same(
    i0(bad).virtualIpaddress.map((x) => x.address),
    ['10.0.0.1'],
  );
  t.ok(texts(bad).includes("Unknown configuration entry 'frobnicate' for ip address - ignoring"));
});

t.test('2.2 unicast_peer: min_ttl/max_ttl turn on check_unicast_src', async (t) => {
  const plain = one(inst('  unicast_src_ip 192.168.200.10\n  unicast_peer {\n    192.168.200.11\n  }'));
  t.match(i0(plain), { unicastSrcIp: '192.168.200.10', unicastPeers: [{ address: '192.168.200.11' }], checkUnicastSrc: false });
  const ttl = one(inst('  unicast_peer {\n    192.168.200.11 min_ttl 250\n    192.168.200.12 max_ttl 254\n  }'));
  t.equal(i0(ttl).checkUnicastSrc, true);
  t.match(i0(ttl).unicastPeers, [
    { address: '192.168.200.11', minTtl: 250 },
    { address: '192.168.200.12', maxTtl: 254 },
  ]);
  const global = one(`global_defs {\n  vrrp_check_unicast_src\n}\n${inst('  unicast_peer {\n    192.168.200.11\n  }')}`);
  t.equal(i0(global).checkUnicastSrc, true);
  const noPeer = one(inst('  unicast_ttl 10'));
  t.equal(i0(noPeer).unicastTtl, 255, 'unicast_ttl without peers is reset');
});

t.test('2.2 track_interface / track_script / track_file weights and reverse', async (t) => {
  const r = one(
    `${SCRIPTS}track_file tf {\n  file /tmp/x\n}\n${inst('  priority 100\n  track_interface {\n    eth1 weight -20\n    eth2 weight 10 reverse\n    eth3\n  }\n  track_script {\n    chk_w\n    chk_0 weight 5 reverse\n  }\n  track_file {\n    tf weight -3\n  }')}`,
  );
  t.same(i0(r).trackInterfaces, [
    { name: 'eth1', weight: -20, reverse: false },
    { name: 'eth2', weight: 10, reverse: true },
    { name: 'eth3', weight: 0, reverse: false },
  ]);
  t.same(i0(r).trackScripts, [
    { name: 'chk_w', weight: null, reverse: null },
    { name: 'chk_0', weight: 5, reverse: true },
  ]);
  t.match(i0(r).trackFiles, [{ name: 'tf', weight: -3 }]);
  t.match(r.partial.scripts, [
    { name: 'chk_w', weight: 10, intervalMs: 1000, rise: 1, fall: 1, script: { argv: ['/bin/true'] } },
    { name: 'chk_0', weight: 0 },
  ]);
  t.match(r.partial.trackFiles, [{ name: 'tf', file: '/tmp/x', weight: 1 }], 'track_file weight defaults to 1');
  const late = one(`${inst('  track_script {\n    chk_w\n  }')}${SCRIPTS}`);
  t.same(i0(late).trackScripts, [], 'a script defined after the instance is not found');
  t.ok(texts(late).includes('(VI_1) track script chk_w not found, ignoring...'));
  const own = one(inst('  track_interface {\n    eth0\n  }'));
  t.same(i0(own).trackInterfaces, []);
});

t.test('2.2 address owner (priority 255) drops weighted trackers', async (t) => {
  const r = one(
    `${SCRIPTS}${inst('  priority 255\n  track_interface {\n    eth1 weight -20\n    eth2\n  }\n  track_script {\n    chk_w\n    chk_0\n    chk_0 weight 3\n  }')}`,
  );
  t.same(
    i0(r).trackInterfaces.map((x) => x.name),
    ['eth2'],
  );
  t.same(
    i0(r).trackScripts.map((x) => `${x.name}:${x.weight}`),
    ['chk_0:null'],
  );
});

t.test('2.5 sync group members: weights zeroed unless sync_group_tracking_weight', async (t) => {
  const body = '  track_interface {\n    eth2 weight -20\n  }\n  track_script {\n    chk_w\n    chk_0\n  }';
  const cfg = (extra: string) =>
    `${SCRIPTS}${inst(body)}${inst(body, 'VI_2', 52, 'eth1')}vrrp_sync_group VG {\n  group {\n    VI_1\n    VI_2\n  }\n${extra}}\n`;
  const r = one(cfg(''));
  t.same(texts(r), []);
  for (const i of r.partial.instances) {
    t.equal(i.syncGroup, 'VG');
    t.same(i.trackInterfaces, [{ name: 'eth2', weight: 0, reverse: false }]);
    t.same(
      i.trackScripts.map((x) => x.name),
      ['chk_0'],
    );
  }
  const keep = one(cfg('  sync_group_tracking_weight\n'));
  t.same(i0(keep).trackInterfaces, [{ name: 'eth2', weight: -20, reverse: false }]);
  t.same(
    i0(keep).trackScripts.map((x) => x.name),
    ['chk_w', 'chk_0'],
  );
  t.match(keep.partial.syncGroups, [{ name: 'VG', members: ['VI_1', 'VI_2'], syncGroupTrackingWeight: true }]);
});

t.test('2.2 nopreempt / preempt_delay / state MASTER interactions', async (t) => {
  const m = one(inst('  state MASTER\n  priority 150\n  nopreempt\n  preempt_delay 5'));
  t.match(i0(m), { state: 'MASTER', nopreempt: false, preemptDelayMs: 0 });
  t.ok(texts(m).includes('(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing'));
  const both = one(inst('  nopreempt\n  preempt_delay 5'));
  t.match(i0(both), { nopreempt: true, preemptDelayMs: 0 });
  t.ok(texts(both).includes('(VI_1) preempt_delay is incompatible with nopreempt mode - resetting'));
  const delay = one(inst('  preempt_delay 2.5'));
  t.equal(i0(delay).preemptDelayMs, 2500);
  const owner = one(inst('  priority 255\n  nopreempt'));
  t.equal(i0(owner).nopreempt, false, 'nopreempt is incompatible with priority 255');
  const pre = one(inst('  nopreempt\n  preempt'));
  t.equal(i0(pre).nopreempt, false, 'preempt clears nopreempt');
});

t.test('2.2 advert_int: VRRPv2 rounds to whole seconds, out of range is ignored', async (t) => {
  t.equal(i0(one(inst('  advert_int 3'))).advertIntMs, 3000);
  const frac = one(inst('  advert_int 1.5'));
  t.equal(i0(frac).advertIntMs, 2000);
  t.ok(texts(frac).includes('(VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding'));
  t.equal(i0(one(inst('  advert_int 0.4'))).advertIntMs, 1000, 'rounded, at least 1 s');
  const big = one(inst('  advert_int 300'));
  t.equal(i0(big).advertIntMs, 1000, 'keepalived 2.2.7 ignores 300 (config-cases advert-int-300), no clamp to 255');
});

t.test('2.2 strict mode', async (t) => {
  const r = one(
    `global_defs {\n  vrrp_strict\n}\n${inst('  state MASTER\n  priority 100\n  down_timer_adverts 7\n  authentication {\n    auth_type PASS\n    auth_pass secret\n  }')}`,
  );
  t.match(i0(r), {
    strictMode: true,
    authType: 'NONE',
    authPass: null,
    state: 'BACKUP',
    downTimerAdverts: 3,
    lowerPrioNoAdvert: true,
    higherPrioSendAdvert: false,
    accept: false,
  });
  t.ok(texts(r).includes('(VI_1) Strict mode does not support authentication. Ignoring.'));
  t.ok(texts(r).includes('(VI_1) State MASTER must match being address owner'));
  const owner = one(inst('  strict_mode\n  priority 255'));
  t.equal(i0(owner).accept, true, 'accept defaults to owner');
  const noVip = one('vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  strict_mode\n}\n');
  t.equal(noVip.config, undefined, 'strict mode requires a VIP');
});

t.test('2.2 authentication: auth_pass truncated to 8 bytes; PASS/AH case-sensitive', async (t) => {
  const r = one(inst('  authentication {\n    auth_type PASS\n    auth_pass abcdefghijklm\n  }'));
  t.match(i0(r), { authType: 'PASS', authPass: 'abcdefgh' });
  t.ok(r.diagnostics.some((d) => d.message === 'Truncating auth_pass to 8 characters' && d.line === 6));
  const lower = one(inst('  authentication {\n    auth_type pass\n    auth_pass x\n  }'));
  t.equal(i0(lower).authType, 'NONE');
  const noPass = one(inst('  authentication {\n    auth_type PASS\n  }'));
  t.equal(i0(noPass).authType, 'NONE', 'auth without password is ignored');
});

t.test('2.4 / 2.6 / 2.7 scripts, track files and static entries', async (t) => {
  const r = one(
    `vrrp_script chk {\n  script "/usr/bin/test -f /tmp/x"\n  interval 3\n  timeout 2\n  weight -20 reverse\n  rise 2\n  fall 4\n  user nobody\n  init_fail\n}\ntrack_file tf {\n  file /tmp/tf\n  weight -4 reverse\n  init_file 7 overwrite\n}\nstatic_ipaddress {\n  192.168.201.5/24 dev eth1\n}\n${inst('  track_script {\n    chk\n  }\n  track_file {\n    tf\n  }')}`,
  );
  t.match(r.partial.scripts[0], {
    name: 'chk',
    intervalMs: 3000,
    timeoutMs: 2000,
    weight: -20,
    reverse: true,
    rise: 2,
    fall: 4,
    initFail: true,
    script: { argv: ['/usr/bin/test', '-f', '/tmp/x'], user: 'nobody' },
  });
  t.match(r.partial.trackFiles[0], { name: 'tf', file: '/tmp/tf', weight: -4, reverse: true, initValue: 7, initOverwrite: true });
  t.match(r.partial.staticIpaddress, [{ address: '192.168.201.5', prefixLength: 24, dev: 'eth1' }]);
});

/**
 * The values each copy of the deployments uses: the project's own (always) and the vendors' guides
 * in the corpus's scenarios (only with VRRPD_KEEPALIVED_CORPUS, test/support/corpus.ts). The same assertions run on both.
 */
interface DeploymentSource {
  label: string;
  dir: string;
  routerId: string;
  emails: string[];
  tencent: { vrid: number; authPass: string; src: string; peer: string; vip: string; missingScript: string };
  alibaba: { vrid: number; authPass: string; master: string; backup: string; vip: string; label: string };
}
const SOURCES: DeploymentSource[] = [
  {
    label: 'own',
    dir: deploymentsDir,
    routerId: 'HAVIP_PAIR',
    emails: ['noc@example.net', 'vip-owner@example.net', 'pager@example.net'],
    tencent: { vrid: 35, authPass: 'havip42', src: '10.100.8.16', peer: '10.100.8.14', vip: '10.100.8.250', missingScript: 'chk_gateway' },
    alibaba: { vrid: 71, authPass: 'snatgw1', master: '172.18.5.11', backup: '172.18.5.12', vip: '172.18.5.100', label: 'eth0:snat' },
  },
];
if (scenarios !== undefined) {
  SOURCES.push({
    label: 'vendors',
    dir: scenarios,
    routerId: 'LVS_DEVEL',
    emails: ['acassen@firewall.loc', 'failover@firewall.loc', 'sysadmin@firewall.loc'],
    tencent: { vrid: 51, authPass: '1111', src: '172.16.0.16', peer: '172.16.0.14', vip: '172.16.0.135', missingScript: 'checkhaproxy' },
    alibaba: { vrid: 51, authPass: '1111', master: '192.168.1.202', backup: '192.168.1.203', vip: '192.168.1.200', label: 'eth0:havip' },
  });
} else t.comment(`${corpusAbsent('scenarios')}: the deployment checks run on test/fixtures/deployments only`);

function deployment(src: DeploymentSource, name: string): LoadResult {
  const text = readFileSync(join(src.dir, name), 'utf8');
  return loadConfig(name, memoryHost({ [name]: text }));
}

for (const src of SOURCES) {
  const tc = src.tencent;
  const ali = src.alibaba;
  t.test(`deployment (${src.label}): Tencent CVM 2018 (unicast, nopreempt, GARP refresh)`, async (t) => {
    const r = deployment(src, 'tencent-cvm-2018.keepalived.conf');
    t.equal(r.exitCode, 5, 'vrrp_garp_interval 0 is an error in 2.2.7');
    const i = i0(r);
    t.match(i, {
      name: 'VI_1',
      state: 'BACKUP',
      interface: 'eth0',
      virtualRouterId: tc.vrid,
      priority: 30,
      nopreempt: true,
      authType: 'PASS',
      authPass: tc.authPass,
      unicastSrcIp: tc.src,
      unicastPeers: [{ address: tc.peer }],
      garpMasterDelayMs: 1000,
      garpMasterRefreshMs: 5000,
      garpMasterRepeat: 5,
      skipCheckAdvAddr: true,
      trackInterfaces: [],
    });
    t.same(
      i.virtualIpaddress.map((v) => `${v.address}/${v.prefixLength}`),
      [`${tc.vip}/32`],
    );
    t.same(i.notify.master?.argv, ['/etc/keepalived/notify_action.sh', 'MASTER']);
    t.same(i.notify.stop?.argv, ['/etc/keepalived/notify_action.sh', 'STOP']);
    t.equal(r.partial.global.routerId, src.routerId);
    t.same(r.partial.global.notificationEmail, src.emails);
  });

  t.test(`deployment (${src.label}): Tencent HAVIP (commented-out vrrp_script header, preempt_delay + nopreempt)`, async (t) => {
    const r = deployment(src, 'tencent-havip.keepalived.conf');
    const i = i0(r);
    t.match(i, {
      nopreempt: true,
      preemptDelayMs: 0,
      priority: 30,
      unicastSrcIp: tc.src,
      garpMasterDelayMs: 1000,
      garpMasterRefreshMs: 5000,
      trackScripts: [],
    });
    t.equal(r.partial.scripts.length, 0);
    t.ok(texts(r).includes(`(VI_1) track script ${tc.missingScript} not found, ignoring...`));
  });

  t.test(`deployment (${src.label}): Alibaba HAVIP SNAT master/backup (label ${ali.label}, notify hooks)`, async (t) => {
    const m = deployment(src, 'alibaba-havip-snat-master.keepalived.conf');
    const b = deployment(src, 'alibaba-havip-snat-backup.keepalived.conf');
    t.equal(m.exitCode, 0);
    t.equal(b.exitCode, 0);
    t.match(i0(m), {
      state: 'MASTER',
      stateConfigured: true,
      priority: 100,
      virtualRouterId: ali.vrid,
      unicastSrcIp: ali.master,
      unicastPeers: [{ address: ali.backup }],
      nopreempt: false,
    });
    t.match(i0(b), {
      state: 'BACKUP',
      priority: 99,
      virtualRouterId: ali.vrid,
      unicastSrcIp: ali.backup,
      unicastPeers: [{ address: ali.master }],
    });
    for (const r of [m, b]) {
      t.match(i0(r).virtualIpaddress, [{ address: ali.vip, prefixLength: 32, dev: 'eth0', label: ali.label }]);
      t.same(i0(r).notify.master, { argv: ['/etc/keepalived/scripts/ha_vip_start.sh'], user: null, group: null });
      t.same(i0(r).notify.fault?.argv, ['/etc/keepalived/scripts/ha_vip_stop.sh']);
      t.match(i0(r), { garpMasterDelayMs: 5000, garpMasterRepeat: 5, garpMasterRefreshMs: 0, authType: 'PASS', authPass: ali.authPass });
    }
  });
}

t.test('loadConfig returns a deep-frozen model', async (t) => {
  const r = one(`${SCRIPTS}${inst('  notify_master "/bin/echo x"\n  track_script {\n    chk_w\n  }')}`);
  const c = r.config!;
  t.ok(c, 'accepted');
  t.equal(c, r.partial);
  const seen: unknown[] = [];
  const walk = (v: unknown) => {
    if (v && typeof v === 'object') {
      seen.push(v);
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(c);
  t.ok(seen.length > 20);
  t.ok(
    seen.every((o) => Object.isFrozen(o)),
    'every object and array is frozen',
  );
  t.throws(() => {
    (c.instances[0] as { priority: number }).priority = 1;
  }, TypeError);
  t.throws(() => (c.instances[0]!.virtualIpaddress as unknown[]).push(1), TypeError);
  t.throws(() => {
    (c.instances[0]!.notify.master!.argv as string[])[0] = 'x';
  }, TypeError);
  t.equal(c.instances[0]!.priority, 100);
});
