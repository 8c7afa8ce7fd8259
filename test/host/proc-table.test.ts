/**
 * The /proc reader (src/host/proc-table.ts) on a directory laid out like /proc, and once on the
 * real /proc: comm and zombie from stat, cmdline cut at the asked length, non-numeric entries and
 * vanished processes skipped, the process bound. No root.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStat, procTable } from '../../src/host/proc-table.js';

t.test('parseStat: the comm between the first ( and the last ), then the state', async (t) => {
  t.same(parseStat('12 (haproxy) S 1 2 3'), { comm: 'haproxy', zombie: false });
  t.same(parseStat('12 (a) b) Z 1'), { comm: 'a) b', zombie: true }, 'a comm holding ")"');
  t.equal(parseStat('garbage'), undefined);
});

t.test('a /proc-like directory', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'vrrpd-proc-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const add = (pid: string, stat: string, cmdline?: string): void => {
    mkdirSync(join(root, pid));
    writeFileSync(join(root, pid, 'stat'), stat);
    if (cmdline !== undefined) writeFileSync(join(root, pid, 'cmdline'), cmdline);
  };
  add('1', '1 (init) S 0', '/sbin/init\0');
  add('20', '20 (sleep) Z 1', '');
  add('300', '300 (nginx) S 1', '/usr/sbin/nginx\0-g\0daemon off;\0');
  add('400', '400 (gone) S 1'); // no cmdline: ended during the scan
  mkdirSync(join(root, 'self'));
  writeFileSync(join(root, 'uptime'), '1 2');
  const table = procTable(root);
  const comm = table.list({ cmdlineBytes: 0, maxProcesses: 100 });
  t.same(
    [...comm].sort((a, b) => a.pid - b.pid),
    [
      { pid: 1, comm: 'init', zombie: false },
      { pid: 20, comm: 'sleep', zombie: true },
      { pid: 300, comm: 'nginx', zombie: false },
      { pid: 400, comm: 'gone', zombie: false },
    ],
    'comm only: cmdline not read',
  );
  const full = table.list({ cmdlineBytes: 19, maxProcesses: 100 });
  t.equal(full.find((p) => p.pid === 300)?.cmdline, '/usr/sbin/nginx\0-g\0', 'cmdline cut at 19 bytes');
  t.notOk(
    full.some((p) => p.pid === 400),
    'a process without cmdline is left out',
  );
  t.equal(table.list({ cmdlineBytes: 0, maxProcesses: 2 }).length, 2, 'at most maxProcesses');
});

t.test('the real /proc holds this process', async (t) => {
  const me = procTable()
    .list({ cmdlineBytes: 4096, maxProcesses: 1_000_000 })
    .find((p) => p.pid === process.pid);
  t.ok(me, 'found');
  t.equal(me?.comm, (await import('node:fs')).readFileSync('/proc/self/comm', 'utf8').trim(), 'its comm');
  t.ok(me?.cmdline?.startsWith(`${process.argv0}`) || me?.cmdline?.includes('node'), 'its command line');
});
