/**
 * README.md says why each dependency is there: every package in package.json's `dependencies` and
 * `devDependencies` has a row in its "Dependencies, and why each is there" table, and the table
 * names no package the project no longer depends on.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test("README's dependency table and package.json name the same packages", async (t) => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const wanted = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})].sort();
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const start = readme.indexOf('## Dependencies, and why each is there\n');
  t.ok(start >= 0, 'README.md has the section');
  const rest = readme.slice(start);
  const next = rest.indexOf('\n## ', 1);
  const section = next < 0 ? rest : rest.slice(0, next);
  const named = new Set<string>();
  for (const line of section.split('\n')) {
    const first = /^\| ([^|]+)\|/.exec(line)?.[1];
    if (first === undefined) continue;
    for (const m of first.matchAll(/`([^`]+)`/g)) named.add(m[1]!);
  }
  t.same([...named].sort(), wanted, 'one row per package, with a reason');
  for (const line of section.split('\n').filter((l) => /^\| `/.test(l))) {
    const why = line.split('|')[2]?.trim() ?? '';
    t.ok(why.length > 20, `a reason for ${line.split('|')[1]?.trim()}`);
  }
});
