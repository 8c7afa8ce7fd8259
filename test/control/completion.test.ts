/**
 * `vrrpd completion bash` in a real bash: the script is sourced, COMP_WORDS set as bash sets them,
 * and _vrrpd's COMPREPLY read back. Instance names come from a daemon's control socket (here a
 * socket answering `status` with a report, through the built `vrrpd status --names`); with no
 * daemon, nothing is offered.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { requireBuild, VRRPD_BIN } from '../daemon/helpers.js';
import { inst, report } from '../support/status-fixtures.js';

const run = promisify(execFile);

async function script(): Promise<string> {
  const out: string[] = [];
  const code = await main(['completion', 'bash'], { out: (s) => out.push(s), err: () => undefined });
  if (code !== 0) throw new Error(`completion exit ${code}`);
  return out.join('');
}

t.test('commands, flags and values', { skip: requireBuild() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-compl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vrrpd.bash');
  writeFileSync(file, await script());
  // a daemon's control socket: answers `status` with two instances
  const sock = join(dir, 'vrrpd.sock');
  const server = createServer((c) => {
    c.once('data', () => c.end(`${JSON.stringify({ ok: true, status: report([inst(), inst({ name: 'VI_db' })]) })}\n`));
  });
  await new Promise<void>((r) => server.listen(sock, r));
  t.teardown(() => server.close());

  const complete = async (...words: string[]): Promise<string[]> => {
    const cmd = `source ${JSON.stringify(file)}; COMP_WORDS=(${[VRRPD_BIN, ...words].map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length}; _vrrpd; printf '%s\\n' "\${COMPREPLY[@]}"`;
    // asynchronous: bash runs the built vrrpd, which asks the socket above for the instance names
    const { stdout } = await run('bash', ['-c', cmd], { encoding: 'utf8', timeout: 20_000 });
    return stdout.split('\n').filter(Boolean);
  };

  t.same(await complete('st'), ['status'], 'a command');
  t.ok((await complete('')).includes('completion'), 'every command at the first word');
  t.same(await complete('check', '--st'), ['--strict']);
  t.same(await complete('run', '--metr'), ['--metrics-listen'], "run's own options");
  t.same(await complete('-n', '-l', '--metrics-l'), ['--metrics-listen'], "keepalived's command line (no command word) is run's");
  t.same(await complete('check', '--print', 'y'), ['yaml'], 'the words a value takes');
  t.same(await complete('run', '--log-format', ''), ['json', 'console', 'journal']);
  t.same(await complete('maintenance', ''), ['on', 'off']);
  t.same(await complete('completion', ''), ['bash']);
  t.ok((await complete('check', '-f', join(dir, 'vrrpd.b'))).includes(file), '-f completes paths');
  t.same(await complete('status', '--control-socket', sock, ''), ['VI_1', 'VI_db'], "instances from the daemon's socket");
  t.same(await complete('promote', '--control-socket', sock, 'VI_d'), ['VI_db']);
  t.same(await complete('status', '--control-socket', sock, '--check-master', ''), ['VI_1', 'VI_db'], '--check-master takes an instance');
  t.same(await complete('status', '--control-socket', join(dir, 'none.sock'), ''), [], 'no daemon: nothing offered');
});

t.test('completion takes one shell, bash', async (t) => {
  const err: string[] = [];
  t.equal(await main(['completion', 'zsh'], { out: () => undefined, err: (s) => err.push(s) }), 2);
  t.match(err.join(''), /one shell, bash/);
  const out: string[] = [];
  t.equal(await main(['completion', '--help'], { out: (s) => out.push(s), err: () => undefined }), 0);
  t.match(out.join(''), /^usage: vrrpd completion bash/);
});
