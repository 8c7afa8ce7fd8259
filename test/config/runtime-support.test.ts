/**
 * What vrrpd's runtime cannot run yet (src/config/runtime-support.ts) is refused with one named
 * diagnostic when the loader is asked (`runtimeSupport`, as the daemon and `vrrpd check` load), and
 * keepalived's own verdict (lines, exit code) is unchanged; `vrrpd check` prints the refusal and
 * exits 1 where keepalived exits 0. What it runs as keepalived does but is likely not meant (an
 * IPv6 unicast instance without unicast_src_ip and a peer that is not link-local) is a named
 * warning at the instance's file and line. Pure: memoryHost, and main() with a fake Io for check.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { NOT_SUPPORTED_YET, V6_UNICAST_GLOBAL_PEER } from '../../src/config/runtime-support.js';
import { main } from '../../src/cli/main.js';
import { loadConfigOffThread } from '../../src/cli/config-loader.js';
import { memoryHost, oracleHost } from '../support/config-host.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = resolve(here, '../fixtures/config-cases');

const load = (text: string, runtimeSupport = true): LoadResult => loadConfig('k.conf', memoryHost({ 'k.conf': text }), { runtimeSupport });
const inst = (body: string, name = 'VI_1', vrid = 51) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n${body}\n}\n`;
const V4 = '  virtual_ipaddress {\n    10.0.0.1/24\n  }';
const V6 = '  virtual_ipaddress {\n    fd00::1/64\n  }';
const UC6 = `  unicast_peer {\n    fd00::2\n  }\n${V6}`;
const refusals = (r: LoadResult) => r.diagnostics.filter((d) => d.message.startsWith(NOT_SUPPORTED_YET)).map(formatDiagnostic);
const warnings = (r: LoadResult) => r.diagnostics.filter((d) => d.message.startsWith(V6_UNICAST_GLOBAL_PEER)).map(formatDiagnostic);

t.test('IPv6 unicast without unicast_src_ip runs; a peer that is not link-local is a named warning at the instance', async (t) => {
  const llPeers = inst(`  unicast_peer {\n    fe80::2\n  }\n${V6}`);
  const r0 = load(llPeers);
  t.same(refusals(r0), [], 'link-local peers: not refused');
  t.same(warnings(r0), [], 'link-local peers: no warning');
  t.ok(r0.config, 'loaded');
  const r = load(inst(`  unicast_peer {\n    fe80::2\n    fd00::2\n  }\n${V6}`));
  t.same(refusals(r), [], 'a global peer: not refused');
  t.ok(r.config, 'loaded (keepalived runs it, so does vrrpd)');
  const w = warnings(r);
  t.equal(w.length, 1, 'one warning');
  t.match(
    w[0],
    /^\(k\.conf: Line 1\) IPv6 unicast peer not link-local without unicast_src_ip: \(VI_1\) unicast_peer fd00::2: the adverts go from, and are heard only on, eth0's link-local address .*both nodes become MASTER - set unicast_src_ip to this node's global address/,
    'named, with file and line, the consequence and the fix',
  );
  t.match(
    r.diagnostics.find((d) => d.message.startsWith(V6_UNICAST_GLOBAL_PEER)),
    { severity: 'warning', exitClass: 'none', keyword: 'unicast_peer' },
    "vrrpd's own line, not counted in keepalived's exit code",
  );
  t.equal(r.exitCode, load(inst(UC6), false).exitCode, "keepalived's exit code unchanged");
  t.same(warnings(load(inst(UC6), false)), [], 'not in the oracle comparison (runtimeSupport off)');
  t.same(warnings(load(inst(`  unicast_src_ip fd00::1\n${UC6}`))), [], 'with unicast_src_ip: no warning');
  t.same(warnings(load(inst(`  unicast_src_ip fd00::1\n  unicast_peer {\n    fd00::2\n  }\n${V4}`))), [], 'IPv4: no warning');
});

t.test(
  'use_vmac runs on an IPv4 instance (unicast: vmac_xmit_base forced); IPv6 or unicast in strict mode are refused by name; without an interface keepalived clears it',
  async (t) => {
    t.same(refusals(load(inst(`  use_vmac\n${V4}`))), [], 'IPv4 multicast: runs');
    t.same(refusals(load(inst(`  use_vmac vmac7\n${V4}`))), [], 'with a name: runs');
    t.same(refusals(load(inst(`  use_vmac\n  vmac_xmit_base\n${V4}`))), [], 'with vmac_xmit_base: runs');
    t.match(refusals(load(inst(`  use_vmac\n${V6}`))), [/use_vmac on an IPv6 instance \(vrrpd makes IPv4 VMACs only\) \(instance VI_1/]);
    t.same(
      refusals(load(inst(`  use_vmac\n  unicast_peer {\n    10.0.0.2\n  }\n${V4}`))),
      [],
      'with unicast peers (vmac_xmit_base forced): runs',
    );
    t.match(refusals(load(inst(`  strict_mode\n  use_vmac\n  unicast_peer {\n    10.0.0.2\n  }\n${V4}`))), [
      /use_vmac with unicast peers in strict mode \(keepalived then sends unicast from the VMAC, which vrrpd does not run\)/,
    ]);
    const noIf = `vrrp_instance VI_1 {\n  virtual_router_id 51\n  use_vmac\n  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n${V4}\n}\n`;
    const r = load(noIf);
    t.same(refusals(r), [], 'unicast without an interface: no refusal of ours');
    t.match(
      r.diagnostics.map((d) => d.message),
      [/\(VI_1\): Cannot use VMAC\/ipvlan with unicast and no interface - clearing use_vmac/],
    );
  },
);

t.test('unicast_fault_no_peer without peers is refused (keepalived holds the instance in FAULT); with peers it runs', async (t) => {
  const r = load(inst(`  unicast_fault_no_peer\n${V4}`));
  t.match(refusals(r), [
    /^not supported by vrrpd yet: unicast_fault_no_peer without unicast peers \(keepalived holds such an instance in FAULT\) \(instance VI_1, k\.conf:1\)/,
  ]);
  t.equal(r.config, undefined, 'refused');
  t.equal(r.exitCode, load(inst(`  unicast_fault_no_peer\n${V4}`), false).exitCode, "keepalived's exit code unchanged");
  t.match(
    r.diagnostics.filter((d) => d.severity === 'info').map((d) => d.message),
    ['(VI_1) Cannot use unicast without any peers - going to fault state'],
    "keepalived's log line, not its deprecation warning",
  );
  const peers = load(inst(`  unicast_fault_no_peer\n  unicast_peer {\n    10.0.0.2\n  }\n${V4}`));
  t.same(refusals(peers), [], 'with a peer: runs');
  t.ok(peers.config);
});

t.test('one diagnostic per instance, only for the instances concerned', async (t) => {
  const r = load(inst(V4, 'VI_4', 51) + inst(`  version 3\n${V4}`, 'VI_3', 52) + inst(V6, 'VI_6', 53));
  t.same(
    refusals(r).map((l) => /\(instance (\w+),/.exec(l)?.[1]),
    [],
  );
  const u = load(inst(V4, 'VI_4', 51) + inst(`  unicast_fault_no_peer\n${V4}`, 'VI_F', 52) + inst(V6, 'VI_6', 53));
  t.same(
    refusals(u).map((l) => /\(instance (\w+),/.exec(l)?.[1]),
    ['VI_F'],
  );
});

t.test('IPv6 runs: IPv6 instances (multicast, unicast with or without a source), IPv6 eVIPs in an IPv4 instance', async (t) => {
  for (const text of [
    inst(V6),
    inst(`  version 2\n${V6}`),
    inst(`  unicast_src_ip fd00::1\n${UC6}`),
    inst(UC6),
    inst(`  unicast_peer {\n    fe80::2\n  }\n${V6}`),
    inst(`${V4}\n  virtual_ipaddress_excluded {\n    fd00::9/64\n  }`),
  ]) {
    const r = load(text);
    t.same(refusals(r), [], text);
    t.ok(r.config, 'loaded');
  }
});

t.test('VRRPv3 over IPv4 runs: no refusal, whichever keyword sets it', async (t) => {
  for (const text of [
    inst(`  version 3\n  advert_int 0.1\n${V4}`),
    `global_defs {\n  vrrp_version 3\n}\n${inst(V4)}`,
    `${inst(V4)}global_defs {\n  vrrp_version 3\n}\n`,
  ]) {
    const r = load(text);
    t.same(refusals(r), [], text);
    t.equal(r.config?.instances[0]?.version, 3, 'loaded as version 3');
  }
});

t.test('a config keepalived refuses is not also refused for IPv6 (its own reason is enough)', async (t) => {
  const r = load(inst('  native_ipv6'));
  t.same(refusals(r), []);
  t.ok(r.diagnostics.some((d) => d.message === '(VI_1) No VIP specified; at least one is required'));
});

t.test('every oracle case (v2, v3, IPv4, IPv6) loads: no refusal but the cases made for one', async (t) => {
  const prev = process.cwd();
  process.chdir(casesDir);
  t.teardown(() => process.chdir(prev));
  // vmac-unicast.conf: VI_6, strict mode resets the vmac_xmit_base that unicast forced
  const refusing: Record<string, number> = { 'unicast-fault-no-peer.conf': 1, 'vmac-addr-family.conf': 1, 'vmac-unicast.conf': 1 };
  for (const c of readdirSync(casesDir).filter((f) => f.endsWith('.conf'))) {
    const r = loadConfig(c, oracleHost('vm'), { runtimeSupport: true });
    t.equal(refusals(r).length, refusing[c] ?? 0, c);
  }
});

t.test('vrrpd check: prints the IPv6 unicast warning with file and line and exits 0 (10 with --strict)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-rs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'v6.conf');
  // dynamic_interfaces: eth0 need not exist on the machine running the test
  writeFileSync(file, `global_defs {\n  dynamic_interfaces\n}\n${inst(`  version 3\n  advert_int 0.1\n${UC6}`)}`);
  // a fresh worker compiles TypeScript under tap for seconds (past check's 5 s bound on a busy
  // machine): start one with a long bound first; main() reuses it while it is idle
  const warm = () => loadConfigOffThread({ file: '/nonexistent/vrrpd-warm-up.conf', hostChecks: false }, { timeoutMs: 60_000 });
  await warm();
  const err: string[] = [];
  const code = await main(['check', '-f', file], { out: () => undefined, err: (s) => err.push(s) });
  t.equal(code, 0, 'it runs, as in keepalived');
  t.match(
    err.join('\n'),
    /\(.*v6\.conf: Line 4\) IPv6 unicast peer not link-local without unicast_src_ip: \(VI_1\) unicast_peer fd00::2: .* set unicast_src_ip/,
  );
  t.match(err.join('\n'), /vrrpd run would start this configuration: 1 VRRP instance/);
  await warm();
  t.equal(await main(['check', '--strict', '-f', file], { out: () => undefined, err: () => undefined }), 10, '--strict fails on it');
  const v4 = join(dir, 'v4.conf');
  writeFileSync(v4, `global_defs {\n  dynamic_interfaces\n}\n${inst(`  version 3\n  advert_int 0.1\n${V4}`)}`);
  await warm();
  const ok = await main(['check', '-f', v4], { out: () => undefined, err: () => undefined });
  t.equal(ok, 0, 'a VRRPv3 config over IPv4 passes');
});
