/**
 * The keepalived.conf reader and preprocessor, one test per rule of docs/keepalived-behaviour.md 1.1-1.5 (and the
 * corrections of test/fixtures/config-cases/README.md, where the keepalived 2.2.7 binary disagrees
 * with the doc). Pure: memoryHost (in-memory files, interfaces lo + eth0..eth3, config id 'vm').
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import type { ConfigHost } from '../../src/config/host.js';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { splitQuotedEscaped, splitWords } from '../../src/config/words.js';
import { memoryHost } from '../support/config-host.js';

const here = dirname(fileURLToPath(import.meta.url));
const casesDir = resolve(here, '../fixtures/config-cases');

function load(files: Record<string, string>, main = 'k.conf', extra: Partial<ConfigHost> = {}): LoadResult {
  return loadConfig(main, memoryHost(files, extra), {});
}
const one = (text: string, extra: Partial<ConfigHost> = {}) => load({ 'k.conf': text }, 'k.conf', extra);
/** A valid instance around `body` (VIP given unless the body has its own virtual_ipaddress). */
const inst = (body: string, name = 'VI_1', vrid = 51) =>
  `vrrp_instance ${name} {\n  interface eth0\n  virtual_router_id ${vrid}\n${body}\n${body.includes('virtual_ipaddress') ? '' : '  virtual_ipaddress {\n    10.0.0.1/24\n  }\n'}}\n`;
const shown = (r: LoadResult) => r.diagnostics.filter((d) => d.severity !== 'info');
const msgs = (r: LoadResult) => shown(r).map((d) => formatDiagnostic(d));
const vips = (r: LoadResult, i = 0) => (r.partial.instances[i]?.virtualIpaddress ?? []).map((v) => `${v.address}/${v.prefixLength}`);
const i0 = (r: LoadResult) => r.partial.instances[0]!;

t.test('1.1 comments: `!` and `#` start a comment anywhere on a line', async (t) => {
  const r = one(
    `# whole line\n   ! indented\nvrrp_instance VI_1 { # after a brace\n  interface eth0 ! trailing\n  virtual_router_id 51#glued\n  priority 150!glued\n  virtual_ipaddress {\n    10.0.0.1/24 # c\n  }\n}\n`,
  );
  t.same(msgs(r), []);
  t.equal(r.exitCode, 0);
  t.equal(i0(r).virtualRouterId, 51);
  t.equal(i0(r).priority, 150);
});

t.test('1.1 comments: `\\#` and `\\!` outside quotes are literal; inside double quotes `#`/`!` are literal', async (t) => {
  const r = one(inst('  authentication {\n    auth_type PASS\n    auth_pass a\\#b\\!c\n  }'));
  t.equal(i0(r).authPass, 'a#b!c');
  const q = one(inst('  authentication {\n    auth_type PASS\n    auth_pass "x#y!z"\n  }'));
  t.equal(i0(q).authPass, 'x#y!z');
  t.same(msgs(q), []);
});

t.test('1.1 unterminated quote is reported on its line', async (t) => {
  const r = one(`${inst('  authentication {\n    auth_type PASS\n    auth_pass "abc\n  }')}`);
  t.ok(
    shown(r).some((d) => d.line === 6 && /Unterminated quote/.test(d.message)),
    msgs(r).join('\n'),
  );
  t.equal(r.exitCode, 2, 'auth_pass then has no argument: missing parameter (config-cases unterminated-quote)');
});

t.test('1.1 step 6 brace splitting: `{`/`}` anywhere on a line become separate statements', async (t) => {
  const r = one(
    `vrrp_instance VI_1 { interface eth0\n  virtual_router_id 51 }\nvrrp_instance VI_2\n{\n  interface eth1\n  virtual_router_id 52\n  virtual_ipaddress { 10.0.0.2/24 10.0.0.3/24 }\n}\n`,
  );
  t.equal(r.partial.instances.length, 2);
  t.equal(i0(r).interface, 'eth0');
  t.equal(i0(r).virtualRouterId, 51, '`}` after a value closes the block');
  t.equal(r.partial.instances[1]!.interface, 'eth1', '`{` on the next line');
  t.same(vips(r, 1), ['10.0.0.2/24'], 'one VIP per line: the second address is an unknown option of the first');
  const inline = one(`vrrp_instance VI_1 { interface eth0\n virtual_router_id 51\n virtual_ipaddress { 10.0.0.1/24 }\n}\n`);
  t.same(vips(inline), ['10.0.0.1/24']);
  t.same(msgs(inline), []);
});

