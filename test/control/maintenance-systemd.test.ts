/**
 * Root, namespaces (prefix vc-mnt-, 10.236.3.0/24): maintenance keeps a node out of MASTER through
 * a reload and a restart; the daemon speaks sd_notify to a fake NOTIFY_SOCKET (READY, WATCHDOG fed,
 * RELOADING then READY on `vrrpd reload`, STOPPING on SIGTERM); the unit passes
 * `systemd-analyze verify` and its exposure score stays under 4.0.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import { requireBuild, confText, instanceConf, startVrrpd, VRRPD_ARGV, VRRPD_BIN } from '../daemon/helpers.js';
import { FakeNotifySocket } from './fake-notify.js';
import { cli, vi1, waitVi1 } from './helpers.js';

const VIP = '10.236.3.100';
const UNIT = resolve(import.meta.dirname, '../../systemd/vrrpd.service');

const sh = (argv: string[]): Promise<{ code: number; out: string }> =>
  new Promise((r) =>
    execFile(argv[0]!, argv.slice(1), { timeout: 60_000 }, (e, so, se) =>
      r({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${so}${se}` }),
    ),
  );

t.test('maintenance through reload and restart', { skip: netnsSkip() || requireBuild(), timeout: 120_000 }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vc-mnt-', subnet: '10.236.3', hosts: ['a', 'b'] });
  const conf = (prio: number): string => confText(`n${prio}`, instanceConf({ priority: prio, vips: [`${VIP}/24`] }));
  let a = await startVrrpd(lab, 'a', conf(150));
  const b = await startVrrpd(lab, 'b', conf(100));
  await waitVi1(a.socket, 'MASTER', 8000);

  const on = await cli(['maintenance', 'on', '--socket', a.socket]);
  t.equal(on.code, 0, on.stderr);
  t.match(on.stdout, /maintenance on for this node/);
  await waitVi1(b.socket, 'MASTER', 3000);
  t.equal((await vi1(a.socket)).state, 'BACKUP', 'a handed over');
  t.match(a.proc.output, /maintenance ON for node by root \(uid 0, pid \d+\)/);
  const mark = (): number => (a.proc.output.match(/Entering MASTER STATE/g) ?? []).length;
  const masters = mark();

  const rl = await cli(['reload', '--socket', a.socket]);
  t.equal(rl.code, 0, rl.stderr);
  await sleep(5000);
  t.equal((await vi1(a.socket)).state, 'BACKUP', 'still BACKUP 5 s after a reload (it would preempt at 150)');
  t.equal((await vi1(a.socket)).effectivePriority, 1);
  t.equal(mark(), masters, 'never entered MASTER');

  await a.proc.kill('SIGTERM', 3000);
  a = await startVrrpd(lab, 'a', conf(150));
  t.match(a.proc.output, /maintenance restored from .*manual\.json for node/);
  await sleep(5500);
  const st = await vi1(a.socket);
  t.equal(st.state, 'BACKUP', 'still BACKUP 5.5 s after a restart');
  t.match(st.hold, { kind: 'maintenance', nodeWide: true });
  t.notMatch(a.proc.output, /Entering MASTER STATE/, 'the restarted daemon never went MASTER');
  t.equal((await vi1(b.socket)).state, 'MASTER');
  const table = await cli(['status', '--socket', a.socket]);
  t.match(table.stdout, /^MAINTENANCE \(node\) by root/m);
  t.match(table.stdout, /^VI_1 +BACKUP .* 1 \(maintenance\)/m);

  const off = await cli(['maintenance', 'off', '--socket', a.socket]);
  t.equal(off.code, 0);
  await waitVi1(a.socket, 'MASTER', 6000);
  t.pass('off: a preempts back (priority 150)');
});

t.test('sd_notify from the running daemon to a fake NOTIFY_SOCKET', { skip: netnsSkip() || requireBuild(), timeout: 60_000 }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vc-sd-', subnet: '10.236.4', hosts: ['a'] });
  const fake = new FakeNotifySocket(join(lab.tmpDir, 'notify.sock'));
  t.teardown(() => fake.close());
  const dir = join(lab.tmpDir, 'state');
  const file = join(lab.tmpDir, 'a.conf');
  writeFileSync(file, confText('a', instanceConf({ priority: 100, vips: ['10.236.4.100/24'] })));
  const proc = lab.spawn('a', [...VRRPD_ARGV, 'run', '-f', file, '--state-dir', dir], {
    env: { ...process.env, NOTIFY_SOCKET: fake.path, WATCHDOG_USEC: '400000' },
  });
  await fake.waitFor(/^READY=1$/, 10_000);
  t.match(
    fake.lines().find((l) => l.startsWith('STATUS=')),
    /^STATUS=VI_1 (BACKUP|INIT)/,
  );
  await sleep(1000);
  const fed = fake.lines().filter((l) => l === 'WATCHDOG=1').length;
  t.ok(fed >= 3, `watchdog fed ${fed} times in 1 s at WATCHDOG_USEC=400000`);
  const r = await cli(['reload', '--socket', join(dir, 'vrrpd.sock')]);
  t.equal(r.code, 0);
  const lines = fake.lines();
  const reloading = lines.indexOf('RELOADING=1');
  t.ok(reloading > 0 && lines.slice(reloading).includes('READY=1'), 'RELOADING=1 then READY=1');
  await pollUntil(() => fake.lines().some((l) => l === 'STATUS=VI_1 MASTER'), 6000, 'STATUS follows the state');
  process.kill(proc.pid!, 'SIGTERM');
  await fake.waitFor(/^STOPPING=1$/, 5000);
  await proc.exited;
  t.equal(proc.exitCode, 0);
});

t.test(
  'systemd unit: verify and exposure score',
  { skip: existsSync('/usr/bin/systemd-analyze') ? false : 'systemd-analyze not installed' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vc-unit-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // verify checks that ExecStart exists: point it at this checkout's bin/vrrpd.
    const unit = join(dir, 'vrrpd.service');
    writeFileSync(unit, readFileSync(UNIT, 'utf8').replaceAll('/usr/local/bin/vrrpd', VRRPD_BIN));
    const v = await sh(['systemd-analyze', 'verify', unit]);
    t.equal(v.code, 0, `systemd-analyze verify: ${v.out.trim() || 'clean'}`);
    t.equal(v.out.trim(), '', 'no warnings');
    const s = await sh(['systemd-analyze', 'security', '--offline=true', UNIT]);
    const m = /Overall exposure level for vrrpd\.service: (\d+\.\d+) (\S+)/.exec(s.out);
    t.ok(m, 'score printed');
    t.comment(`systemd-analyze security --offline=true systemd/vrrpd.service: ${m?.[1]} ${m?.[2]}`);
    t.ok(Number(m?.[1]) <= 4.0, 'exposure at most 4.0 (keepalived.service: 9.6 UNSAFE)');
    const unitText = readFileSync(UNIT, 'utf8');
    t.match(unitText, /^Type=notify$/m);
    t.match(unitText, /^WatchdogSec=/m);
    t.match(unitText, /^ExecReload=\/usr\/local\/bin\/vrrpd reload$/m);
    t.match(unitText, /^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW /m);
  },
);
