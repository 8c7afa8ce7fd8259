/**
 * Pure units of the control plane and its commands: request parsing, durations, command argv ->
 * request, the status table and detail view, exit codes, and the rule that `vrrpd status` and the
 * other control commands never load io/ (DESIGN.md).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import t from 'tap';
import { describeCaller } from '../../src/control/server.js';
import { parseDuration, parseRequest, type InstanceReport } from '../../src/control/protocol.js';
import { inst, NOW, report } from '../support/status-fixtures.js';
import { manualRequest } from '../../src/cli/manual.js';
import { main } from '../../src/cli/main.js';
import { ago, align, formatInstance, formatTable } from '../../src/cli/status.js';

t.test('parseRequest: JSON and bare words; bad input is a value', async (t) => {
  t.same(parseRequest('status'), { ok: true, req: { cmd: 'status' } });
  t.same(parseRequest(' reload \r'), { ok: true, req: { cmd: 'reload' } });
  t.match(parseRequest('{"cmd":"promote","instance":"VI_1","priority":200,"id":7}'), {
    ok: true,
    req: { cmd: 'promote', instance: 'VI_1', priority: 200, id: 7 },
  });
  t.match(parseRequest('{"cmd":"promote"}'), { ok: false, error: /needs an instance/ });
  t.match(parseRequest('{"cmd":"promote","instance":"VI_1","priority":0,"id":"x"}'), { ok: false, error: /1\.\.255/, id: 'x' });
  t.match(parseRequest('{"cmd":"switchover"}'), { ok: false, error: /needs an instance/ });
  t.match(parseRequest('{"cmd":"switchover","instance":"VI_1","peerSockets":[1]}'), { ok: false });
  t.match(parseRequest('{"cmd":"maintenance"}'), { ok: false, error: /on: true or false/ });
  t.match(parseRequest('{"cmd":"maintenance","on":true,"forMs":-5}'), { ok: false });
  t.match(parseRequest('{"cmd":"rm -rf"}'), { ok: false, error: /unknown command/ });
  t.match(parseRequest('{"cmd":'), { ok: false, error: 'bad JSON' });
  t.match(parseRequest('[1]'), { ok: false });
  t.match(parseRequest('{"cmd":"status","instance":5}'), { ok: false });
  t.match(parseRequest('hello'), { ok: false, error: /unknown command 'hello'/ });
});

t.test('parseDuration', async (t) => {
  t.equal(parseDuration('10m'), 600_000);
  t.equal(parseDuration('90s'), 90_000);
  t.equal(parseDuration('90'), 90_000, 'bare number = seconds');
  t.equal(parseDuration('1.5h'), 5_400_000);
  t.equal(parseDuration('2d'), 172_800_000);
  t.equal(parseDuration('250ms'), 250);
  for (const bad of ['', '0', '-1m', '10 minutes', 'm']) t.equal(parseDuration(bad), undefined, bad);
});

t.test('command argv -> request', async (t) => {
  const f = (o: Record<string, string> = {}): Map<string, string> => new Map(Object.entries(o));
  t.same(manualRequest({ cmd: 'promote', rest: ['VI_1'], flags: f() }), { cmd: 'promote', instance: 'VI_1' });
  t.same(manualRequest({ cmd: 'promote', rest: ['VI_1'], flags: f({ '--priority': '200' }) }), {
    cmd: 'promote',
    instance: 'VI_1',
    priority: 200,
  });
  t.same(manualRequest({ cmd: 'promote', rest: [], flags: f({ '--clear': '' }) }), { cmd: 'promote', clear: true });
  t.same(manualRequest({ cmd: 'promote', rest: ['VI_1'], flags: f({ '--clear': '' }) }), { cmd: 'promote', clear: true, instance: 'VI_1' });
  t.match(manualRequest({ cmd: 'promote', rest: [], flags: f() }), /needs an instance/);
  t.match(manualRequest({ cmd: 'promote', rest: ['VI_1'], flags: f({ '--priority': '256' }) }), /1\.\.255/);
  t.same(manualRequest({ cmd: 'switchover', rest: ['VI_1'], flags: f({ '--peer-socket': '/a,/b' }) }), {
    cmd: 'switchover',
    instance: 'VI_1',
    peerSockets: ['/a', '/b'],
  });
  t.same(manualRequest({ cmd: 'maintenance', rest: ['on'], flags: f({ '--for': '10m' }) }), {
    cmd: 'maintenance',
    on: true,
    forMs: 600_000,
  });
  t.same(manualRequest({ cmd: 'maintenance', rest: ['off', 'VI_1'], flags: f() }), { cmd: 'maintenance', on: false, instance: 'VI_1' });
  t.match(manualRequest({ cmd: 'maintenance', rest: ['maybe'], flags: f() }), /'on' or 'off'/);
  t.match(manualRequest({ cmd: 'maintenance', rest: ['on'], flags: f({ '--for': 'soon' }) }), /duration/);
  t.same(manualRequest({ cmd: 'reload', rest: [], flags: f() }), { cmd: 'reload' });
});

t.test('describeCaller: peer credentials first, the client word marked as such', async (t) => {
  t.equal(describeCaller({ uid: 0, gid: 0, pid: 42 }, undefined), 'root (uid 0, pid 42)');
  t.equal(describeCaller({ uid: 0, gid: 0, pid: 42 }, 'alice (via sudo as root)'), 'alice (via sudo as root) (uid 0, pid 42)');
  t.equal(describeCaller(null, 'bob'), "bob (client's word)");
  t.equal(describeCaller(null, 'x\u0007y'), "x?y (client's word)", 'no control characters in logs');
});

t.test('status table: aligned columns, hold, master as seen, missing VIPs flagged', async (t) => {
  const out = formatTable(
    report([
      inst(),
      inst({
        name: 'VI_LONGER',
        state: 'BACKUP',
        vrid: 52,
        effectivePriority: 254,
        hold: { kind: 'promote', priority: 254, by: 'root', since: '2026-11-24T09:59:00.000Z', until: null },
        masterIp: '10.0.0.2',
        masterPriority: 150,
        vips: [{ address: '10.0.0.200', present: false }],
        reason: 'init',
      }),
      inst({ name: 'VI_3', vips: [{ address: '10.0.0.50', present: false }] }),
    ]),
    NOW,
  );
  const lines = out.split('\n');
  t.equal(lines[0], 'vrrpd 0.1.0  pid 4242  up 1h00m  config /etc/keepalived/keepalived.conf (loaded 1h00m ago)');
  t.equal(lines[2], 'INSTANCE   STATE   SINCE      VRID  IF    PRIO            MASTER           VIPS                REASON');
  t.equal(
    lines[3],
    'VI_1       MASTER  2m00s ago  51    eth0  110 (base 100)  10.0.0.1 (self)  10.0.0.100          master down timer expired',
  );
  t.match(lines[4], /^VI_LONGER  BACKUP .* 254 \(promote\) +10\.0\.0\.2 @150 +10\.0\.0\.200 +init$/);
  t.match(lines[5], /10\.0\.0\.50\(MISSING\)/, 'a MASTER without its VIP says so');
  const starts = lines.slice(2).map((l) => (l.indexOf('STATE') >= 0 ? l.indexOf('STATE') : l.search(/MASTER|BACKUP/)));
  t.ok(
    starts.every((s) => s === starts[0]),
    'STATE column aligned',
  );
});

t.test("status table: the receive sockets with the kernel's drops under the instances", async (t) => {
  const r = {
    ...report([inst()]),
    sockets: [
      { family: 4 as const, ifname: 'eth0', channel: null, rxPackets: 1200, kernelDrops: 3 },
      { family: 6 as const, ifname: 'eth1', channel: 'ff02::12', rxPackets: 5, kernelDrops: null },
    ],
  };
  const lines = formatTable(r, NOW).split('\n');
  t.same(
    lines.slice(-3),
    ['SOCKET  FAMILY  CHANNEL   RX    KERNEL DROPS', 'eth0    IPv4    -         1200  3', 'eth1    IPv6    ff02::12  5     ?'],
    'one row per socket',
  );
  t.notMatch(formatTable(report([inst()]), NOW), /SOCKET/, 'nothing from a daemon that does not report sockets');
});

t.test('status detail view', async (t) => {
  const out = formatInstance(inst({ lastHooks: [{ kind: 'notify_master', exit: 0, durationMs: 12 }] } as Partial<InstanceReport>), NOW);
  t.match(out, /^instance: +VI_1$/m);
  t.match(out, /^state: +MASTER since 2026-11-24T09:58:00.000Z \(master down timer expired\)$/m);
  t.match(out, /^vip: +10\.0\.0\.100 present$/m);
  t.match(out, /^peer: +10\.0\.0\.2 priority 90, last seen 1s ago$/m);
  t.match(out, /^track script: +chk ok \(weight 10: \+10\)$/m);
  t.match(out, /^drops: +ttl 2$/m);
  t.match(out, /^timers: +master down 3570 ms, skew 570 ms$/m);
  t.match(out, /^preempt: +preempt, delay 0 ms$/m);
  t.match(out, /^transition: +2026-11-24T09:58:00.000Z BACKUP -> MASTER \(master down timer expired\)$/m);
  t.match(formatInstance(inst({ preempt: { mode: 'nopreempt', delayMs: 0 } }), NOW), /^preempt: +nopreempt$/m);
  t.match(out, /^hook: +kind=notify_master exit=0 durationMs=12$/m);
  const procs = formatInstance(
    inst({
      tracked: [
        {
          kind: 'process',
          name: 'hap',
          status: 'quorum',
          weight: 0,
          contribution: 0,
          fault: false,
          count: 2,
          source: 'events',
          pending: false,
        },
        {
          kind: 'process',
          name: 'ngx',
          status: 'no quorum',
          weight: -20,
          contribution: -20,
          fault: false,
          count: 0,
          source: 'scan',
          pending: true,
        },
      ],
    }),
    NOW,
  );
  t.match(procs, /^track process: +hap quorum \(weight 0: 0\), 2 running, proc connector$/m, 'a process watched by the proc connector');
  t.match(procs, /^track process: +ngx no quorum \(weight -20: -20\), 0 running, polling \/proc, delay running$/m, 'one by polling /proc');
});

t.test('ago and align', async (t) => {
  t.same([ago(999), ago(61_000), ago(3_700_000), ago(3 * 86_400_000)], ['0s', '1m01s', '1h01m', '3d00h']);
  t.equal(
    align([
      ['a', 'bb', 'c'],
      ['ccc', 'd', 'e'],
    ]),
    'a    bb  c\nccc  d   e',
  );
});

t.test('exit codes: no daemon -> 1 with a sentence; bad options -> 2; --check-master', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vc-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
  };
  let c = io();
  t.equal(await main(['status', '--socket', join(dir, 'none.sock')], c.io), 1);
  t.match(c.err.join(''), /no vrrpd is listening on .*none\.sock/);
  c = io();
  t.equal(
    await main(['status', '--check-master', 'VI_1', '--socket', join(dir, 'none.sock')], c.io),
    3,
    'not reachable: 3, told apart from not master (1)',
  );
  c = io();
  t.equal(await main(['status', '--bogus'], c.io), 2);
  c = io();
  t.equal(await main(['status', '--json', '--yaml'], c.io), 2);
  c = io();
  t.equal(await main(['promote'], c.io), 2);
  t.match(c.err.join(''), /needs an instance/);
  c = io();
  t.equal(await main(['maintenance', 'on', '--for', 'later'], c.io), 2);
  c = io();
  t.equal(await main(['promote', 'VI_1', '--socket', join(dir, 'none.sock')], c.io), 1);
});

/** Static imports (not `import()`) of a module, resolved to .ts files under src/. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (/^import\s+type\s/.test(m[0]) || /^export\s+type\s/.test(m[0])) continue;
    out.push(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  }
  return out;
}

t.test('`vrrpd status` and the control commands never load io/ (static import graph from cli/main.ts)', async (t) => {
  const src = resolve(import.meta.dirname, '../../src');
  const seen = new Set<string>();
  // main.ts imports every command's module dynamically (start-up time of `run`); the modules of the
  // commands that must not load io/ are roots too.
  const stack = ['cli/main.ts', 'cli/status.ts', 'cli/manual.ts', 'cli/check.ts'].map((f) => join(src, f));
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...staticImports(f));
  }
  const bad = [...seen].filter((f) => f.includes('/src/io/') || f.endsWith('/cli/run.ts') || f.includes('/src/runtime/'));
  t.same(bad, [], 'nothing under io/ or runtime/ (run.ts is imported dynamically for `run` only)');
  t.ok(seen.has(join(src, 'cli/status.ts')) && seen.has(join(src, 'control/client.ts')));
});