t.test('1.1 braces inside double quotes do not split', async (t) => {
  const r = one(inst('  notify_master "/bin/echo {x} }"\n  authentication {\n    auth_type PASS\n    auth_pass "a{b}"\n  }'));
  t.same(i0(r).notify.master?.argv, ['/bin/echo', '{x}', '}']);
  t.equal(i0(r).authPass, 'a{b}');
  t.equal(r.partial.instances.length, 1);
});

t.test('1.1 MAXBUF: lines longer than 1023 bytes are split into several statements', async (t) => {
  // 1023 blanks then a keyword: the first chunk is empty, the keyword is read from the second chunk
  const r = one(inst(`${' '.repeat(1030)}priority 150`));
  t.equal(i0(r).priority, 150);
  t.same(msgs(r), []);
  // a 1030-byte word is two unknown keywords (keepalived 2.2.7: 'Unknown keyword' for both parts)
  const long = one(`! x\n${'y'.repeat(1030)}\n${inst('')}`);
  const unknown = shown(long).filter((d) => d.message.startsWith('Unknown keyword'));
  t.same(
    unknown.map((d) => d.message.length),
    [`Unknown keyword ''`.length + 1023, `Unknown keyword ''`.length + 7],
  );
  // parent-pass numbering: the unterminated chunk carries the previous line's number, the rest its own
  t.same(
    unknown.map((d) => d.line),
    [1, 2],
  );
  // two VIPs on a 1234-byte line, separated by blanks (config-cases long-line: silently OK)
  const two = one(inst(`  virtual_ipaddress {\n    10.0.0.1/24${' '.repeat(1200)}10.0.0.2/24\n  }`));
  t.same(vips(two), ['10.0.0.1/24', '10.0.0.2/24']);
});

t.todo('1.1 MAXBUF line numbers in the vrrp pass', async (t) => {
  // keepalived 2.2.7 -t (netns, see config-cases/README): after a 3-chunk line, the vrrp pass numbers every
  // later line +2 (each unterminated chunk counts as a line there), while the parent pass does not.
  const r = one(`! c\n${'y'.repeat(2100)}\n${inst('  bogus1')}`);
  t.ok(shown(r).some((d) => d.message === "Unknown keyword 'bogus1'" && d.line === 8));
});

t.test('1.1 step 7: block depth bookkeeping', async (t) => {
  const extra = one(`${inst('')}}\n`);
  t.ok(
    shown(extra).some((d) => d.message === "Extra '}' found" && d.line === 9),
    msgs(extra).join('\n'),
  );
  const missing = one(inst('').replace(/}\n$/, ''));
  t.ok(shown(missing).some((d) => d.message === "There are 1 missing '}'s or extra '{'s" && d.line === 0));
  t.equal(missing.exitCode, 5);
});

t.test('1.2 general tokenizer: only double quotes group; `"` ends an unquoted word', async (t) => {
  t.same(splitWords(`a "b c" d"e f"`).words, ['a', 'b c', 'd', 'e f']);
  t.same(splitWords(`auth_pass 'a b'`).words, ['auth_pass', "'a", "b'"]);
  t.equal(splitWords('a "b').unmatchedQuote, true);
});

