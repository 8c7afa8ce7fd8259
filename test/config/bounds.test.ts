/**
 * Bounded config loading (issue 10): include cycles found by real path, and every named limit of
 * src/config/limits.ts ending the load with a fatal diagnostic that names the limit, the file and
 * the line. Limits are shrunk through LoadOptions.limits so each case stays small; the defaults are
 * checked against the 1,000-instance benchmark config. Pure (memoryHost), except the cases that need
 * a real file system (symlinks, realpath, globs), which use a mkdtemp directory.
 */
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countBraceAlternatives, expandBraces } from '../../src/config/braces.js';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { nodeConfigHost } from '../../src/host/config-host.js';
import type { ConfigHost } from '../../src/config/host.js';
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from '../../src/config/limits.js';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { generateConfig } from '../../bench/config-parse.js';
import { memoryHost } from '../support/config-host.js';

const inst = (name = 'VI_1', vrid = 51) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n  virtual_ipaddress {\n    10.0.0.${vrid}/24\n  }\n}\n`;
const shown = (r: LoadResult) => r.diagnostics.filter((d) => d.severity !== 'info');
const msgs = (r: LoadResult) => shown(r).map((d) => formatDiagnostic(d));
const timed = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
};
const load = (files: Record<string, string>, limits: Partial<LoadLimits> = {}, main = 'k.conf', extra: Partial<ConfigHost> = {}) =>
  loadConfig(main, memoryHost(files, extra), { limits });

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-bounds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The one fatal diagnostic a limit leaves, last in the list. */
function limitHit(t: Test, r: LoadResult, name: string, file: string, line: number): void {
  const last = r.diagnostics[r.diagnostics.length - 1];
  t.equal(last?.severity, 'fatal', 'a fatal diagnostic');
  t.match(last?.message ?? '', new RegExp(`\\(${name}\\) - configuration refused$`), `names ${name}`);
  t.equal(`${last?.file}:${last?.line}`, `${file}:${line}`, `at ${file}:${line}`);
  t.equal(r.config, undefined, 'the config is refused');
  t.equal(r.exitCode, 5);
}

// ------------------------------------------------------------------------------------------ cycles

t.test('include cycle: two files that `include *.conf` each other end at once, each read once', async (t) => {
  // keepalived 2.2.7 -t recurses a.conf -> {a,b} -> {a,b} ... until EMFILE: 2^1000 paths, for ever
  const [r, ms] = timed(() => load({ 'a.conf': `${inst()}include *.conf\n`, 'b.conf': 'include *.conf\n' }, {}, 'a.conf'));
  t.ok(ms < 2000, `${ms.toFixed(0)} ms`);
  t.same(msgs(r), [
    "(a.conf: Line 8) Configuration file 'a.conf' is already being read (include cycle) - skipping",
    "(b.conf: Line 1) Configuration file 'a.conf' is already being read (include cycle) - skipping",
    "(b.conf: Line 1) Configuration file 'b.conf' is already being read (include cycle) - skipping",
  ]);
  t.same(r.partial.files, ['a.conf', 'b.conf'], 'each file read once');
  t.equal(r.partial.instances.length, 1);
  t.equal(r.exitCode, 5, 'an error (keepalived exits 5 on a self-including file that defines an instance)');
  t.ok(r.config, 'the rest of the config stands');
});

t.test('include cycle: a file that includes itself', async (t) => {
  // keepalived 2.2.7 -t reads it ~1018 times until EMFILE: "vrrp instance VI_1 already defined" x1017
  const r = load({ 'self.conf': `${inst()}include *\n` }, {}, 'self.conf');
  t.same(msgs(r), ["(self.conf: Line 8) Configuration file 'self.conf' is already being read (include cycle) - skipping"]);
  t.equal(r.partial.instances.length, 1, 'no "already defined": read once');
});

t.test('include cycle found by real path: the same file under another name (symlinked directory)', async (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'conf.d'));
  symlinkSync('..', join(dir, 'conf.d', 'up'));
  writeFileSync(join(dir, 'k.conf'), `${inst()}include conf.d/*.conf\n`);
  writeFileSync(join(dir, 'conf.d', 'b.conf'), `${inst('VI_2', 52)}include up/k.conf\n`);
  const [r, ms] = timed(() => loadConfig(join(dir, 'k.conf'), nodeConfigHost({ hostChecks: false })));
  t.ok(ms < 2000, `${ms.toFixed(0)} ms`);
  t.same(msgs(r), [`(conf.d/b.conf: Line 8) Configuration file 'up/k.conf' is already being read (include cycle) - skipping`]);
  t.same(
    r.partial.instances.map((i) => i.name),
    ['VI_1', 'VI_2'],
  );
});

t.test('not a cycle: the same file included twice side by side is read twice (as keepalived does)', async (t) => {
  const r = load({ 'k.conf': `${inst()}include x.inc\ninclude x.inc\n`, 'x.inc': '! nothing\n' });
  t.same(msgs(r), []);
  t.same(r.partial.files, ['k.conf', 'x.inc', 'x.inc']);
});

// ------------------------------------------------------------------------------------------ braces

t.test('brace expansion follows glob(3): order, nesting, escapes, ill-formed groups', async (t) => {
  t.same(expandBraces('a{b,c}d{e,f}', 100), ['abde', 'abdf', 'acde', 'acdf']);
  t.same(expandBraces('{a,{b,c}}x', 100), ['ax', 'bx', 'cx'], 'nested: one level per group, no duplicates');
  t.same(expandBraces('{a,b', 100), ['{a,b'], 'unclosed: the whole pattern is literal');
  t.same(expandBraces('\\{a,b}', 100), ['\\{a,b}'], 'an escaped brace opens no group');
  t.same(expandBraces('{a\\,b,c}', 100), ['a\\,b', 'c'], 'an escaped comma splits nothing');
  t.same(expandBraces('{}x', 100), ['x']);
  t.equal(countBraceAlternatives('{a,b}'.repeat(30), 1024), 1025, '2^30 counted as over the limit');
  t.equal(countBraceAlternatives('{a,b}'.repeat(10), 1024), 1024, '2^10 counted exactly');
  t.equal(expandBraces('{a,b}'.repeat(11), 1024), undefined, 'nothing built over the limit');
  const [n, ms] = timed(() => countBraceAlternatives(`${'{a,{b,{c,d}}}'.repeat(200)}`, 1024));
  t.equal(n, 1025);
  t.ok(ms < 500, `counting a 2,600-character nested pattern: ${ms.toFixed(0)} ms`);
});

t.test('brace bomb in an include pattern: MAX_BRACE_ALTERNATIVES, nothing built, at the include line', async (t) => {
  // before: `include x{a,b}...` (30 groups) made the host build 2^30 patterns (hang, memory without bound)
  const bomb = `x${'{a,b}'.repeat(30)}.conf`;
  for (const kw of ['include', 'includeb']) {
    const heap0 = process.memoryUsage().heapUsed;
    const [r, ms] = timed(() => load({ 'k.conf': `${inst()}\n${kw} ${bomb}\n` }));
    t.ok(ms < 500, `${kw}: ${ms.toFixed(0)} ms`);
    t.ok(process.memoryUsage().heapUsed - heap0 < 50e6, 'no memory built up');
    limitHit(t, r, 'MAX_BRACE_ALTERNATIVES', 'k.conf', 9);
    t.match(r.diagnostics.at(-1)?.message, `Include pattern '${bomb}' has more than 1024 brace alternatives`);
  }
  // the real host refuses too when asked directly (defence in depth)
  const g = nodeConfigHost({ hostChecks: false }).glob(bomb, '/nonexistent', { maxAlternatives: 1024, budget: { entries: 100 } });
  t.same(g, { overflow: 'maxBraceAlternatives' });
  const small = load({ 'k.conf': `include {a,b}{c,d}.inc\n`, 'ac.inc': inst() }, { maxBraceAlternatives: 3 });
  limitHit(t, small, 'MAX_BRACE_ALTERNATIVES', 'k.conf', 1);
  t.equal(
    load({ 'k.conf': `include {a,b}{c,d}.inc\n`, 'ac.inc': inst() }, { maxBraceAlternatives: 4 }).exitCode,
    0,
    'at the limit is fine',
  );
});

// ------------------------------------------------------------------------------------------ caps

t.test('MAX_CONFIG_FILES: the include that would open one file too many', async (t) => {
  const files = { 'k.conf': `${inst()}include inc/*.inc\n`, 'inc/1.inc': '', 'inc/2.inc': '', 'inc/3.inc': '' };
  t.equal(load(files, { maxFiles: 4 }).exitCode, 0, '4 files with a limit of 4');
  const r = load(files, { maxFiles: 3 });
  limitHit(t, r, 'MAX_CONFIG_FILES', 'k.conf', 8);
  t.match(r.diagnostics.at(-1)?.message, "Too many configuration files: 'inc/3.inc' would be file 4, more than 3");
});

t.test('MAX_CONFIG_BYTES: reading stops at the line where the budget runs out', async (t) => {
  const main = `${inst()}include big.inc\n`;
  const big = '# 0123456789\n'.repeat(10); // 13 bytes a line
  const both = main.length + big.length;
  t.equal(load({ 'k.conf': main, 'big.inc': big }, { maxBytes: both }).exitCode, 0, 'exactly at the limit');
  const r = load({ 'k.conf': main, 'big.inc': big }, { maxBytes: both - 1 });
  limitHit(t, r, 'MAX_CONFIG_BYTES', 'big.inc', 10);
  t.match(r.diagnostics.at(-1)?.message, `Configuration too large: more than ${both - 1} bytes`);
  const early = load({ 'k.conf': main, 'big.inc': big }, { maxBytes: main.length + 13 * 3 + 5 });
  limitHit(t, early, 'MAX_CONFIG_BYTES', 'big.inc', 4);
  const mainOnly = load({ 'k.conf': main }, { maxBytes: main.indexOf('virtual_ipaddress') });
  limitHit(t, mainOnly, 'MAX_CONFIG_BYTES', 'k.conf', 4);
  // the host never reads past the budget either
  const dir = tmp(t);
  writeFileSync(join(dir, 'f'), 'x'.repeat(10000));
  t.equal(nodeConfigHost({ hostChecks: false }).readFile(join(dir, 'f'), { maxBytes: 100 })?.length, 101, 'host reads maxBytes + 1');
});

t.test('MAX_CONFIG_LINES: lines read and generated together; comments and blank lines are not counted', async (t) => {
  // inst() is 7 lines, 9 counted: the rest of a line after a brace is processed as a line of its own
  const text = `# c\n\n${inst()}! c\n`;
  t.equal(load({ 'k.conf': text }, { maxLines: 9 }).exitCode, 0);
  limitHit(t, load({ 'k.conf': text }, { maxLines: 8 }), 'MAX_CONFIG_LINES', 'k.conf', 9);
  const gen = load({ 'k.conf': `~SEQ(N,1,50) $N\n~SEQ(N,1,50) $N\n` }, { maxLines: 100 });
  limitHit(t, gen, 'MAX_CONFIG_LINES', 'k.conf', 2);
  t.match(gen.diagnostics.at(-1)?.message, 'Configuration too long: more than 100 lines');
});

t.test('MAX_GLOB_ENTRIES: directory entries examined by all includes together', async (t) => {
  const dir = tmp(t);
  mkdirSync(join(dir, 'd'));
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'd', `${i}.inc`), '');
  writeFileSync(join(dir, 'k.conf'), `${inst()}include d/*.inc\ninclude d/*.inc\n`);
  const host = nodeConfigHost({ hostChecks: false });
  t.equal(loadConfig(join(dir, 'k.conf'), host, { limits: { maxGlobEntries: 40 } }).exitCode, 0, 'twice (10 entries + 10 matches) = 40');
  const r = loadConfig(join(dir, 'k.conf'), host, { limits: { maxGlobEntries: 39 } });
  limitHit(t, r, 'MAX_GLOB_ENTRIES', join(dir, 'k.conf'), 9);
});

t.test('MAX_GENERATED_LINES and MAX_SUBSTITUTIONS name themselves (the line is reported, loading goes on)', async (t) => {
  const g = load({ 'k.conf': `~SEQ(A,1,5) ~SEQ(B,1,5) x$A$B\n${inst()}` }, { maxGeneratedLines: 10 });
  t.ok(
    msgs(g).includes('(k.conf: Line 1) More than 10 lines generated from one line (MAX_GENERATED_LINES) - ignoring the rest'),
    msgs(g).join('\n'),
  );
  t.equal(g.partial.instances.length, 1);
  const s = load({ 'k.conf': `$A=$B\n$B=$A\n${inst()}priority $A\n` }, { maxSubstitutions: 8 });
  t.ok(
    msgs(s).includes(
      "(k.conf: Line 10) Parameter substitution did not terminate on line 'priority $A' (more than 8 substitutions, MAX_SUBSTITUTIONS)",
    ),
    msgs(s).join('\n'),
  );
});

t.test('MAX_TOTAL_SUBSTITUTIONS: substitutions of the whole load', async (t) => {
  const text = `$V=10.0.0.1/24\n${'$V\n'.repeat(20)}`;
  t.equal(
    load({ 'k.conf': text }, { maxSubstitutionsTotal: 20 }).diagnostics.some((d) => d.severity === 'fatal'),
    false,
  );
  limitHit(t, load({ 'k.conf': text }, { maxSubstitutionsTotal: 19 }), 'MAX_TOTAL_SUBSTITUTIONS', 'k.conf', 21);
});

t.test('MAX_DIAGNOSTICS: the rest is counted, the exit code and refusal are kept', async (t) => {
  const text = `${'bogus\n'.repeat(50)}vrrp_instance VI_1 {\n  virtual_router_id 300\n}\n`;
  const full = load({ 'k.conf': text });
  const r = load({ 'k.conf': text }, { maxDiagnostics: 10 });
  t.equal(r.exitCode, full.exitCode, `same exit code (${full.exitCode})`);
  t.equal(r.config === undefined, full.config === undefined, 'same refusal');
  t.ok(r.diagnostics.length <= 10 + 3, `${r.diagnostics.length} kept`);
  t.ok(
    r.diagnostics.some((d) => d.severity === 'fatal'),
    'the first fatal one is kept past the bound',
  );
  t.match(r.diagnostics.at(-1)?.message, /^\d+ more diagnostics not shown \(MAX_DIAGNOSTICS 10\)$/);
});

t.test('a limit ends the read: nothing after it is reported', async (t) => {
  const r = load(
    { 'k.conf': `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  bogus\n  more_bogus\n}\n` },
    { maxLines: 5 },
  );
  t.same(msgs(r), [
    "(k.conf: Line 4) Unknown keyword 'bogus'",
    '(k.conf: Line 5) Configuration too long: more than 5 lines (MAX_CONFIG_LINES) - configuration refused',
  ]);
});

t.test('the defaults are far above a real config: the 1,000-instance benchmark config loads', async (t) => {
  const text = generateConfig(1000);
  const r = loadConfig('k.conf', memoryHost({ 'k.conf': text }));
  t.equal(r.exitCode, 0);
  t.equal(r.partial.instances.length, 1000);
  const lines = text.split('\n').length;
  t.ok(lines * 30 < DEFAULT_LOAD_LIMITS.maxLines, `${lines} lines: under 1/30 of MAX_CONFIG_LINES`);
  t.ok(text.length * 30 < DEFAULT_LOAD_LIMITS.maxBytes, `${text.length} bytes: under 1/30 of MAX_CONFIG_BYTES`);
});
