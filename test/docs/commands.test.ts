/**
 * Every `vrrpd` command the user's documents show is a real one: its command exists and each of its
 * options is in that command's own usage (`vrrpd COMMAND --help`, which starts nothing). The
 * documents are README.md, CONTRIBUTING.md, CHANGELOG.md and docs/*.md; the commands are read from
 * their shell blocks and their inline code, with `sudo`, pipes, `&&`, `;` and comments taken apart.
 * A flag renamed or removed in the CLI and still shown in a guide fails here, with the command.
 * Needs the build (`bin/vrrpd` runs dist/), as the daemon tests do.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin/vrrpd');
const COMMANDS = new Set(['check', 'run', 'status', 'promote', 'switchover', 'maintenance', 'reload', 'demo', 'version', 'completion']);

const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** One `vrrpd ...` command line as written, split into words (the leading `vrrpd` kept). */
export function vrrpdCommands(text: string): string[][] {
  const lines: string[] = [];
  for (const m of text.matchAll(/^(```|~~~)(sh|bash|shell|console)?[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm))
    if (m[2] !== undefined) lines.push(...m[3]!.split('\n'));
  const prose = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
  for (const m of prose.matchAll(/`([^`\n]+)`/g)) lines.push(m[1]!);
  const out: string[][] = [];
  for (const line of lines) {
    const code = line.replace(/(^|\s)#.*$/, '').replace(/^\s*\$\s+/, '');
    for (const part of code.split(/&&|\|\||[;|]|\$\(|<\(|\)/)) {
      const words = part.trim().split(/\s+/).filter(Boolean);
      while (words[0] === 'sudo' || /^[A-Z_]+=/.test(words[0] ?? '')) words.shift();
      if (words[0] === 'vrrpd' && words.length > 1) out.push(words);
    }
  }
  return out;
}

const usage = new Map<string, string>();
function help(cmd: string): string {
  let h = usage.get(cmd);
  if (h === undefined) {
    h = execFileSync(process.execPath, [BIN, ...(cmd === '' ? [] : [cmd]), '--help'], { encoding: 'utf8' });
    usage.set(cmd, h);
  }
  return h;
}

/** Why `words` is not a command the CLI has, or null. */
export function badCommand(words: readonly string[]): string | null {
  const sub = words[1]!;
  if (sub.endsWith(':')) return null; // a message the CLI prints (`vrrpd run: ...`), not a command
  const rest = words.slice(2).filter((w) => w !== '--help' && w !== '-h'); // every command answers them
  if (sub === '--version' || sub === '--help' || sub === '-h') return rest.length === 0 ? null : `${words.join(' ')}: takes nothing more`;
  if (sub.startsWith('-')) {
    // keepalived's spelling: `vrrpd -t -f FILE`, `vrrpd -n -l -D -f FILE`, `vrrpd --version`
    const all = help('') + help('run');
    for (const w of words.slice(1)) if (w.startsWith('-') && !all.includes(w.replace(/=.*$/, ''))) return `${w}: not in vrrpd's usage`;
    return null;
  }
  if (!COMMANDS.has(sub)) return /^[A-Z.]+$|^\.\.\.$/.test(sub) ? null : `${sub}: no such command`;
  const h = help(sub);
  for (const w of rest) {
    if (!w.startsWith('-') || w === '-' || w === '--') continue;
    const flag = w.replace(/=.*$/, '').replace(/[.,:]+$/, '');
    if (!new RegExp(`(^|[\\s\\[|(])${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9-])`).test(h))
      return `${flag}: not in 'vrrpd ${sub} --help'`;
  }
  return null;
}

t.test('commands are read as a shell reads them', async (t) => {
  t.same(vrrpdCommands('```sh\nsudo vrrpd status --json | jq .   # all\nvrrpd check -f F && echo ok\n```\nsee `vrrpd demo --keep`'), [
    ['vrrpd', 'status', '--json'],
    ['vrrpd', 'check', '-f', 'F'],
    ['vrrpd', 'demo', '--keep'],
  ]);
  t.equal(badCommand(['vrrpd', 'status', '--check-master', 'VI_1']), null);
  t.equal(badCommand(['vrrpd', 'status', '--no-such-flag']), "--no-such-flag: not in 'vrrpd status --help'");
  t.equal(badCommand(['vrrpd', 'frobnicate']), 'frobnicate: no such command');
  t.equal(badCommand(['vrrpd', '-t', '-f', 'FILE']), null);
  t.equal(badCommand(['vrrpd', 'run:', 'missing', 'capabilities']), null);
  t.equal(badCommand(['vrrpd', 'run', '--help']), null);
});

for (const doc of DOCS) {
  t.test(`every vrrpd command in ${doc} is one the CLI has`, async (t) => {
    const cmds = vrrpdCommands(readFileSync(join(REPO, doc), 'utf8'));
    const bad = cmds.map((w) => [w.join(' '), badCommand(w)] as const).filter(([, why]) => why !== null);
    t.same(bad, [], `${cmds.length} commands checked`);
  });
}

/**
 * The commands that need no root and no running daemon are run as shown: `check`, `version`,
 * `--version`, `--help`, `completion bash`, `--signum=NAME`. A `-f` file that only exists on the
 * reader's host (`/etc/keepalived/keepalived.conf`, also what `check` alone reads) is the repository's multicast example instead,
 * checked without the host checks (its interfaces and scripts are the example host's). A command
 * shown with words a reader replaces (`FILE`, `INSTANCE`) is skipped.
 */
t.test('the commands that need no root run as shown', async (t) => {
  const example = join(REPO, 'conf/keepalived.conf.multicast');
  const seen = new Set<string>();
  for (const doc of DOCS) {
    for (const words of vrrpdCommands(readFileSync(join(REPO, doc), 'utf8'))) {
      const sub = words[1]!;
      const runnable =
        ['check', 'version', '--version', '-v', '--help', '-h', 'completion', '-t'].includes(sub) || sub.startsWith('--signum=');
      if (!runnable || words.some((w) => /^[A-Z][A-Z_.]*$|\.\.\.|[<>]/.test(w))) continue;
      const args = words.slice(1);
      // `vrrpd check` alone reads /etc/keepalived/keepalived.conf
      if (
        (sub === 'check' || sub === '-t') &&
        !args.some((w) => w === '-f' || w === '--use-file') &&
        !existsSync('/etc/keepalived/keepalived.conf')
      )
        args.push('-f', '/etc/keepalived/keepalived.conf');
      const fi = args.findIndex((w) => w === '-f' || w === '--use-file');
      if (fi >= 0 && args[fi + 1] !== undefined && !existsSync(resolve(REPO, args[fi + 1]!))) {
        args[fi + 1] = example;
        if (!args.includes('--no-host-checks')) args.push('--no-host-checks');
      }
      const key = args.join(' ');
      if (seen.has(key)) continue;
      seen.add(key);
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
      t.ok(
        r.status === 0 || (sub === 'check' && r.status === 10),
        `${doc}: vrrpd ${words.slice(1).join(' ')} -> exit ${r.status}${r.status === 0 ? '' : `: ${r.stderr.slice(0, 300)}`}`,
      );
      t.ok(`${r.stdout}${r.stderr}`.trim().length > 0, 'and says something');
    }
  }
  t.ok(seen.size >= 3, `${seen.size} distinct commands run: ${[...seen].join(' | ')}`);
});
