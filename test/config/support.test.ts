/**
 * Keywords vrrpd reads and does not run (src/config/support.ts, issue 13 item 4): every one the
 * parser only records has a row; each use gets a named diagnostic with its file and line when the
 * loader is asked (`runtimeSupport`, as `vrrpd check` and `vrrpd run` load); refused ones refuse the
 * config; keepalived's own lines and exit code are unchanged; `vrrpd check --strict` exits 10;
 * the text output ends with the verdict line. Pure (memoryHost; main() with a fake Io).
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { INACTIVE_ROOT, MISC_ROOT, rootKeywords } from '../../src/config/keywords/root.js';
import { newParseState } from '../../src/config/keywords/parse-state.js';
import { Diagnostics } from '../../src/config/diagnostics.js';
import { INSTANCE_NOT_RUN, NOT_RUN, NOT_SUPPORTED, notRunKeyword } from '../../src/config/support.js';
import type { Keyword } from '../../src/config/dispatch.js';
import { main } from '../../src/cli/main.js';
import { loadConfigOffThread } from '../../src/cli/config-loader.js';
import { memoryHost } from '../support/config-host.js';

const load = (text: string, runtimeSupport = true): LoadResult => loadConfig('k.conf', memoryHost({ 'k.conf': text }), { runtimeSupport });
const inst = (body: string, name = 'VI_1', vrid = 51) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 100\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n${body}\n}\n`;
const notRun = (r: LoadResult) => r.diagnostics.filter((d) => d.message.startsWith(`${NOT_SUPPORTED}:`));

/** The keyword names of each block the VRRP pass reads. */
function blockKeywords(): Map<string, Set<string>> {
  const root = rootKeywords(newParseState(memoryHost({}), new Diagnostics(), 'k.conf'));
  const names = (ks: readonly Keyword[] | undefined) => new Set((ks ?? []).map((k) => k.name));
  const sub = (name: string) => root.find((k) => k.name === name)?.sub;
  return new Map([
    ['', names(root)],
    ['global_defs', names(sub('global_defs'))],
    ['vrrp_instance', names(sub('vrrp_instance'))],
    ['authentication', names(sub('vrrp_instance')?.find((k) => k.name === 'authentication')?.sub)],
    ['vrrp_sync_group', names(sub('vrrp_sync_group'))],
  ]);
}

t.test('the table: one row per keyword and block, each a keyword its block reads', async (t) => {
  const keys = NOT_RUN.map((r) => `${r.block}/${r.keyword}`);
  t.same(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    [],
    'no duplicate rows',
  );
  const blocks = blockKeywords();
  for (const r of NOT_RUN) t.ok(blocks.get(r.block)?.has(r.keyword), `${r.block || 'top level'}: ${r.keyword} is read there`);
});

t.test('nothing silent: every keyword the parser only records or skips has a row', async (t) => {
  const expect: [string, readonly string[]][] = [
    ['', [...INACTIVE_ROOT, ...MISC_ROOT]],
    ['vrrp_instance', INSTANCE_NOT_RUN],
    ['vrrp_sync_group', ['track_bfd']],
  ];
  for (const [block, list] of expect) {
    const missing = list.filter((k) => !NOT_RUN.some((r) => r.block === block && r.keyword === k));
    t.same(missing, [], `${block || 'top level'}: every such keyword is in support.ts`);
  }
});

t.test('each use is named with its file and line; keepalived lines and exit code unchanged', async (t) => {
  const text = `global_defs {\n  router_id x\n  lvs_flush\n  notification_email {\n    ops@example.com\n  }\n  enable_snmp_vrrp\n}\n${inst('  debug 2\n  strict_mode')}virtual_server 10.0.0.1 80 {\n  delay_loop 6\n}\n`;
  const r = load(text);
  t.same(
    notRun(r).map((d) => `${d.file}:${d.line} ${d.keyword} ${d.severity} ${d.exitClass}`),
    [
      'k.conf:3 lvs_flush warning none',
      'k.conf:7 enable_snmp_vrrp warning none',
      'k.conf:16 debug warning none',
      'k.conf:17 strict_mode warning none',
      'k.conf:19 virtual_server warning none',
    ],
  );
  t.match(notRun(r)[0]?.message, /^not supported by vrrpd: lvs_flush \(in global_defs\) - ignored: load balancing \(LVS\)/);
  t.match(notRun(r)[3]?.message, /^not supported by vrrpd: strict_mode \(in vrrp_instance\) - run in part: /);
  t.ok(r.config, 'ignored keywords: the config runs');
  const plain = load(text, false);
  t.same(notRun(plain), [], "keepalived's view (the oracle's): none of vrrpd's lines");
  t.equal(r.exitCode, plain.exitCode, 'exit code unchanged');
});

