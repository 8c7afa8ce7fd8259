/**
 * keepalived's command line runs vrrpd (issue 14 item 3): `vrrpd -n -l -D -f FILE` and the same
 * after `run`; combined short options as getopt reads them; options without effect named in one
 * warning; -C/-s refused; an unknown option is exit 2 with a did-you-mean (before, `run` accepted
 * any flag in silence and `vrrpd -n ...` was "unknown command '-n'"); `--signum=NAME` prints
 * keepalived's numbers (checked against `keepalived --signum=NAME` 2.2.7: STOP 15, RELOAD 1,
 * DATA 10, STATS 12, JSON 36; STATS_CLEAR 63 is refused: vrrpd would die of it). Pure, no daemon:
 * the daemon paths stop at a config file that does not exist.
 */
import t from 'tap';
import { main } from '../../src/cli/main.js';
import { ignoredOptionsWarning, parseRunCommandLine } from '../../src/cli/run-args.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const ok = (args: string[]) => {
  const r = parseRunCommandLine(args);
  if ('error' in r) throw new Error(r.error);
  return { flags: Object.fromEntries(r.flags), rest: r.rest, ignored: r.ignored };
};

t.test('keepalived options: acted on, without effect, combined', async (t) => {
  t.same(ok(['-n', '-l', '-D', '-f', '/etc/k.conf']), { flags: { '-l': '', '-D': '', '-f': '/etc/k.conf' }, rest: [], ignored: ['-n'] });
  t.same(ok(['--dont-fork', '--log-console', '--log-detail', '--use-file=/etc/k.conf']).flags, { '-l': '', '-D': '', '-f': '/etc/k.conf' });
  t.same(
    ok(['-nlD', '-f/etc/k.conf']),
    { flags: { '-l': '', '-D': '', '-f': '/etc/k.conf' }, rest: [], ignored: ['-n'] },
    'combined and attached',
  );
  t.same(ok(['-P', '-G', '-S', '6', '-gfile', '--log-file', '-r', '/run/v.pid', '-p', '/run/k.pid']), {
    flags: { '-r': '/run/v.pid', '-p': '/run/k.pid' },
    rest: [],
    ignored: ['-P', '-G', '-S 6', '--log-file file', '--log-file'],
  });
  t.same(ok(['-i', 'vm', '-e', '--state-dir', '/tmp/x']).flags, { '-i': 'vm', '-e': '', '--state-dir': '/tmp/x' });
  t.match(ignoredOptionsWarning(['-n', '-S 6']), /^vrrpd run: keepalived options without effect in vrrpd .*: -n -S 6$/);
  t.equal(ignoredOptionsWarning([]), null);
});

t.test('refused and unknown options', async (t) => {
  const err = (args: string[]) => {
    const r = parseRunCommandLine(args);
    return 'error' in r ? r.error : '';
  };
  t.match(err(['-C']), /^-C is not supported by vrrpd: runs only keepalived's checkers/);
  t.match(err(['--namespace', 'blue']), /^--namespace is not supported by vrrpd: .*ip netns exec/);
  t.match(err(['-nC']), /^-C is not supported/, 'also inside a combined word');
  t.equal(err(['--log-consol']), 'unknown option --log-consol (did you mean --log-console?)');
  t.equal(err(['-Q']), 'unknown option -Q');
  t.equal(err(['-f']), '-f needs a value');
  t.equal(err(['--dont-fork=1']), '--dont-fork takes no value');
});

t.test('through main: with and without `run`', async (t) => {
  for (const argv of [
    ['-n', '-l', '-D', '-f', '/nonexistent/keepalived.conf'],
    ['run', '-n', '-l', '-D', '-f', '/nonexistent/keepalived.conf'],
  ]) {
    const r = await run(...argv);
    t.not(r.code, 0, `${argv.join(' ')}: the daemon path, stopped by the missing file`);
    t.match(r.err, /keepalived options without effect in vrrpd .*: -n\n/, 'one warning naming -n');
    t.match(r.err, /nonexistent\/keepalived\.conf/, 'the config file was the one given');
    t.notMatch(r.err, /unknown command/);
  }
  const bad = await run('-n', '--zz');
  t.equal(bad.code, 2);
  t.match(bad.err, /^vrrpd run: unknown option --zz/);
  const refused = await run('-C', '-f', '/nonexistent/keepalived.conf');
  t.equal(refused.code, 2, '-C: exit 2, nothing started');
});

t.test('--signum=NAME: keepalived 2.2.7 numbers', async (t) => {
  for (const [name, n] of [
    ['STOP', 15],
    ['RELOAD', 1],
    ['DATA', 10],
    ['STATS', 12],
    ['JSON', 36],
  ] as const) {
    const r = await run(`--signum=${name}`);
    t.same([r.code, r.out], [0, String(n)], name);
  }
  const spaced = await run('--signum', 'JSON');
  t.same([spaced.code, spaced.out], [0, '36'], '--signum NAME');
  const clear = await run('--signum=STATS_CLEAR');
  t.equal(clear.code, 1);
  t.match(clear.err, /Unknown sigfunc STATS_CLEAR \(.*would stop it\)/);
  const bad = await run('--signum=NOPE');
  t.same([bad.code, bad.err], [1, 'Unknown sigfunc NOPE'], "keepalived's words, exit 1");
});