t.test('1.2 script keywords: shell-like quoting, argv and user', async (t) => {
  const r = one(inst(`  notify_master "/bin/echo 'hello world' \\"x y\\"" nobody`));
  t.same(i0(r).notify.master, { argv: ['/bin/echo', 'hello world', 'x y'], user: 'nobody', group: null });
  const g = one(inst(`  notify_backup /bin/true nobody nogroup\n  notify_fault '/bin/echo a'"b c"`));
  t.same(i0(g).notify.backup, { argv: ['/bin/true'], user: 'nobody', group: 'nogroup' });
  t.same(i0(g).notify.fault?.argv, ['/bin/echo', 'ab', 'c'], 'adjacent quoted parts join');
});

t.test('1.2 script keywords: escapes \\t \\x41 \\101 \\cA \\E and \\X', async (t) => {
  const w = splitQuotedEscaped(String.raw`a\tb \x41 \101 \cA \E \q "\x42" '\n'`);
  t.ok(w.ok);
  if (w.ok) t.same(w.words, ['a\tb', 'A', 'A', '\x01', '\x1b', 'q', 'B', '\n']);
  const bad = splitQuotedEscaped(`'open`);
  t.equal(bad.ok, false);
  // through the config: the command is split twice (first the line, then the command word)
  const r = one(inst(String.raw`  notify_master "/bin/printf \\x41\\t\\101"`));
  t.same(i0(r).notify.master?.argv, ['/bin/printf', 'A\tA']);
});

t.test('1.3 unknown keyword with its own block: its `}` closes the enclosing block', async (t) => {
  const r = one(`vrrp_instance VI_1 {\n  interface eth0\n  foo_unknown {\n    a b c\n  }\n  virtual_router_id 51\n}\n`);
  const m = shown(r).map((d) => `${d.line} ${d.message}`);
  t.ok(m.includes("3 Unknown keyword 'foo_unknown'"), m.join('\n'));
  t.ok(m.includes("3 Unexpected '{' - ignoring"));
  t.ok(m.includes("4 Unknown keyword 'a'"));
  t.ok(m.includes("6 Unknown keyword 'virtual_router_id'"), 'the instance was closed by the inner }');
  t.ok(m.includes("7 Unknown keyword '}'"), "stray final } is an unknown keyword (not Extra '}')");
  t.ok(m.includes('0 (VI_1) the virtual router id must be set'));
  t.equal(r.exitCode, 5);
});

t.test('1.3 missing parameter stops parsing with exit 2', async (t) => {
  const r = one(`${inst('  priority')}bogus_after 1\n`);
  t.equal(r.exitCode, 2);
  t.equal(r.config, undefined);
  const d = shown(r).find((x) => x.exitClass === 'missing-parameter');
  t.match(d?.message, /Configuration line starting `priority` is missing a parameter/);
  t.equal(d?.line, 4);
  t.notOk(
    shown(r).some((x) => /bogus_after/.test(x.message)),
    'nothing after it is read',
  );
  const g = one(`global_defs {\n  router_id\n}\n${inst('')}`);
  t.equal(g.exitCode, 5, 'router_id without value is not exit 2 (config-cases missing-param-global)');
});

t.test('1.3 `;` is not a separator', async (t) => {
  const r = one(`vrrp_instance VI_1 {\n  interface eth0 ; virtual_router_id 53\n  virtual_ipaddress {\n 10.0.0.1\n }\n}\n`);
  t.equal(i0(r).interface, 'eth0');
  t.equal(i0(r).virtualRouterId, 0);
  t.ok(msgs(r).includes('(VI_1) the virtual router id must be set'));
});

t.test('1.4 @id / @^id conditional lines (config id vm)', async (t) => {
  const r = one(`@vm $P=200\n@^vm $P=100\n${inst('@vm  priority $P\n@other priority 99\n@^other advert_int 3\n@^vm advert_int 4\n@vm')}`);
  t.equal(i0(r).priority, 200, '@vm kept, @^vm dropped');
  t.equal(i0(r).advertIntMs, 3000, '@^other kept, @^vm dropped');
  t.same(msgs(r), [], 'bare @vm line dropped');
  const other = one(`@vm $P=200\n@^vm $P=100\n${inst('  priority $P')}`, { configId: 'other' });
  t.equal(i0(other).priority, 100, 'config id is the host one (-i)');
});

