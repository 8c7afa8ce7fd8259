/**
 * The config loader's worker threads leave nothing behind in the daemon. koffi allocates, per Node
 * environment that calls through it, a call stack and heap it never frees (a 4 KiB guard page,
 * 2 MiB + 4 KiB of stack, 1 MiB of heap: the "triplets" of BENCHMARKS.md's 100-minute soak, one per
 * reload). The worker resolves script users without koffi (getent), so N reloads add no triplet.
 *
 * Runs the built daemon's modules in a child Node (a built worker starts in ~30 ms; under the test
 * runner each new worker compiles TypeScript for seconds).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireBuild } from '../daemon/helpers.js';

const DIST = resolve(import.meta.dirname, '../../dist');

const SCRIPT = `
import { readFileSync } from 'node:fs';
import { loadConfigOffThread } from ${JSON.stringify(`${DIST}/cli/config-loader.js`)};
import { nodeUserDb } from ${JSON.stringify(`${DIST}/host/user-db.js`)};

// koffi's per-environment memory: a 4 KiB PROT_NONE page directly followed by 2052 KiB read-write.
function triplets() {
  const maps = readFileSync('/proc/self/maps', 'utf8').trim().split('\\n').map((l) => {
    const [range, perms] = l.split(' ');
    const [a, b] = range.split('-').map((x) => BigInt('0x' + x));
    return { a, b, perms };
  });
  let n = 0;
  for (let i = 0; i + 1 < maps.length; i++) {
    const g = maps[i], s = maps[i + 1];
    if (g.perms === '---p' && g.b - g.a === 4096n && s.a === g.b && s.perms === 'rw-p' && s.b - s.a === 2052n * 1024n) n++;
  }
  return n;
}
const root = nodeUserDb().user('root');
const base = triplets();
const loads = [];
for (let i = 0; i < 5; i++) {
  // a different heap bound each time: the idle worker is ended and a new one started
  const out = await loadConfigOffThread({ file: process.argv[1] }, { heapMb: 64 + i, timeoutMs: 20000 });
  loads.push(out.ok ? out.result.diagnostics.map((d) => d.message) : ['not ok: ' + out.message]);
}
await new Promise((r) => setTimeout(r, 2500)); // the last worker's idle time, then its exit
console.log(JSON.stringify({ root, base, after: triplets(), loads }));
`;

t.test('five reloads in new worker threads leave no koffi environment behind; users still resolve', { skip: requireBuild() }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-loader-mem-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'k.conf');
  writeFileSync(
    conf,
    [
      'global_defs {',
      '  script_user root root',
      '}',
      'vrrp_script chk {',
      '  script "/bin/true"',
      '  user root',
      '}',
      'vrrp_script bad {',
      '  script "/bin/true"',
      '  user vrrpd-test-no-such-user-3141',
      '}',
      'vrrp_instance VI_1 {',
      '  interface lo',
      '  virtual_router_id 5',
      '  priority 100',
      '  virtual_ipaddress {',
      '    192.0.2.9/32',
      '  }',
      '  track_script {',
      '    chk',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT, conf], { encoding: 'utf8', timeout: 60_000 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { root: unknown; base: number; after: number; loads: string[][] };
  t.same(r.root, { uid: 0, gid: 0 }, 'root resolves on the main thread (NSS through koffi)');
  t.ok(r.base >= 1, `the main thread's own koffi environment is seen (${r.base}): the count can see one`);
  t.equal(r.after, r.base, 'no new koffi environment after five worker loads');
  t.equal(r.loads.length, 5);
  for (const msgs of r.loads) {
    t.notOk(
      msgs.some((m) => m.startsWith('not ok')),
      'loaded',
    );
    t.ok(
      msgs.some((m) => /vrrpd-test-no-such-user-3141/.test(m)),
      'the unknown user is reported by the worker (getent found none)',
    );
    t.notOk(
      msgs.some((m) => /\broot\b/.test(m) && /resolve|Unable|does not exist/.test(m)),
      'root resolves in the worker (getent)',
    );
  }
  t.end();
});
