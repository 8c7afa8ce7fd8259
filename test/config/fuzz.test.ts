/**
 * Seeded mutation fuzz of the config front end: the oracle corpus and the example deployments
 * (test/fixtures), plus keepalived's samples and the vendors' scenarios with VRRPD_KEEPALIVED_CORPUS
 * (test/support/corpus.ts), mutated byte- and line-wise. loadConfig must never throw; every case ends in a
 * model or diagnostics; every diagnostic has a file, a line >= 0 and a message; the exit code is one of
 * keepalived's (0, 2, 5, 6). Deterministic: a fixed seed and our own PRNG (no Math.random).
 * FUZZ_CASES / FUZZ_SEED override the defaults (e.g. for a longer local run); FUZZ_LOG=1 logs cases
 * slower than 200 ms, FUZZ_LOG=2 every case; FUZZ_DUMP=N prints the text of case N.
 * Measured: 10,000 cases in ~16 s unloaded (about 1.6 ms per case; 30-70 s on a loaded machine), the
 * slowest single case ~5 s (a 3,500-brace line carrying a chained ~SEQ: 750k statements). Time bounds
 * asserted here are hang detectors only (30 s), so the test does not flake under load.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import type { ConfigHost } from '../../src/config/host.js';
import { memoryHost } from '../support/config-host.js';
import { corpusDir } from '../support/corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = resolve(here, '../fixtures/config-cases');
const deploymentsDir = resolve(here, '../fixtures/deployments');
const samplesDir = corpusDir('keepalived-samples');
const scenariosDir = corpusDir('scenarios');
const CASES = Number(process.env.FUZZ_CASES ?? 10000);
const SEED = Number(process.env.FUZZ_SEED ?? 0xc0ff1e);

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------------------------------ corpus
const corpus: { name: string; bytes: Uint8Array }[] = [];
const incFiles = new Map<string, Uint8Array>();
for (const f of readdirSync(casesDir)
  .filter((x) => x.endsWith('.conf'))
  .sort())
  corpus.push({ name: f, bytes: readFileSync(join(casesDir, f)) });
const walk = (d: string) => {
  for (const e of readdirSync(join(casesDir, d), { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (statSync(join(casesDir, p)).isFile()) incFiles.set(relative('.', p), readFileSync(join(casesDir, p)));
  }
};
walk('inc');
for (const f of readdirSync(deploymentsDir)
  .filter((x) => x.endsWith('.conf'))
  .sort())
  corpus.push({ name: `deployments/${f}`, bytes: readFileSync(join(deploymentsDir, f)) });
const haveShared = samplesDir !== undefined && scenariosDir !== undefined;
if (haveShared) {
  for (const f of readdirSync(samplesDir)
    .filter((x) => !x.endsWith('.txt'))
    .sort())
    corpus.push({ name: `samples/${f}`, bytes: readFileSync(join(samplesDir, f)) });
  for (const f of readdirSync(scenariosDir)
    .filter((x) => x.endsWith('.conf'))
    .sort())
    corpus.push({ name: `scenarios/${f}`, bytes: readFileSync(join(scenariosDir, f)) });
}

// --------------------------------------------------------------------------------------- mutations
const KEYWORDS = [
  'vrrp_instance',
  'vrrp_script',
  'vrrp_sync_group',
  'global_defs',
  'track_file',
  'static_ipaddress',
  'virtual_server',
  'include',
  'includem',
  'state',
  'priority',
  'virtual_router_id',
  'interface',
  'advert_int',
  'nopreempt',
  'preempt_delay',
  'authentication',
  'auth_type',
  'auth_pass',
  'virtual_ipaddress',
  'virtual_routes',
  'virtual_rules',
  'unicast_peer',
  'unicast_src_ip',
  'track_script',
  'track_interface',
  'notify_master',
  'notify',
  'script',
  'weight',
  'group',
  'garp_master_delay',
  'vrrp_garp_master_repeat',
  'vrrp_strict',
  'strict_mode',
  'enable_script_security',
  'script_user',
  'dynamic_interfaces',
  'random_seed',
  'version',
  'bogus_kw',
];
const NOISE = [
  '$A=$A',
  '$B=${B}${B}',
  '$C= \\',
  '$X',
  '${X}',
  '${_RANDOM 1 3}',
  '${_PWD}',
  '${_INSTANCE}',
  '~SEQ(N,1,3) $N',
  '~SEQ(N,1,100000000) x',
  '~SEQ(A,1,40) ~SEQ(B,1,40) $A',
  '~SEQx(H,0,ff) 10.0.0.$H',
  '~LST(V,a,b,c) $V',
  '~LST({a,b},{1,2}) $a',
  '~SEQ(',
  '~LST({',
  '@vm',
  '@^vm ',
  '@other priority 1',
  '@',
  '"',
  "'",
  '\\',
  '{',
  '}',
  '{ }',
  '} {',
  'include inc/*',
  'include inc/*.inc',
  'includem nope',
  'include ../../../../etc/passwd',
  '10.0.0.1/24 dev eth0 brd + label eth0:1',
  'fd00::1/64',
  '256.1.1.1/33',
  'min_ttl',
  '-1',
  '4294967296',
  '0x7fffffff',
  '1e309',
  'NaN',
];
const NUMBERS = [
  '0',
  '1',
  '-1',
  '255',
  '256',
  '65535',
  '4294967295',
  '4294967296',
  '99999999999999999999',
  '0.5',
  '1.5',
  '-0',
  '0x10',
  '010',
  '1e3',
];

type Rng = () => number;
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const int = (r: Rng, n: number) => Math.floor(r() * n);
const enc = new TextEncoder();
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const lines = (b: Uint8Array): Uint8Array[] => {
  const out: Uint8Array[] = [];
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 10) continue;
    out.push(b.subarray(s, i + 1));
    s = i + 1;
  }
  if (s < b.length) out.push(b.subarray(s));
  return out;
};
const insertAt = (b: Uint8Array, at: number, x: Uint8Array) => concat(b.subarray(0, at), x, b.subarray(at));

const MUTATORS: [string, (r: Rng, b: Uint8Array) => Uint8Array][] = [
  [
    'delete line',
    (r, b) => {
      const l = lines(b);
      l.splice(int(r, l.length), 1);
      return concat(...l);
    },
  ],
  [
    'duplicate line',
    (r, b) => {
      const l = lines(b);
      const k = int(r, l.length);
      if (l[k]) l.splice(k, 0, l[k]!);
      return concat(...l);
    },
  ],
  [
    'swap lines',
    (r, b) => {
      const l = lines(b);
      const x = int(r, l.length);
      const y = int(r, l.length);
      if (l[x] && l[y]) [l[x], l[y]] = [l[y]!, l[x]!];
      return concat(...l);
    },
  ],
  ['insert brace', (r, b) => insertAt(b, int(r, b.length + 1), enc.encode(pick(r, ['{', '}', ' { ', ' }\n', '{\n', '}\n}\n}\n'])))],
  ['insert quote', (r, b) => insertAt(b, int(r, b.length + 1), enc.encode(pick(r, ['"', "'", '"x y"', '\\"', '\\#'])))],
  [
    'delete structural byte',
    (r, b) => {
      const at: number[] = [];
      b.forEach((c, i) => {
        if (c === 0x7b || c === 0x7d || c === 0x22) at.push(i);
      });
      if (at.length === 0) return b;
      const i = pick(r, at);
      return concat(b.subarray(0, i), b.subarray(i + 1));
    },
  ],
  [
    'insert keyword line',
    (r, b) => {
      const l = lines(b);
      const kw = pick(r, KEYWORDS);
      const args = Array.from({ length: int(r, 4) }, () => (r() < 0.5 ? pick(r, NUMBERS) : pick(r, KEYWORDS))).join(' ');
      l.splice(int(r, l.length + 1), 0, enc.encode(`${' '.repeat(int(r, 6))}${kw} ${args}${r() < 0.3 ? ' {' : ''}\n`));
      return concat(...l);
    },
  ],
  [
    'replace number',
    (r, b) => {
      const s = new TextDecoder().decode(b);
      const nums = [...s.matchAll(/\d+/g)];
      if (nums.length === 0) return b;
      const m = pick(r, nums);
      return enc.encode(s.slice(0, m.index) + pick(r, NUMBERS) + s.slice(m.index! + m[0].length));
    },
  ],
  ['truncate', (r, b) => b.subarray(0, int(r, b.length + 1))],
  [
    'preprocessor noise',
    (r, b) => {
      const l = lines(b);
      l.splice(int(r, l.length + 1), 0, enc.encode(`${pick(r, NOISE)}${r() < 0.5 ? ` ${pick(r, KEYWORDS)}` : ''}\n`));
      return concat(...l);
    },
  ],
  ['noise in a line', (r, b) => insertAt(b, int(r, b.length + 1), enc.encode(pick(r, NOISE)))],
  [
    'very long line',
    (r, b) =>
      insertAt(
        b,
        int(r, b.length + 1),
        enc.encode(`${pick(r, ['x', ' ', '10.0.0.1 ', '"', '{'])}`.repeat(500 + int(r, 3000)) + (r() < 0.5 ? '\n' : '')),
      ),
  ],
  ['NUL bytes', (r, b) => insertAt(b, int(r, b.length + 1), new Uint8Array(1 + int(r, 3)))],
  [
    'invalid UTF-8',
    (r, b) =>
      insertAt(
        b,
        int(r, b.length + 1),
        Uint8Array.from(pick(r, [[0xff], [0xfe, 0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]])),
      ),
  ],
  [
    'random bytes',
    (r, b) => {
      const c = Uint8Array.from(b);
      for (let k = 0; k < 1 + int(r, 8) && c.length; k++) c[int(r, c.length)] = int(r, 256);
      return c;
    },
  ],
  ['CR line ends', (r, b) => enc.encode(new TextDecoder().decode(b).replace(/\n/g, r() < 0.5 ? '\r\n' : '\r'))],
];

function host(main: string, bytes: Uint8Array): ConfigHost {
  const base = memoryHost({}, {});
  const files = new Map(incFiles);
  files.set(main, bytes);
  return {
    ...base,
    readFile: (p) => files.get(p),
    stat: (p) => (files.has(p) ? { isFile: true, executable: p.endsWith('executable.inc') } : undefined),
    glob: (pattern, cwd) => {
      const full = pattern.startsWith('/') ? pattern : `${cwd === '.' ? '' : `${cwd}/`}${pattern}`;
      let re: RegExp;
      try {
        re = new RegExp(
          `^${full
            .replace(/[.+^$()|\\[\]{}]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]')}$`,
        );
      } catch {
        return [];
      }
      return [...files.keys()].filter((f) => re.test(f)).sort();
    },
    randomSeed: 1,
  };
}

function checkResult(r: LoadResult): string | undefined {
  if (![0, 2, 5, 6].includes(r.exitCode)) return `exit code ${r.exitCode}`;
  if (r.config === undefined && r.diagnostics.length === 0) return 'refused without a diagnostic';
  if (r.config === undefined && r.exitCode === 0) return 'refused with exit 0';
  if (r.exitCode !== 0 && r.diagnostics.every((d) => d.exitClass === 'none')) return `exit ${r.exitCode} without a counted diagnostic`;
  for (const d of r.diagnostics) {
    if (typeof d.file !== 'string' || !Number.isInteger(d.line) || d.line < 0) return `bad location ${JSON.stringify(d)}`;
    if (d.line > 0 && d.file === '') return `line without file ${JSON.stringify(d)}`;
    if (typeof d.message !== 'string' || d.message.trim() === '') return `empty message ${JSON.stringify(d)}`;
  }
  return undefined;
}

t.test(`seeded mutation fuzz: ${CASES} cases, seed ${SEED}, corpus of ${corpus.length} files`, async (t) => {
  t.ok(
    corpus.length >= 40,
    haveShared ? 'oracle corpus + deployments + samples + scenarios' : 'oracle corpus + deployments (no VRRPD_KEEPALIVED_CORPUS)',
  );
  const rng = mulberry32(SEED);
  const start = performance.now();
  let failures = 0;
  let slowest = { ms: 0, what: '' };
  const exits = new Map<number, number>();
  const used = new Map<string, number>();
  for (let n = 0; n < CASES; n++) {
    const src = pick(rng, corpus);
    let bytes: Uint8Array = src.bytes;
    const applied: string[] = [];
    for (let k = 0, m = 1 + int(rng, 4); k < m; k++) {
      const [name, fn] = pick(rng, MUTATORS);
      bytes = fn(rng, bytes);
      applied.push(name);
      used.set(name, (used.get(name) ?? 0) + 1);
    }
    const main = src.name.replace(/^.*\//, '');
    const t0 = performance.now();
    if (process.env.FUZZ_LOG === '2') process.stderr.write(`start #${n} ${src.name} [${applied.join(', ')}]\n`);
    if (process.env.FUZZ_DUMP === String(n)) process.stderr.write(`DUMP\n${new TextDecoder().decode(bytes)}\nEND\n`);
    let problem: string | undefined;
    try {
      const r = loadConfig(main, host(main, bytes));
      problem = checkResult(r);
      exits.set(r.exitCode, (exits.get(r.exitCode) ?? 0) + 1);
    } catch (e) {
      problem = `threw ${(e as Error).stack ?? String(e)}`;
    }
    const ms = performance.now() - t0;
    if (process.env.FUZZ_LOG && ms > 200)
      process.stderr.write(
        `#${n} ${ms.toFixed(0)}ms ${src.name} [${applied.join(', ')}] heap=${(process.memoryUsage().heapUsed / 1e6).toFixed(0)}MB\n`,
      );
    if (ms > slowest.ms) slowest = { ms, what: `#${n} ${src.name} [${applied.join(', ')}]` };
    if (problem !== undefined && ++failures <= 10)
      t.fail(`case #${n} (${src.name}; ${applied.join(', ')}): ${problem}`, { text: new TextDecoder().decode(bytes).slice(0, 2000) });
  }
  const total = performance.now() - start;
  t.equal(failures, 0, `${CASES} cases, no failures`);
  t.ok(slowest.ms < 30000, `no hang: slowest case ${slowest.ms.toFixed(0)} ms: ${slowest.what}`);
  t.comment(
    `fuzz: ${CASES} cases in ${(total / 1000).toFixed(1)} s (${(total / CASES).toFixed(2)} ms/case); exits ${JSON.stringify(Object.fromEntries([...exits].sort()))}`,
  );
  t.comment(`mutations used: ${JSON.stringify(Object.fromEntries(used))}`);
  t.ok(used.size === MUTATORS.length, 'every mutation was used');
  t.ok(
    [0, 2, 5, 6].every((e) => (exits.get(e) ?? 0) > 0),
    'every exit code was reached',
  );
});

t.test('pathological inputs end quickly', async (t) => {
  const cases: [string, string][] = [
    ['$A=$A', '$A=$A\nvrrp_instance VI_1 {\n priority $A\n}\n'],
    ['$A=${A}${A}', '$A=${A}${A}\n$A\n'],
    ['$A=x $A $A', '$A=x $A $A\n$A\n'],
    ['mutual recursion', '$A=$B\n$B=$A\n$A\n'],
    ['~SEQ 10^9', '~SEQ(N,1,1000000000) $N\n'],
    ['~SEQ negative 10^9', '~SEQ(N,0,-1,-1000000000) $N\n'],
    ['chained ~SEQ 10^10', '~SEQ(A,1,100000) ~SEQ(B,1,100000) $A\n'],
    ['~SEQ inside a multi-line var', '$M= \\\n~SEQ(A,1,100000) ~SEQ(B,1,100000) x \\\ny\n$M\n'],
    ['deep braces', `${'{\n'.repeat(20000)}`],
    ['many closes', `${'}\n'.repeat(20000)}`],
    ['one 1 MB line', `${'x'.repeat(1 << 20)}\n`],
    [
      'self-include (keepalived: EMFILE at ~1000 open files)',
      'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n}\ninclude *\n',
    ],
    ['self-expanding multi-line definition', '$I= \\\nx \\\n$I\n$I\n'],
  ];
  for (const [name, text] of cases) {
    const t0 = performance.now();
    let r: LoadResult | undefined;
    t.doesNotThrow(() => {
      r = loadConfig('k.conf', memoryHost({ 'k.conf': text }));
    }, name);
    const ms = performance.now() - t0;
    t.ok(ms < 30000, `${name}: ${ms.toFixed(0)} ms (measured ~0.1-3 s unloaded)`);
    t.equal(r && checkResult(r), undefined, `${name}: valid result`);
  }
});