t.test('1.4 $VAR and ${VAR}', async (t) => {
  const r = one(
    `$IF=eth1\n$VRID=52\n${inst('  priority ${VRID}0')}`
      .replace('interface eth0', 'interface $IF')
      .replace('virtual_router_id 51', 'virtual_router_id ${VRID}'),
  );
  t.equal(i0(r).interface, 'eth1');
  t.equal(i0(r).virtualRouterId, 52);
  t.equal(i0(r).priority, 100);
  t.ok(
    msgs(r).some((m) => /number '520' outside range/.test(m)),
    '${VRID}0 glues',
  );
});

t.test('1.4 undefined names are left verbatim; `$` in scripts is safe', async (t) => {
  const r = one(inst(`  virtual_ipaddress {\n    $UNDEFINED_VAR\n  }\n  notify_master "/bin/sh -c 'echo $HOME \${USER}'"`));
  t.ok(msgs(r).includes('(k.conf: Line 5) VRRP parsed invalid IP $UNDEFINED_VAR. skipping IP...'), msgs(r).join('\n'));
  t.same(i0(r).notify.master?.argv, ['/bin/sh', '-c', 'echo $HOME ${USER}']);
  const glued = one(`$A=5\n${inst('  priority 1$Ax')}`);
  t.ok(
    msgs(glued).some((m) => /invalid number '1\$Ax'/.test(m)),
    '$A followed by a letter is not a reference',
  );
});

t.test('1.4 redefinition overrides; substitution is lazy and recursive', async (t) => {
  const r = one(
    `$P=100\n${inst('  priority $P')}$P=150\n${inst('  priority $P', 'VI_2', 52)}$A=\${B}0\n$B=20\n${inst('  priority $A', 'VI_3', 53)}`,
  );
  t.same(
    r.partial.instances.map((i) => i.priority),
    [100, 150, 200],
  );
  t.same(msgs(r), []);
});

t.test('1.4 multi-line $VAR= \\ definitions, expanded on the line of use', async (t) => {
  const text = `$INST= \\\nvrrp_instance VI_\${N} { \\\n  interface eth\${N} \\\n  virtual_router_id 5\${N} \\\n  priority 2\${N}0 \\\n  virtual_ipaddress { \\\n    10.0.\${N}.1/24 \\\n  } \\\n}\n\n$N=0\n$INST\n$N=1\n$INST\n$N=9\n$INST\n`;
  const r = one(text);
  t.same(
    r.partial.instances.map((i) => [i.name, i.interface, i.virtualRouterId]),
    [
      ['VI_0', 'eth0', 50],
      ['VI_1', 'eth1', 51],
      ['VI_9', 'eth9', 59],
    ],
  );
  t.same(vips(r, 1), ['10.0.1.1/24']);
  const lines = shown(r)
    .filter((d) => d.line > 0)
    .map((d) => d.line);
  t.same([...new Set(lines)], [16], 'errors of the generated lines carry the line that used $INST (config-cases var-multiline)');
});

