/**
 * The bundle (scripts/bundle.mjs -> dist/bundle/): bin/vrrpd runs it when it is not older than the
 * compiled output it was built from, and it behaves as dist/ does: the same output and exit code for
 * `check` (the config loaded in the bundle's own worker entry), the printers loaded on demand, the
 * usage text. BENCHMARKS.md ("Footprint") has what it saves.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { requireBuild } from '../support/build-check.js';
import { REPO_ROOT } from '../support/vrrp-harness.js';

const CMD_TIMEOUT_MS = 60_000;
const BIN = join(REPO_ROOT, 'bin/vrrpd');
/** Without the test runner's NODE_OPTIONS (its loader hooks would take the extension-less bin/vrrpd for CommonJS). */
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

t.test('bin/vrrpd runs the bundle only when it is not older than dist/cli/main.js (or when there is no src/)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-bundle-pick-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist/cli'), { recursive: true });
  mkdirSync(join(dir, 'dist/bundle'));
  copyFileSync(BIN, join(dir, 'bin/vrrpd'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const stub = (which: string): string => `export async function main() { console.log('${which}'); return 0; }\n`;
  writeFileSync(join(dir, 'dist/cli/main.js'), stub('dist'));
  writeFileSync(join(dir, 'dist/bundle/main.js'), stub('bundle'));
  const at = (p: string, sec: number): void => utimesSync(join(dir, p), sec, sec);
  const picked = (): string => {
    const r = spawnSync(process.execPath, [join(dir, 'bin/vrrpd'), 'version'], { encoding: 'utf8', timeout: CMD_TIMEOUT_MS, env: ENV });
    return `${r.stdout}${r.stderr}`.trim();
  };
  mkdirSync(join(dir, 'src'));
  at('dist/cli/main.js', 1_000_000);
  at('dist/bundle/main.js', 1_000_010);
  t.equal(picked(), 'bundle', 'a checkout whose bundle is newer runs the bundle');
  at('dist/bundle/main.js', 1_000_000);
  t.equal(picked(), 'bundle', 'as new (npm pack sets every mtime alike): the bundle');
  at('dist/cli/main.js', 1_000_020);
  t.equal(picked(), 'dist', 'a checkout compiled since the bundle (tsc -p .) runs dist/');
  rmSync(join(dir, 'src'), { recursive: true });
  t.equal(picked(), 'bundle', 'an installed package (no src/) runs its bundle whatever the copy did to the mtimes');
  rmSync(join(dir, 'dist/bundle'), { recursive: true });
  t.equal(picked(), 'dist', 'no bundle: dist/');
});

t.test(
  'the bundle behaves as dist/: check, its worker, the printers, the usage',
  { skip: requireBuild(), timeout: 4 * CMD_TIMEOUT_MS },
  async (t) => {
    // built beside node_modules (the native modules stay outside the bundle and resolve from there)
    const out = join(REPO_ROOT, 'build', `bundle-test-${process.pid}`);
    t.teardown(() => rmSync(out, { recursive: true, force: true }));
    const b = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/bundle.mjs'), out], { encoding: 'utf8', timeout: CMD_TIMEOUT_MS });
    t.equal(b.status, 0, `scripts/bundle.mjs exit 0 ${b.stderr}`);
    const files = readdirSync(out);
    t.ok(files.includes('main.js') && files.includes('config-worker.cjs'), "one file per thread entry (the worker's: one CommonJS file)");
    t.ok(
      files.some((f) => /^print-config-.*\.js$/.test(f)),
      'the printers are a file of their own (loaded only by --print)',
    );
    // A CommonJS package split into a file of its own exports `default` alone, and `(await
    // import(pkg)).name` is then undefined (prom-client's Registry for --metrics-listen once was).
    const defaultOnly = files.filter((f) => /^export default require_\w+\(\);\s*$/m.test(readFileSync(join(out, f), 'utf8')));
    t.same(defaultOnly, [], 'no CommonJS package bundled as a default-only module (those stay external: scripts/bundle.mjs)');

    const confDir = mkdtempSync(join(tmpdir(), 'vrrpd-bundle-conf-'));
    t.teardown(() => rmSync(confDir, { recursive: true, force: true }));
    const conf = (name: string, text: string): string => {
      const p = join(confDir, name);
      writeFileSync(p, text);
      return p;
    };
    const good = conf(
      'good.conf',
      'vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 7\n  priority 100\n  virtual_ipaddress {\n    192.0.2.7/32\n  }\n}\n',
    );
    const bad = conf('bad.conf', 'vrrp_instance VI_1 {\n  state SOMETIMES\n  interface lo\n  virtual_router_id 300\n}\n');
    const runMain = (mainJs: string, argv: string[]): { code: number | null; out: string; err: string } => {
      const script = `import(${JSON.stringify(mainJs)}).then((m) => m.main(${JSON.stringify(argv)})).then((c) => { process.exitCode = c; })`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: CMD_TIMEOUT_MS, env: ENV });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const cases: string[][] = [
      ['check', '--no-host-checks', '-f', good],
      ['check', '--no-host-checks', '-f', bad],
      ['check', '--no-host-checks', '--json', '-f', bad],
      ['check', '--no-host-checks', '--print', 'yaml', '-f', good],
      ['check', '--no-host-checks', '--print', 'keepalived', '-f', good],
      ['check', '--no-host-checks', '-f', join(confDir, 'missing.conf')],
      ['--help'],
    ];
    for (const argv of cases) {
      const want = runMain(join(REPO_ROOT, 'dist/cli/main.js'), argv);
      const got = runMain(join(out, 'main.js'), argv);
      t.same(got, want, `vrrpd ${argv.join(' ').replaceAll(confDir, 'DIR')}: same exit code, stdout and stderr`);
    }
    const ok = runMain(join(out, 'main.js'), ['check', '--no-host-checks', '-f', good]);
    t.match(ok.err, /would start this configuration: 1 VRRP instance/, 'the bundle loads a config (in its worker entry)');
  },
);
