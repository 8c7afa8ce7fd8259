/**
 * The documents say where things are; this keeps them honest. ARCHITECTURE.md, README.md,
 * SECURITY.md, CONTRIBUTING.md and the guides in docs/ name files and folders (`src/...`,
 * `test/...`, `bench/...`, in backticks or bare): each must exist. ARCHITECTURE.md also names code: the classes, interfaces, functions, methods
 * and constants in its backticks must still be declared under src/ or test/ (a rename that leaves
 * the map pointing at nothing fails here), every port file in src/runtime/ports/ must be in it, and
 * so must every top-level folder of src/.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Files and folders a document names: `src/...`, `test/...` or `bench/...`, not inside another path or URL. */
function namedPaths(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/(?<![A-Za-z0-9_./-])((?:src|test|bench)\/[A-Za-z0-9_./-]*[A-Za-z0-9_/])/g)) out.add(m[1]!);
  return [...out];
}

/** The contents of every inline code span (`...`) outside fenced blocks. */
function codeSpans(text: string): string[] {
  const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function read(rel: string): string {
  return readFileSync(join(REPO, rel), 'utf8');
}

/** The project's code, by file: where ARCHITECTURE.md's names must be declared. */
const CODE = new Map<string, string>(
  ['src', 'test']
    .flatMap((d) => [...files(join(REPO, d))])
    .filter((f) => !f.startsWith(join(REPO, 'test/docs/'))) // the names in these tests are not declarations
    .map((f) => [f, readFileSync(f, 'utf8')] as const),
);
const ALL_CODE = [...CODE.values()].join('\n');

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where `Name` is declared as a class, interface, type, function or constant (undefined: nowhere). */
function declaringFile(name: string): string | undefined {
  const decl = new RegExp(
    `^\\s*(?:export\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:class|interface|type|function|const|let)\\s+${esc(name)}\\b`,
    'm',
  );
  for (const [f, text] of CODE) if (decl.test(text)) return f;
  return undefined;
}

/** Why a code name from ARCHITECTURE.md does not resolve, or null when it does (or is not a code name). */
function unresolved(span: string): string | null {
  const member = /^([A-Z][A-Za-z0-9]*)([.#])([A-Za-z_][A-Za-z0-9_]*)(?:\(\))?$/.exec(span);
  if (member) {
    const [, owner, sep, name] = member as unknown as [string, string, string, string];
    if (owner in globalThis) return null; // `Date.now`: JavaScript's, not ours
    const file = declaringFile(owner);
    if (file === undefined) return `${span}: no class or interface ${owner}`;
    const def = new RegExp(`(?<![A-Za-z0-9_#])${sep === '#' ? '#' : ''}${esc(name)}\\??(?:\\(|<)`);
    return def.test(CODE.get(file)!) ? null : `${span}: ${owner} (${file.slice(REPO.length)}) has no ${sep === '#' ? '#' : ''}${name}()`;
  }
  if (/^#[A-Za-z_][A-Za-z0-9_]*$/.test(span))
    return new RegExp(`${esc(span)}\\(`).test(ALL_CODE) ? null : `${span}: no such private method`;
  if (/^[a-z][A-Za-z0-9]*\(\)$/.test(span)) {
    const name = span.slice(0, -2);
    return new RegExp(`(?<![A-Za-z0-9_.#])${esc(name)}\\s*(?:\\(|=|:|<)`).test(ALL_CODE) ? null : `${span}: no such function or method`;
  }
  if (/^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$/.test(span)) return declaringFile(span) ? null : `${span}: not declared`;
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(span)) return declaringFile(span) ? null : `${span}: no such constant`;
  // camelCase words (functions, fields, counters): must appear as a word in the code.
  if (/^[a-z]+[A-Z][A-Za-z0-9]*$/.test(span))
    return new RegExp(`(?<![A-Za-z0-9_])${esc(span)}(?![A-Za-z0-9_])`).test(ALL_CODE) ? null : `${span}: not found in src/ or test/`;
  return null;
}

t.test('namedPaths and codeSpans read what a reader reads', async (t) => {
  t.same(namedPaths('see `src/a.ts`, test/b/ and (bench/c.ts); not dist/bench/x.ts or https://x/src/y.ts'), [
    'src/a.ts',
    'test/b/',
    'bench/c.ts',
  ]);
  t.same(codeSpans('a `x` b\n```\n`not this`\n```\n`y()`'), ['x', 'y()']);
  t.equal(unresolved('NoSuchClassAnywhere'), 'NoSuchClassAnywhere: not declared');
  t.equal(unresolved('Instance.noSuchMethod'), 'Instance.noSuchMethod: Instance (src/runtime/instance.ts) has no noSuchMethod()');
  t.equal(unresolved('Instance.apply'), null);
  t.equal(unresolved('Daemon#step'), null);
  t.equal(unresolved('noSuchFunctionAnywhere()'), 'noSuchFunctionAnywhere(): no such function or method');
});

/** The user's guides: each may name no path at all, but what they name must exist. */
const GUIDES = readdirSync(join(REPO, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => `docs/${f}`);

for (const doc of ['ARCHITECTURE.md', 'README.md', 'SECURITY.md', 'CONTRIBUTING.md', ...GUIDES]) {
  t.test(`every path ${doc} names exists`, async (t) => {
    const paths = namedPaths(read(doc));
    if (!doc.startsWith('docs/')) t.ok(paths.length > 0, `${doc} names some paths`);
    t.same(
      paths.filter((p) => !existsSync(join(REPO, p))),
      [],
      `paths in ${doc} that do not exist`,
    );
  });
}

t.test('every code name in ARCHITECTURE.md is declared in src/ or test/', async (t) => {
  const spans = codeSpans(read('ARCHITECTURE.md'));
  t.same(
    spans.map(unresolved).filter((x) => x !== null),
    [],
    'names in ARCHITECTURE.md that the code no longer has',
  );
});

t.test('ARCHITECTURE.md names every port file and every top-level folder of src/', async (t) => {
  const text = read('ARCHITECTURE.md');
  const paths = new Set(namedPaths(text));
  const ports = readdirSync(join(REPO, 'src/runtime/ports')).map((f) => `src/runtime/ports/${f}`);
  t.same(
    ports.filter((p) => !paths.has(p)),
    [],
    'port files missing from the ports table',
  );
  const folders = readdirSync(join(REPO, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `src/${e.name}/`);
  t.same(
    folders.filter((f) => !paths.has(f)),
    [],
    'src/ folders missing from the layers',
  );
});