t.test('1.4 ~SEQ with 1, 2 and 3 arguments, negative steps, hex', async (t) => {
  const v = (gen: string) => vips(one(inst(`  virtual_ipaddress {\n    ${gen}\n  }`)));
  t.same(v('~SEQ(N,3) 10.0.0.$N'), ['10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32']);
  t.same(v('~SEQ(N,5,7) 10.0.0.$N'), ['10.0.0.5/32', '10.0.0.6/32', '10.0.0.7/32']);
  t.same(v('~SEQ(N,3,1) 10.0.0.$N'), ['10.0.0.3/32', '10.0.0.2/32', '10.0.0.1/32'], 'start > end counts down');
  t.same(v('~SEQ(N,10,-3,4) 10.0.0.$N'), ['10.0.0.10/32', '10.0.0.7/32', '10.0.0.4/32']);
  t.same(v('~SEQ(N,2,5,3) 10.0.0.$N'), ['10.0.0.2/32'], 'keepalived 2.2.7: step past the end gives the start only');
  t.same(v('~SEQx(N,9,11) fd00::$N'), ['fd00::9/128', 'fd00::a/128', 'fd00::b/128'], 'hex');
  const neg = one(inst('  virtual_ipaddress {\n    ~SEQ(N,-2) 10.0.0.$N\n  }'));
  t.same(
    shown(neg)
      .filter((d) => /invalid IP/.test(d.message))
      .map((d) => d.message),
    ['VRRP parsed invalid IP 10.0.0.-1. skipping IP...', 'VRRP parsed invalid IP 10.0.0.-2. skipping IP...'],
    '~SEQ(N,-2) is -1, -2 (keepalived 2.2.7)',
  );
  const hex = one(inst('  virtual_ipaddress {\n    ~SEQx(H,9,11) 10.2.0.$H\n  }'));
  t.same(vips(hex), ['10.2.0.9/32']);
  t.same(
    shown(hex).map((d) => d.message),
    ['VRRP parsed invalid IP 10.2.0.a. skipping IP...', 'VRRP parsed invalid IP 10.2.0.b. skipping IP...'],
  );
  const bad = one(inst('  virtual_ipaddress {\n    ~SEQ(N,1,0,3) 10.0.0.$N\n  }'));
  t.ok(
    shown(bad).some((d) => d.line === 5 && /Invalid ~SEQ specification/.test(d.message)),
    'step 0 is refused',
  );
});

t.test('1.4 chained generators on one line', async (t) => {
  const r = one(inst('  virtual_ipaddress {\n    ~SEQ(A,0,1) ~SEQ(B,1,2) 10.${A}.0.${B}/24\n  }'));
  t.same(vips(r), ['10.0.0.1/24', '10.0.0.2/24', '10.1.0.1/24', '10.1.0.2/24']);
  const inst3 = one(`~SEQ(I,1,3) vrrp_instance VI_$I { interface eth0 ; }\n`);
  t.same(
    inst3.partial.instances.map((i) => i.name),
    ['VI_1', 'VI_2', 'VI_3'],
    'generated instances on one line',
  );
  t.ok(shown(inst3).every((d) => d.line === 1 || d.line === 0));
});

t.test('1.4 ~LST, both forms', async (t) => {
  const r = one(
    inst(
      '  virtual_ipaddress {\n    ~LST(N, 7, 8, 9) 10.0.0.${N}/24\n    ~LST({IF,NET}, {eth1,1}, {eth2,2}) 10.${NET}.0.1/24 dev $IF\n  }',
    ),
  );
  t.same(vips(r), ['10.0.0.7/24', '10.0.0.8/24', '10.0.0.9/24', '10.1.0.1/24', '10.2.0.1/24']);
  t.same(
    i0(r)
      .virtualIpaddress.slice(3)
      .map((v) => v.dev),
    ['eth1', 'eth2'],
  );
});

