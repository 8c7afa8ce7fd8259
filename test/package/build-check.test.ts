/**
 * The tests that run the built daemon (dist/, bin/vrrpd) take tap's `skip` from `requireBuild()`
 * (test/support/build-check.ts). A skipped file counts as passed, so a missing build, or one older
 * than src/, must not be a skip: it fails the file, once, telling to run `npm run build`.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { requireBuild } from '../support/build-check.js';

function checkout(t: Test): string {
  const root = mkdtempSync(join(tmpdir(), 'vrrpd-build-check-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  writeFileSync(join(root, 'src/cli/main.ts'), '');
  return root;
}

function built(root: string, mtime: Date): void {
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  for (const f of ['dist/cli/main.js', 'dist/cli/run.js']) {
    writeFileSync(join(root, f), '');
    utimesSync(join(root, f), mtime, mtime);
  }
}

t.test('a stale build fails the test (once), with what to run; the body is not run', async (t) => {
  const root = checkout(t);
  built(root, new Date(Date.now() - 60_000));
  const fails: string[] = [];
  const sink = { fail: (m: string) => fails.push(m) };
  const why = requireBuild(root, sink);
  t.match(why, /dist\/ is older than src\//, 'a reason for the skip option: the body would test old code');
  t.equal(fails.length, 1, 'one failure');
  t.match(fails[0], /npm run build/, 'the failure says what to run');
  requireBuild(root, sink);
  t.equal(fails.length, 1, 'a second test of the same file adds no second failure');
});

t.test('a missing build fails the test too', async (t) => {
  const root = checkout(t);
  const fails: string[] = [];
  t.match(requireBuild(root, { fail: (m: string) => fails.push(m) }), /not built/);
  t.equal(fails.length, 1);
  t.match(fails[0], /npm run build/);
});

t.test('a fresh build: nothing to skip, nothing failed', async (t) => {
  const root = checkout(t);
  built(root, new Date(Date.now() + 5_000));
  const fails: string[] = [];
  t.equal(requireBuild(root, { fail: (m: string) => fails.push(m) }), false);
  t.same(fails, []);
});
