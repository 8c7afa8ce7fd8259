/**
 * KEYWORDS.md is the output of bench/keyword-matrix.ts (the parser's keyword tables and
 * src/config/support.ts): a keyword added to the parser or a row changed in the support table
 * without regenerating it fails here, with the command that regenerates it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { keywordMatrix, MATRIX_FILE } from '../../bench/keyword-matrix.js';
import { NOT_RUN } from '../../src/config/support.js';

t.test('KEYWORDS.md is the generated support matrix', async (t) => {
  const committed = readFileSync(join(import.meta.dirname, '../..', MATRIX_FILE), 'utf8');
  const made = keywordMatrix();
  t.equal(committed, made, `${MATRIX_FILE} is stale: npm run -s build:bench && node build/bench/keyword-matrix.js --write`);
  for (const r of NOT_RUN) t.ok(made.includes(`| \`${r.keyword}\``), `${r.block || 'top level'} ${r.keyword} has a line`);
  t.match(made, /\| `vrf` \| \*\*refused\*\*/, 'a refused keyword says so');
  t.match(made, /\| `priority` \| same as keepalived \|/, 'a keyword vrrpd runs says so');
});