t.test('1.4 built-ins: ${_INSTANCE}, ${_RANDOM}, ${_PWD}, ${_HASH}, ${_BANG}', async (t) => {
  const r = one(
    inst(
      '  virtual_ipaddress {\n    ${_INSTANCE}x\n    ${_PWD}/y\n  }\n  authentication {\n    auth_type PASS\n    auth_pass a${_HASH}${_BANG}b\n  }',
    ),
  );
  t.same(
    shown(r)
      .filter((d) => d.line > 0)
      .map((d) => d.message),
    ['VRRP parsed invalid IP vmx. skipping IP...', 'VRRP parsed invalid IP ./y. skipping IP...'],
  );
  t.equal(i0(r).authPass, 'a#!b');
  const pwd = load({ 'etc/k.conf': inst('  virtual_ipaddress {\n    ${_PWD}\n  }') }, 'etc/k.conf', { cwd: () => '/srv' });
  t.same(
    shown(pwd)
      .filter((d) => d.line > 0)
      .map((d) => d.message),
    ['VRRP parsed invalid IP /srv/etc. skipping IP...'],
    '${_PWD} is absolute (keepalived: getcwd() after chdir)',
  );
  const rnd = (seed: number) => {
    const x = one(
      `$R=\${_RANDOM 1 3}\n${['VI_1', 'VI_2', 'VI_3', 'VI_4', 'VI_5', 'VI_6'].map((n, k) => inst('  priority ${_RANDOM 1 3}', n, 51 + k)).join('')}`,
      { randomSeed: seed },
    );
    return x.partial.instances.map((i) => i.priority);
  };
  const a = rnd(7);
  t.same(rnd(7), a, 'deterministic for a given seed');
  t.ok(
    a.every((p) => p >= 1 && p <= 3),
    `in [1,3]: ${a.join(',')}`,
  );
  t.ok(new Set([...rnd(1), ...rnd(2), ...rnd(3)]).size > 1, 'not constant');
  const seeded = (s: string) =>
    one(`global_defs {\n  random_seed ${s}\n}\n${inst('  priority ${_RANDOM 100 200}')}`).partial.instances[0]!.priority;
  t.equal(seeded('42'), seeded('42'), 'random_seed in global_defs seeds it');
});

t.test('1.5 include is relative to the including file; nested names as keepalived prints them', async (t) => {
  const files = {
    'etc/k.conf': `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    include inc/vips.inc\n  }\n}\n`,
    'etc/inc/vips.inc': '10.0.0.1/24\ninclude sub/more.inc\n',
    'etc/inc/sub/more.inc': '10.0.0.2/24\n10.0.0.999/24\n',
  };
  const r = load(files, 'etc/k.conf');
  t.same(vips(r), ['10.0.0.1/24', '10.0.0.2/24']);
  t.same(msgs(r), ['(sub/more.inc: Line 2) VRRP parsed invalid IP 10.0.0.999/24. skipping IP...']);
  t.same(r.partial.files, ['etc/k.conf', 'etc/inc/vips.inc', 'etc/inc/sub/more.inc']);
});

t.test('1.5 include glob: matches read in sorted order; errors name the included file and its line', async (t) => {
  const r = load({
    'k.conf': 'include inc/*.inc\n',
    'inc/b.inc': inst('  bogus_b', 'VI_B', 52),
    'inc/a.inc': `\n${inst('  priority 0', 'VI_A', 51)}`,
  });
  t.same(
    r.partial.instances.map((i) => i.name),
    ['VI_A', 'VI_B'],
  );
  t.same(msgs(r), [
    "(inc/a.inc: Line 5) number '0' outside range [1, 255]",
    '(inc/a.inc: Line 5) (VI_A) Priority not valid! must be between 1 & 255. Using default 100',
    "(inc/b.inc: Line 4) Unknown keyword 'bogus_b'",
  ]);
});

t.test('1.5 include line cannot come from $VAR and an included file ends its generators', async (t) => {
  const r = load({ 'k.conf': '$I=include x.inc\n$I\n', 'x.inc': inst('') });
  t.equal(r.partial.instances.length, 0);
  t.ok(
    msgs(r).some((m) => /Unknown keyword 'include'/.test(m)),
    msgs(r).join('\n'),
  );
});

t.test('1.5 executable or non-regular includes are skipped (exit 0)', async (t) => {
  const r = load({ 'k.conf': `include x.inc\n${inst('')}`, 'x.inc': inst('', 'VI_X', 52) }, 'k.conf', {
    stat: (p) => (p === 'x.inc' ? { isFile: true, executable: true } : { isFile: true, executable: false }),
  });
  t.same(msgs(r), ["(k.conf: Line 1) Configuration file 'x.inc' is not a regular non-executable file - skipping"]);
  t.equal(r.exitCode, 0);
  t.equal(r.partial.instances.length, 1);
});

