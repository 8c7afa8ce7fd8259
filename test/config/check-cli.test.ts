/**
 * `vrrpd check -f FILE` / `vrrpd -t -f FILE` through main() with a fake Io (same code as bin/vrrpd,
 * without a process per case): keepalived's exit codes on oracle cases, --json, --print round trips,
 * the keepalived spelling, and a missing file.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { main } from '../../src/cli/main.js';
import { loadConfigOffThread } from '../../src/cli/config-loader.js';
import { fromYaml, modelFromData } from '../../src/config/yaml.js';
import { loadConfig } from '../../src/config/load.js';
import { memoryHost } from '../support/config-host.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = resolve(here, '../fixtures/config-cases');
process.chdir(casesDir); // keepalived's (FILE: Line N) names are relative to the cwd, as in regen.sh

// A fresh config worker compiles TypeScript under tap, for seconds on a busy machine (past
// check's own 5 s load bound): warm one with a long bound first; main() reuses it while it is idle.
const warm = () => loadConfigOffThread({ file: '/nonexistent/vrrpd-warm-up.conf', hostChecks: false }, { timeoutMs: 60_000 });

async function run(...argv: string[]) {
  await warm();
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const expectedExit = (c: string) => Number(/exit=(\d+)/.exec(readFileSync(join(casesDir, c.replace(/\.conf$/, '.expected')), 'utf8'))?.[1]);

t.test('exit codes 0/2/5/6 as keepalived -t on oracle cases (no host checks needed for these)', async (t) => {
  for (const c of [
    'clean.conf',
    'missing-param-priority.conf',
    'unknown-keyword.conf',
    'includem-missing.conf',
    'include-missing.conf',
    'vrid-missing.conf',
    'unterminated-quote.conf',
  ]) {
    const want = expectedExit(c);
    const r = await run('check', '-f', c, '--no-host-checks');
    t.equal(r.code, want, `${c} -> ${want}`);
    if (want === 0)
      t.same(
        r.err.split('\n').filter((l) => l && !/Config files missing/.test(l)),
        ['vrrpd run would start this configuration: 1 VRRP instance'],
        'nothing printed but the verdict line',
      );
    else t.not(r.err, '', 'diagnostics on stderr');
  }
  const sec = await run('check', '-f', 'notify-no-security.conf');
  t.equal(sec.code, 6, 'script security (host check: /usr/bin/test exists, run as root) -> 6');
  t.match(sec.err, /SECURITY VIOLATION - scripts are being executed but script_security not enabled\./);
});

t.test('stderr lines are keepalived-style `(FILE: Line N) message`', async (t) => {
  const r = await run('check', '-f', 'unknown-keyword.conf', '--no-host-checks');
  const exp = readFileSync(join(casesDir, 'unknown-keyword.expected'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('('));
  for (const l of exp) t.ok(r.err.split('\n').includes(l), l);
});

t.test('--json gives [{file,line,severity,message}] on stdout (stderr holds nothing else)', async (t) => {
  const r = await run('check', '-f', 'vip-invalid-ip.conf', '--no-host-checks', '--json');
  t.equal(r.code, 5);
  t.equal(r.err, '', 'nothing on stderr');
  const list = JSON.parse(r.out) as { file: string; line: number; severity: string; message: string }[];
  t.ok(Array.isArray(list) && list.length > 0);
  for (const d of list) {
    t.type(d.file, 'string');
    t.type(d.line, 'number');
    t.ok(['fatal', 'error', 'warning'].includes(d.severity), d.severity);
    t.type(d.message, 'string');
  }
  t.ok(list.some((d) => d.file === 'vip-invalid-ip.conf' && d.line > 0 && /VRRP parsed invalid IP 192\.168\.200\.300\/24/.test(d.message)));
  const clean = await run('check', '-f', 'clean.conf', '--no-host-checks', '--json');
  t.same(JSON.parse(clean.out), []);
  const printed = await run('check', '-f', 'vip-invalid-ip.conf', '--no-host-checks', '--json', '--print', 'json');
  t.ok(JSON.parse(printed.out).instances, 'with --print the config is on stdout');
  t.ok(Array.isArray(JSON.parse(printed.err)), 'and the diagnostics on stderr');
});

t.test('--print yaml|json|keepalived output parses back to the same model', async (t) => {
  const base = loadConfig(
    'unicast-ok.conf',
    memoryHost({ 'unicast-ok.conf': readFileSync(join(casesDir, 'unicast-ok.conf'), 'utf8') }),
  ).partial;
  const y = await run('check', '-f', 'unicast-ok.conf', '--no-host-checks', '--print', 'yaml');
  t.equal(y.code, 0);
  t.same(fromYaml(y.out).instances, base.instances, 'yaml');
  t.ok(parseYaml(y.out));
  const j = await run('check', '-f', 'unicast-ok.conf', '--no-host-checks', '--print=json');
  t.same(modelFromData(JSON.parse(j.out)).instances, base.instances, 'json');
  const k = await run('check', '-f', 'unicast-ok.conf', '--no-host-checks', '--print', 'keepalived');
  const again = loadConfig('p.conf', memoryHost({ 'p.conf': k.out }));
  t.equal(again.exitCode, 0, 'printed keepalived text is clean');
  const noOrigin = (x: unknown) => JSON.parse(JSON.stringify(x, (key, v: unknown) => (key === 'origin' ? undefined : v)));
  t.same(noOrigin(again.partial.instances), noOrigin(base.instances), 'keepalived (origin line numbers aside)');
  const bad = await run('check', '-f', 'clean.conf', '--print', 'xml');
  t.equal(bad.code, 2);
  t.match(bad.err, /--print takes keepalived, yaml or json/);
});

t.test('keepalived spelling: vrrpd -t -f FILE', async (t) => {
  const a = await run('-t', '-f', 'missing-param-priority.conf', '--no-host-checks');
  t.equal(a.code, 2);
  t.match(a.err, /\(missing-param-priority\.conf: Line \d+\) \*\*\* Configuration line starting `priority` is missing a parameter/);
  const b = await run('--config-test', '--use-file', 'clean.conf', '--no-host-checks');
  t.equal(b.code, 0);
});

t.test('a missing main file is a clear error', async (t) => {
  // keepalived 2.2.7 `-t -f /nonexistent` prints "Config files missing '/nonexistent'." and exits 0;
  // vrrpd prints the same words but exits 6 (no config), so `vrrpd -t -f X && reload` cannot pass.
  const r = await run('-t', '-f', '/nonexistent/keepalived.conf');
  t.equal(r.code, 6);
  t.match(r.err, /Config files missing '\/nonexistent\/keepalived\.conf'\./);
  const j = await run('check', '-f', '/nonexistent/keepalived.conf', '--json');
  t.match(JSON.parse(j.out), [{ severity: 'fatal', message: /Config files missing/ }]);
  const noArg = await run('check', '-f');
  t.equal(noArg.code, 2);
  t.match(noArg.err, /-f needs a value/);
});
