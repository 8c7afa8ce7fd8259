/**
 * The man pages (docs/man/*.md, built to roff by scripts/build-man.sh with marked-man): they build,
 * groff reads them without a warning, and vrrpd(8) names every command and every option the CLI
 * takes (the lists main.ts checks argv against, and run's option table).
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHECK_FLAGS, COMMAND_NAMES, DEMO_FLAGS, MANUAL_FLAGS, STATUS_FLAGS } from '../../src/cli/completion.js';
import { RUN_OPTION_NAMES } from '../../src/cli/run-args.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = readFileSync(join(ROOT, 'docs/man/vrrpd.8.md'), 'utf8');

t.test('the pages build, and groff reads them without a warning', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'vrrpd-man-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  execFileSync(join(ROOT, 'scripts/build-man.sh'), [out], { cwd: ROOT, timeout: 60_000 });
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const eight = readFileSync(join(out, 'vrrpd.8'), 'utf8');
  const five = readFileSync(join(out, 'vrrpd.conf.5'), 'utf8');
  t.match(eight, new RegExp(`^\\.TH "VRRPD" "8" "[^"]+" "${version.replace(/\./g, '\\.')}" "vrrpd manual"`), 'vrrpd(8) header');
  t.match(five, /^\.TH "VRRPD\\\.CONF" "5" /, 'vrrpd.conf(5) header');
  for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'EXIT STATUS', 'SIGNALS', 'FILES'])
    t.match(eight, new RegExp(`^\\.SH "?${s}"?$`, 'm'), s);
  const groff = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(out, 'vrrpd.8'), join(out, 'vrrpd.conf.5')], { encoding: 'utf8' });
  if (groff.error) t.comment('groff is not installed: the roff is not checked');
  else {
    t.equal(groff.status, 0, 'groff exit 0');
    t.equal(groff.stderr, '', 'no warning');
  }
});

t.test('vrrpd(8) names every command and option', async (t) => {
  const named = (w: string): boolean => SRC.includes(`\`${w}\``);
  for (const c of COMMAND_NAMES) t.ok(named(c) || SRC.includes(`\`${c} `), `command ${c}`);
  const refused = ['-C', '--check', '-s', '--namespace', '-T', '--genhash'];
  for (const f of new Set([...RUN_OPTION_NAMES, ...CHECK_FLAGS, ...STATUS_FLAGS, ...MANUAL_FLAGS, ...DEMO_FLAGS, ...refused]))
    t.ok(named(f), `option ${f}`);
  for (const code of [0, 1, 2, 3, 5, 6, 7, 10]) t.match(SRC, new RegExp(`^\\* ${code}:$`, 'm'), `exit status ${code}`);
});
