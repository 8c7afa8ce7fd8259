/**
 * keepalived text -> model -> YAML/JSON -> model is lossless, and model -> printKeepalived -> text ->
 * model gives the same model, for every oracle case keepalived accepts (its .expected exit is 0 or 5
 * and vrrpd returns a config), every example deployment (test/fixtures/deployments), and, when
 * VRRPD_KEEPALIVED_CORPUS is set (test/support/corpus.ts), keepalived's samples and the vendors' scenarios too.
 *
 * What the printer round trip compares: the whole model except
 *  - `origin` (line numbers of the printed file differ from the original's),
 *  - `file` / `files` (the printed text is one file, includes are inlined),
 *  - `preference N` in the `words` of virtual_rules/static_rules: a rule written without a preference
 *    gets keepalived's auto-assigned one (16384, 16383, ...) and the printer writes it out explicitly so
 *    the printed file loads without "Rule has no preference" warnings; `preference` itself must match.
 * YAML and JSON round trips compare everything (deep equal).
 */
import t, { type Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { printKeepalived } from '../../src/config/print.js';
import { fromYaml, modelFromData, toJson, toYaml, ModelError } from '../../src/config/yaml.js';
import type { FrozenConfig } from '../../src/config/model.js';
import { memoryHost, oracleHost } from '../support/config-host.js';
import { corpusAbsent, corpusDir } from '../support/corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = resolve(here, '../fixtures/config-cases');
const deploymentsDir = resolve(here, '../fixtures/deployments');

function comparable(c: FrozenConfig): unknown {
  return JSON.parse(
    JSON.stringify({ ...c, file: '', files: [] }, (k, v: unknown) => {
      if (k === 'origin') return undefined;
      if (k === 'words' && Array.isArray(v)) {
        const w = v as string[];
        return w.filter((x, n) => x !== 'preference' && w[n - 1] !== 'preference');
      }
      return v;
    }),
  );
}

function roundTrip(t: Test, dir: string, file: string) {
  const prev = process.cwd();
  process.chdir(dir);
  let r;
  try {
    r = loadConfig(file, oracleHost('vm'));
  } finally {
    process.chdir(prev);
  }
  const m = r.config;
  if (!m) {
    t.pass(`refused by vrrpd (exit ${r.exitCode}), not round-tripped`);
    return;
  }
  t.same(fromYaml(toYaml(m)), m, 'text -> model -> YAML -> model is lossless');
  t.same(modelFromData(JSON.parse(toJson(m))), m, 'model -> JSON -> model is lossless');
  const printed = printKeepalived(m);
  const again = loadConfig('printed.conf', memoryHost({ 'printed.conf': printed }));
  t.ok(again.config, 'the printed text is accepted');
  t.same(comparable(again.partial), comparable(m), 'model -> keepalived text -> model (origin, files, rule preference words aside)');
  t.same(
    again.diagnostics
      .filter((d) => d.severity !== 'info' && /Unknown keyword|missing a parameter|Unexpected/.test(d.message))
      .map((d) => d.message),
    [],
    'the printed text has no unknown keywords',
  );
}

const cases = readdirSync(casesDir)
  .filter((f) => f.endsWith('.conf'))
  .sort();
for (const c of cases) {
  const exp = readFileSync(join(casesDir, c.replace(/\.conf$/, '.expected')), 'utf8');
  const exit = Number(/exit=(\d+)/.exec(exp)?.[1]);
  if (exit !== 0 && exit !== 5) continue;
  t.test(`config-cases ${c}`, async (t) => roundTrip(t, casesDir, c));
}

for (const f of readdirSync(deploymentsDir)
  .filter((x) => x.endsWith('.conf'))
  .sort()) {
  t.test(`deployment ${f}`, async (t) => roundTrip(t, deploymentsDir, f));
}

// Extra cases with VRRPD_KEEPALIVED_CORPUS.
const sampleDirs: ['keepalived-samples' | 'scenarios', (f: string) => boolean][] = [
  ['keepalived-samples', (f) => !f.endsWith('.txt')],
  ['scenarios', (f) => f.endsWith('.conf')],
];
for (const [sub, want] of sampleDirs) {
  const dir = corpusDir(sub);
  if (dir === undefined) {
    t.comment(`${corpusAbsent(sub)}: its optional round trips are not made`);
    continue;
  }
  for (const f of readdirSync(dir).filter(want).sort()) t.test(`sample ${f}`, async (t) => roundTrip(t, dir, f));
}

t.test('fromYaml rejects unknown keys and wrong types, naming the path', async (t) => {
  const bad: [string, RegExp][] = [
    ['bogus: 1\n', /^\$\.bogus: unknown key/],
    ['instances:\n  - name: VI_1\n    virtualRouterId: 51\n    prio: 100\n', /^\$\.instances\[0\]\.prio: unknown key/],
    [
      'instances:\n  - name: VI_1\n    virtualRouterId: 51\n    priority: high\n',
      /^\$\.instances\[0\]\.priority: expected number, got string/,
    ],
    [
      'instances:\n  - name: VI_1\n    virtualRouterId: 51\n  - name: VI_2\n    virtualRouterId: 52\n    nopreempt: "yes"\n',
      /^\$\.instances\[1\]\.nopreempt: expected boolean/,
    ],
    ['instances:\n  - name: VI_1\n    virtualRouterId: 0\n', /^\$\.instances\[0\]\.virtualRouterId: must be 1\.\.255/],
    ['instances:\n  - virtualRouterId: 51\n', /^\$\.instances\[0\]\.name: expected string/],
    ['instances: {}\n', /instances/],
    ['global:\n  vrrpGarpMasterDelayMs: "5"\n', /^\$\.global\.vrrpGarpMasterDelayMs: expected number/],
    ['global:\n  nope: 1\n', /^\$\.global\.nope: unknown key/],
    ['- 1\n', /^\$: expected a mapping/],
  ];
  for (const [y, re] of bad) t.throws(() => fromYaml(y), re, JSON.stringify(y));
  let caught: unknown;
  try {
    fromYaml('bogus: 1\n');
  } catch (e) {
    caught = e;
  }
  t.ok(caught instanceof ModelError, 'a ModelError');
});

t.test('fromYaml fills omitted keys with defaults: a minimal hand-written instance loads', async (t) => {
  const m = fromYaml('instances:\n  - name: VI_1\n    interface: eth0\n    virtualRouterId: 51\n');
  const i = m.instances[0]!;
  t.match(i, {
    name: 'VI_1',
    interface: 'eth0',
    virtualRouterId: 51,
    priority: 100,
    advertIntMs: 1000,
    state: 'BACKUP',
    garpMasterDelayMs: 5000,
    garpMasterRepeat: 5,
    authType: 'NONE',
    virtualIpaddress: [],
  });
  t.equal(m.global.vrrpMcastGroup4, '224.0.0.18');
  t.same(m.scripts, []);
  t.ok(Object.isFrozen(i), 'frozen like loadConfig models');
  const g = fromYaml('global:\n  vrrpGarpMasterRepeat: 2\ninstances:\n  - name: VI_1\n    virtualRouterId: 51\n');
  t.equal(g.instances[0]!.garpMasterRepeat, 2, 'instance GARP defaults come from the given global values');
  // the printed form of a YAML model loads back in keepalived syntax
  const text = printKeepalived(fromYaml('instances:\n  - name: VI_1\n    interface: eth0\n    virtualRouterId: 51\n    priority: 150\n'));
  const back = loadConfig('y.conf', memoryHost({ 'y.conf': text }));
  t.match(back.partial.instances[0], { name: 'VI_1', priority: 150, virtualRouterId: 51 });
});

t.test('the printer keeps version and family: IPv6 without an address of its own, IPv6 at version 2', async (t) => {
  const again = (yaml: string) => {
    const text = printKeepalived(fromYaml(yaml));
    return { text, m: loadConfig('y.conf', memoryHost({ 'y.conf': text })).partial.instances[0]! };
  };
  const base = 'instances:\n  - name: VI_1\n    interface: eth0\n    virtualRouterId: 51\n';
  // an IPv6 instance whose family no address carries (a model from YAML): native_ipv6 says it
  const bare = again(`${base}    family: 6\n    version: 3\n`);
  t.match(bare.text, /\n {4}native_ipv6\n {4}version 3\n/);
  t.match(bare.m, { family: 6, version: 3 });
  // an IPv6 VIP carries the family; keepalived keeps a version 2 given before it
  const v2 = again(`${base}    family: 6\n    version: 2\n    virtualIpaddress:\n${vip('fd00::1', 6)}`);
  t.notMatch(v2.text, /native_ipv6/);
  t.match(v2.m, { family: 6, version: 2 });
  const v3 = again(`${base}    family: 6\n    version: 3\n    advertIntMs: 50\n    virtualIpaddress:\n${vip('fd00::1', 6)}`);
  t.match(v3.m, { family: 6, version: 3, advertIntMs: 50 });
});

/** One VIP as YAML list item (the model's AddressEntry). */
function vip(address: string, family: 4 | 6): string {
  const prefixLength = family === 6 ? 64 : 24;
  return (
    `      - { address: "${address}", family: ${family}, prefixLength: ${prefixLength}, dev: null, broadcast: null, scope: 0,` +
    ` label: null, peer: null, noTrack: false, flags: [], trackGroup: null, origin: { file: "", line: 0 } }\n`
  );
}
