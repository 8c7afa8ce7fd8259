/**
 * Logs under journald (issue 14 item 2): `<N>msg` lines carrying the syslog priority, no timestamp
 * of our own, chosen by default when stdout or stderr is journald's stream (JOURNAL_STREAM names
 * its device and inode); `--log-format` chooses explicitly. The daemon case runs the built daemon
 * with stdout on a file whose device and inode are given as JOURNAL_STREAM, as systemd does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLog, journalStreamFd } from '../../src/log.js';
import { requireBuild, VRRPD_ARGV } from '../daemon/helpers.js';

t.test('journal lines: the priority as <N>, no timestamp, one line per message', async (t) => {
  const lines: string[] = [];
  const log = createLog({ format: 'journal', detail: true, write: (l) => void lines.push(l) });
  log.error({}, 'e');
  log.warn({}, 'w');
  log.child({ instance: 'VI_1' }).info({}, '(VI_1) Entering MASTER STATE');
  log.debug({}, 'two\nlines');
  t.same(lines, ['<3>e\n', '<4>w\n', '<6>(VI_1) Entering MASTER STATE\n', '<7>two lines\n']);
  const quiet: string[] = [];
  createLog({ format: 'journal', write: (l) => void quiet.push(l) }).debug({}, 'detail');
  t.same(quiet, [], 'debug only with -D');
});

t.test('journalStreamFd: the descriptor whose device and inode JOURNAL_STREAM names', async (t) => {
  const st = (m: Record<number, { dev: number; ino: number } | null>) => (fd: 1 | 2) => m[fd] ?? null;
  t.equal(journalStreamFd('8:1234', st({ 1: { dev: 8, ino: 1234 }, 2: { dev: 8, ino: 1234 } })), 1);
  t.equal(journalStreamFd('8:1234', st({ 1: { dev: 8, ino: 99 }, 2: { dev: 8, ino: 1234 } })), 2, 'stdout redirected elsewhere');
  t.equal(journalStreamFd('8:1234', st({ 1: { dev: 8, ino: 99 }, 2: { dev: 9, ino: 1234 } })), null);
  t.equal(journalStreamFd(undefined, st({ 1: { dev: 8, ino: 1234 } })), null, 'not under systemd');
  t.equal(journalStreamFd('garbage', st({ 1: { dev: 8, ino: 1234 } })), null);
});

t.test(
  'the daemon picks the journal format from JOURNAL_STREAM; --log-format overrides',
  { skip: (process.getuid?.() === 0 ? false : 'needs root (a network namespace)') || requireBuild() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vrrpd-journal-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const conf = join(dir, 'k.conf');
    writeFileSync(conf, 'global_defs {\n  router_id journal\n}\n');
    const runOnce = async (name: string, extra: string[], journal: boolean): Promise<string> => {
      const out = join(dir, `${name}.out`);
      const fd = openSync(out, 'w');
      const st = statSync(out);
      const env = { ...process.env, JOURNAL_STREAM: journal ? `${st.dev}:${st.ino}` : '' };
      const args = ['run', '-f', conf, '--state-dir', join(dir, `s-${name}`), ...extra];
      const p = spawn('unshare', ['-n', ...VRRPD_ARGV, ...args], { stdio: ['ignore', fd, 'ignore'], env });
      closeSync(fd);
      const exited = new Promise<void>((res) => p.on('exit', () => res()));
      for (
        const end = Date.now() + 15_000;
        Date.now() < end && !/Startup complete|startup complete|Starting vrrpd/.test(readFileSync(out, 'utf8'));
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 500));
      p.kill('SIGTERM');
      await exited;
      return readFileSync(out, 'utf8');
    };
    const j = await runOnce('journal', [], true);
    t.match(j, /^<6>Starting vrrpd v/m, 'journal: <6> and no timestamp');
    t.notMatch(j, /^\{/m, 'no JSON line');
    const json = await runOnce('json', [], false);
    t.match(
      json,
      /^\{"level":"info","time":"\d{4}-\d\d-\d\dT[^"]+Z","pid":\d+,.*"msg":"Starting vrrpd v/m,
      'not under journald: JSON with an ISO time',
    );
    const forced = await runOnce('forced', ['--log-format', 'json'], true);
    t.match(forced, /^\{"level":"info"/m, '--log-format json wins');
  },
);
