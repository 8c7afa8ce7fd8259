/**
 * The launcher (bin/vrrpd) starts Node with the V8 heap options chosen in BENCHMARKS.md ("Control
 * socket under a flood") and glibc's arena count ("Memory over time"); callers that run
 * `node bin/vrrpd` build their argv with launcherArgv, and the systemd unit repeats both.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { launcherArgv, launcherEnv, launcherNodeArgs, readLauncherLine } from '../../src/cli/launcher.js';
import { requireBuild, VRRPD_ARGV, VRRPD_BIN } from '../daemon/helpers.js';

t.test('launcherNodeArgs reads the options on the launcher line', async (t) => {
  t.same(launcherNodeArgs(VRRPD_BIN), ['--max-semi-space-size=1'], 'the shipped launcher caps the young generation');
  t.same(launcherEnv(VRRPD_BIN), { MALLOC_ARENA_MAX: '2' }, 'and sets two malloc arenas');
  t.same(
    VRRPD_ARGV,
    ['/usr/bin/env', 'MALLOC_ARENA_MAX=2', process.execPath, '--max-semi-space-size=1', VRRPD_BIN],
    'the tests start the daemon with them',
  );
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  t.same(launcherNodeArgs(f('plain', '#!/usr/bin/env -S node\nimport("x");\n')), []);
  t.same(
    launcherArgv(f('plain2', '#!/usr/bin/env -S node --a=1\n'), '/n'),
    ['/n', '--a=1', join(dir, 'plain2')],
    'no env(1) without assignments',
  );
  t.same(readLauncherLine(f('env2', '#!/usr/bin/env -S A_B=1 C=x.y node --a=1\n')), { env: ['A_B=1', 'C=x.y'], nodeArgs: ['--a=1'] });
  t.same(launcherArgv(join(dir, 'env2'), '/n'), ['/usr/bin/env', 'A_B=1', 'C=x.y', '/n', '--a=1', join(dir, 'env2')]);
  t.throws(() => launcherNodeArgs(f('envshell', '#!/usr/bin/env -S A=$(id) node\n')), /first line is not/);
  t.throws(() => launcherNodeArgs(f('lower', '#!/usr/bin/env -S a=1 node\n')), /first line is not/);
  t.same(launcherNodeArgs(f('two', '#!/usr/bin/env -S node --max-semi-space-size=1 --stack-size=900\n')), [
    '--max-semi-space-size=1',
    '--stack-size=900',
  ]);
  t.throws(() => launcherNodeArgs(f('old', '#!/usr/bin/env node\n')), /first line is not '#!\/usr\/bin\/env -S \[NAME=VALUE...\] node/);
  t.throws(() => launcherNodeArgs(f('shell', '#!/usr/bin/env -S node --x=1; rm -rf /\n')), /first line is not/);
  t.throws(() => launcherNodeArgs(f('empty', '')), /first line is not/);
});

t.test('a daemon exec-ed through the launcher runs with its options', { skip: rootSkip() || requireBuild() }, async (t) => {
  // `vrrpd run` with no instance, alone in a new network namespace: the kernel reads the `#!` line,
  // env execs node with the options (unshare and env exec in place: one pid throughout).
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'k.conf');
  writeFileSync(conf, 'global_defs {\n  router_id launcher\n}\n');
  const args = ['run', '-f', conf, '--state-dir', dir, '--pid-file', join(dir, 'vrrpd.pid'), '--control-socket', join(dir, 's.sock')];
  const p = spawn('unshare', ['-n', VRRPD_BIN, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => p.on('exit', () => res()));
  t.teardown(async () => {
    p.kill('SIGKILL');
    await exited;
  });
  let cmdline: string[] = [];
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    try {
      cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
    } catch {
      break;
    }
    if (/(^|\/)node$/.test(cmdline[0] ?? '')) break;
  }
  t.match(cmdline[0] ?? '', /(^|\/)node$/, `node runs the launcher: ${cmdline.join(' ')}`);
  t.ok(cmdline.includes('--max-semi-space-size=1'), 'with its option on the command line');
  let environ: string[] = [];
  try {
    environ = readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0');
  } catch {
    // gone: the assertion below says so
  }
  t.ok(environ.includes('MALLOC_ARENA_MAX=2'), 'and its environment');
});

t.test("the launcher's assignments are not passed on to hooks", { skip: requireBuild() }, async (t) => {
  // keepalived's hooks get the environment keepalived was started with; so do vrrpd's, which
  // inherit process.env. Seen from inside the launched process, after the launcher ran.
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const probe = join(dir, 'probe.mjs');
  writeFileSync(probe, "process.on('exit', () => process.stdout.write(`\\nARENA=${process.env.MALLOC_ARENA_MAX ?? '-'}\\n`));\n");
  const run = (argv: string[], env: NodeJS.ProcessEnv): string => {
    const i = argv.indexOf(process.execPath);
    const withProbe = [...argv.slice(0, i + 1), '--import', probe, ...argv.slice(i + 1), '--version'];
    const r = spawnSync(withProbe[0]!, withProbe.slice(1), { encoding: 'utf8', timeout: 20_000, env });
    return /ARENA=(.*)/.exec(r.stdout)?.[1] ?? `no probe line: ${r.stdout} ${r.stderr}`;
  };
  const base = { ...process.env };
  delete base.MALLOC_ARENA_MAX;
  t.equal(run(launcherArgv(VRRPD_BIN), base), '-', "the line's MALLOC_ARENA_MAX=2 is gone from process.env");
  t.equal(run([process.execPath, VRRPD_BIN], { ...base, MALLOC_ARENA_MAX: '4' }), '4', "a caller's own value is kept");
  // the names the launcher removes are the names its first line sets
  const removed = /const LAUNCHER_ENV = \{([^}]*)\}/.exec(readFileSync(VRRPD_BIN, 'utf8'))?.[1] ?? '';
  const pairs = Object.fromEntries([...removed.matchAll(/([A-Z_][A-Z0-9_]*): '([^']*)'/g)].map((m) => [m[1], m[2]]));
  t.same(pairs, launcherEnv(VRRPD_BIN), 'LAUNCHER_ENV in bin/vrrpd is line 1');
});

t.test('the systemd unit repeats the launcher line', async (t) => {
  const unit = readFileSync(join(VRRPD_BIN, '../../systemd/vrrpd.service'), 'utf8');
  for (const a of readLauncherLine(VRRPD_BIN).env) t.match(unit, new RegExp(`^Environment=${a}$`, 'm'), `Environment=${a}`);
});

function rootSkip(): false | string {
  return process.getuid?.() === 0 ? false : 'needs root (a network namespace)';
}

t.test('the launcher refuses a Node older than 20 in one line, before loading anything', { skip: requireBuild() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // what Node 18 reports, on this Node: the launcher reads process.versions.node
  const old = join(dir, 'node18.mjs');
  writeFileSync(old, "Object.defineProperty(process.versions, 'node', { value: '18.19.1' });\n");
  for (const cmd of [['--version'], ['status'], ['run', '-f', '/nonexistent.conf']]) {
    const r = spawnSync(process.execPath, ['--import', old, VRRPD_BIN, ...cmd], { encoding: 'utf8', timeout: 20_000 });
    t.equal(r.status, 1, `${cmd.join(' ')}: exit 1`);
    t.match(
      r.stderr,
      /^vrrpd: Node\.js 18\.19\.1 \(.*\) is too old: vrrpd needs Node\.js 20 or newer; install nodejs >= 20/,
      'says what to install',
    );
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.equal(r.stdout, '', 'nothing else ran');
  }
});

t.test('the daemon refuses native modules built for another Node in one line', { skip: requireBuild() }, async (t) => {
  // the launcher in a tree whose raw-socket was built for another Node ABI (what a Node upgrade leaves)
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-launcher-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(VRRPD_BIN, join(dir, 'bin', 'vrrpd'));
  // the compiled daemon: its main.js starts the config loader's thread, then has the launcher check
  cpSync(join(VRRPD_BIN, '../../dist'), join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const mod = join(dir, 'node_modules', 'raw-socket');
  mkdirSync(mod, { recursive: true });
  writeFileSync(join(mod, 'package.json'), '{"name":"raw-socket","main":"index.js"}\n');
  writeFileSync(
    join(mod, 'index.js'),
    "throw new Error('The module raw.node was compiled against a different Node.js version using NODE_MODULE_VERSION 108.');\n",
  );
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'vrrpd'), 'run', '-f', '/nonexistent.conf'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.equal(r.status, 1, 'exit 1');
  t.match(
    r.stderr,
    /^vrrpd: the native module raw-socket does not load under Node\.js [\d.]+ \(ABI \d+\): The module raw\.node was compiled against a different Node\.js version/,
  );
  t.match(r.stderr, /rebuild it for this Node \(npm rebuild in vrrpd's directory\) or install the vrrpd package built for it/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  // the client commands never load native modules: they still work
  const v = spawnSync(process.execPath, [join(dir, 'bin', 'vrrpd'), '--help'], { encoding: 'utf8', timeout: 20_000 });
  t.notMatch(v.stderr, /native module/, '--help does not check them');
});