t.test('1.5 strict include variants and their exit codes', async (t) => {
  const base = inst('');
  const cases: [string, number, string | null][] = [
    ['include nope.inc', 0, "Config files missing 'nope.inc'."],
    ['includer nope.inc', 0, "Config files missing 'nope.inc'."],
    ['includem nope.inc', 6, "Config files missing 'nope.inc'."],
    ['includem nope*.inc', 0, "Config files missing 'nope*.inc'."],
    ['includew nope*.inc', 6, "Config files missing 'nope*.inc'."],
    ['includea nope*.inc', 6, "Config files missing 'nope*.inc'."],
    ['includeb {a,nope}.inc', 6, "Config files missing 'nope.inc'."],
    ['include {a,nope}.inc', 0, null],
  ];
  for (const [line, exit, msg] of cases) {
    const r = load({ 'k.conf': `${line}\n${base}`, 'a.inc': '' });
    t.equal(r.exitCode, exit, `${line} -> exit ${exit}`);
    if (msg)
      t.ok(
        shown(r).some((d) => d.line === 1 && d.message === msg),
        `${line}: ${msgs(r).join(' | ')}`,
      );
    else t.same(msgs(r), [], `${line}: nothing printed`);
    t.equal(r.config === undefined, exit === 6, 'a missing required include refuses the config');
  }
  const all = loadConfig('k.conf', memoryHost({ 'k.conf': `include nope*.inc\n${base}` }), { allConfig: true });
  t.equal(all.exitCode, 6, '-e / --all-config makes every include includea');
});

t.test('line numbers of generated lines and includes', async (t) => {
  const r = load({
    'k.conf': `$BAD=bogus_from_var\n\n${inst('  $BAD\n  include i.inc\n  ~SEQ(N,1,2) bogus_seq_$N')}`,
    'i.inc': '\n\nbogus_inc\n',
  });
  t.same(
    shown(r).map((d) => `${d.file}:${d.line} ${d.message}`),
    [
      "k.conf:6 Unknown keyword 'bogus_from_var'",
      "i.inc:3 Unknown keyword 'bogus_inc'",
      "k.conf:8 Unknown keyword 'bogus_seq_1'",
      "k.conf:8 Unknown keyword 'bogus_seq_2'",
    ],
  );
});

t.test("1.4 substitution stops at keepalived's 1,023-byte line; the line is used as it stands (observed, 2.2.7 -t)", async (t) => {
  // keepalived: `$A=x $A $A` -> "invalid number 'x'", `$A=$A $A` -> "invalid number '$A'",
  // `$A=y${A}` -> "invalid number 'yyyy...'", each followed by "Priority not valid!", exit 5
  const cases: [string, RegExp][] = [
    ['$A=x $A $A', /^invalid number 'x'$/],
    ['$A=$A $A', /^invalid number '\$A'$/],
    ['$A=y${A}', /^invalid number 'y{900,}\$'$/],
  ];
  for (const [def, invalid] of cases) {
    const r = one(`${def}\n${inst('  priority $A')}`);
    const line5 = r.diagnostics.filter((d) => d.line === 5);
    t.match(
      line5[0]?.message ?? '',
      /^Parameter substitution on line 'priority .*' would exceed maximum line length$/,
      `${def}: keepalived's (log-only) message`,
    );
    t.equal(line5[0]?.severity, 'info', 'not printed by check, as keepalived -t does not');
    t.match(line5[1]?.message ?? '', invalid, `${def}: the full line is parsed`);
    t.equal(line5[2]?.message, '(VI_1) Priority not valid! must be between 1 & 255. Using default 100');
    t.notOk(
      shown(r).some((d) => /did not terminate/.test(d.message)),
      'it terminated',
    );
    t.equal(r.exitCode, 5);
  }
  const long = one(`$A=${'z'.repeat(600)}\n${inst('  priority $A $A')}`);
  t.ok(
    long.diagnostics.some((d) => d.line === 5 && /would exceed maximum line length/.test(d.message)),
    'two 600-byte values do not fit one line',
  );
});

