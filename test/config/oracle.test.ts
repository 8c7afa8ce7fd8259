/**
 * vrrpd check vs keepalived 2.2.7 -t: for every oracle case (test/fixtures/config-cases, produced by
 * the real keepalived in a namespace with eth0..eth3; the sample-*.conf cases cover what keepalived's
 * own sample configs show) and every example deployment of test/fixtures/deployments
 * (deployments.expected.txt), vrrpd must report problems on the same lines and exit with the same
 * code. keepalived prints some messages once per parsing pass; lines are compared as sets.
 * With VRRPD_KEEPALIVED_CORPUS set (test/support/corpus.ts), keepalived's samples and the vendors'
 * scenario configs are checked too (samples.expected.txt); nothing here needs them.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { oracleHost } from '../support/config-host.js';
import { corpusAbsent, keepalivedCorpus } from '../support/corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = resolve(here, '../fixtures/config-cases');
const deploymentsDir = resolve(here, '../fixtures/deployments');

interface Expected {
  lines: Set<string>;
  bare: Set<string>;
  exit: number;
}

/** `(FILE: Line N) msg` / `(Line N) msg` -> "FILE:N" (main file for "(Line N)"); others are bare messages. */
function parseExpected(text: string, mainFile: string): Expected {
  const lines = new Set<string>();
  const bare = new Set<string>();
  let exit = -1;
  for (const l of text.split('\n')) {
    if (l === '') continue;
    const ex = /^exit=(\d+)$/.exec(l);
    if (ex) {
      exit = Number(ex[1]);
      continue;
    }
    const m = /^\((?:(.+?): )?Line (\d+)\) /.exec(l);
    if (m) lines.add(`${m[1] ?? mainFile}:${m[2]}`);
    else if (!l.startsWith(' ')) bare.add(l);
  }
  return { lines, bare, exit };
}

function check(file: string, cwd: string, expectedText: string) {
  const prev = process.cwd();
  process.chdir(cwd);
  try {
    const r = loadConfig(file, oracleHost('vm'));
    const shown = r.diagnostics.filter((d) => d.severity !== 'info');
    const got = new Set(shown.filter((d) => d.line > 0).map((d) => `${d.file}:${d.line}`));
    return { r, got, exp: parseExpected(expectedText, file), shown };
  } finally {
    process.chdir(prev);
  }
}

const cases = readdirSync(casesDir)
  .filter((f) => f.endsWith('.conf'))
  .sort();
t.ok(cases.length >= 40, `oracle corpus has ${cases.length} cases`);

for (const c of cases) {
  t.test(c, async (t) => {
    const expectedText = readFileSync(join(casesDir, c.replace(/\.conf$/, '.expected')), 'utf8');
    const { r, got, exp, shown } = check(c, casesDir, expectedText);
    t.equal(r.exitCode, exp.exit, 'same exit code as keepalived -t');
    t.same([...got].sort(), [...exp.lines].sort(), 'problems reported on the same lines');
    if (exp.exit === 0)
      t.same(
        shown.filter((d) => d.exitClass !== 'none').map((d) => d.message),
        [],
        'nothing counted for a config keepalived accepts',
      );
  });
}

/** samples.expected.txt / EXPECTED_config_test_v2.2.7.txt layout: "===== NAME" sections. */
function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  let buf: string[] = [];
  for (const l of text.split('\n')) {
    const m = /^===== (.+)$/.exec(l);
    if (m) {
      if (name) out.set(name, buf.join('\n'));
      name = m[1]!;
      buf = [];
    } else if (name && !l.startsWith('#')) buf.push(l);
  }
  if (name) out.set(name, buf.join('\n'));
  return out;
}

const deployments = sections(readFileSync(join(casesDir, 'deployments.expected.txt'), 'utf8'));
t.same(
  [...deployments.keys()].sort(),
  readdirSync(deploymentsDir)
    .filter((f) => f.endsWith('.conf'))
    .sort(),
  "every example deployment has keepalived's recorded output (regen.sh --deployments)",
);
for (const [name, expected] of deployments) {
  t.test(`deployment ${name}`, async (t) => {
    const { r, got, exp } = check(name, deploymentsDir, expected);
    t.equal(r.exitCode, exp.exit, 'same exit code as keepalived -t');
    t.same([...got].sort(), [...exp.lines].sort(), 'problems reported on the same lines');
  });
}

// Extra cases with VRRPD_KEEPALIVED_CORPUS (keepalived's own samples, the vendors' guides).
const shared = keepalivedCorpus();
const samples = sections(readFileSync(join(casesDir, 'samples.expected.txt'), 'utf8'));
/** keepalived's repository layout -> the names the samples have in the corpus's keepalived-samples. */
const RENAMED: Record<string, string> = {
  'repo_other/docker/keepalived.conf': 'docker.keepalived.conf',
  'repo_other/keepalived/etc/keepalived/keepalived.conf': 'default.keepalived.conf',
  'repo_other/keepalived/etc/keepalived/keepalived.conf.sample.in': 'default.keepalived.conf.sample.in',
};
if (shared === undefined || !existsSync(shared))
  t.comment(`${corpusAbsent('')}: the ${samples.size} optional sample/scenario runs are not made`);
else {
  for (const [name, expected] of samples) {
    const base = RENAMED[name] ?? name.split('/').pop()!;
    const dir = ['keepalived-samples', 'scenarios']
      .map((d) => join(shared, d))
      .find((d) => {
        try {
          return readdirSync(d).includes(base);
        } catch {
          return false;
        }
      });
    t.test(`sample ${name}`, { skip: dir ? false : `${base} is not in ${shared}` }, async (t) => {
      const { r, got, exp } = check(base, dir!, expected);
      t.equal(r.exitCode, exp.exit, 'same exit code as keepalived -t');
      t.same([...got].sort(), [...exp.lines].sort(), 'problems reported on the same lines');
    });
  }
}
