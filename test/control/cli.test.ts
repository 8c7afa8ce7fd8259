/**
 * The command line behaves (issue 14 item 3, first part): every command answers -h/--help with its
 * own usage on stdout and exit 0 and starts nothing (before, `vrrpd run --help` started a daemon
 * and `vrrpd demo --help` built namespaces); an unknown flag of check or demo is exit 2 with a
 * did-you-mean (before, `vrrpd check -f X --jsno` exited 0); `status --check-master` exits 3 when
 * no daemon answers (1 is "not MASTER"). Pure: main() with a fake Io, no root, no daemon.
 */
import t from 'tap';
import { main } from '../../src/cli/main.js';
import { EXIT_UNREACHABLE } from '../../src/cli/status.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('-h/--help after every command: its usage, exit 0, nothing else', async (t) => {
  for (const cmd of ['check', 'run', 'status', 'promote', 'switchover', 'maintenance', 'reload', 'demo', 'version']) {
    for (const h of ['--help', '-h']) {
      // `run -f /nonexistent --help`: the help wins over everything else on the line
      const r = await run(cmd, '-f', '/nonexistent/keepalived.conf', h);
      t.equal(r.code, 0, `${cmd} ${h}: exit 0`);
      t.match(r.out, new RegExp(`^usage: vrrpd[\\s\\S]*\\b${cmd}\\b`), `${cmd} ${h}: its usage on stdout`);
      t.equal(r.err, '', `${cmd} ${h}: nothing on stderr`);
    }
  }
  const all = await run('--help');
  t.equal(all.code, 0);
  t.match(all.out, /vrrpd <command> --help/, 'the full usage says how to get one command');
});

t.test('an unknown flag is an error with a did-you-mean', async (t) => {
  const c = await run('check', '-f', '/nonexistent/keepalived.conf', '--jsno');
  t.equal(c.code, 2);
  t.match(c.err, /^vrrpd check: unknown option --jsno \(did you mean --json\?\)/);
  const s = await run('check', '-f', '/nonexistent/keepalived.conf', '--strcit');
  t.match(s.err, /did you mean --strict\?/);
  const far = await run('check', '--zzzzzz');
  t.match(far.err, /^vrrpd check: unknown option --zzzzzz\n/, 'no suggestion when nothing is close');
  const ka = await run('-t', '-l', '-D', '-n', '-f', '/nonexistent/keepalived.conf');
  t.notMatch(ka.err, /unknown option/, "keepalived's -t -l -D -n line checks as keepalived -t does");
  const d = await run('demo', '--kep');
  t.equal(d.code, 2, 'demo: exit 2, no lab built');
  t.match(d.err, /unknown option --kep \(did you mean --keep\?\)/);
  const d2 = await run('demo', 'now');
  t.equal(d2.code, 2);
  t.match(d2.err, /unexpected argument 'now'/);
  const st = await run('status', '--jsn');
  t.equal(st.code, 2);
  t.match(st.err, /unknown option --jsn/);
});

t.test('status --check-master: 3 when no daemon answers, 1 kept for "not MASTER"', async (t) => {
  t.equal(EXIT_UNREACHABLE, 3);
  const r = await run('status', '--check-master', 'VI_1', '--socket', '/nonexistent/vrrpd.sock');
  t.equal(r.code, 3);
  t.match(r.err, /vrrpd status: /);
  const plain = await run('status', '--socket', '/nonexistent/vrrpd.sock');
  t.equal(plain.code, 1, 'plain status without a daemon: 1 as before');
});

t.test('--control-socket is taken by every client command (--socket and -s stay)', async (t) => {
  for (const flag of ['--control-socket', '--socket', '-s']) {
    const r = await run('promote', 'VI_1', flag, '/nonexistent/vrrpd-alias.sock');
    t.equal(r.code, 1, `promote ${flag}: the daemon cannot be reached`);
    t.match(r.err, /\/nonexistent\/vrrpd-alias\.sock/, `promote ${flag}: that socket was the one tried`);
    const s = await run('status', flag, '/nonexistent/vrrpd-alias.sock');
    t.match(s.err, /\/nonexistent\/vrrpd-alias\.sock/, `status ${flag}`);
  }
});
