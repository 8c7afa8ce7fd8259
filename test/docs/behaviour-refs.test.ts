/**
 * The code cites keepalived's behaviour by section of docs/keepalived-behaviour.md ("... 3.3", "... 6 step 5",
 * "... 3.5 STOP", "... 3.1 "Source address""). Every such citation in src/, test/, bench/ and the repository's
 * Markdown must resolve: the section number is a heading of that file, a cited step or item is a numbered
 * line of that section, a cited label is a bold label in it, a cited (a)..(e) is in it. And nothing in the
 * repository may point outside it: no file names the old external reference or the folder beside the
 * checkout it lived in.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/keepalived-behaviour.md';
/** Spelled in pieces so that this file does not name them itself. */
const FORBIDDEN = ['KEEPALIVED' + '.md', '../' + 'shared', '/work' + '/'];
/** Build output, installed packages and tool state: not the repository's own files. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'coverage', '.tap']);

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir).sort()) {
    if (SKIP_DIRS.has(e)) continue;
    const p = join(dir, e);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (st.isDirectory()) yield* walk(p);
    else if (st.isFile() && !e.endsWith('.log')) yield p; // *.log: ignored by git, like SKIP_DIRS
  }
}

const ALL = [...walk(REPO)].map((p) => relative(REPO, p));
const CITING = ALL.filter((f) => /^(src|test|bench)\/.*\.(ts|js|mjs|sh)$/.test(f) || f.endsWith('.md'));

/** Section number -> its text (up to the next numbered heading), from the reference's headings. */
function sections(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of doc.split('\n')) {
    const h = /^#{2,4} (\d+(?:\.\d+)*)\.? /.exec(line);
    if (h) {
      current = h[1]!;
      out.set(current, '');
    } else if (current !== undefined) out.set(current, `${out.get(current)!}${line}\n`);
  }
  return out;
}

interface Citation {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly sections: readonly string[];
  readonly steps: readonly string[];
  readonly labels: readonly string[];
  readonly letters: readonly string[];
}

/** Comment continuation between words: a line break, then `*`, `//` or `#` and blanks. */
const GAP = String.raw`\s*(?:\n\s*(?:\*|\/\/|#)?\s*)?`;
const CITE = new RegExp(
  String.raw`docs\/keepalived-behaviour\.md,?${GAP}(\d+(?:\.\d+)?)(?:\s*[-/]\s*(\d+(?:\.\d+)?))?` +
    String.raw`(?:,?${GAP}(?:steps?|items?)${GAP}(\d+)(?:${GAP}and${GAP}(\d+))?` +
    String.raw`|${GAP}"([^"]+)"` +
    String.raw`|[ \t]+(Startup|STOP|BACKUP|MASTER|FAULT)\b` +
    String.raw`|[ \t]+\(([a-e])\)(?:-\(([a-e])\))?)?`,
  'g',
);

/** Every citation of the reference in `text`. */
function citations(file: string, text: string): Citation[] {
  const out: Citation[] = [];
  for (const m of text.matchAll(CITE)) {
    const g = (i: number): string[] => (m[i] === undefined ? [] : [m[i]]);
    out.push({
      file,
      line: text.slice(0, m.index).split('\n').length,
      text: m[0].replace(/\s+/g, ' '),
      sections: [...g(1), ...g(2)],
      steps: [...g(3), ...g(4)],
      labels: g(5)
        .map((l) => l.replace(/\s*\n\s*(?:\*|\/\/|#)?\s*/g, ' '))
        .concat(g(6)),
      letters: [...g(7), ...g(8)],
    });
  }
  return out;
}

/** What is wrong with one citation against the reference's sections (empty: it resolves). */
function unresolved(c: Citation, secs: ReadonlyMap<string, string>): string[] {
  const bad: string[] = [];
  for (const s of c.sections) if (!secs.has(s)) bad.push(`section ${s} is not a heading of ${DOC}`);
  const body = secs.get(c.sections[0]!);
  if (body === undefined) return bad;
  for (const n of c.steps) if (!new RegExp(`^\\s*${n}\\. `, 'm').test(body)) bad.push(`section ${c.sections[0]} has no step ${n}`);
  for (const l of c.labels) if (!body.includes(`**${l}`)) bad.push(`section ${c.sections[0]} has no label **${l}**`);
  for (const x of c.letters) if (!body.includes(`(${x})`)) bad.push(`section ${c.sections[0]} has no item (${x})`);
  return bad;
}

const SECTIONS = sections(readFileSync(join(REPO, DOC), 'utf8'));
const SELF = relative(REPO, fileURLToPath(import.meta.url));

t.test('the reference has the sections the code is organised by', async (t) => {
  for (const s of ['1.1', '1.7', '2.1', '2.8', '3.1', '3.3', '3.5', '3.8', '4.1', '4.4', '5', '6', '8.1', '8.2']) t.ok(SECTIONS.has(s), s);
});

t.test(`every citation of ${DOC} resolves to a section of it`, async (t) => {
  const all = CITING.filter((f) => f !== SELF).flatMap((f) => citations(f, readFileSync(join(REPO, f), 'utf8')));
  t.ok(all.length >= 140, `${all.length} citations found`);
  const bad = all.flatMap((c) => unresolved(c, SECTIONS).map((why) => `${c.file}:${c.line}: "${c.text}": ${why}`));
  t.same(bad, [], 'unresolved citations');
});

t.test('the citation checker itself: a missing section, step, label or item is caught', async (t) => {
  const secs = sections('## 6. Signals\n\n1. one\n2. two\n\n### 3.5 State machine\n\n**STOP** x\n\n### 3.7 GARP\n\n(a) now\n');
  const check = (text: string): string[] => citations('x.ts', text).flatMap((c) => unresolved(c, secs));
  t.same(check(`// ${DOC} 6 step 2, ${DOC} 3.5 STOP, ${DOC} 3.7 (a)`), []);
  t.same(check(`// ${DOC} 9.9`), [`section 9.9 is not a heading of ${DOC}`]);
  t.same(check(`// ${DOC} 6 step 5`), ['section 6 has no step 5']);
  t.same(check(`// ${DOC} 3.5 Startup`), ['section 3.5 has no label **Startup**']);
  t.same(check(`// ${DOC} 3.7 (b)`), ['section 3.7 has no item (b)']);
  t.same(check(` * (${DOC}\n * 9.8): split over two comment lines`), [`section 9.8 is not a heading of ${DOC}`]);
});

t.test('no file of the repository points outside it', async (t) => {
  const hits: string[] = [];
  for (const f of ALL) {
    const text = readFileSync(join(REPO, f), 'latin1');
    for (const word of FORBIDDEN) if (text.includes(word)) hits.push(`${f}: ${word}`);
  }
  t.same(hits, [], 'mentions of the external reference or of the folder beside the checkout');
});