t.test('guards: self-referential definitions and generator explosions end quickly', async (t) => {
  // keepalived 2.2.7 -t hangs on these two (observed): `$A=$A` never grows, and `${A}${A}` grows into
  // braces whose rests are substituted again; vrrpd reports the line once and drops it
  for (const def of ['$A=$A', '$A=${A}${A}']) {
    const t0 = Date.now();
    const r = one(`${def}\n${inst('  priority $A')}`);
    t.ok(Date.now() - t0 < 2000, `${def}: ${Date.now() - t0} ms`);
    const runaway = shown(r).filter((d) => /did not terminate/.test(d.message));
    t.equal(runaway.length, 1, `${def}: reported once`);
    t.equal(runaway[0]?.line, 5);
    t.match(runaway[0]?.message ?? '', /\(more than 1024 substitutions, MAX_SUBSTITUTIONS\)$/, 'names the limit');
    t.equal(i0(r).priority, 100, 'the line is dropped');
  }
  const t0 = Date.now();
  const big = one('~SEQ(A,1,100000) ~SEQ(B,1,100000) $A\n');
  t.ok(Date.now() - t0 < 10000, `10^10 lines requested, ${Date.now() - t0} ms`);
  t.ok(shown(big).some((d) => d.line === 1 && /More than \d+ lines generated/.test(d.message)));
  const huge = one(inst('  virtual_ipaddress {\n    ~SEQ(N,1,1000000000) 10.0.0.$N\n  }'));
  t.ok(
    shown(huge).some((d) => /Invalid ~SEQ specification/.test(d.message)),
    'a single ~SEQ over 100000 values is refused',
  );
});

// ------------------------------------------------------------------------------------------------
// The preprocessor cases of the keepalived 2.2.7 oracle corpus, replayed purely from memory:
// same exit code and the same (file, line) set as the binary printed.

function caseFiles(conf: string): Record<string, string> {
  const files: Record<string, string> = { [conf]: readFileSync(join(casesDir, conf), 'utf8') };
  const walk = (d: string) => {
    for (const e of readdirSync(join(casesDir, d), { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files[relative('.', p)] = readFileSync(join(casesDir, p), 'utf8');
    }
  };
  walk('inc');
  return files;
}

const PREPROCESSOR_CASES = [
  'braces-same-line',
  'comments-everywhere',
  'conditional-id',
  'extra-close-brace',
  'include-executable',
  'include-glob',
  'include-missing',
  'include-prefix-all-passes',
  'include-relative',
  'include-top',
  'includem-missing',
  'includer-missing',
  'long-line',
  'lst-generator',
  'missing-close-brace',
  'missing-open-brace',
  'missing-param-global',
  'missing-param-priority',
  'semicolon-separator',
  'seq-generator',
  'unknown-keyword-top',
  'unknown-keyword-with-block',
  'unterminated-quote',
  'var-multiline',
  'var-substitution',
];

for (const c of PREPROCESSOR_CASES) {
  t.test(`config-cases ${c} (memory host)`, async (t) => {
    const conf = `${c}.conf`;
    const files = caseFiles(conf);
    const r = loadConfig(
      conf,
      memoryHost(files, {
        stat: (p) => (p in files ? { isFile: true, executable: (statSync(join(casesDir, p)).mode & 0o111) !== 0 } : undefined),
      }),
    );
    const expected = readFileSync(join(casesDir, `${c}.expected`), 'utf8').split('\n');
    const exit = Number(/^exit=(\d+)$/.exec(expected.find((l) => l.startsWith('exit=')) ?? '')?.[1]);
    const lines = new Set<string>();
    for (const l of expected) {
      const m = /^\((?:(.+?): )?Line (\d+)\) /.exec(l);
      if (m) lines.add(`${m[1] ?? conf}:${m[2]}`);
    }
    t.equal(r.exitCode, exit, 'exit code');
    t.same(
      [
        ...new Set(
          shown(r)
            .filter((d) => d.line > 0)
            .map((d) => `${d.file}:${d.line}`),
        ),
      ].sort(),
      [...lines].sort(),
      'lines',
    );
  });
}