t.test('refused keywords refuse the config, with the reason and what to do', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['use_ipvlan', inst('  use_ipvlan'), /use_ipvlan \(in vrrp_instance\) - configuration refused: /],
    [
      'use_vmac MAC',
      inst('  use_vmac 02:00:00:00:00:01'),
      /use_vmac MAC \(in vrrp_instance\) - configuration refused: a virtual MAC address of your own/,
    ],
    ['vrf', inst('  vrf blue'), /vrf \(in vrrp_instance\) - configuration refused: VRF binding/],
    ['track_bfd', inst('  track_bfd {\n    b1\n  }'), /track_bfd \(in vrrp_instance\) - configuration refused: BFD/],
    [
      'auth_type AH',
      inst('  authentication {\n    auth_type AH\n    auth_pass x\n  }'),
      /auth_type AH \(in vrrp_instance authentication\) - configuration refused: IPsec-AH/,
    ],
    ['net_namespace', `net_namespace blue\n${inst('')}`, /net_namespace \(at the top level\) - configuration refused: .*ip netns exec/],
  ];
  for (const [what, text, re] of cases) {
    const r = load(text);
    const d = notRun(r).find((x) => x.severity === 'fatal');
    t.match(d?.message, re, what);
    t.ok((d?.line ?? 0) > 0, `${what}: with its line`);
    t.equal(r.config, undefined, `${what}: refused`);
    t.equal(r.exitCode, load(text, false).exitCode, `${what}: keepalived's exit code unchanged`);
  }
});

t.test('conditions and repeats', async (t) => {
  t.same(notRun(load(inst('  authentication {\n    auth_type PASS\n    auth_pass x\n  }'))), [], 'auth_type PASS runs');
  t.same(notRun(load(inst('  strict_mode false'))), [], 'strict_mode false asks for nothing');
  t.equal(notRunKeyword('vrrp_instance', ['strict_mode'])?.keyword, 'strict_mode', 'strict_mode alone means true');
  t.equal(notRunKeyword('global_defs', ['notification_email']), undefined, 'mail is sent (src/notify/smtp-alerts.ts): no row');
  const r = load(inst('  debug 1') + inst('  debug 2', 'VI_2', 52) + inst('  debug 3', 'VI_3', 53));
  t.same(
    notRun(r).map((d) => [d.line, d.message.replace(/ - ignored.*/, '')]),
    [[8, 'not supported by vrrpd: debug (in vrrp_instance; 2 more uses after this one)']],
    'one line per keyword, at its first use, with the count of the others',
  );
  t.same(
    notRun(load(`vrrp_instance VI_1 {\n  virtual_router_id 51\n}\nvrrp_instance VI_1 {\n  vrf blue\n}\n`)).length,
    0,
    'a config keepalived refuses already says why',
  );
});

t.test('vrrpd check: the verdict line, exit 1 on a refused keyword, --strict exits 10', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-support-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, body: string) => {
    const f = join(dir, name);
    // dynamic_interfaces: eth0 need not exist on the machine running the test
    writeFileSync(f, `global_defs {\n  dynamic_interfaces\n}\n${body}`);
    return f;
  };
  const warm = () => loadConfigOffThread({ file: '/nonexistent/vrrpd-warm-up.conf', hostChecks: false }, { timeoutMs: 60_000 });
  const check = async (...args: string[]) => {
    await warm();
    const err: string[] = [];
    const out: string[] = [];
    const code = await main(['check', ...args], { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, err, out };
  };
  const clean = write('clean.conf', inst(''));
  const ignored = write('ignored.conf', inst('  debug 2'));
  const refused = write('refused.conf', inst('  vrf blue'));
  let r = await check('-f', clean);
  t.same([r.code, r.err], [0, ['vrrpd run would start this configuration: 1 VRRP instance']], 'clean: the verdict line only');
  r = await check('-f', clean, '--strict');
  t.equal(r.code, 0, 'clean --strict: 0');
  r = await check('-f', ignored);
  t.equal(r.code, 0, "ignored keyword: keepalived's code (0)");
  t.match(r.err[0], /^\(.*ignored\.conf: Line 11\) not supported by vrrpd: debug \(in vrrp_instance\) - ignored: /);
  t.equal(r.err[r.err.length - 1], 'vrrpd run would start this configuration: 1 VRRP instance', 'verdict last');
  r = await check('-f', ignored, '--strict');
  t.equal(r.code, 10, 'ignored keyword --strict: 10');
  // an include keepalived skips (its exit code stays 0): reported, so --strict fails
  const skipped = write('skipped.conf', `${inst('')}include ${join(dir, 'missing.conf')}\n`);
  r = await check('-f', skipped);
  t.equal(r.code, 0, "a skipped include: keepalived's code (0)");
  r = await check('-f', skipped, '--strict');
  t.equal(r.code, 10, 'a skipped include, --strict: 10');
  const corrected = write('corrected.conf', inst('  priority 300'));
  r = await check('-f', corrected, '--strict');
  t.equal(r.code, 5, "a value keepalived -t counts as an error: keepalived's code (5), --strict or not");
  r = await check('-f', refused);
  t.equal(r.code, 1, 'refused keyword: 1, as vrrpd run exits');
  t.equal(r.err[r.err.length - 1], 'vrrpd run would refuse this configuration (see above)');
  r = await check('-f', refused, '--json');
  t.equal(r.code, 1);
  t.same(
    (JSON.parse(r.out.join('\n')) as { keyword: string }[]).map((d) => d.keyword),
    ['vrf'],
    '--json: the diagnostics as JSON on stdout, no verdict line',
  );
});
