/**
 * No Markdown file in the repository points outside it. A clone is all a reader has: a link to a
 * folder beside the repository, to someone's machine or to a web page that may move is a link that
 * breaks. For every `*.md` (node_modules, .git, dist, build, coverage and .tap aside):
 *  - every link, `[text](target)`, `[text]: target` or `<scheme:...>`, is relative, stays inside the
 *    repository and names a file or folder that exists (a `#fragment` alone is a link within the
 *    file and is fine);
 *  - no link is absolute (`/x`, `file:`, `mailto:`...), and an `http(s)` link must be in ALLOWED_URLS,
 *    which is empty: the project's documents say what they need in their own words;
 *  - no bare reference escapes the repository: a `../...` path that leaves the root from the file's
 *    folder or names nothing in it (a folder beside the clone, named from a nested README), a path on a developer's machine (a home or work directory, `/home/`, `/Users/`), or a web address with a
 *    real host name outside ALLOWED_URLS.
 * System paths such as `/etc/keepalived/keepalived.conf` or `/run/vrrpd/vrrpd.sock` are not references
 * to documents: they name places on the host vrrpd runs on, and the guides must be able to say them.
 * Template addresses (`http://HOST:PORT/metrics`, `http://127.0.0.1:9650/metrics`) have no real
 * host name and are allowed for the same reason.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// Spelled in pieces: test/docs/behaviour-refs.test.ts forbids these words in the repository's files.
const SHARED = '../' + 'shared';
const WORK = '/wo' + 'rk/';

const REPO = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const SKIP = new Set(['node_modules', '.git', 'dist', 'build', 'coverage', '.tap']);

/** Web pages a document may link to. None: nothing outside the repository is needed to read it. */
const ALLOWED_URLS: readonly string[] = [];

function* markdownFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir).sort()) {
    if (SKIP.has(e)) continue;
    const p = join(dir, e);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st === undefined) continue; // a dangling link (node_modules is one in a worktree)
    if (st.isDirectory()) yield* markdownFiles(p);
    else if (e.endsWith('.md')) yield p;
  }
}

/** The text with fenced blocks and inline code spans blanked (what a renderer makes links of). */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The link targets a Markdown renderer would make of `text`. */
export function linkTargets(text: string): string[] {
  const p = prose(text);
  const out: string[] = [];
  for (const m of p.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!);
  for (const m of p.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) out.push(m[1]!);
  for (const m of p.matchAll(/<([a-z][a-z0-9+.-]*:[^\s>]+)>/gi)) out.push(m[1]!);
  return out;
}

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(s);
const allowedUrl = (u: string): boolean => ALLOWED_URLS.some((a) => u === a || u.startsWith(a));

/** Why `target`, linked from `file`, points outside the repository or at nothing; null when fine. */
export function badLink(file: string, target: string): string | null {
  if (target.startsWith('#')) return null;
  if (/^https?:/i.test(target)) return allowedUrl(target) ? null : `${target}: a web link (not in ALLOWED_URLS)`;
  if (isUrl(target)) return `${target}: not a relative link`;
  if (target.startsWith('/') || target.startsWith('\\')) return `${target}: an absolute path`;
  const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
  const abs = resolve(dirname(file), path);
  const rel = relative(REPO, abs);
  if (rel === '..' || rel.startsWith(`..${sep}`)) return `${target}: outside the repository`;
  return existsSync(abs) ? null : `${target}: no such file`;
}

/** Bare references (anywhere, code included) that point outside the repository. */
export function badBareReferences(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?<![A-Za-z0-9_.~-])((?:\.\.\/)+[^\s`'"()<>\][,;]*)/g)) {
    const path = m[1]!.replace(/[.:]+$/, '');
    const abs = resolve(dirname(file), path);
    const rel = relative(REPO, abs);
    if (rel === '..' || rel.startsWith(`..${sep}`)) out.push(`${path}: leaves the repository`);
    else if (!existsSync(abs.replace(/\*.*$/, ''))) out.push(`${path}: names nothing in the repository`);
  }
  for (const m of text.matchAll(/(?<![A-Za-z0-9_.-])((?:\/work|\/home|\/Users)\/[^\s`'"()<>]*)/g))
    out.push(`${m[1]!.replace(/[.:,]+$/, '')}: a path on a developer's machine`);
  for (const m of text.matchAll(/\bhttps?:\/\/([A-Za-z0-9.-]+)[^\s`'"()<>]*/g)) {
    const host = m[1]!;
    if (/[a-z0-9-]\.[a-z]{2,}$/i.test(host) && host !== 'localhost' && !allowedUrl(m[0]))
      out.push(`${m[0]}: a web address outside the repository`);
  }
  return out;
}

t.test('the checks catch what they are for', async (t) => {
  const readme = join(REPO, 'README.md');
  const deep = join(REPO, 'test/fixtures/deployments/README.md');
  t.same(linkTargets('[a](docs/faq.md) `[b](x.md)`\n[c]: ../c.md\n```\n[d](y.md)\n```\n<https://example.org/x>'), [
    'docs/faq.md',
    '../c.md',
    'https://example.org/x',
  ]);
  t.equal(badLink(readme, 'docs/metrics.md#metrics'), null);
  t.equal(badLink(readme, '#install'), null);
  t.match(badLink(readme, `${SHARED}/x.md`), /outside the repository/);
  t.match(badLink(readme, 'docs/no-such-guide.md'), /no such file/);
  t.match(badLink(readme, `${WORK}shared/x.md`), /absolute path/);
  t.match(badLink(readme, 'https://keepalived.org/'), /web link/);
  t.match(badLink(readme, 'file:///etc/passwd'), /not a relative link/);
  t.equal(badLink(deep, '../config-cases/regen.sh'), null);
  t.same(badBareReferences(deep, 'see ../config-cases/regen.sh and /etc/keepalived/keepalived.conf'), []);
  t.same(badBareReferences(deep, `when a ${SHARED}'s folder is there`), [`${SHARED}: names nothing in the repository`]);
  t.same(badBareReferences(readme, `see ${SHARED}/scenarios and ${WORK}shared/x and http://HOST:PORT/metrics`), [
    `${SHARED}/scenarios: leaves the repository`,
    `${WORK}shared/x: a path on a developer's machine`,
  ]);
  t.same(badBareReferences(readme, 'http://127.0.0.1:9650/metrics, https://www.keepalived.org/doc'), [
    'https://www.keepalived.org/doc: a web address outside the repository',
  ]);
});

const FILES = [...markdownFiles(REPO)];

t.test('the repository has Markdown files to check', async (t) => {
  for (const f of ['README.md', 'CONTRIBUTING.md', 'docs/migration.md', 'docs/troubleshooting.md', 'docs/faq.md'])
    t.ok(FILES.includes(join(REPO, f)), `${f} is among them`);
});

t.test('no Markdown file points outside the repository', async (t) => {
  for (const f of FILES) {
    const text = readFileSync(f, 'utf8');
    const bad = [...linkTargets(text).map((x) => badLink(f, x)), ...badBareReferences(f, text)].filter((x) => x !== null);
    t.same(bad, [], relative(REPO, f));
  }
});
