/**
 * What the package ships (issue 11): the daemon and nothing of the harness. `npm pack` lists no
 * benchmark (bench/, or the dist/bench/ an older layout compiled), no namespace lab or test fake
 * (test/support/, or the old dist/protocol/testing/) and no test; the product build (tsconfig.json)
 * compiles nothing from bench/ or test/; and `make install` copies only the package's own folders.
 *
 * `npm pack --ignore-scripts` lists dist/ as it is (its `prepare` would rebuild dist/ under the
 * other tests that run the built daemon), so this needs the build, like the daemon tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { requireBuild } from '../support/build-check.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** npm and tsc each finish in a few seconds; a loaded 2-core CI machine gets ten times that. */
const COMMAND_TIMEOUT_MS = 60_000;

/** Folders whose files must never ship, as paths in the package. */
const NEVER_SHIPPED = ['bench/', 'build/', 'test/', 'src/', 'dist/bench/', 'dist/protocol/testing/'];

function run(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/** Module names of every `.ts` file in the given folders (recursively), without the extension. */
function moduleNames(dirs: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const dir of dirs) {
    if (!existsSync(join(REPO, dir))) continue;
    for (const f of readdirSync(join(REPO, dir), { recursive: true }) as string[]) if (f.endsWith('.ts')) names.add(basename(f, '.ts'));
  }
  return names;
}

/**
 * Module names of the harness: every file in bench/ and test/support/, except a name a product
 * module in src/ also has (test/support/config-host.ts is test text, src/host/config-host.ts ships).
 */
function harnessModules(): Set<string> {
  const product = moduleNames(['src']);
  return new Set([...moduleNames(['bench', 'test/support'])].filter((m) => !product.has(m)));
}

/** The module a shipped file under dist/ was compiled from (`dist/io/x.js.map` -> `x`), or undefined. */
function distModule(path: string): string | undefined {
  return /^dist\/(?:.*\/)?([^/]+?)\.(?:js|js\.map|d\.ts)$/.exec(path)?.[1];
}

t.test(
  'npm pack lists the daemon and no benchmark, lab, test fake or test',
  { skip: requireBuild(), timeout: 2 * COMMAND_TIMEOUT_MS },
  async (t) => {
    const r = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']);
    t.equal(r.code, 0, r.code === 0 ? 'npm pack exit 0' : r.stderr);
    const pack = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
    const paths = (pack[0]?.files ?? []).map((f) => f.path);
    for (const p of [
      'dist/cli/main.js',
      'dist/cli/demo.js',
      'dist/cli/demo-lab.js',
      'bin/vrrpd',
      'package.json',
      'systemd/vrrpd.service',
    ]) {
      t.ok(paths.includes(p), `${p} is shipped`);
    }
    // the bundle bin/vrrpd runs (scripts/bundle.mjs; `npm run build` and `npm ci` make it)
    if (existsSync(join(REPO, 'dist/bundle/main.js')))
      for (const p of ['dist/bundle/main.js', 'dist/bundle/config-worker.cjs']) t.ok(paths.includes(p), `${p} is shipped`);
    const harness = harnessModules();
    const leaked = paths.filter((p) => {
      const mod = distModule(p);
      return NEVER_SHIPPED.some((d) => p.startsWith(d)) || /\.test\.[jt]s$/.test(p) || (mod !== undefined && harness.has(mod));
    });
    t.same(leaked, [], 'no benchmark, lab, fake or test file is in the package');
  },
);

t.test('the product build compiles nothing from bench/ or test/', { timeout: 2 * COMMAND_TIMEOUT_MS }, async (t) => {
  const r = await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--listFilesOnly']);
  t.equal(r.code, 0, r.code === 0 ? 'tsc --listFilesOnly exit 0' : `${r.stdout}${r.stderr}`);
  const ours = r.stdout.split('\n').filter((f) => f.startsWith(REPO) && !f.includes('/node_modules/'));
  t.ok(
    ours.some((f) => f.endsWith('/src/cli/main.ts')),
    'src/cli/main.ts is compiled',
  );
  t.same(
    ours.filter((f) => !f.startsWith(join(REPO, 'src/'))),
    [],
    'every compiled file is under src/',
  );
});

t.test(
  'make install copies only bin, dist, conf, systemd, the package files and node_modules',
  { timeout: COMMAND_TIMEOUT_MS },
  async (t) => {
    // -n prints the recipe without running it: nothing is built, installed or pruned.
    const r = await run('make', ['-n', 'install', 'DESTDIR=/nonexistent-destdir']);
    t.equal(r.code, 0, r.code === 0 ? 'make -n install exit 0' : r.stderr);
    const copies = r.stdout.split('\n').filter((l) => /^cp /.test(l.trim()));
    t.ok(copies.length > 0, 'the recipe copies the package');
    const sources = copies.flatMap((l) =>
      l
        .trim()
        .split(/\s+/)
        .slice(1, -1)
        .filter((w) => !w.startsWith('-')),
    );
    const allowed = new Set(['bin', 'dist', 'conf', 'systemd', 'package.json', 'package-lock.json', 'node_modules']);
    t.same(
      sources.filter((s) => !allowed.has(s)),
      [],
      `copied: ${sources.join(' ')}`,
    );
  },
);
